package collector

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// The billing_charts collector polls the cost charts (ESS only,
// experimental) and exposes the current (partial) and the previous
// (complete) bucket of every series: on the organization chart a series is
// a deployment; on a per-deployment chart, whatever the API groups by.

const billingChartsName = "billing_charts"

// Values of collectors.billing_charts.bucketing.
const (
	BucketingDaily   = "daily"
	BucketingMonthly = "monthly"
)

// BillingChartsOptions are the options of the billing_charts collector
// (collectors.billing_charts).
type BillingChartsOptions struct {
	Interval config.Duration `yaml:"interval"`
	// Bucketing is BucketingDaily or BucketingMonthly.
	Bucketing string `yaml:"bucketing"`
	// PerDeployment also polls one chart per deployment.
	PerDeployment bool `yaml:"per_deployment"`
	// Concurrency bounds the per-deployment requests in flight.
	Concurrency int `yaml:"concurrency"`
}

// PollInterval implements config.CollectorOptions.
func (o BillingChartsOptions) PollInterval() config.Duration { return o.Interval }

// Validate implements config.CollectorOptions.
func (o BillingChartsOptions) Validate() error {
	var bucketing error
	if o.Bucketing != BucketingDaily && o.Bucketing != BucketingMonthly {
		bucketing = fmt.Errorf("bucketing: %q: must be daily or monthly", o.Bucketing)
	}
	return errors.Join(bucketing, config.CheckConcurrency(o.Concurrency))
}

func init() {
	registerCollector(Registration{
		Name:           billingChartsName,
		DefaultEnabled: true,
		MinInterval:    15 * time.Minute,
		Defaults:       BillingChartsOptions{Interval: config.NewDuration(6 * time.Hour), Bucketing: BucketingDaily, Concurrency: 4},
		Supports:       essOnly,
		New:            newBillingChartsSource,
	})
}

type billingChartsSource struct {
	env           Env
	bucketing     eceapi.Bucketing
	perDeployment bool
	concurrency   int
	orgs          *orgSource
	guard         *eceGuard
	cost          *seriesDesc
	start         *seriesDesc
}

func newBillingChartsSource(env Env) (Source, error) {
	f := env.descSet(billingChartsName)
	opts := optionsOf[BillingChartsOptions](env, billingChartsName)
	b := eceapi.Bucketing(opts.Bucketing)
	if b == "" {
		b = eceapi.BucketingDaily
	}
	return &billingChartsSource{
		env: env, bucketing: b,
		perDeployment: opts.PerDeployment,
		concurrency:   max(1, opts.Concurrency),
		orgs:          env.orgs, guard: &eceGuard{env: env},
		cost: f.desc("billing_chart_cost_ecu",
			"Cost of one chart series in the current (partial) or previous (complete) bucket, in ECU; deployment_id is empty for the organization chart, where series_id is a deployment id.",
			"organization_id", "deployment_id", "series_id", "bucket"),
		start: f.desc("billing_chart_bucket_start_timestamp_seconds", "Start of the current or previous chart bucket.",
			"organization_id", "deployment_id", "bucket"),
	}, nil
}

// chartWindow covers the previous and the current bucket.
func chartWindow(now time.Time, b eceapi.Bucketing) (from, to time.Time) {
	now = now.UTC()
	if b == eceapi.BucketingMonthly {
		from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	} else {
		from = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	}
	if from.Before(eceapi.EarliestCostsDate) {
		from = eceapi.EarliestCostsDate
	}
	return from, now
}

func (c *billingChartsSource) Poll(ctx context.Context) (*Snapshot, error) {
	if c.guard.failed != nil {
		return nil, c.guard.failed
	}
	s := NewSnapshot(c.env.Account.Name)
	ownsOrg := c.env.Sharder == nil || c.env.Sharder.OwnsOrganization()
	if !ownsOrg && !c.perDeployment {
		return s, nil
	}
	orgs, err := c.orgs.get(ctx)
	if err != nil {
		return nil, c.guard.check(err)
	}
	from, to := chartWindow(c.env.Now(), c.bucketing)
	opts := &eceapi.ChartsOptions{CostsOptions: eceapi.CostsOptions{From: from, To: to}, Bucketing: c.bucketing}

	type job struct{ org, dep string }
	var jobs []job
	for _, org := range orgs {
		chart, _, err := c.env.Client.Billing.Charts(ctx, org, opts)
		if err != nil {
			return nil, c.guard.check(err)
		}
		// The organization chart's series are deployments: include/exclude
		// apply to them (id and the name the chart gives) as to every
		// per-deployment series. They are not sharded: like billing's
		// per-deployment costs, the organization's shard exports them.
		ids := c.addChart(s, org, "", chart, to, ownsOrg, c.env.Account.Deployments.Match)
		if c.perDeployment {
			// The organization chart's series are its deployments (deleted
			// ones included), named as the chart names them: the
			// deployments discovery is not needed.
			for _, sr := range ids {
				if c.env.Account.Deployments.Match(sr.id, sr.name) && (c.env.Sharder == nil || c.env.Sharder.OwnsDeployment(sr.id)) {
					jobs = append(jobs, job{org, sr.id})
				}
			}
		}
	}
	err = fanOut(ctx, s, jobs, c.concurrency, "deployment charts", "deployments",
		func(ctx context.Context, j job) (*eceapi.ChartItems, error) {
			chart, _, err := c.env.Client.Billing.DeploymentCharts(ctx, j.org, j.dep, opts)
			return chart, err
		},
		func(j job, chart *eceapi.ChartItems) { c.addChart(s, j.org, j.dep, chart, to, true, nil) })
	if err != nil {
		return nil, err
	}
	return s, nil
}

// chartSeries is one series of a chart: on the organization chart, a
// deployment id and name.
type chartSeries struct{ id, name string }

// addChart exposes the last bucket that started at or before now as
// "current" and the one before it as "previous", and returns the series
// seen in those buckets. keep, if set, selects the series by id and name
// (the first non-empty name either bucket gives).
func (c *billingChartsSource) addChart(s *Snapshot, org, dep string, chart *eceapi.ChartItems, now time.Time, emit bool, keep func(id, name string) bool) []chartSeries {
	items := make([]eceapi.ChartItem, 0, len(chart.Data))
	for _, it := range chart.Data {
		if !it.Timestamp.After(now) {
			items = append(items, it)
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Timestamp.Before(items[j].Timestamp) })
	// The same bucket listed twice would make duplicate series: keep the first.
	dedup := items[:0]
	for _, it := range items {
		if len(dedup) == 0 || !it.Timestamp.Equal(dedup[len(dedup)-1].Timestamp) {
			dedup = append(dedup, it)
		}
	}
	items = dedup
	var ids []chartSeries
	seenID := map[string]struct{}{}
	names := map[string]string{}
	for back := range 2 {
		if idx := len(items) - 1 - back; idx >= 0 {
			for _, v := range items[idx].Values {
				if names[v.ID] == "" {
					names[v.ID] = v.Name
				}
			}
		}
	}
	for back, bucket := range []string{"current", "previous"} {
		idx := len(items) - 1 - back
		if idx < 0 {
			break
		}
		it := items[idx]
		if emit {
			s.gauge(c.start, unixSeconds(it.Timestamp), org, dep, bucket)
		}
		sums := map[string]float64{}
		var order []string
		for _, v := range it.Values {
			if keep != nil && !keep(v.ID, names[v.ID]) {
				continue
			}
			if _, ok := sums[v.ID]; !ok {
				order = append(order, v.ID)
			}
			sums[v.ID] += v.Value
		}
		for _, id := range order {
			if emit {
				s.gauge(c.cost, sums[id], org, dep, id, bucket)
			}
			if _, ok := seenID[id]; !ok && id != "" {
				seenID[id] = struct{}{}
				ids = append(ids, chartSeries{id: id, name: names[id]})
			}
		}
	}
	return ids
}

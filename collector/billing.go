package collector

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-kit/log/level"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// The billing collector polls the (ESS only, experimental) costs API for the
// current calendar month in UTC: per organization the overview and the
// per-deployment totals (one call each), and, with items enabled, the
// itemized costs of each deployment the costs listing names. It never uses
// the deployments discovery: a key that may read billing but not list
// deployments still gets every billing series, and deployments deleted this
// month (absent from GET /deployments, still billed) get their items too.

const billingName = "billing"

// BillingOptions are the options of the billing collector (collectors.billing).
type BillingOptions struct {
	Interval config.Duration `yaml:"interval"`
	// Items also polls the itemized costs of each deployment.
	Items bool `yaml:"items"`
	// Concurrency bounds the per-deployment requests in flight.
	Concurrency int `yaml:"concurrency"`
}

// PollInterval implements config.CollectorOptions.
func (o BillingOptions) PollInterval() config.Duration { return o.Interval }

// Validate implements config.CollectorOptions.
func (o BillingOptions) Validate() error { return config.CheckConcurrency(o.Concurrency) }

func init() {
	registerCollector(Registration{
		Name:           billingName,
		DefaultEnabled: true,
		MinInterval:    5 * time.Minute,
		Defaults:       BillingOptions{Interval: config.NewDuration(time.Hour), Items: true, Concurrency: 4},
		Supports:       essOnly,
		New:            newBillingSource,
	})
}

type billingSource struct {
	env         Env
	items       bool
	concurrency int
	orgs        *orgSource
	guard       *eceGuard

	// closed month figures, by organization
	mu        sync.Mutex
	prevMonth map[string]*monthFigures

	orgCost, orgRate, orgTrials, orgAvail, orgRemain, orgDim, orgPrev *seriesDesc
	depCost, depRate, depDim, depPrev                                 *seriesDesc
	itemCost, itemHours, itemInstances, itemPPH                       *seriesDesc
	dtsCost, dtsQuantity, dtsRate                                     *seriesDesc
	winStart, winEnd                                                  *seriesDesc
	lineQty, lineBalance, lineStart, lineEnd                          *seriesDesc
	budget                                                            *seriesDesc
	instCost, instInfo                                                *seriesDesc
}

type monthFigures struct {
	from        time.Time // first instant of the month
	org         float64
	deployments map[string]float64
}

func newBillingSource(env Env) (Source, error) {
	opts := optionsOf[BillingOptions](env, billingName)
	f := env.descSet(billingName)
	o, od := []string{"organization_id"}, []string{"organization_id", "deployment_id"}
	item := []string{"organization_id", "deployment_id", "kind", "sku"}
	dts := []string{"organization_id", "deployment_id", "sku"}
	line := []string{"organization_id", "line_item_id"}
	c := &billingSource{
		env: env, items: opts.Items, concurrency: max(1, opts.Concurrency),
		orgs: env.orgs, guard: &eceGuard{env: env}, prevMonth: map[string]*monthFigures{},

		orgCost:   f.desc("billing_organization_cost_ecu", "Organization costs of the current calendar month (UTC) so far, in ECU.", o...),
		orgRate:   f.desc("billing_organization_hourly_rate_ecu", "Organization hourly rate, in ECU per hour.", o...),
		orgTrials: f.desc("billing_organization_trials_ecu", "Organization trial costs of the current month, in ECU.", o...),
		orgAvail:  f.desc("billing_organization_balance_available_ecu", "Organization prepaid balance available, in ECU.", o...),
		orgRemain: f.desc("billing_organization_balance_remaining_ecu", "Organization prepaid balance remaining, in ECU.", o...),
		orgDim:    f.desc("billing_organization_dimension_cost_ecu", "Organization costs of the current month by billing dimension, in ECU.", "organization_id", "dimension"),
		orgPrev:   f.desc("billing_organization_previous_month_cost_ecu", "Organization costs of the previous calendar month (UTC), in ECU: fetched at start-up, again on every poll during the first 48 hours of a month (Elastic's billing data arrives hours late), then held until the next month change; absent until a fetch succeeds.", o...),
		depCost:   f.desc("billing_deployment_cost_ecu", "Deployment costs of the current calendar month (UTC) so far, in ECU.", od...),
		depRate:   f.desc("billing_deployment_hourly_rate_ecu", "Deployment hourly rate, in ECU per hour.", od...),
		depDim:    f.desc("billing_deployment_dimension_cost_ecu", "Deployment costs of the current month by billing dimension, in ECU.", "organization_id", "deployment_id", "dimension"),
		depPrev:   f.desc("billing_deployment_previous_month_cost_ecu", "Deployment costs of the previous calendar month (UTC), in ECU: fetched at start-up, again on every poll during the first 48 hours of a month (Elastic's billing data arrives hours late), then held until the next month change; absent until a fetch succeeds.", od...),

		itemCost:      f.desc("billing_item_cost_ecu", "Itemized resource costs of the current month by kind and SKU, in ECU.", item...),
		itemHours:     f.desc("billing_item_usage_seconds", "Itemized resource usage of the current month (the API's hours, converted to the base unit seconds).", item...),
		itemInstances: f.desc("billing_item_instances", "Number of instances of the itemized resource.", item...),
		itemPPH:       f.desc("billing_item_price_per_hour_ecu", "Price per hour of the itemized resource, in ECU.", item...),
		dtsCost:       f.desc("billing_dts_cost_ecu", "Data transfer and storage costs of the current month by SKU, in ECU.", dts...),
		dtsQuantity:   f.desc("billing_dts_quantity", "Data transfer and storage usage of the current month in the SKU's unit (raw quantity).", dts...),
		dtsRate:       f.desc("billing_dts_rate_ecu", "Data transfer and storage rate, in ECU per SKU unit.", dts...),
		winStart:      f.desc("billing_window_start_timestamp_seconds", "Start of the billing window polled (first instant of the current month, UTC).", o...),
		winEnd:        f.desc("billing_window_end_timestamp_seconds", "End of the billing window polled (the poll time).", o...),

		budget: f.desc("billing_budget_ecu", "Monthly budget of the exporter's configuration (accounts[].budgets), in ECU per calendar month (UTC); tag_key and tag_value are empty for an organization budget, else the deployment tag it covers.", "organization_id", "budget", "tag_key", "tag_value"),

		instCost: f.desc("billing_instance_cost_ecu", "Costs of the current calendar month (UTC) so far of a billed instance that is not a hosted deployment (a serverless project or an organization-level service), in ECU (billing API v2 only).", "organization_id", "instance_id", "instance_type"),
		instInfo: f.desc("billing_instance_info", "A billed instance that is not a hosted deployment, with its name (empty when the API gives none); 1 (billing API v2 only).", "organization_id", "instance_id", "instance_type", "instance_name"),

		lineQty:     f.desc("billing_line_item_ecu_quantity", "Prepaid credit line item: ECU quantity bought (the line's original amount).", line...),
		lineBalance: f.desc("billing_line_item_balance_ecu", "Prepaid credit line item: ECU balance left on the line.", line...),
		lineStart:   f.desc("billing_line_item_start_timestamp_seconds", "Prepaid credit line item: start of its validity.", line...),
		lineEnd:     f.desc("billing_line_item_end_timestamp_seconds", "Prepaid credit line item: end of its validity (its last instant, e.g. 23:59:59.999 UTC of its last day).", line...),
	}
	return c, nil
}

// monthWindow returns the current calendar month in UTC up to now, never
// starting before the earliest date the API accepts.
func monthWindow(now time.Time) (from, to time.Time) {
	now = now.UTC()
	from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if from.Before(eceapi.EarliestCostsDate) {
		from = eceapi.EarliestCostsDate
	}
	return from, now
}

func (c *billingSource) Poll(ctx context.Context) (*Snapshot, error) {
	if c.guard.failed != nil {
		return nil, c.guard.failed
	}
	s := NewSnapshot(c.env.Account.Name)
	ownsOrg := c.env.Sharder == nil || c.env.Sharder.OwnsOrganization()
	if !ownsOrg && !c.items {
		return s, nil
	}
	orgs, err := c.orgs.get(ctx)
	if err != nil {
		return nil, c.guard.check(err)
	}
	from, to := monthWindow(c.env.Now())
	opts := &eceapi.CostsOptions{From: from, To: to}

	type itemJob struct{ org, dep string }
	var jobs []itemJob
	var monthErrs []error
	v2 := c.env.Account.Billing.API == config.BillingAPIV2
	for _, org := range orgs {
		// With billing v2, the items of the deployments wanted here come
		// from one costs/instances call instead of one call each.
		var wanted map[string]bool
		var listed []eceapi.DeploymentCosts
		costs, _, err := c.env.Client.Billing.Deployments(ctx, org, opts)
		if err != nil {
			return nil, c.guard.check(err)
		}
		if ownsOrg {
			ov, _, err := c.env.Client.Billing.Overview(ctx, org, opts)
			if err != nil {
				return nil, c.guard.check(err)
			}
			c.addOverview(s, org, ov)
			c.addBudgets(s, org)
			s.gauge(c.winStart, unixSeconds(from), org)
			s.gauge(c.winEnd, unixSeconds(to), org)
		}
		seen := map[string]struct{}{}
		for _, d := range costs.Deployments {
			if _, dup := seen[d.DeploymentID]; dup || d.DeploymentID == "" {
				continue
			}
			seen[d.DeploymentID] = struct{}{}
			listed = append(listed, d)
			// The costs listing is the list of deployments: it also names
			// deployments deleted this month, which still cost money.
			// Filters apply to the id and the name it gives.
			if !c.env.Account.Deployments.Match(d.DeploymentID, d.DeploymentName) {
				continue
			}
			if ownsOrg {
				s.gauge(c.depCost, d.Costs.Total, org, d.DeploymentID)
				s.gauge(c.depRate, d.HourlyRate, org, d.DeploymentID)
				for _, dim := range sumDimensions(d.Costs.Dimensions) {
					s.gauge(c.depDim, dim.Cost, org, d.DeploymentID, dim.Type)
				}
			}
			if c.items && c.ownsDeployment(d.DeploymentID) {
				if v2 {
					if wanted == nil {
						wanted = map[string]bool{}
					}
					wanted[d.DeploymentID] = true
				} else {
					jobs = append(jobs, itemJob{org, d.DeploymentID})
				}
			}
		}
		if v2 && (ownsOrg || len(wanted) > 0) {
			// A failed v2 call (a wrong billing.url, a 403) does not hide
			// what v1 gave (overview, credits, budgets, per-deployment
			// costs): it is a partial failure, retried next poll.
			if err := c.pollInstances(ctx, s, org, from, to, listed, wanted, ownsOrg); err != nil {
				monthErrs = append(monthErrs, c.guard.check(err))
			}
		}
		if ownsOrg {
			// A failed fetch of the closed month does not hide the current
			// one: it counts as a partial failure and is retried next poll.
			if err := c.closeMonth(ctx, org, from, to); err != nil {
				monthErrs = append(monthErrs, c.guard.check(err))
			}
			c.addPrevious(s, org, from)
		}
	}

	err = fanOut(ctx, s, jobs, c.concurrency, "itemized costs", "deployments",
		func(ctx context.Context, j itemJob) (*eceapi.ItemsCosts, error) {
			items, _, err := c.env.Client.Billing.DeploymentItems(ctx, j.org, j.dep, opts)
			return items, err
		},
		func(j itemJob, items *eceapi.ItemsCosts) { c.addItems(s, j.org, j.dep, items) })
	if err != nil {
		return nil, err
	}
	s.Partial = append(s.Partial, monthErrs...)
	return s, nil
}

// pollInstances reads the organization's billing v2 costs/instances once:
// the items of the wanted deployments (the listed ones passing the
// filters and this shard), and, when this shard owns the organization,
// the cost of every instance that is not a hosted deployment.
//
// v2 names a hosted deployment's instance by its Elasticsearch resource
// id, not its deployment id, and the costs listing has no resource ids:
// an instance is joined to the listed deployment with its id (should the
// API give deployment ids), else to the one listed under its name, else,
// among deployments sharing the name, to the one whose month-to-date
// total it equals. The deployments discovery is not used, so billing still
// needs nothing but billing rights. An instance that stays ambiguous gets
// no items (logged); its totals are the listing's anyway.
func (c *billingSource) pollInstances(ctx context.Context, s *Snapshot, org string, from, to time.Time,
	listed []eceapi.DeploymentCosts, wanted map[string]bool, ownsOrg bool) error {
	ins, _, err := c.env.Client.BillingV2.Instances(ctx, org, eceapi.InstancesOptions{
		CostsWindow: eceapi.CostsWindow{From: from, To: to}, IncludeNames: true,
	})
	if err != nil {
		return err
	}
	byID := make(map[string]*eceapi.DeploymentCosts, len(listed))
	byName := make(map[string][]*eceapi.DeploymentCosts, len(listed))
	for i := range listed {
		d := &listed[i]
		byID[d.DeploymentID] = d
		byName[d.DeploymentName] = append(byName[d.DeploymentName], d)
	}
	joined := map[string]bool{}
	seen := map[string]bool{}
	var unjoined []string
	for _, in := range ins.Instances {
		if in.ID == "" || seen[in.ID] {
			continue // a repeated instance keeps the first, as elsewhere
		}
		seen[in.ID] = true
		if in.Type != eceapi.InstanceTypeDeployment {
			if ownsOrg {
				s.gauge(c.instCost, in.TotalECU, org, in.ID, in.Type)
				s.gauge(c.instInfo, 1, org, in.ID, in.Type, in.Name)
			}
			continue
		}
		d := joinInstance(in, byID, byName, joined)
		if d == nil {
			unjoined = append(unjoined, in.ID)
			continue
		}
		joined[d.DeploymentID] = true
		if wanted[d.DeploymentID] {
			c.addLineItems2(s, org, d.DeploymentID, in.LineItems)
		}
	}
	if len(unjoined) > 0 {
		level.Warn(c.env.Logger).Log("msg", "billing v2 instances matched no single deployment of the costs listing (by id, name, or name and total); their items are not exported",
			"organization_id", org, "instances", len(unjoined), "first", unjoined[0])
	}
	return nil
}

// joinInstance finds the listed deployment a v2 deployment instance bills,
// or nil; a deployment already joined is not joined again.
func joinInstance(in eceapi.InstanceCosts, byID map[string]*eceapi.DeploymentCosts,
	byName map[string][]*eceapi.DeploymentCosts, joined map[string]bool) *eceapi.DeploymentCosts {
	if d := byID[in.ID]; d != nil {
		if joined[d.DeploymentID] {
			return nil
		}
		return d
	}
	var free []*eceapi.DeploymentCosts
	for _, d := range byName[in.Name] {
		if !joined[d.DeploymentID] {
			free = append(free, d)
		}
	}
	if len(free) == 1 {
		return free[0]
	}
	var same *eceapi.DeploymentCosts
	for _, d := range free {
		if math.Abs(d.Costs.Total-in.TotalECU) < 0.00005 {
			if same != nil {
				return nil
			}
			same = d
		}
	}
	return same
}

// addLineItems2 exposes one deployment's items from its billing v2 product
// line items, under the v1 names: capacity lines as items (quantity in
// hours, rate per hour, by kind and SKU), the others as data transfer and
// storage (by SKU). v2 has no instance count: ece_billing_item_instances
// is absent.
func (c *billingSource) addLineItems2(s *Snapshot, org, dep string, lines []eceapi.ProductLineItem) {
	var items []*itemAgg
	byKey := map[[2]string]*itemAgg{}
	var dts dtsSet
	for _, l := range lines {
		if l.Type == "capacity" {
			k := [2]string{l.Kind, l.SKU}
			a := byKey[k]
			if a == nil {
				a = &itemAgg{kind: l.Kind, sku: l.SKU}
				byKey[k] = a
				items = append(items, a)
			}
			a.cost += l.TotalECU
			if l.Unit == "hour" {
				a.hours += l.Quantity.Value
			}
			a.pricePerHour = l.Rate.Value
			continue
		}
		dts.add(l.SKU, l.TotalECU, l.Quantity.Value, l.Rate.Value)
	}
	for _, a := range items {
		s.gauge(c.itemCost, a.cost, org, dep, a.kind, a.sku)
		s.gauge(c.itemHours, a.hours*3600, org, dep, a.kind, a.sku)
		s.gauge(c.itemPPH, a.pricePerHour, org, dep, a.kind, a.sku)
	}
	c.addDTS(s, org, dep, &dts)
}

// ownsDeployment applies sharding by the same stable hash of the id as the
// other collectors.
func (c *billingSource) ownsDeployment(id string) bool {
	return c.env.Sharder == nil || c.env.Sharder.OwnsDeployment(id)
}

// previousMonth returns the calendar month before the one that starts at
// from: its first instant and its last instant. The window ends inside the
// closed month because the API may read `to` as a whole day: the first
// instant of the next month would add that day to the closed month. (The
// client sends whole seconds, so the API sees …T23:59:59Z.)
func previousMonth(from time.Time) (prevFrom, prevTo time.Time) {
	return from.AddDate(0, -1, 0), from.Add(-time.Millisecond)
}

// closedMonthSettle is how long after a month change the closed month is
// fetched again on every poll: Elastic's billing data arrives hours late,
// so the figures of the first hours after midnight are not final yet.
const closedMonthSettle = 48 * time.Hour

// closeMonth fetches the figures of the month before from (the current
// month's first instant; now is the poll time) unless they are already held
// and settled: on the first poll after start-up, on every poll during the
// first closedMonthSettle of a month, and again on the next poll if a fetch
// failed. A failed fetch keeps the figures held, if any.
func (c *billingSource) closeMonth(ctx context.Context, org string, from, now time.Time) error {
	prevFrom, prevTo := previousMonth(from)
	if prevFrom.Before(eceapi.EarliestCostsDate) {
		return nil
	}
	c.mu.Lock()
	held := c.prevMonth[org]
	c.mu.Unlock()
	if held != nil && held.from.Equal(prevFrom) && now.Sub(from) >= closedMonthSettle {
		return nil
	}
	opts := &eceapi.CostsOptions{From: prevFrom, To: prevTo}
	ov, _, err := c.env.Client.Billing.Overview(ctx, org, opts)
	if err != nil {
		return fmt.Errorf("close previous month of organization %q: %w", org, err)
	}
	deps, _, err := c.env.Client.Billing.Deployments(ctx, org, opts)
	if err != nil {
		return fmt.Errorf("close previous month of organization %q: %w", org, err)
	}
	mf := &monthFigures{from: prevFrom, org: ov.Costs.Total, deployments: map[string]float64{}}
	for _, d := range deps.Deployments {
		if _, dup := mf.deployments[d.DeploymentID]; dup || d.DeploymentID == "" ||
			!c.env.Account.Deployments.Match(d.DeploymentID, d.DeploymentName) {
			continue // a duplicate listing keeps the first, as for the current month
		}
		mf.deployments[d.DeploymentID] = d.Costs.Total
	}
	c.mu.Lock()
	c.prevMonth[org] = mf
	c.mu.Unlock()
	return nil
}

// addPrevious exposes the closed month before from, if it is held; figures
// of an older month are never shown as the previous one.
func (c *billingSource) addPrevious(s *Snapshot, org string, from time.Time) {
	prevFrom, _ := previousMonth(from)
	c.mu.Lock()
	mf := c.prevMonth[org]
	c.mu.Unlock()
	if mf == nil || !mf.from.Equal(prevFrom) {
		return
	}
	s.gauge(c.orgPrev, mf.org, org)
	for dep, v := range mf.deployments {
		s.gauge(c.depPrev, v, org, dep)
	}
}

func (c *billingSource) addOverview(s *Snapshot, org string, ov *eceapi.CostsOverview) {
	s.gauge(c.orgCost, ov.Costs.Total, org)
	s.gauge(c.orgRate, ov.HourlyRate, org)
	s.gauge(c.orgTrials, ov.Trials, org)
	if ov.Balance != nil {
		s.gauge(c.orgAvail, ov.Balance.Available, org)
		s.gauge(c.orgRemain, ov.Balance.Remaining, org)
	}
	for _, dim := range sumDimensions(ov.Costs.Dimensions) {
		s.gauge(c.orgDim, dim.Cost, org, dim.Type)
	}
	if ov.Balance != nil {
		c.addLineItems(s, org, ov.Balance.LineItems)
	}
}

// addBudgets exposes the configured budgets that apply to org: those of
// that organization and those without one.
func (c *billingSource) addBudgets(s *Snapshot, org string) {
	for _, b := range c.env.Account.Budgets {
		if b.OrganizationID != "" && b.OrganizationID != org {
			continue
		}
		s.gauge(c.budget, b.MonthlyECU, org, b.Name, b.TagKey(), b.TagValue())
	}
}

// maxLineItems bounds the prepaid credit lines exported per organization
// (an organization has a handful: one per order); maxLineItemID bounds the
// length of a line_item_id label value.
const (
	maxLineItems  = 100
	maxLineItemID = 64
)

// addLineItems exposes the prepaid credit lines of an organization's
// balance, one series per line and figure, labelled by the line's id. The
// API gives every line an id; a line without a usable one (empty, too long
// or with control characters) is labelled by its validity instead,
// "<start date>_<end date>" in UTC (2026-01-01_2026-12-31), stable across
// polls. A repeated id keeps the first line.
func (c *billingSource) addLineItems(s *Snapshot, org string, lines []eceapi.SimplifiedLineItem) {
	seen := make(map[string]struct{}, len(lines))
	for _, li := range lines {
		if len(seen) == maxLineItems {
			break
		}
		id := lineItemID(li)
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		s.gauge(c.lineQty, li.ECUQuantity, org, id)
		s.gauge(c.lineBalance, li.ECUBalance, org, id)
		if !li.Start.IsZero() {
			s.gauge(c.lineStart, unixSeconds(li.Start), org, id)
		}
		if !li.End.IsZero() {
			s.gauge(c.lineEnd, unixSeconds(li.End), org, id)
		}
	}
}

func lineItemID(li eceapi.SimplifiedLineItem) string {
	usable := li.ID != "" && len(li.ID) <= maxLineItemID && utf8.ValidString(li.ID) &&
		!strings.ContainsFunc(li.ID, unicode.IsControl)
	if usable {
		return li.ID
	}
	day := func(t time.Time) string {
		if t.IsZero() {
			return "none"
		}
		return t.UTC().Format(time.DateOnly)
	}
	return day(li.Start) + "_" + day(li.End)
}

// sumDimensions merges repeated dimension types so each is one series.
func sumDimensions(dims []eceapi.Dimension) []eceapi.Dimension {
	out := make([]eceapi.Dimension, 0, len(dims))
	idx := make(map[string]int, len(dims))
	for _, d := range dims {
		if i, ok := idx[d.Type]; ok {
			out[i].Cost += d.Cost
			continue
		}
		idx[d.Type] = len(out)
		out = append(out, d)
	}
	return out
}

type itemAgg struct {
	kind, sku               string
	cost, hours             float64
	instances, pricePerHour float64
	end                     time.Time
}

type dtsAgg struct {
	sku             string
	cost, qty, rate float64
}

// addItems exposes one deployment's items. Several items can share a kind
// and SKU (a resize in the month): costs and hours are summed, instances
// and price per hour are those of the latest period.
func (c *billingSource) addItems(s *Snapshot, org, dep string, ic *eceapi.ItemsCosts) {
	var items []*itemAgg
	byKey := map[[2]string]*itemAgg{}
	for _, r := range ic.Resources {
		k := [2]string{r.Kind, r.SKU}
		a := byKey[k]
		if a == nil {
			a = &itemAgg{kind: r.Kind, sku: r.SKU}
			byKey[k] = a
			items = append(items, a)
		}
		a.cost += r.Price
		a.hours += r.Hours
		if a.end.IsZero() || !r.Period.End.Before(a.end) {
			a.end, a.instances, a.pricePerHour = r.Period.End, r.InstanceCount, r.PricePerHour
		}
	}
	for _, a := range items {
		s.gauge(c.itemCost, a.cost, org, dep, a.kind, a.sku)
		s.gauge(c.itemHours, a.hours*3600, org, dep, a.kind, a.sku)
		s.gauge(c.itemInstances, a.instances, org, dep, a.kind, a.sku)
		s.gauge(c.itemPPH, a.pricePerHour, org, dep, a.kind, a.sku)
	}
	var dts dtsSet
	for _, d := range ic.DataTransferAndStorage {
		dts.add(d.SKU, d.Cost, d.Quantity.Value, d.Rate.Value)
	}
	c.addDTS(s, org, dep, &dts)
}

// dtsSet sums data transfer and storage lines by SKU (v1 items and v2 lines
// alike), in the order the SKUs first appear.
type dtsSet struct {
	order []*dtsAgg
	bySKU map[string]*dtsAgg
}

func (d *dtsSet) add(sku string, cost, qty, rate float64) {
	a := d.bySKU[sku]
	if a == nil {
		if d.bySKU == nil {
			d.bySKU = map[string]*dtsAgg{}
		}
		a = &dtsAgg{sku: sku}
		d.bySKU[sku] = a
		d.order = append(d.order, a)
	}
	a.cost += cost
	a.qty += qty
	a.rate = rate
}

// addDTS exposes one deployment's data transfer and storage series.
func (c *billingSource) addDTS(s *Snapshot, org, dep string, d *dtsSet) {
	for _, a := range d.order {
		s.gauge(c.dtsCost, a.cost, org, dep, a.sku)
		s.gauge(c.dtsQuantity, a.qty, org, dep, a.sku)
		s.gauge(c.dtsRate, a.rate, org, dep, a.sku)
	}
}

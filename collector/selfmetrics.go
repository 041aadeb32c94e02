package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/exposition"
)

// selfMetrics are the exporter's own metrics about its pollers and its API
// requests.
type selfMetrics struct {
	success     *prometheus.Desc
	duration    *prometheus.Desc
	lastSuccess *prometheus.Desc
	stale       *prometheus.Desc
	interval    *prometheus.Desc
	effective   *prometheus.Desc
	budget      *prometheus.Desc
	planned     *prometheus.Desc
	partial     *prometheus.Desc
	dropped     *prometheus.Desc
	cached      *prometheus.Desc

	errors          *prometheus.CounterVec
	requests        *prometheus.CounterVec
	failures        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	rlRemaining     *prometheus.GaugeVec
	rlLimit         *prometheus.GaugeVec
	rlInterval      *prometheus.GaugeVec
	credExpiry      *prometheus.GaugeVec

	// defs lists every self-metric with its variable labels (MetricLabels).
	defs map[string][]string
}

const exporterNS = "ece_exporter"

func newSelfMetrics(reg prometheus.Registerer) (*selfMetrics, error) {
	pl := []string{"account", "collector"}
	s := &selfMetrics{defs: map[string][]string{}}
	desc := func(name, help string, labels []string) *prometheus.Desc {
		s.defs[name] = labels
		return prometheus.NewDesc(name, help, labels, nil)
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		s.defs[name] = labels
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		s.defs[name] = labels
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	s.defs[exporterNS+"_api_request_duration_seconds"] = []string{"account", "operation"}
	*s = selfMetrics{defs: s.defs,
		success:     desc(exporterNS+"_collector_success", "Whether the last poll of the collector succeeded (1) or failed (0).", pl),
		duration:    desc(exporterNS+"_collector_duration_seconds", "Duration of the last poll of the collector.", pl),
		lastSuccess: desc(exporterNS+"_collector_last_success_timestamp_seconds", "When the collector last polled successfully.", pl),
		stale:       desc(exporterNS+"_collector_stale", "1 when the last poll failed and the exported data is from an earlier successful poll.", pl),
		interval:    desc(exporterNS+"_collector_interval_seconds", "Configured poll interval of the collector.", pl),
		effective: desc(exporterNS+"_collector_effective_interval_seconds",
			"Poll interval the collector runs at: the configured one, or longer when the account's API budget plan stretches it.", pl),
		budget: desc(exporterNS+"_api_budget_requests_per_hour",
			"API request budget of the account the plan fills: http.max_requests_per_hour, or the rate used when sustained 429 answers came, while they last.", []string{"account"}),
		planned: desc(exporterNS+"_api_planned_requests_per_hour",
			"API requests per hour the account's pollers plan for at their effective intervals (calls of each collector's last cycle); compare with rate(ece_exporter_api_requests_total[1h])*3600.", []string{"account"}),
		partial: desc(exporterNS+"_collector_partial_failures", "Items (deployments, resources) that failed in the last poll while the poll as a whole succeeded.", pl),
		dropped: desc(exporterNS+"_collector_dropped_series", "Series of the exported snapshot that were dropped: duplicates (the API listed an item twice) or values that could not be built.", pl),
		cached: desc(exporterNS+"_exposition_cached_bytes",
			"Bytes of the account's data encoded once per poll and kept for scrapes, by format (text, openmetrics, protobuf) and encoding (identity, gzip); identity is kept only for a format scraped uncompressed twice in 30 minutes.",
			[]string{"account", "format", "encoding"}),
		errors: counter(exporterNS+"_collector_errors_total",
			"Failed polls and failed items of polls, by bounded reason (timeout, rate_limited, auth, not_found, server, decode, redirect, tls, network, config, dependency, panic, internal).",
			"account", "collector", "reason"),
		requests: counter(exporterNS+"_api_requests_total",
			"HTTP requests sent to the Elastic Cloud API, by spec operation and status code (\"none\" when no answer arrived).",
			"account", "operation", "code"),
		failures: counter(exporterNS+"_api_request_failures_total",
			"HTTP requests to the Elastic Cloud API that failed, by spec operation and bounded reason; a 2xx answer whose body could not be read or decoded counts here too.",
			"account", "operation", "reason"),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    exporterNS + "_api_request_duration_seconds",
			Help:    "Duration of HTTP requests to the Elastic Cloud API, by spec operation.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"account", "operation"}),
		rlRemaining: gauge(exporterNS+"_api_ratelimit_remaining", "API calls left in the current rate-limit window (x-ratelimit-remaining of the latest answer).", "account"),
		rlLimit:     gauge(exporterNS+"_api_ratelimit_limit", "API calls allowed per rate-limit window (x-ratelimit-limit of the latest answer).", "account"),
		rlInterval:  gauge(exporterNS+"_api_ratelimit_interval_seconds", "Length of the rate-limit window (x-ratelimit-interval of the latest answer).", "account"),
		credExpiry:  gauge(exporterNS+"_credential_expiration_timestamp_seconds", "When the exporter's own API key expires (x-elastic-api-key-expiration header, ECE).", "account"),
	}
	if reg != nil {
		for _, c := range s.vectors() {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// vectors are the metric vectors the self-metrics register.
func (s *selfMetrics) vectors() []prometheus.Collector {
	return []prometheus.Collector{s.errors, s.requests, s.failures, s.requestDuration, s.rlRemaining, s.rlLimit, s.rlInterval, s.credExpiry}
}

// observer returns the client hook of one account.
func (s *selfMetrics) observer(account string, rate *rateState) func(eceapi.Observation) {
	return func(o eceapi.Observation) {
		code := "none"
		if o.StatusCode != 0 {
			code = strconv.Itoa(o.StatusCode)
		}
		op := o.Operation
		if op == "" {
			op = "unknown"
		}
		s.requests.WithLabelValues(account, op, code).Inc()
		rate.budget.record(o.StatusCode)
		if o.Err != nil {
			s.failures.WithLabelValues(account, op, Reason(o.Err)).Inc()
		}
		s.requestDuration.WithLabelValues(account, op).Observe(o.Duration.Seconds())
		if o.RateLimit.Present {
			s.rlRemaining.WithLabelValues(account).Set(float64(o.RateLimit.Remaining))
			rate.update(o.RateLimit)
		}
		if o.RateLimit.Limit > 0 {
			s.rlLimit.WithLabelValues(account).Set(float64(o.RateLimit.Limit))
		}
		if o.RateLimit.Interval > 0 {
			s.rlInterval.WithLabelValues(account).Set(o.RateLimit.Interval.Seconds())
		}
		if !o.APIKeyExpiration.IsZero() {
			s.credExpiry.WithLabelValues(account).Set(float64(o.APIKeyExpiration.Unix()))
		}
	}
}

// forgetAccount drops the series of a removed account.
func (s *selfMetrics) forgetAccount(account string) {
	l := prometheus.Labels{"account": account}
	s.errors.DeletePartialMatch(l)
	s.requests.DeletePartialMatch(l)
	s.failures.DeletePartialMatch(l)
	s.requestDuration.DeletePartialMatch(l)
	s.rlRemaining.DeletePartialMatch(l)
	s.rlLimit.DeletePartialMatch(l)
	s.rlInterval.DeletePartialMatch(l)
	s.credExpiry.DeletePartialMatch(l)
}

func (s *selfMetrics) collectPoller(ch chan<- prometheus.Metric, p *poller, st pollerState) {
	lv := []string{p.account, p.collector}
	ch <- prometheus.MustNewConstMetric(s.interval, prometheus.GaugeValue, st.base.Seconds(), lv...)
	ch <- prometheus.MustNewConstMetric(s.effective, prometheus.GaugeValue, st.interval.Seconds(), lv...)
	if !st.polled && st.snap == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(s.success, prometheus.GaugeValue, boolFloat(st.success), lv...)
	// Stale: older data is being shown. A collector that never succeeded
	// shows nothing, so it is not stale.
	ch <- prometheus.MustNewConstMetric(s.stale, prometheus.GaugeValue, boolFloat(!st.success && st.snap != nil), lv...)
	ch <- prometheus.MustNewConstMetric(s.duration, prometheus.GaugeValue, st.duration.Seconds(), lv...)
	ch <- prometheus.MustNewConstMetric(s.partial, prometheus.GaugeValue, float64(st.partial), lv...)
	if st.snap != nil {
		ch <- prometheus.MustNewConstMetric(s.dropped, prometheus.GaugeValue, float64(st.snap.invalid), lv...)
	}
	if !st.lastSuccess.IsZero() {
		ch <- prometheus.MustNewConstMetric(s.lastSuccess, prometheus.GaugeValue, float64(st.lastSuccess.UnixNano())/1e9, lv...)
	}
}

// collectCached sends the cached exposition bytes of one account's
// snapshots, every format and encoding (0 when not kept).
func (s *selfMetrics) collectCached(ch chan<- prometheus.Metric, account string, sizes [exposition.NumKinds][2]int) {
	for k := exposition.Kind(0); k < exposition.NumKinds; k++ {
		for gz, enc := range []string{"identity", "gzip"} {
			ch <- prometheus.MustNewConstMetric(s.cached, prometheus.GaugeValue, float64(sizes[k][gz]), account, k.String(), enc)
		}
	}
}

// collectBudget sends the budget and the plan of one account.
func (s *selfMetrics) collectBudget(ch chan<- prometheus.Metric, account string, b *budgetState) {
	if b == nil {
		return
	}
	if budget, _ := b.budget(); budget > 0 {
		ch <- prometheus.MustNewConstMetric(s.budget, prometheus.GaugeValue, budget, account)
	}
	if planned, ok := b.plan(); ok {
		ch <- prometheus.MustNewConstMetric(s.planned, prometheus.GaugeValue, planned, account)
	}
}

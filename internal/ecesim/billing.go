package ecesim

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// Billing: every cost is hours × an hourly price in integer micro-ECU
// (deployment.hoursIn, deployment.usage), so the answers agree with each
// other exactly, whatever the window or the bucketing.

// timeLayout is how the billing API writes date-times: milliseconds and Z
// (2020-07-23T04:07:34.425Z).
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// earliestCostsDate is the earliest from the billing operations accept.
var earliestCostsDate = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

// maxCostsWindow is the longest from-to window the billing operations
// accept.
const maxCostsWindow = 400 * 24 * time.Hour

// dimensionTypes is the spec's Dimension.type enum, the order of every
// dimensions list.
var dimensionTypes = []string{"capacity", "data_in", "data_internode", "data_out", "storage_api", "storage_bytes"}

func isBilling(op string) bool {
	switch op {
	case opOverview, opCostsDeployments, opItems, opItemsByDeployment, opCharts, opChartsByDeployment:
		return true
	}
	return isBillingV2(op)
}

// jsDimension is Dimension.
type jsDimension struct {
	Type string  `json:"type"`
	Cost float64 `json:"cost"`
}

// jsCosts is Costs.
type jsCosts struct {
	Total      float64       `json:"total"`
	Dimensions []jsDimension `json:"dimensions"`
}

// jsPeriod is Period.
type jsPeriod struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// jsItem is ItemCosts.
type jsItem struct {
	Hours         float64  `json:"hours"`
	InstanceCount int      `json:"instance_count"`
	Period        jsPeriod `json:"period"`
	Kind          string   `json:"kind"`
	Price         float64  `json:"price"`
	PricePerHour  float64  `json:"price_per_hour"`
	Name          string   `json:"name"`
	SKU           string   `json:"sku"`
}

// jsQuantity is DtsQuantity.
type jsQuantity struct {
	Value          float64 `json:"value"`
	FormattedValue string  `json:"formatted_value"`
}

// jsRate is DtsRate.
type jsRate struct {
	Value          float64 `json:"value"`
	FormattedValue string  `json:"formatted_value"`
}

// jsDTS is DtsDimensionCosts.
type jsDTS struct {
	Cost     float64    `json:"cost"`
	Name     string     `json:"name"`
	Quantity jsQuantity `json:"quantity"`
	Rate     jsRate     `json:"rate"`
	SKU      string     `json:"sku"`
	Type     string     `json:"type"`
}

// jsItems is ItemsCosts.
type jsItems struct {
	Costs                  jsCosts  `json:"costs"`
	DataTransferAndStorage []jsDTS  `json:"data_transfer_and_storage"`
	Resources              []jsItem `json:"resources"`
}

// dims accumulates micro-ECU per dimension type.
type dims map[string]int64

func (m dims) add(d *deployment, from, to time.Time) {
	m["capacity"] += d.capacityMicro(from, to)
	h := d.hoursIn(from, to)
	for _, x := range d.dts {
		m[x.dimension] += h * x.microPerHour()
	}
}

func (m dims) costs() jsCosts {
	out := jsCosts{Dimensions: make([]jsDimension, 0, len(dimensionTypes))}
	var total int64
	for _, t := range dimensionTypes {
		out.Dimensions = append(out.Dimensions, jsDimension{Type: t, Cost: ecu(m[t])})
		total += m[t]
	}
	out.Total = ecu(total)
	return out
}

// window is a validated billing window; usage is counted up to end (to,
// but never past the last whole hour before now).
type window struct {
	from, to, end time.Time
}

// parseDate reads a from or to. A date-only value names a whole day: as
// from its first instant, as to the first instant of the next day, so
// from=to=2025-07-10 is that day.
func parseDate(v string, isTo bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), true
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, false
	}
	if isTo {
		t = t.AddDate(0, 0, 1)
	}
	return t, true
}

func invalidRange(msg string, fields ...string) *reply {
	e := errReply(http.StatusBadRequest, "costs.invalid_date_range", "The specified date range is invalid: "+msg, fields...)
	return &e
}

// window reads from/to with the spec's defaults (start of the current
// month UTC, now).
func (s *Server) window(r *http.Request) (window, *reply) {
	now := s.opts.Now().UTC()
	w := window{from: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), to: now}
	q := r.URL.Query()
	if v := q.Get("from"); v != "" {
		t, ok := parseDate(v, false)
		if !ok {
			return w, invalidRange(fmt.Sprintf("from [%s] is not a date (YYYY-MM-DD or RFC 3339)", v), "from")
		}
		w.from = t
	}
	if v := q.Get("to"); v != "" {
		t, ok := parseDate(v, true)
		if !ok {
			return w, invalidRange(fmt.Sprintf("to [%s] is not a date (YYYY-MM-DD or RFC 3339)", v), "to")
		}
		w.to = t
	}
	switch {
	case w.from.Before(earliestCostsDate):
		return w, invalidRange("from is before "+earliestCostsDate.Format(time.DateOnly), "from")
	case w.to.Before(w.from):
		return w, invalidRange("to is before from", "from", "to")
	case w.to.Sub(w.from) > maxCostsWindow:
		return w, invalidRange(fmt.Sprintf("the range exceeds %d days", int(maxCostsWindow/(24*time.Hour))), "from", "to")
	}
	w.end = minTime(w.to, now.Truncate(time.Hour))
	return w, nil
}

func (w window) period() jsPeriod {
	return jsPeriod{Start: formatTime(w.from), End: formatTime(w.to)}
}

// billingOrg checks the organization and window shared by every billing
// operation.
func (s *Server) billingOrg(r *http.Request, p map[string]string) (window, *reply) {
	found := false
	for _, o := range s.w.orgs {
		found = found || o.id == p["organization_id"]
	}
	if !found {
		e := errReply(http.StatusNotFound, "organization.not_found", fmt.Sprintf("Organization [%s] not found", p["organization_id"]))
		return window{}, &e
	}
	return s.window(r)
}

// billed is a deployment as billing sees it: live, or deleted at gone and
// billed up to then. Elastic keeps billing a deleted deployment for the
// time it ran, so month-to-date costs never fall.
type billed struct {
	*deployment
	gone time.Time // zero while live
}

// until bounds t by the deletion.
func (b billed) until(t time.Time) time.Time {
	if b.gone.IsZero() {
		return t
	}
	return minTime(t, b.gone)
}

// in is w as far as the deployment existed in it.
func (b billed) in(w window) window {
	w.to, w.end = maxTime(w.from, b.until(w.to)), b.until(w.end)
	return w
}

// rate is the hourly cost now: none once deleted.
func (b billed) rate() int64 {
	if !b.gone.IsZero() {
		return 0
	}
	return b.resourceMicro + b.dtsMicro
}

// billedIn reports whether billing knows the deployment in a window
// starting at from: live, or deleted after from.
func (s *Server) billedIn(d *deployment, from time.Time) (billed, bool) {
	gone, deleted := s.deleted[d.id]
	if deleted && !gone.After(from) {
		return billed{}, false
	}
	return billed{deployment: d, gone: gone}, true
}

// orgDeployment finds a deployment of the organization that billing knows
// in w (deleted ones included, up to their deletion).
func (s *Server) orgDeployment(p map[string]string, w window) (billed, *reply) {
	s.mu.Lock()
	d := s.w.byID[p["deployment_id"]]
	var b billed
	ok := d != nil && d.org == p["organization_id"]
	if ok {
		b, ok = s.billedIn(d, w.from)
	}
	s.mu.Unlock()
	if !ok {
		e := errReply(http.StatusNotFound, "billing_service.es_cluster_id_not_found",
			fmt.Sprintf("The Elasticsearch cluster [%s] was not found", p["deployment_id"]))
		return billed{}, &e
	}
	return b, nil
}

// orgDeployments lists the deployments of the organization that billing
// knows in w, in listing order: the live ones and those deleted in or
// after w.
func (s *Server) orgDeployments(org string, w window) []billed {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []billed
	for _, d := range s.w.deployments {
		if d.org != org {
			continue
		}
		if b, ok := s.billedIn(d, w.from); ok {
			out = append(out, b)
		}
	}
	return out
}

// items itemizes one deployment's costs over the window. A resource
// resized in the window has one item per SKU. Empty lists are null, as
// the API sends them.
func (d *deployment) items(w window) jsItems {
	h := d.hoursIn(w.from, w.end)
	var out jsItems
	start := w.from
	if d.created.After(start) {
		start = d.created
	}
	if start.After(w.to) {
		start = w.to
	}
	item := func(r *resource, sku string, hours float64, micro, perHour int64, from, to time.Time) jsItem {
		return jsItem{
			Hours: hours, InstanceCount: r.instances, Period: jsPeriod{Start: formatTime(from), End: formatTime(to)}, Kind: r.kind,
			Price: ecu(micro), PricePerHour: ecu(perHour),
			Name: fmt.Sprintf("%s %s (%s, %d instance(s))", d.name, r.kind, sku, r.instances), SKU: sku,
		}
	}
	for _, r := range d.resources {
		u := d.usage(r, w.from, w.end)
		from := start
		if u.oldHours > 0 {
			resized := r.splitAt()
			out.Resources = append(out.Resources, item(r, r.oldSKU, u.oldHours, u.oldMicro, r.oldPerHourMicro, start, minTime(w.to, resized)))
			from = minTime(maxTime(start, resized), w.to)
		}
		if u.hours > 0 || u.oldHours == 0 {
			out.Resources = append(out.Resources, item(r, r.sku, u.hours, u.micro, r.perHourMicro, from, w.to))
		}
	}
	for _, x := range d.dts {
		qtyMilli := h * x.perHourMilli
		qty := float64(qtyMilli) / 1000
		rate := ecu(x.rateMicro)
		out.DataTransferAndStorage = append(out.DataTransferAndStorage, jsDTS{
			Cost: ecu(h * x.microPerHour()), Name: x.name, SKU: x.sku, Type: x.dimension,
			Quantity: jsQuantity{Value: qty, FormattedValue: strconv.FormatFloat(qty, 'f', -1, 64) + " " + x.unit},
			Rate:     jsRate{Value: rate, FormattedValue: strconv.FormatFloat(rate, 'f', -1, 64) + " per " + x.unit},
		})
	}
	m := dims{}
	m.add(d, w.from, w.end)
	out.Costs = m.costs()
	return out
}

func (s *Server) costsOverview(r *http.Request, p map[string]string) reply {
	w, e := s.billingOrg(r, p)
	if e != nil {
		return *e
	}
	m := dims{}
	var rate int64
	for _, d := range s.orgDeployments(p["organization_id"], w) {
		m.add(d.deployment, w.from, d.until(w.end))
		rate += d.rate()
	}
	c := m.costs()
	type jsLineItem struct {
		ID          string  `json:"id"`
		ECUQuantity float64 `json:"ecu_quantity"`
		ECUBalance  float64 `json:"ecu_balance"`
		Start       string  `json:"start"`
		End         string  `json:"end"`
	}
	type jsBalance struct {
		Available float64      `json:"available"`
		Remaining float64      `json:"remaining"`
		LineItems []jsLineItem `json:"line_items"`
	}
	const prepaid = 250000.0
	year := s.opts.Now().UTC().Year()
	// A line item ends at the last millisecond of its last day.
	yearEnd := time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Millisecond)
	return okReply(http.StatusOK, struct {
		Costs      jsCosts   `json:"costs"`
		Trials     float64   `json:"trials"`
		HourlyRate float64   `json:"hourly_rate"`
		Balance    jsBalance `json:"balance"`
	}{
		Costs: c, Trials: 0, HourlyRate: ecu(rate),
		Balance: jsBalance{Available: prepaid, Remaining: prepaid - c.Total, LineItems: []jsLineItem{{
			ID: "sim-line-item-1", ECUQuantity: prepaid, ECUBalance: prepaid - c.Total,
			Start: formatTime(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)),
			End:   formatTime(yearEnd),
		}}},
	})
}

func (s *Server) costsDeployments(r *http.Request, p map[string]string) reply {
	w, e := s.billingOrg(r, p)
	if e != nil {
		return *e
	}
	type jsDeploymentCosts struct {
		DeploymentID   string   `json:"deployment_id"`
		DeploymentName string   `json:"deployment_name"`
		Costs          jsCosts  `json:"costs"`
		HourlyRate     float64  `json:"hourly_rate"`
		Period         jsPeriod `json:"period"`
	}
	deps := s.orgDeployments(p["organization_id"], w)
	out := struct {
		TotalCost   float64             `json:"total_cost"`
		Deployments []jsDeploymentCosts `json:"deployments"`
	}{} // no deployments: "deployments": null, as the API sends it
	var total int64
	for _, d := range deps {
		m := dims{}
		end := d.until(w.end)
		m.add(d.deployment, w.from, end)
		out.Deployments = append(out.Deployments, jsDeploymentCosts{DeploymentID: d.id, DeploymentName: d.name, Costs: m.costs(),
			HourlyRate: ecu(d.rate()), Period: w.period()})
		total += d.costMicro(w.from, end)
	}
	out.TotalCost = ecu(total)
	return okReply(http.StatusOK, out)
}

// costsItems lists the items of every deployment of the organization
// (not merged by SKU: each line keeps its hours × price_per_hour).
func (s *Server) costsItems(r *http.Request, p map[string]string) reply {
	w, e := s.billingOrg(r, p)
	if e != nil {
		return *e
	}
	var out jsItems
	m := dims{}
	for _, d := range s.orgDeployments(p["organization_id"], w) {
		it := d.items(d.in(w))
		out.Resources = append(out.Resources, it.Resources...)
		out.DataTransferAndStorage = append(out.DataTransferAndStorage, it.DataTransferAndStorage...)
		m.add(d.deployment, w.from, d.until(w.end))
	}
	out.Costs = m.costs()
	return okReply(http.StatusOK, out)
}

func (s *Server) costsItemsByDeployment(r *http.Request, p map[string]string) reply {
	w, e := s.billingOrg(r, p)
	if e != nil {
		return *e
	}
	d, e := s.orgDeployment(p, w)
	if e != nil {
		return *e
	}
	return okReply(http.StatusOK, d.items(d.in(w)))
}

// jsChartValue is ChartItemValue.
type jsChartValue struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// jsChartItem is ChartItem.
type jsChartItem struct {
	Timestamp int64          `json:"timestamp"`
	Values    []jsChartValue `json:"values"`
}

// bucket is one chart bucket: it starts at start and covers [from, to)
// of the window.
type bucket struct{ start, from, to time.Time }

// buckets splits [from, to) at UTC day or month starts.
func buckets(from, to time.Time, monthly bool) []bucket {
	var out []bucket
	b := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	if monthly {
		b = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	for b.Before(to) {
		next := b.AddDate(0, 0, 1)
		if monthly {
			next = b.AddDate(0, 1, 0)
		}
		out = append(out, bucket{start: b, from: maxTime(b, from), to: minTime(next, to)})
		b = next
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

var kindNames = map[string]string{
	"elasticsearch": "Elasticsearch", "kibana": "Kibana", "apm": "APM", "appsearch": "App Search",
	"enterprise_search": "Enterprise Search", "integrations_server": "Integrations Server",
}

func (s *Server) chart(r *http.Request, p map[string]string, byDeployment bool) reply {
	w, e := s.billingOrg(r, p)
	if e != nil {
		return *e
	}
	var one *billed
	if byDeployment {
		b, e := s.orgDeployment(p, w)
		if e != nil {
			return *e
		}
		one = &b
	}
	monthly := false
	switch v := r.URL.Query().Get("bucketing_strategy"); v {
	case "", "daily":
	case "monthly":
		monthly = true
	default:
		return errReply(http.StatusBadRequest, "root.invalid_data",
			fmt.Sprintf("bucketing_strategy [%s] must be one of daily, monthly", v), "bucketing_strategy")
	}
	var deps []billed
	if one == nil {
		deps = s.orgDeployments(p["organization_id"], w)
	}
	bs := buckets(w.from, w.to, monthly)
	var out struct {
		Data []jsChartItem `json:"data"` // null when there is no bucket
	}
	for _, b := range bs {
		ts := b.start.Unix()
		if s.opts.ChartTimestampsMillis {
			ts = b.start.UnixMilli()
		}
		end := minTime(b.to, w.end)
		item := jsChartItem{Timestamp: ts}
		if one != nil {
			end := one.until(end)
			h := one.hoursIn(b.from, end)
			byKind := map[string]int64{}
			for _, res := range one.resources {
				u := one.usage(res, b.from, end)
				byKind[res.kind] += u.oldMicro + u.micro
			}
			kinds := make([]string, 0, len(byKind))
			for k := range byKind {
				kinds = append(kinds, k)
			}
			sort.Strings(kinds)
			item.Values = make([]jsChartValue, 0, len(kinds)+1)
			for _, k := range kinds {
				item.Values = append(item.Values, jsChartValue{ID: k, Name: kindNames[k], Value: ecu(byKind[k])})
			}
			item.Values = append(item.Values, jsChartValue{ID: "data_transfer_and_storage", Name: "Data transfer and storage", Value: ecu(h * one.dtsMicro)})
		} else {
			item.Values = make([]jsChartValue, 0, len(deps))
			for _, d := range deps {
				if !d.gone.IsZero() && !d.gone.After(b.from) {
					continue // deleted before this bucket
				}
				item.Values = append(item.Values, jsChartValue{ID: d.id, Name: d.name, Value: ecu(d.costMicro(b.from, d.until(end)))})
			}
		}
		out.Data = append(out.Data, item)
	}
	return okReply(http.StatusOK, out)
}

func (s *Server) costsCharts(r *http.Request, p map[string]string) reply {
	return s.chart(r, p, false)
}

func (s *Server) costsChartsByDeployment(r *http.Request, p map[string]string) reply {
	return s.chart(r, p, true)
}

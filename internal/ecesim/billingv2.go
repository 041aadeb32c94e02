package ecesim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The Cloud Billing API ("v2", shared/spec/billing-v2.yaml), served in
// ESS mode below /api/v2/ on the same handler (point the client's billing
// v2 URL at the server's root):
//
//	getCostsByInstancesV2         GET /billing/organizations/{organization_id}/costs/instances
//	getItemizedCostsByInstanceV2  GET /billing/organizations/{organization_id}/costs/instances/{instance_id}/items
//	getCostsByItemsV2             GET /billing/organizations/{organization_id}/costs/items
//	getChartsV2                   GET /billing/organizations/{organization_id}/charts
//	getChartsByInstanceV2         GET /billing/organizations/{organization_id}/instances/{instance_id}/charts
//
// Its data is the v1 data: each hosted deployment of an organization is
// one instance of type "deployment" that costs over a window exactly what
// v1 bills it (same hours, SKUs, quantities and prices; a resized
// resource has one capacity line per SKU), with the id of its
// Elasticsearch resource, as Elastic's own integration joins it. Each
// organization also has serverless projects (one "elasticsearch", one
// "observability", one "security") and two organization-level services
// ("elastic_inference_service", "cloud_connect"; invented names, as no
// source lists them), which v1 does not show. A project's name is empty
// unless include_names=true, as the live API does. Projects and services
// bill every clock hour of the window up to the last whole hour before
// now.
//
// As the live API answers and the spec does not say: amounts typed as
// integers are fractional; kind is null on lines that are not a resource's
// capacity; from and to are required, RFC 3339 (a date alone is refused),
// from no earlier than 2021-01-01T00:00:00+00:00; those errors are 400s
// with the service's own JSON body {"error": "invalid_input", "message",
// "detail": {"messages": {...}}, "success": false}, unknown organizations
// and instances 404s in the same shape, and Options.BillingForbidden
// answers 403 with a text/plain body. No x-cloud-error-codes header is
// sent on them. serverless_group_by is accepted and changes nothing
// (products are grouped by instance type).

// Billing v2 operation names (billing-v2.yaml operationIds).
const (
	opV2Instances     = "getCostsByInstancesV2"
	opV2InstanceItems = "getItemizedCostsByInstanceV2"
	opV2Items         = "getCostsByItemsV2"
	opV2Charts        = "getChartsV2"
	opV2InstanceChart = "getChartsByInstanceV2"
)

// routesV2 are the operations below /api/v2/.
var routesV2 = []routeDef{
	rt("GET", "billing/organizations/{organization_id}/costs/instances", opV2Instances, ModeESS, (*Server).v2Instances),
	rt("GET", "billing/organizations/{organization_id}/costs/instances/{instance_id}/items", opV2InstanceItems, ModeESS, (*Server).v2InstanceItems),
	rt("GET", "billing/organizations/{organization_id}/costs/items", opV2Items, ModeESS, (*Server).v2Items),
	rt("GET", "billing/organizations/{organization_id}/charts", opV2Charts, ModeESS, (*Server).v2Charts),
	rt("GET", "billing/organizations/{organization_id}/instances/{instance_id}/charts", opV2InstanceChart, ModeESS, (*Server).v2InstanceCharts),
}

func isBillingV2(op string) bool {
	switch op {
	case opV2Instances, opV2InstanceItems, opV2Items, opV2Charts, opV2InstanceChart:
		return true
	}
	return false
}

// earliestV2 is how the service words its earliest accepted from.
const earliestV2 = "2021-01-01T00:00:00+00:00"

// v2Error is the service's error body.
type v2Error struct {
	Error   string    `json:"error"`
	Message string    `json:"message"`
	Detail  *v2Detail `json:"detail"`
	Success bool      `json:"success"`
}

type v2Detail struct {
	Messages map[string][]string `json:"messages,omitempty"`
}

func v2ErrReply(status int, code, msg string, messages map[string][]string) reply {
	return reply{status: status, body: v2Error{Error: code, Message: msg, Detail: &v2Detail{Messages: messages}}}
}

// v2Input echoes the window as the service's messages do.
func v2Input(q url.Values) string {
	var parts []string
	for _, k := range []string{"from", "to"} {
		if v := q.Get(k); v != "" {
			parts = append(parts, fmt.Sprintf("'%s': '%s'", k, v))
		}
	}
	return "An error occurred with input: {" + strings.Join(parts, ", ") + "}"
}

// v2Window reads the required from and to.
func (s *Server) v2Window(r *http.Request) (window, *reply) {
	q := r.URL.Query()
	var w window
	msgs := map[string][]string{}
	for _, k := range []string{"from", "to"} {
		v := q.Get(k)
		if v == "" {
			msgs[k] = []string{"Missing data for required field."}
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			msgs[k] = []string{"Not a valid datetime."}
			continue
		}
		if k == "from" {
			w.from = t.UTC()
		} else {
			w.to = t.UTC()
		}
	}
	if len(msgs) == 0 {
		switch {
		case w.from.Before(earliestCostsDate):
			msgs["_schema"] = []string{"'from' must not be earlier than " + earliestV2}
		case w.to.Before(w.from):
			msgs["_schema"] = []string{"'to' must not be earlier than 'from'"}
		}
	}
	if len(msgs) > 0 {
		e := v2ErrReply(http.StatusBadRequest, "invalid_input", v2Input(q), msgs)
		return w, &e
	}
	w.end = minTime(w.to, s.opts.Now().UTC().Truncate(time.Hour))
	return w, nil
}

// v2Org checks the organization and the window.
func (s *Server) v2Org(r *http.Request, p map[string]string) (window, *reply) {
	for _, o := range s.w.orgs {
		if o.id == p["organization_id"] {
			return s.v2Window(r)
		}
	}
	e := v2ErrReply(http.StatusNotFound, "not_found", fmt.Sprintf("Organization %s not found", p["organization_id"]), nil)
	return window{}, &e
}

// jsV2Amount is Quantity, DisplayQuantity (with Type) and Rate.
type jsV2Amount struct {
	Value          float64 `json:"value"`
	FormattedValue string  `json:"formatted_value"`
	Type           string  `json:"type,omitempty"`
}

// jsV2Line is ProductLineItem.
type jsV2Line struct {
	Name            string     `json:"name"`
	TotalECU        float64    `json:"total_ecu"`
	Type            string     `json:"type"`
	SKU             string     `json:"sku"`
	Unit            string     `json:"unit"`
	Quantity        jsV2Amount `json:"quantity"`
	DisplayQuantity jsV2Amount `json:"display_quantity"`
	Rate            jsV2Amount `json:"rate"`
	Kind            *string    `json:"kind"`
	Quantities      []struct{} `json:"quantities"`
	micro           int64
}

func v2Line(name, typ, sku, unit string, kind *string, qty, rate float64, micro int64) jsV2Line {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	plural := unit
	if unit == "hour" {
		plural = "hours"
	}
	q := jsV2Amount{Value: qty, FormattedValue: f(qty) + " " + plural}
	return jsV2Line{Name: name, TotalECU: ecu(micro), Type: typ, SKU: sku, Unit: unit, Quantity: q,
		DisplayQuantity: jsV2Amount{Value: qty, FormattedValue: q.FormattedValue, Type: "default"},
		Rate:            jsV2Amount{Value: rate, FormattedValue: strconv.FormatFloat(rate, 'f', 4, 64) + " per " + unit},
		Kind:            kind, Quantities: []struct{}{}, micro: micro}
}

// jsV2Instance is Instance.
type jsV2Instance struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	TotalECU float64    `json:"total_ecu"`
	Type     string     `json:"type"`
	Lines    []jsV2Line `json:"product_line_items"`
	micro    int64
	costIn   func(from, to time.Time) int64 // micro-ECU over a chart bucket
}

// capacityName is how the service names a capacity line, from its SKU
// (<provider>.<kind>.<family>_<place>_<MB>_<zones>).
func capacityName(sku string) string {
	parts := strings.Split(sku, "_")
	if len(parts) != 4 {
		return sku
	}
	mb, _ := strconv.Atoi(parts[2])
	return fmt.Sprintf("Cloud Standard, %s, %s, %sGB, %sAZ", parts[1], parts[0], strconv.FormatFloat(float64(mb)/1024, 'f', -1, 64), parts[3])
}

// deploymentInstance is a hosted deployment's v2 instance over w: its v1
// items as lines.
func (d *deployment) v2Instance(w window) jsV2Instance {
	in := jsV2Instance{ID: d.resources[0].id, Name: d.name, Type: "deployment"}
	h := d.hoursIn(w.from, w.end)
	for _, r := range d.resources {
		kind := r.kind
		u := d.usage(r, w.from, w.end)
		if u.oldHours > 0 {
			in.Lines = append(in.Lines, v2Line(capacityName(r.oldSKU), "capacity", r.oldSKU, "hour", &kind, u.oldHours, ecu(r.oldPerHourMicro), u.oldMicro))
		}
		if u.hours > 0 || u.oldHours == 0 {
			in.Lines = append(in.Lines, v2Line(capacityName(r.sku), "capacity", r.sku, "hour", &kind, u.hours, ecu(r.perHourMicro), u.micro))
		}
	}
	for _, x := range d.dts {
		in.Lines = append(in.Lines, v2Line(x.name, x.dimension, x.sku, x.unit, nil, float64(h*x.perHourMilli)/1000, ecu(x.rateMicro), h*x.microPerHour()))
	}
	in.costIn = d.costMicro
	return in.total()
}

func (in jsV2Instance) total() jsV2Instance {
	in.micro = 0
	for _, l := range in.Lines {
		in.micro += l.micro
	}
	in.TotalECU = ecu(in.micro)
	return in
}

// meteredInstance is a serverless project or an organization-level
// service: lines metered every hour, at fixed rates.
type meteredInstance struct {
	id, name, typ string
	lines         []dtsSKU
}

// hoursOf counts the clock hours that start in [from, to).
func hoursOf(from, to time.Time) int64 {
	from, to = ceilHour(from), ceilHour(to)
	if !to.After(from) {
		return 0
	}
	return int64(to.Sub(from) / time.Hour)
}

func (m meteredInstance) v2Instance(w window, names bool) jsV2Instance {
	in := jsV2Instance{ID: m.id, Type: m.typ}
	if names || !isProjectType(m.typ) {
		in.Name = m.name
	}
	h := hoursOf(w.from, w.end)
	for _, x := range m.lines {
		in.Lines = append(in.Lines, v2Line(x.name, x.dimension, x.sku, x.unit, nil, float64(h*x.perHourMilli)/1000, ecu(x.rateMicro), h*x.microPerHour()))
	}
	in.costIn = func(from, to time.Time) int64 {
		var n int64
		for _, x := range m.lines {
			n += hoursOf(from, to) * x.microPerHour()
		}
		return n
	}
	return in.total()
}

func isProjectType(t string) bool {
	return t == "elasticsearch" || t == "observability" || t == "security"
}

// metered returns the organization's projects and services, derived from
// the seed and the organization id.
func (s *Server) metered(org string) []meteredInstance {
	h := fnv.New64a()
	_, _ = h.Write([]byte(org))
	r := rand.New(rand.NewPCG(uint64(s.opts.Seed), h.Sum64()))
	id := func() string { return s.w.id(r) }
	region := regions[r.IntN(len(regions))]
	milli := func(lo, n int) int64 { return int64(lo + r.IntN(n)) }
	return []meteredInstance{
		{id: id(), name: "sim-project-search", typ: "elasticsearch", lines: []dtsSKU{
			{sku: "serverless.es.ingest-vcu_" + region, name: "Elasticsearch Serverless Ingest VCU", dimension: "ingest", unit: "VCU-hour", rateMicro: 140000, perHourMilli: milli(250, 2000)},
			{sku: "serverless.es.search-vcu_" + region, name: "Elasticsearch Serverless Search VCU", dimension: "search", unit: "VCU-hour", rateMicro: 90000, perHourMilli: milli(500, 4000)},
			{sku: "serverless.es.storage_" + region, name: "Elasticsearch Serverless Storage", dimension: "storage", unit: "GB-hour", rateMicro: 41, perHourMilli: 1000 * milli(20, 500)},
		}},
		{id: id(), name: "sim-project-o11y", typ: "observability", lines: []dtsSKU{
			{sku: "serverless.observability.ingest_" + region, name: "Observability Serverless Ingest", dimension: "ingest", unit: "GB", rateMicro: 150000, perHourMilli: milli(100, 3000)},
			{sku: "serverless.observability.retention_" + region, name: "Observability Serverless Retention", dimension: "retention", unit: "GB-hour", rateMicro: 27, perHourMilli: 1000 * milli(100, 2000)},
		}},
		{id: id(), name: "sim-project-siem", typ: "security", lines: []dtsSKU{
			{sku: "serverless.security.ingest_" + region, name: "Security Serverless Ingest", dimension: "ingest", unit: "GB", rateMicro: 180000, perHourMilli: milli(100, 3000)},
			{sku: "serverless.security.retention_" + region, name: "Security Serverless Retention", dimension: "retention", unit: "GB-hour", rateMicro: 27, perHourMilli: 1000 * milli(100, 2000)},
		}},
		{id: id(), name: "Elastic Inference Service", typ: "elastic_inference_service", lines: []dtsSKU{
			{sku: "global.eis.elser-tokens", name: "EIS ELSER tokens", dimension: "inference", unit: "1M tokens", rateMicro: 80000, perHourMilli: milli(10, 500)},
		}},
		{id: id(), name: "Cloud Connect", typ: "cloud_connect", lines: []dtsSKU{
			{sku: "global.cloud-connect.autoops", name: "AutoOps for self-managed clusters", dimension: "autoops", unit: "node-hour", rateMicro: 3000, perHourMilli: 1000 * milli(1, 6)},
		}},
	}
}

// v2All returns every instance of the organization over w: its
// deployments, then its projects and services.
func (s *Server) v2All(org string, w window, names bool) []jsV2Instance {
	var out []jsV2Instance
	for _, d := range s.orgDeployments(org, w) {
		// As in v1: a deployment deleted this month is billed up to its deletion.
		out = append(out, d.v2Instance(d.in(w)))
	}
	for _, m := range s.metered(org) {
		out = append(out, m.v2Instance(w, names))
	}
	return out
}

func (s *Server) v2Instance(org, id string, w window) (jsV2Instance, *reply) {
	for _, in := range s.v2All(org, w, true) {
		if in.ID == id {
			return in, nil
		}
	}
	e := v2ErrReply(http.StatusNotFound, "not_found", fmt.Sprintf("Instance %s not found", id), nil)
	return jsV2Instance{}, &e
}

func (s *Server) v2Instances(r *http.Request, p map[string]string) reply {
	w, e := s.v2Org(r, p)
	if e != nil {
		return *e
	}
	names := r.URL.Query().Get("include_names") == "true"
	out := struct {
		TotalECU  float64        `json:"total_ecu"`
		Instances []jsV2Instance `json:"instances"`
	}{Instances: s.v2All(p["organization_id"], w, names)}
	var total int64
	for _, in := range out.Instances {
		total += in.micro
	}
	out.TotalECU = ecu(total)
	return okReply(http.StatusOK, out)
}

// jsV2Product is Product.
type jsV2Product struct {
	TotalECU float64    `json:"total_ecu"`
	Type     string     `json:"type"`
	Lines    []jsV2Line `json:"product_line_items"`
	micro    int64
}

// v2Products groups the instances' lines by instance type, in order of
// first appearance, keeping each line (not merged by SKU).
func v2Products(ins []jsV2Instance) any {
	var out []*jsV2Product
	byType := map[string]*jsV2Product{}
	var total int64
	for _, in := range ins {
		p := byType[in.Type]
		if p == nil {
			p = &jsV2Product{Type: in.Type}
			byType[in.Type] = p
			out = append(out, p)
		}
		p.Lines = append(p.Lines, in.Lines...)
		p.micro += in.micro
		total += in.micro
	}
	products := make([]jsV2Product, 0, len(out))
	for _, p := range out {
		p.TotalECU = ecu(p.micro)
		products = append(products, *p)
	}
	return struct {
		TotalECU float64       `json:"total_ecu"`
		Products []jsV2Product `json:"products"`
	}{TotalECU: ecu(total), Products: products}
}

func (s *Server) v2Items(r *http.Request, p map[string]string) reply {
	w, e := s.v2Org(r, p)
	if e != nil {
		return *e
	}
	switch v := r.URL.Query().Get("serverless_group_by"); v {
	case "", "product", "product_family":
	default:
		return v2ErrReply(http.StatusBadRequest, "invalid_input", v2Input(r.URL.Query()),
			map[string][]string{"serverless_group_by": {"Must be one of: product, product_family."}})
	}
	return okReply(http.StatusOK, v2Products(s.v2All(p["organization_id"], w, true)))
}

func (s *Server) v2InstanceItems(r *http.Request, p map[string]string) reply {
	w, e := s.v2Org(r, p)
	if e != nil {
		return *e
	}
	in, e := s.v2Instance(p["organization_id"], p["instance_id"], w)
	if e != nil {
		return *e
	}
	return okReply(http.StatusOK, v2Products([]jsV2Instance{in}))
}

// jsV2ChartValue is a chart value with its type.
type jsV2ChartValue struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Type  string  `json:"type"`
	Value float64 `json:"value"`
}

type jsV2ChartItem struct {
	Timestamp int64            `json:"timestamp"`
	Values    []jsV2ChartValue `json:"values"`
}

// v2Chart buckets the instances' costs: one value per instance.
func (s *Server) v2Chart(r *http.Request, ins []jsV2Instance, w window) reply {
	monthly := false
	switch v := r.URL.Query().Get("bucketing_strategy"); v {
	case "", "daily":
	case "monthly":
		monthly = true
	default:
		return v2ErrReply(http.StatusBadRequest, "invalid_input", v2Input(r.URL.Query()),
			map[string][]string{"bucketing_strategy": {"Must be one of: daily, monthly."}})
	}
	var out struct {
		Data []jsV2ChartItem `json:"data"`
	}
	for _, b := range buckets(w.from, w.to, monthly) {
		ts := b.start.Unix()
		if s.opts.ChartTimestampsMillis {
			ts = b.start.UnixMilli()
		}
		end := minTime(b.to, w.end)
		item := jsV2ChartItem{Timestamp: ts, Values: make([]jsV2ChartValue, 0, len(ins))}
		for _, in := range ins {
			item.Values = append(item.Values, jsV2ChartValue{ID: in.ID, Name: in.Name, Type: in.Type, Value: ecu(in.costIn(b.from, end))})
		}
		out.Data = append(out.Data, item)
	}
	return okReply(http.StatusOK, out)
}

func (s *Server) v2Charts(r *http.Request, p map[string]string) reply {
	w, e := s.v2Org(r, p)
	if e != nil {
		return *e
	}
	return s.v2Chart(r, s.v2All(p["organization_id"], w, true), w)
}

func (s *Server) v2InstanceCharts(r *http.Request, p map[string]string) reply {
	w, e := s.v2Org(r, p)
	if e != nil {
		return *e
	}
	switch v := r.URL.Query().Get("instance_type"); v {
	case "", "all", "deployments", "projects":
	default:
		return v2ErrReply(http.StatusBadRequest, "invalid_input", v2Input(r.URL.Query()),
			map[string][]string{"instance_type": {"Must be one of: all, deployments, projects."}})
	}
	in, e := s.v2Instance(p["organization_id"], p["instance_id"], w)
	if e != nil {
		return *e
	}
	return s.v2Chart(r, []jsV2Instance{in}, w)
}

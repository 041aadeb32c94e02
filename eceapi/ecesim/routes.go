package ecesim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

type routeDef struct {
	method, pattern, op string
	mode                Mode // "" = both
	handle              func(s *Server, r *http.Request, p map[string]string) (int, any)
}

var routes = []routeDef{
	{"GET", "deployments", "list-deployments", "", (*Server).listDeployments},
	{"GET", "account", "get-current-account", "", (*Server).getAccount},
	{"GET", "organizations", "list-organizations", ModeESS, (*Server).listOrganizations},
	{"GET", "billing/costs/{organization_id}", "get-costs-overview", "", (*Server).costsOverview},
	{"GET", "billing/costs/{organization_id}/deployments", "get-costs-deployments", "", (*Server).costsDeployments},
	{"GET", "billing/costs/{organization_id}/items", "get-costs-items", "", (*Server).costsItems},
	{"GET", "billing/costs/{organization_id}/deployments/{deployment_id}/items", "get-costs-items-by-deployment", "", (*Server).costsItemsByDeployment},
	{"GET", "billing/costs/{organization_id}/charts", "get-costs-charts", "", (*Server).costsCharts},
	{"GET", "billing/costs/{organization_id}/deployments/{deployment_id}/charts", "get-costs-charts-by-deployment", "", (*Server).costsChartsByDeployment},
	{"GET", "deployments/{deployment_id}/elasticsearch/{ref_id}/remote-clusters", "get-deployment-es-resource-remote-clusters", "", (*Server).remoteClusters},
	{"GET", "users/auth/keys", "get-api-keys", "", (*Server).apiKeys},
	{"GET", "users/auth/keys/_all", "get-users-api-keys", ModeECE, (*Server).apiKeysAll},
	{"GET", "users/{user_id}/auth/keys", "get-user-api-keys", ModeECE, (*Server).apiKeysOfUser},
	{"POST", "users/auth/_login", "login", ModeECE, (*Server).login},
	{"POST", "users/auth/_refresh", "refresh-token", ModeECE, (*Server).refresh},
	{"POST", "deployments/{deployment_id}/{stateless_resource_kind}/{ref_id}/_upgrade", "upgrade-deployment-stateless-resource", "", (*Server).upgrade},
}

// route finds the operation of a request. methodOK is false when the path
// exists with another method.
func route(mode Mode, method, path string) (*routeDef, map[string]string, bool) {
	rest, ok := strings.CutPrefix(path, "/api/v1/")
	if !ok {
		return nil, nil, true
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	methodOK := true
	for i := range routes {
		rt := &routes[i]
		if rt.mode != "" && rt.mode != mode {
			continue
		}
		p, ok := match(rt.pattern, segs)
		if !ok {
			continue
		}
		if rt.method != method {
			methodOK = false
			continue
		}
		return rt, p, true
	}
	return nil, nil, methodOK
}

func match(pattern string, segs []string) (map[string]string, bool) {
	ps := strings.Split(pattern, "/")
	if len(ps) != len(segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			params[strings.Trim(p, "{}")] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// ---- deployments ----

type jsResource struct {
	RefID                     string `json:"ref_id"`
	ElasticsearchClusterRefID string `json:"elasticsearch_cluster_ref_id,omitempty"`
	ID                        string `json:"id"`
	Kind                      string `json:"kind"`
	Region                    string `json:"region"`
	CloudID                   string `json:"cloud_id,omitempty"`
}

type jsDeployment struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Resources []jsResource `json:"resources"`
}

func (s *Server) live() []*deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*deployment, 0, len(s.w.deployments))
	for _, d := range s.w.deployments {
		if !s.deleted[d.id] {
			out = append(out, d)
		}
	}
	return out
}

func (s *Server) find(id string) *deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleted[id] {
		return nil
	}
	return s.w.byID[id]
}

func (s *Server) listDeployments(_ *http.Request, _ map[string]string) (int, any) {
	deps := s.live()
	out := struct {
		Deployments []jsDeployment `json:"deployments"`
	}{Deployments: make([]jsDeployment, 0, len(deps))}
	for _, d := range deps {
		jd := jsDeployment{ID: d.id, Name: d.name, Resources: make([]jsResource, 0, len(d.resources))}
		for _, r := range d.resources {
			jr := jsResource{RefID: r.refID, ElasticsearchClusterRefID: r.esRefID, ID: r.id, Kind: r.kind, Region: r.region}
			if r.kind == "elasticsearch" {
				jr.CloudID = d.name + ":c2ltLmV4YW1wbGUuaW52YWxpZCQ="
			}
			jd.Resources = append(jd.Resources, jr)
		}
		out.Deployments = append(out.Deployments, jd)
	}
	return http.StatusOK, out
}

func (s *Server) getAccount(_ *http.Request, _ map[string]string) (int, any) {
	return http.StatusOK, map[string]any{"id": s.w.accountID, "trust": map[string]any{"trust_all": true}}
}

func (s *Server) listOrganizations(_ *http.Request, _ map[string]string) (int, any) {
	orgs := make([]map[string]any, 0, len(s.w.orgs))
	for _, o := range s.w.orgs {
		orgs = append(orgs, map[string]any{"id": o.id, "name": o.name, "billing_contacts": []string{}, "operational_contacts": []string{}})
	}
	return http.StatusOK, map[string]any{"organizations": orgs}
}

// ---- billing ----

var earliest = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

func parseDate(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// window reads from/to with the spec defaults (start of month, now).
func (s *Server) window(r *http.Request) (time.Time, time.Time, *apiError) {
	now := s.opts.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	to := now
	q := r.URL.Query()
	bad := &apiError{http.StatusBadRequest, "costs.invalid_date_range", "The specified date range is invalid"}
	if v := q.Get("from"); v != "" {
		t, ok := parseDate(v)
		if !ok {
			return from, to, bad
		}
		from = t
	}
	if v := q.Get("to"); v != "" {
		t, ok := parseDate(v)
		if !ok {
			return from, to, bad
		}
		to = t
	}
	if from.Before(earliest) || to.Before(from) || to.Sub(from) > 400*24*time.Hour {
		return from, to, bad
	}
	return from, to, nil
}

// billingGuard answers for ECE (billing is unavailable there) and unknown
// organizations.
func (s *Server) billingGuard(p map[string]string) *apiError {
	if s.opts.Mode == ModeECE {
		return &apiError{http.StatusNotFound, "root.resource_not_found", "Billing costs are currently unavailable in self-hosted ECE"}
	}
	for _, o := range s.w.orgs {
		if o.id == p["organization_id"] {
			return nil
		}
	}
	return &apiError{http.StatusNotFound, "organization.not_found", "Organization not found"}
}

type jsDimension struct {
	Type string  `json:"type"`
	Cost float64 `json:"cost"`
}

type jsCosts struct {
	Total      float64       `json:"total"`
	Dimensions []jsDimension `json:"dimensions"`
}

type jsPeriod struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type jsItem struct {
	Hours         int64    `json:"hours"`
	InstanceCount int      `json:"instance_count"`
	Period        jsPeriod `json:"period"`
	Kind          string   `json:"kind"`
	Price         float64  `json:"price"`
	PricePerHour  float64  `json:"price_per_hour"`
	Name          string   `json:"name"`
	SKU           string   `json:"sku"`
}

type jsValue struct {
	Value          any    `json:"value"`
	FormattedValue string `json:"formatted_value"`
}

type jsDTS struct {
	Cost     float64 `json:"cost"`
	Name     string  `json:"name"`
	Quantity jsValue `json:"quantity"`
	Rate     jsValue `json:"rate"`
	SKU      string  `json:"sku"`
	Type     string  `json:"type"`
}

type jsItems struct {
	Costs                  jsCosts  `json:"costs"`
	DataTransferAndStorage []jsDTS  `json:"data_transfer_and_storage"`
	Resources              []jsItem `json:"resources"`
}

// items computes one deployment's itemized costs over [from, to); every
// other cost answer is derived from it, so they are consistent.
func (d *deployment) items(from, to time.Time) jsItems {
	h := d.hoursIn(from, to)
	start := from
	if d.created.After(start) {
		start = d.created
	}
	period := jsPeriod{Start: start.UTC().Format(time.RFC3339), End: to.UTC().Format(time.RFC3339)}
	out := jsItems{Resources: []jsItem{}, DataTransferAndStorage: []jsDTS{}}
	dims := map[string]float64{}
	var total float64
	for _, r := range d.resources {
		price := round4(float64(h) * r.pricePerHour)
		out.Resources = append(out.Resources, jsItem{Hours: h, InstanceCount: r.instances, Period: period, Kind: r.kind,
			Price: price, PricePerHour: r.pricePerHour, Name: fmt.Sprintf("%s %s", d.name, r.kind), SKU: r.sku})
		dims["capacity"] += price
		total += price
	}
	for _, x := range d.dts {
		qty := h * x.perHour
		cost := round4(float64(qty) * x.rate)
		out.DataTransferAndStorage = append(out.DataTransferAndStorage, jsDTS{
			Cost: cost, Name: x.name, SKU: x.sku, Type: x.typ,
			Quantity: jsValue{Value: qty, FormattedValue: fmt.Sprintf("%d %s", qty, x.unit)},
			Rate:     jsValue{Value: x.rate, FormattedValue: fmt.Sprintf("%.4f per %s", x.rate, x.unit)},
		})
		dims[x.dimension] += cost
		total += cost
	}
	out.Costs = jsCosts{Total: round4(total), Dimensions: sortedDims(dims)}
	return out
}

func (d *deployment) hourlyRate() float64 {
	var v float64
	for _, r := range d.resources {
		v += r.pricePerHour
	}
	for _, x := range d.dts {
		v += float64(x.perHour) * x.rate
	}
	return round4(v)
}

func sortedDims(m map[string]float64) []jsDimension {
	out := make([]jsDimension, 0, len(m))
	for k, v := range m {
		out = append(out, jsDimension{Type: k, Cost: round4(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

func (s *Server) orgDeployments(org string) []*deployment {
	var out []*deployment
	for _, d := range s.live() {
		if d.org == org {
			out = append(out, d)
		}
	}
	return out
}

func (s *Server) costsDeployments(r *http.Request, p map[string]string) (int, any) {
	if e := s.billingGuard(p); e != nil {
		return e.status, *e
	}
	from, to, e := s.window(r)
	if e != nil {
		return e.status, *e
	}
	type jsDepCosts struct {
		DeploymentID   string   `json:"deployment_id"`
		DeploymentName string   `json:"deployment_name"`
		Costs          jsCosts  `json:"costs"`
		HourlyRate     float64  `json:"hourly_rate"`
		Period         jsPeriod `json:"period"`
	}
	out := struct {
		TotalCost   float64      `json:"total_cost"`
		Deployments []jsDepCosts `json:"deployments"`
	}{Deployments: []jsDepCosts{}}
	var total float64
	for _, d := range s.orgDeployments(p["organization_id"]) {
		it := d.items(from, to)
		out.Deployments = append(out.Deployments, jsDepCosts{DeploymentID: d.id, DeploymentName: d.name, Costs: it.Costs,
			HourlyRate: d.hourlyRate(), Period: jsPeriod{Start: from.Format(time.RFC3339), End: to.Format(time.RFC3339)}})
		total += it.Costs.Total
	}
	out.TotalCost = round4(total)
	return http.StatusOK, out
}

func (s *Server) costsOverview(r *http.Request, p map[string]string) (int, any) {
	if e := s.billingGuard(p); e != nil {
		return e.status, *e
	}
	from, to, e := s.window(r)
	if e != nil {
		return e.status, *e
	}
	dims := map[string]float64{}
	var total, rate float64
	for _, d := range s.orgDeployments(p["organization_id"]) {
		it := d.items(from, to)
		total += it.Costs.Total
		for _, dim := range it.Costs.Dimensions {
			dims[dim.Type] += dim.Cost
		}
		rate += d.hourlyRate()
	}
	now := s.opts.Now().UTC()
	balance := 250000.0
	return http.StatusOK, map[string]any{
		"costs":       jsCosts{Total: round4(total), Dimensions: sortedDims(dims)},
		"trials":      0.0,
		"hourly_rate": round4(rate),
		"balance": map[string]any{
			"available": balance, "remaining": round4(balance - total),
			"line_items": []map[string]any{{
				"id": "sim-line-item-1", "ecu_quantity": balance, "ecu_balance": round4(balance - total),
				"start": time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339),
				"end":   time.Date(now.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339),
			}},
		},
	}
}

func (s *Server) costsItems(r *http.Request, p map[string]string) (int, any) {
	if e := s.billingGuard(p); e != nil {
		return e.status, *e
	}
	from, to, e := s.window(r)
	if e != nil {
		return e.status, *e
	}
	out := jsItems{Resources: []jsItem{}, DataTransferAndStorage: []jsDTS{}}
	dims := map[string]float64{}
	var total float64
	for _, d := range s.orgDeployments(p["organization_id"]) {
		it := d.items(from, to)
		out.Resources = append(out.Resources, it.Resources...)
		out.DataTransferAndStorage = append(out.DataTransferAndStorage, it.DataTransferAndStorage...)
		total += it.Costs.Total
		for _, dim := range it.Costs.Dimensions {
			dims[dim.Type] += dim.Cost
		}
	}
	out.Costs = jsCosts{Total: round4(total), Dimensions: sortedDims(dims)}
	return http.StatusOK, out
}

func (s *Server) orgDeployment(p map[string]string) (*deployment, *apiError) {
	d := s.find(p["deployment_id"])
	if d == nil || d.org != p["organization_id"] {
		return nil, &apiError{http.StatusNotFound, "billing_service.es_cluster_id_not_found", "The Elasticsearch cluster was not found"}
	}
	return d, nil
}

func (s *Server) costsItemsByDeployment(r *http.Request, p map[string]string) (int, any) {
	if e := s.billingGuard(p); e != nil {
		return e.status, *e
	}
	from, to, e := s.window(r)
	if e != nil {
		return e.status, *e
	}
	d, e := s.orgDeployment(p)
	if e != nil {
		return e.status, *e
	}
	return http.StatusOK, d.items(from, to)
}

type jsChartValue struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

type jsChartItem struct {
	Timestamp int64          `json:"timestamp"`
	Values    []jsChartValue `json:"values"`
}

// buckets splits [from, to) at day or month starts.
func buckets(from, to time.Time, strategy string) [][2]time.Time {
	var out [][2]time.Time
	var start time.Time
	if strategy == "monthly" {
		start = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	} else {
		start = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	}
	for b := start; b.Before(to); {
		next := b.AddDate(0, 0, 1)
		if strategy == "monthly" {
			next = b.AddDate(0, 1, 0)
		}
		lo, hi := b, next
		if lo.Before(from) {
			lo = from
		}
		if hi.After(to) {
			hi = to
		}
		out = append(out, [2]time.Time{lo, hi}, [2]time.Time{b, b})
		b = next
	}
	return out
}

func (s *Server) chart(r *http.Request, p map[string]string, one *deployment) (int, any) {
	if e := s.billingGuard(p); e != nil {
		return e.status, *e
	}
	from, to, e := s.window(r)
	if e != nil {
		return e.status, *e
	}
	strategy := r.URL.Query().Get("bucketing_strategy")
	if strategy == "" {
		strategy = "daily"
	}
	if strategy != "daily" && strategy != "monthly" {
		return http.StatusBadRequest, apiError{http.StatusBadRequest, "costs.invalid_bucketing_strategy", "bucketing_strategy must be daily or monthly"}
	}
	deps := s.orgDeployments(p["organization_id"])
	out := struct {
		Data []jsChartItem `json:"data"`
	}{Data: []jsChartItem{}}
	bs := buckets(from, to, strategy)
	for i := 0; i < len(bs); i += 2 {
		win, bucketStart := bs[i], bs[i+1][0]
		ts := bucketStart.Unix()
		if s.opts.ChartTimestampsMillis {
			ts = bucketStart.UnixMilli()
		}
		item := jsChartItem{Timestamp: ts, Values: []jsChartValue{}}
		if one != nil {
			it := one.items(win[0], win[1])
			byKind := map[string]float64{}
			for _, res := range it.Resources {
				byKind[res.Kind] += res.Price
			}
			for _, x := range it.DataTransferAndStorage {
				byKind["data_transfer_and_storage"] += x.Cost
			}
			for _, k := range sortedKeys(byKind) {
				item.Values = append(item.Values, jsChartValue{ID: k, Name: k, Value: round4(byKind[k])})
			}
		} else {
			for _, d := range deps {
				item.Values = append(item.Values, jsChartValue{ID: d.id, Name: d.name, Value: d.items(win[0], win[1]).Costs.Total})
			}
		}
		out.Data = append(out.Data, item)
	}
	return http.StatusOK, out
}

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *Server) costsCharts(r *http.Request, p map[string]string) (int, any) {
	return s.chart(r, p, nil)
}

func (s *Server) costsChartsByDeployment(r *http.Request, p map[string]string) (int, any) {
	if e := s.billingGuard(p); e != nil {
		return e.status, *e
	}
	d, e := s.orgDeployment(p)
	if e != nil {
		return e.status, *e
	}
	return s.chart(r, p, d)
}

// ---- remote clusters ----

func (s *Server) remoteClusters(_ *http.Request, p map[string]string) (int, any) {
	d := s.find(p["deployment_id"])
	if d == nil {
		return http.StatusNotFound, apiError{http.StatusNotFound, "deployments.deployment_not_found", fmt.Sprintf("No Deployment with id [%s] could be found", p["deployment_id"])}
	}
	if p["ref_id"] != "main-elasticsearch" && p["ref_id"] != "_main" {
		return http.StatusNotFound, apiError{http.StatusNotFound, "deployments.deployment_resource_not_found", fmt.Sprintf("The Resource specified by [%s] cannot be found", p["ref_id"])}
	}
	res := make([]map[string]any, 0, len(d.remotes))
	for _, rm := range d.remotes {
		m := map[string]any{"deployment_id": rm.deploymentID, "elasticsearch_ref_id": rm.refID, "alias": rm.alias, "skip_unavailable": rm.skipUnavailable}
		if rm.state != "no_info" {
			m["info"] = map[string]bool{
				"healthy":      rm.state == "ok" || rm.state == "untrusted" || rm.state == "not_trusted_back" || rm.state == "incompatible",
				"connected":    rm.state != "disconnected",
				"compatible":   rm.state != "incompatible",
				"trusted":      rm.state != "untrusted",
				"trusted_back": rm.state != "not_trusted_back",
			}
			if rm.state == "unhealthy" {
				m["info"].(map[string]bool)["healthy"] = false
			}
		}
		res = append(res, m)
	}
	return http.StatusOK, map[string]any{"resources": res}
}

// ---- API keys ----

func (s *Server) keysJSON(filter func(apiKey) bool) map[string]any {
	keys := make([]map[string]any, 0, len(s.w.keys))
	for _, k := range s.w.keys {
		if filter != nil && !filter(k) {
			continue
		}
		m := map[string]any{"id": k.id, "user_id": k.userID, "description": k.description, "creation_date": k.created.Format(time.RFC3339)}
		if k.org != "" {
			m["organization_id"] = k.org
		}
		if k.expires != nil {
			m["expiration_date"] = k.expires.Format(time.RFC3339)
		}
		if s.opts.LeakKeyField {
			m["key"] = LeakedKeyValue
		}
		keys = append(keys, m)
	}
	return map[string]any{"keys": keys}
}

func (s *Server) apiKeys(_ *http.Request, _ map[string]string) (int, any) {
	if s.opts.Mode == ModeESS {
		return http.StatusOK, s.keysJSON(nil)
	}
	return http.StatusOK, s.keysJSON(func(k apiKey) bool { return k.userID == s.opts.Username })
}

func (s *Server) apiKeysAll(_ *http.Request, _ map[string]string) (int, any) {
	if s.opts.NotPlatformAdmin {
		return http.StatusForbidden, apiError{http.StatusForbidden, "root.unauthorized", "You do not have the platform admin role required to list the API keys of all users"}
	}
	return http.StatusOK, s.keysJSON(nil)
}

func (s *Server) apiKeysOfUser(_ *http.Request, p map[string]string) (int, any) {
	found := false
	for _, k := range s.w.keys {
		if k.userID == p["user_id"] {
			found = true
		}
	}
	if !found && p["user_id"] != s.opts.Username {
		return http.StatusNotFound, apiError{http.StatusNotFound, "api_keys.user_not_found", fmt.Sprintf("The user [%s] can't be found", p["user_id"])}
	}
	return http.StatusOK, s.keysJSON(func(k apiKey) bool { return k.userID == p["user_id"] })
}

// ---- ECE login ----

func (s *Server) newToken() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenSeq++
	tok := fmt.Sprintf("sim-bearer-token-%d-%d", s.opts.Seed, s.tokenSeq)
	exp := s.opts.Now().Add(s.opts.TokenTTL)
	s.tokens[tok] = exp
	return map[string]any{"token": tok, "session_expiration_time": exp.UTC().Format(time.RFC3339)}
}

func (s *Server) login(r *http.Request, _ map[string]string) (int, any) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if json.Unmarshal(b, &req) != nil || req.Username != s.opts.Username || req.Password != s.opts.Password {
		return http.StatusUnauthorized, apiError{http.StatusUnauthorized, "root.unauthenticated", "The supplied authentication is invalid"}
	}
	return http.StatusOK, s.newToken()
}

func (s *Server) refresh(r *http.Request, _ map[string]string) (int, any) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return http.StatusUnauthorized, apiError{http.StatusUnauthorized, "root.unauthorized", "The authentication token is invalid or expired"}
	}
	return http.StatusOK, s.newToken()
}

// ---- upgrade ----

func (s *Server) upgrade(r *http.Request, p map[string]string) (int, any) {
	kind := p["stateless_resource_kind"]
	switch kind {
	case "kibana", "apm", "appsearch", "enterprise_search", "integrations_server":
	default:
		return http.StatusBadRequest, apiError{http.StatusBadRequest, "root.invalid_path_parameter", fmt.Sprintf("stateless_resource_kind [%s] must be one of kibana, apm, appsearch, enterprise_search, integrations_server", kind)}
	}
	d := s.find(p["deployment_id"])
	if d == nil {
		return http.StatusNotFound, apiError{http.StatusNotFound, "deployments.deployment_not_found", fmt.Sprintf("No Deployment with id [%s] could be found", p["deployment_id"])}
	}
	var res *resource
	for _, x := range d.resources {
		if x.kind == kind && (x.refID == p["ref_id"] || p["ref_id"] == "_main") {
			res = x
		}
	}
	if res == nil {
		return http.StatusNotFound, apiError{http.StatusNotFound, "deployments.deployment_resource_not_found", fmt.Sprintf("The Resource specified by [%s] cannot be found", p["ref_id"])}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if vals := r.URL.Query()["validate_only"]; len(vals) != 1 || vals[0] != "true" {
		// A real upgrade: recorded so tests can prove it never happens.
		s.realUpgrades++
		res.version = res.target
		return http.StatusAccepted, map[string]any{"resource_id": res.id, "stack_version": res.version}
	}
	return http.StatusAccepted, map[string]any{"resource_id": res.id, "stack_version": res.target}
}

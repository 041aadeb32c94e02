package ecesim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Operation names (spec operationIds).
const (
	opListDeployments    = "list-deployments"
	opAccount            = "get-current-account"
	opOrganizations      = "list-organizations"
	opOverview           = "get-costs-overview"
	opCostsDeployments   = "get-costs-deployments"
	opItems              = "get-costs-items"
	opItemsByDeployment  = "get-costs-items-by-deployment"
	opCharts             = "get-costs-charts"
	opChartsByDeployment = "get-costs-charts-by-deployment"
	opRemoteClusters     = "get-deployment-es-resource-remote-clusters"
	opAPIKeys            = "get-api-keys"
	opAPIKey             = "get-api-key"
	opUsersAPIKeys       = "get-users-api-keys"
	opUserAPIKeys        = "get-user-api-keys"
	opLogin              = "login"
	opRefresh            = "refresh-token"
	opUpgrade            = "upgrade-deployment-stateless-resource"
)

type routeDef struct {
	method string
	segs   []string // pattern segments; "{name}" is a parameter
	op     string
	mode   Mode // "" = both modes
	handle func(s *Server, r *http.Request, p map[string]string) reply
}

func rt(method, pattern, op string, mode Mode, h func(*Server, *http.Request, map[string]string) reply) routeDef {
	return routeDef{method: method, segs: strings.Split(pattern, "/"), op: op, mode: mode, handle: h}
}

// routes in matching order: a literal segment route comes before a
// parameter route that would also match.
var routes = []routeDef{
	rt("GET", "deployments", opListDeployments, "", (*Server).listDeployments),
	rt("POST", "deployments/_search", opSearchDeployments, "", (*Server).searchDeployments),
	rt("GET", "stack/versions", opStackVersions, "", (*Server).stackVersions),
	rt("GET", "account", opAccount, "", (*Server).getAccount),
	rt("GET", "organizations", opOrganizations, ModeESS, (*Server).listOrganizations),
	rt("GET", "billing/costs/{organization_id}", opOverview, ModeESS, (*Server).costsOverview),
	rt("GET", "billing/costs/{organization_id}/deployments", opCostsDeployments, ModeESS, (*Server).costsDeployments),
	rt("GET", "billing/costs/{organization_id}/items", opItems, ModeESS, (*Server).costsItems),
	rt("GET", "billing/costs/{organization_id}/deployments/{deployment_id}/items", opItemsByDeployment, ModeESS, (*Server).costsItemsByDeployment),
	rt("GET", "billing/costs/{organization_id}/charts", opCharts, ModeESS, (*Server).costsCharts),
	rt("GET", "billing/costs/{organization_id}/deployments/{deployment_id}/charts", opChartsByDeployment, ModeESS, (*Server).costsChartsByDeployment),
	rt("GET", "deployments/{deployment_id}/elasticsearch/{ref_id}/remote-clusters", opRemoteClusters, "", (*Server).remoteClusters),
	rt("GET", "users/auth/keys", opAPIKeys, "", (*Server).apiKeys),
	rt("GET", "users/auth/keys/_all", opUsersAPIKeys, ModeECE, (*Server).apiKeysAll),
	rt("GET", "users/auth/keys/{api_key_id}", opAPIKey, "", (*Server).apiKey),
	rt("GET", "users/{user_id}/auth/keys", opUserAPIKeys, ModeECE, (*Server).apiKeysOfUser),
	rt("POST", "users/auth/_login", opLogin, ModeECE, (*Server).login),
	rt("POST", "users/auth/_refresh", opRefresh, ModeECE, (*Server).refresh),
	rt("POST", "deployments/{deployment_id}/{stateless_resource_kind}/{ref_id}/_upgrade", opUpgrade, "", (*Server).upgrade),
}

// matched is the result of routing: the operation with its path
// parameters, or the methods the path allows.
type matched struct {
	rt     *routeDef
	params map[string]string
	allow  []string
}

// route finds the operation of a request. A route of the simulated mode
// wins over a route of the other mode (which then answers 404 as
// unavailable), so ESS routes /users/auth/keys/_all to get-api-key.
func route(mode Mode, method, path string) matched {
	table := routes
	rest, found := strings.CutPrefix(path, "/api/v1/")
	if !found {
		if rest, found = strings.CutPrefix(path, "/api/v2/"); !found {
			return matched{}
		}
		table = routesV2 // the Cloud Billing API, billingv2.go
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	var other matched
	var allow []string
	for i := range table {
		r := &table[i]
		p, ok := matchSegs(r.segs, segs)
		if !ok {
			continue
		}
		if r.method != method {
			if r.mode == "" || r.mode == mode {
				allow = append(allow, r.method)
			}
			continue
		}
		if r.mode != "" && r.mode != mode {
			if other.rt == nil {
				other = matched{rt: r, params: p}
			}
			continue
		}
		return matched{rt: r, params: p}
	}
	if other.rt != nil {
		return other
	}
	return matched{allow: allow}
}

func matchSegs(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// ---- deployments ----

// jsResource is DeploymentResource.
type jsResource struct {
	RefID                     string `json:"ref_id"`
	ElasticsearchClusterRefID string `json:"elasticsearch_cluster_ref_id,omitempty"`
	ID                        string `json:"id"`
	Kind                      string `json:"kind"`
	Region                    string `json:"region"`
	CloudID                   string `json:"cloud_id,omitempty"`
}

// jsDeployment is DeploymentsListingData.
type jsDeployment struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Resources []jsResource `json:"resources"`
}

// jsDeploymentsList is DeploymentsListResponse.
type jsDeploymentsList struct {
	Deployments []jsDeployment `json:"deployments"`
}

// live returns the deployments not deleted.
func (s *Server) live() []*deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.deleted) == 0 {
		return s.w.deployments
	}
	out := make([]*deployment, 0, len(s.w.deployments))
	for _, d := range s.w.deployments {
		if _, gone := s.deleted[d.id]; !gone {
			out = append(out, d)
		}
	}
	return out
}

// find returns a listed deployment, or nil.
func (s *Server) find(id string) *deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, gone := s.deleted[id]; gone {
		return nil
	}
	return s.w.byID[id]
}

func deploymentNotFound(id string) reply {
	return errReply(http.StatusNotFound, "deployments.deployment_not_found", fmt.Sprintf("No Deployment with id [%s] could be found", id))
}

func resourceNotFound(ref string) reply {
	return errReply(http.StatusNotFound, "deployments.deployment_resource_not_found", fmt.Sprintf("The Resource specified by [%s] cannot be found", ref))
}

// listDeployments serves the list, encoded once per change of the set of
// deployments.
func (s *Server) listDeployments(_ *http.Request, _ map[string]string) reply {
	s.mu.Lock()
	if s.listGen == s.gen {
		b := s.listCache
		s.mu.Unlock()
		return reply{status: http.StatusOK, raw: b}
	}
	gen := s.gen
	s.mu.Unlock()
	deps := s.live()
	out := jsDeploymentsList{Deployments: make([]jsDeployment, 0, len(deps))}
	for _, d := range deps {
		jd := jsDeployment{ID: d.id, Name: d.name, Resources: make([]jsResource, 0, len(d.resources))}
		for _, r := range d.resources {
			jr := jsResource{RefID: r.refID, ElasticsearchClusterRefID: r.esRefID, ID: r.id, Kind: r.kind, Region: r.region}
			if r.kind == "elasticsearch" {
				// name:base64("host$es-id$kibana-id"), like a real cloud_id.
				jr.CloudID = d.name + ":" + cloudIDPayload(d)
			}
			jd.Resources = append(jd.Resources, jr)
		}
		out.Deployments = append(out.Deployments, jd)
	}
	b := mustJSON(out)
	s.mu.Lock()
	if s.gen == gen {
		s.listCache, s.listGen = b, gen
	}
	s.mu.Unlock()
	return reply{status: http.StatusOK, raw: b}
}

func cloudIDPayload(d *deployment) string {
	var es, kb string
	for _, r := range d.resources {
		switch r.kind {
		case "elasticsearch":
			es = r.id
		case "kibana":
			kb = r.id
		}
	}
	return base64Std("sim.example.invalid:443$" + es + "$" + kb)
}

func (s *Server) getAccount(_ *http.Request, _ map[string]string) reply {
	return okReply(http.StatusOK, map[string]any{"id": s.w.accountID, "trust": map[string]any{"trust_all": true}})
}

func (s *Server) listOrganizations(_ *http.Request, _ map[string]string) reply {
	type jsOrg struct {
		ID                  string   `json:"id"`
		Name                string   `json:"name"`
		BillingContacts     []string `json:"billing_contacts"`
		OperationalContacts []string `json:"operational_contacts"`
	}
	orgs := make([]jsOrg, 0, len(s.w.orgs))
	for _, o := range s.w.orgs {
		orgs = append(orgs, jsOrg{ID: o.id, Name: o.name, BillingContacts: []string{}, OperationalContacts: []string{}})
	}
	return okReply(http.StatusOK, map[string]any{"organizations": orgs})
}

// ---- remote clusters ----

func (s *Server) remoteClusters(_ *http.Request, p map[string]string) reply {
	d := s.find(p["deployment_id"])
	if d == nil {
		return deploymentNotFound(p["deployment_id"])
	}
	// Any Elasticsearch resource's ref_id (main-elasticsearch on ESS,
	// elasticsearch on ECE, or a name the user chose), or _main.
	var es *resource
	for _, r := range d.resources {
		if r.kind == "elasticsearch" && (r.refID == p["ref_id"] || p["ref_id"] == "_main") {
			es = r
			break
		}
	}
	if es == nil {
		return resourceNotFound(p["ref_id"])
	}
	type jsInfo struct {
		Healthy     bool `json:"healthy"`
		Connected   bool `json:"connected"`
		Compatible  bool `json:"compatible"`
		Trusted     bool `json:"trusted"`
		TrustedBack bool `json:"trusted_back"`
	}
	type jsRemote struct {
		DeploymentID       string  `json:"deployment_id"`
		ElasticsearchRefID string  `json:"elasticsearch_ref_id"`
		Alias              string  `json:"alias"`
		SkipUnavailable    bool    `json:"skip_unavailable"`
		Info               *jsInfo `json:"info,omitempty"`
	}
	res := make([]jsRemote, 0, len(d.remotes))
	for _, rm := range d.remotes {
		jr := jsRemote{DeploymentID: rm.deploymentID, ElasticsearchRefID: rm.refID, Alias: rm.alias, SkipUnavailable: rm.skipUnavailable}
		if rm.state != remoteNoInfo {
			jr.Info = &jsInfo{
				Healthy:     rm.state != remoteUnhealthy && rm.state != remoteDisconnected && rm.state != remoteIncompatible,
				Connected:   rm.state != remoteDisconnected,
				Compatible:  rm.state != remoteIncompatible,
				Trusted:     rm.state != remoteUntrusted,
				TrustedBack: rm.state != remoteNotTrustedBack,
			}
		}
		res = append(res, jr)
	}
	return okReply(http.StatusOK, map[string]any{"resources": res})
}

// ---- API keys ----

// jsAPIKey is ApiKeyResponse.
type jsAPIKey struct {
	ID             string `json:"id"`
	UserID         string `json:"user_id,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
	Description    string `json:"description"`
	Key            string `json:"key,omitempty"`
	CreationDate   string `json:"creation_date"`
	ExpirationDate string `json:"expiration_date,omitempty"`
}

func (s *Server) keyJSON(k apiKey) jsAPIKey {
	j := jsAPIKey{ID: k.id, UserID: k.userID, OrganizationID: k.org, Description: k.description, CreationDate: formatTime(k.created)}
	if k.expires != nil {
		j.ExpirationDate = formatTime(*k.expires)
	}
	if s.opts.LeakKeyField {
		j.Key = LeakedKeyValue
	}
	return j
}

// expired reports whether a key has expired: the API removes expired
// keys from every listing.
func (s *Server) expired(k apiKey) bool {
	return k.expires != nil && !s.opts.Now().Before(*k.expires)
}

// keysReply is ApiKeysResponse with the unexpired keys filter accepts.
func (s *Server) keysReply(filter func(apiKey) bool) reply {
	keys := make([]jsAPIKey, 0, len(s.w.keys))
	for _, k := range s.w.keys {
		if !s.expired(k) && (filter == nil || filter(k)) {
			keys = append(keys, s.keyJSON(k))
		}
	}
	return okReply(http.StatusOK, map[string]any{"keys": keys})
}

// apiKeys lists the caller's keys: all of them in ESS; in ECE those of
// the user the request acts as (the API key's owner, or the configured
// user for basic auth and tokens; the built-in admin and readonly users
// have none).
func (s *Server) apiKeys(r *http.Request, _ map[string]string) reply {
	if s.opts.Mode == ModeESS {
		return s.keysReply(nil)
	}
	user := s.caller(r)
	return s.keysReply(func(k apiKey) bool { return k.userID == user })
}

func (s *Server) apiKey(r *http.Request, p map[string]string) reply {
	user := s.caller(r)
	for _, k := range s.w.keys {
		if k.id == p["api_key_id"] && !s.expired(k) && (s.opts.Mode == ModeESS || k.userID == user) {
			return okReply(http.StatusOK, s.keyJSON(k))
		}
	}
	return errReply(http.StatusNotFound, "api_keys.key_not_found", fmt.Sprintf("The API key [%s] can't be found", p["api_key_id"]))
}

func (s *Server) apiKeysAll(_ *http.Request, _ map[string]string) reply {
	if s.opts.NotPlatformAdmin {
		return errReply(http.StatusForbidden, "root.unauthorized.rbac", "User must have Platform level permissions")
	}
	return s.keysReply(nil)
}

func (s *Server) apiKeysOfUser(_ *http.Request, p map[string]string) reply {
	user := p["user_id"]
	for _, u := range append([]string{s.opts.Username, s.opts.APIKeyUser}, append(builtinUsers, s.w.users...)...) {
		if u == user {
			return s.keysReply(func(k apiKey) bool { return k.userID == user })
		}
	}
	return errReply(http.StatusNotFound, "api_keys.user_not_found", fmt.Sprintf("The user [%s] can't be found", user))
}

// ---- ECE login ----

func (s *Server) newToken() reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for t, exp := range s.tokens {
		if !now.Before(exp) {
			delete(s.tokens, t)
		}
	}
	s.tokenSeq++
	tok := fmt.Sprintf("sim-bearer-token-%d-%d", s.opts.Seed, s.tokenSeq)
	exp := now.Add(s.opts.TokenTTL)
	if s.opts.LegacyLogin {
		// ECE 2.x: a JWT whose exp claim is the only sign of its expiry.
		enc := base64.RawURLEncoding.EncodeToString
		tok = enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
			enc(mustJSON(map[string]any{"sub": s.opts.Username, "exp": exp.Unix(), "iat": now.Unix()})) + "." + enc([]byte(tok))
		s.tokens[tok] = exp
		return okReply(http.StatusOK, map[string]any{"token": tok})
	}
	s.tokens[tok] = exp
	return okReply(http.StatusOK, map[string]any{"token": tok, "session_expiration_time": formatTime(exp)})
}

func (s *Server) login(r *http.Request, _ map[string]string) reply {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if json.Unmarshal(b, &req) != nil || req.Username != s.opts.Username || req.Password != s.opts.Password {
		return errReply(http.StatusUnauthorized, "root.unauthenticated", "The supplied authentication is invalid")
	}
	return s.newToken()
}

// refresh issues a new token for a valid bearer token (authenticate has
// checked it); other credentials are refused.
func (s *Server) refresh(r *http.Request, _ map[string]string) reply {
	if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); scheme != "Bearer" {
		return errReply(http.StatusUnauthorized, "root.unauthorized", "The authentication token is invalid or expired")
	}
	return s.newToken()
}

// ---- upgrade ----

var statelessKinds = map[string]bool{"kibana": true, "apm": true, "appsearch": true, "enterprise_search": true, "integrations_server": true}

func (s *Server) upgrade(r *http.Request, p map[string]string) reply {
	kind := p["stateless_resource_kind"]
	if !statelessKinds[kind] {
		return errReply(http.StatusBadRequest, "root.invalid_data",
			fmt.Sprintf("stateless_resource_kind [%s] must be one of kibana, apm, appsearch, enterprise_search, integrations_server", kind),
			"stateless_resource_kind")
	}
	d := s.find(p["deployment_id"])
	if d == nil {
		return deploymentNotFound(p["deployment_id"])
	}
	var res *resource
	for _, x := range d.resources {
		if x.kind == kind && (x.refID == p["ref_id"] || p["ref_id"] == "_main") {
			res = x
		}
	}
	if res == nil {
		return resourceNotFound(p["ref_id"])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if vals := r.URL.Query()["validate_only"]; len(vals) == 1 && vals[0] == "true" {
		if s.opts.EmptyUpgradeAnswers && res.target == res.version {
			return reply{status: http.StatusAccepted, raw: []byte{}}
		}
		return okReply(http.StatusAccepted, map[string]any{"resource_id": res.id, "stack_version": res.target})
	}
	// A real upgrade: recorded so that tests can prove it never happens.
	s.realUpgrades++
	res.version = res.target
	return okReply(http.StatusAccepted, map[string]any{"resource_id": res.id, "stack_version": res.version})
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

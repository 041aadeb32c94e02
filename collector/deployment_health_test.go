package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

var updateGolden = flag.Bool("update", false, "rewrite the collector golden files under testdata/")

func readFixture(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, parts...)...))
	require.NoError(t, err)
	return b
}

// searchPages serves POST /deployments/_search from fixture pages: the
// first request (no cursor) gets pages[0], a request with cursor
// "cursor-page-N" gets pages[N-1]. It records the request bodies.
type searchPages struct {
	mu     sync.Mutex
	bodies []string
	pages  [][]byte
	fail   map[int]int // page number (1-based) → status
}

func (p *searchPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/deployments/_search" {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errors":[{"code":"root.resource_not_found","message":"not found"}]}`))
		return
	}
	b, _ := io.ReadAll(r.Body)
	var req struct {
		Cursor string `json:"cursor"`
	}
	_ = json.Unmarshal(b, &req)
	p.mu.Lock()
	p.bodies = append(p.bodies, string(b))
	p.mu.Unlock()
	n := 1
	if req.Cursor != "" {
		n = int(req.Cursor[len(req.Cursor)-1] - '0')
	}
	w.Header().Set("Content-Type", "application/json")
	if st := p.fail[n]; st != 0 {
		w.WriteHeader(st)
		_, _ = w.Write([]byte(`{"errors":[{"code":"root.unexpected_error","message":"boom"}]}`))
		return
	}
	if n > len(p.pages) {
		_, _ = w.Write([]byte(`{"return_count":0,"deployments":[]}`))
		return
	}
	_, _ = w.Write(p.pages[n-1])
}

func pagesEnv(t *testing.T, h http.Handler) Env {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	env, _ := fixtureEnv(t, nil)
	client, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("k"), eceapi.WithMaxRetries(0))
	require.NoError(t, err)
	env.Client = client
	return env
}

func gatherSnapshot(t *testing.T, s *Snapshot) prometheus.Gatherer {
	t.Helper()
	return snapGatherer(s)
}

// TestDeploymentHealthFixture: two fixture pages, every family, tags
// allow-listed; the walk sends the page size and the id sort first, then
// the cursor only, and stops when every match was seen.
func TestDeploymentHealthFixture(t *testing.T) {
	t.Parallel()
	pages := &searchPages{pages: [][]byte{readFixture(t, "search-deployments", "page-1.json"), readFixture(t, "search-deployments", "page-2.json")}}
	env := pagesEnv(t, pages)
	env.Options = DeploymentHealthOptions{Interval: config.NewDuration(2 * time.Minute), Tags: []string{"team", "cost-center", "missing"}}
	src, err := newDeploymentHealthSource(env)
	require.NoError(t, err)
	src.(*deploymentHealthSource).pageSize = 1
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{`{"size":1,"sort":[{"id":{"order":"asc"}}]}`, `{"cursor":"cursor-page-2"}`, `{"cursor":"cursor-page-3"}`}, pages.bodies,
		"full pages with a cursor: the walk goes on past match_count (2) to the empty page 3")

	golden := filepath.Join("testdata", "search-deployments", "page-1+2.metrics")
	if *updateGolden {
		var buf bytes.Buffer
		mfs, err := gatherSnapshot(t, snap).Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			_, err := expfmt.MetricFamilyToText(&buf, mf)
			require.NoError(t, err)
		}
		require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.NoError(t, testutil.GatherAndCompare(gatherSnapshot(t, snap), bytes.NewReader(want)))
	require.NoError(t, lintSnapshot(snap))
}

// TestDeploymentHealthDrift: nulls for arrays and objects and fractions
// where the spec says integer do not fail the poll; unknown values are
// left out rather than exported as 0.
func TestDeploymentHealthDrift(t *testing.T) {
	t.Parallel()
	env := pagesEnv(t, &searchPages{pages: [][]byte{readFixture(t, "search-deployments", "drift.json")}})
	src, _ := newDeploymentHealthSource(env)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	want := `
# HELP ece_instance_memory_pressure_ratio JVM heap memory pressure of the instance (0-1); absent when unknown. Cached; refreshed by collector deployment_health.
# TYPE ece_instance_memory_pressure_ratio gauge
ece_instance_memory_pressure_ratio{account="test",deployment_id="9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",instance_name="instance-0000000000",kind="elasticsearch",ref_id="main-elasticsearch"} 0.885
ece_instance_memory_pressure_ratio{account="test",deployment_id="9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",instance_name="instance-0000000001",kind="elasticsearch",ref_id="main-elasticsearch"} 0.77
# HELP ece_instance_native_memory_pressure_ratio Memory pressure of the instance's container (0-1); absent when unknown. Cached; refreshed by collector deployment_health.
# TYPE ece_instance_native_memory_pressure_ratio gauge
ece_instance_native_memory_pressure_ratio{account="test",deployment_id="9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",instance_name="instance-0000000001",kind="elasticsearch",ref_id="main-elasticsearch"} 0.8
# HELP ece_elasticsearch_system_alerts Number of system alerts of each type in the window the API returns (a gauge, not a counter: old alerts leave the window). automatic_restart is an instance restarted after running out of memory. Cached; refreshed by collector deployment_health.
# TYPE ece_elasticsearch_system_alerts gauge
ece_elasticsearch_system_alerts{account="test",alert_type="automatic_restart",deployment_id="9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",ref_id="main-elasticsearch"} 0
ece_elasticsearch_system_alerts{account="test",alert_type="heap_dump",deployment_id="9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",ref_id="main-elasticsearch"} 0
ece_elasticsearch_system_alerts{account="test",alert_type="unknown_event",deployment_id="9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",ref_id="main-elasticsearch"} 0
# HELP ece_elasticsearch_snapshots Number of snapshots stored for the Elasticsearch resource. Cached; refreshed by collector deployment_health.
# TYPE ece_elasticsearch_snapshots gauge
ece_elasticsearch_snapshots{account="test",deployment_id="9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",ref_id="main-elasticsearch"} 3
`
	require.NoError(t, testutil.GatherAndCompare(gatherSnapshot(t, snap), strings.NewReader(want),
		"ece_instance_memory_pressure_ratio", "ece_instance_native_memory_pressure_ratio", "ece_elasticsearch_system_alerts", "ece_elasticsearch_snapshots"))
	// Elasticsearch's history is null: its current plan's end is used.
	assert.Equal(t, 2, countValue(t, snap, "ece_deployment_resource_plan_last_attempt_end_timestamp_seconds", 1794297900))
	assert.Zero(t, familyNames(t, snap)["ece_deployment_tag_info"], "no tags allow-listed: none exported")
}

// TestDeploymentHealthFailedPageFailsThePoll: a walk that breaks off would
// drop every deployment of the pages not read; the poll fails instead and
// the poller keeps the last good snapshot.
func TestDeploymentHealthFailedPageFailsThePoll(t *testing.T) {
	t.Parallel()
	pages := &searchPages{pages: [][]byte{readFixture(t, "search-deployments", "page-1.json"), readFixture(t, "search-deployments", "page-2.json")},
		fail: map[int]int{2: http.StatusInternalServerError}}
	src, _ := newDeploymentHealthSource(pagesEnv(t, pages))
	src.(*deploymentHealthSource).pageSize = 1
	_, err := src.Poll(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "page 2: search deployments: ")
	assert.Equal(t, ReasonServer, Reason(err))
}

// TestDeploymentHealthCursorLoop: an API that keeps sending the same
// cursor ends the walk with an error, not an endless poll.
func TestDeploymentHealthCursorLoop(t *testing.T) {
	t.Parallel()
	var hits int
	var mu sync.Mutex
	env := pagesEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"return_count":1,"deployments":[{"id":"d1","name":"n","healthy":true,"resources":{}}],"cursor":"same"}`))
	}))
	src, _ := newDeploymentHealthSource(env)
	src.(*deploymentHealthSource).pageSize = 1
	_, err := src.Poll(context.Background())
	require.ErrorIs(t, err, errSearchLoop)
	assert.Equal(t, 2, hits)
}

// TestDeploymentHealthWalkEnd: match_count is at most a lower bound (the
// spec gives it only "if a query is supplied", and it may be capped): the
// walk ends on an empty page, a missing cursor or a short page only.
func TestDeploymentHealthWalkEnd(t *testing.T) {
	t.Parallel()
	dep := func(id string) string {
		return `{"id":"` + id + `","name":"n-` + id + `","healthy":true,"resources":{}}`
	}
	for _, tc := range []struct {
		name  string
		pages []string
		calls int
		deps  int
	}{
		{"capped match_count", []string{
			`{"return_count":2,"match_count":2,"deployments":[` + dep("d1") + `,` + dep("d2") + `],"cursor":"c2"}`,
			`{"return_count":2,"match_count":2,"deployments":[` + dep("d3") + `,` + dep("d4") + `],"cursor":"c3"}`,
			`{"return_count":1,"match_count":2,"deployments":[` + dep("d5") + `],"cursor":"c4"}`,
		}, 3, 5},
		{"no match_count, empty last page", []string{
			`{"return_count":2,"deployments":[` + dep("d1") + `,` + dep("d2") + `],"cursor":"c2"}`,
			`{"return_count":2,"deployments":[` + dep("d3") + `,` + dep("d4") + `],"cursor":"c3"}`,
			`{"return_count":0,"deployments":[],"cursor":"c4"}`,
		}, 3, 4},
		{"no cursor", []string{
			`{"return_count":2,"match_count":9,"deployments":[` + dep("d1") + `,` + dep("d2") + `]}`,
		}, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var bodies []string
			env := pagesEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				n := len(bodies)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if n > len(tc.pages) {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"errors":[{"code":"root.invalid_cursor","message":"past the end"}]}`))
					return
				}
				_, _ = w.Write([]byte(tc.pages[n-1]))
			}))
			src, _ := newDeploymentHealthSource(env)
			src.(*deploymentHealthSource).pageSize = 2
			snap, err := src.Poll(context.Background())
			require.NoError(t, err)
			assert.Len(t, bodies, tc.calls)
			assert.Equal(t, `{"size":2,"sort":[{"id":{"order":"asc"}}]}`, bodies[0])
			assert.Equal(t, tc.deps, familyNames(t, snap)["ece_deployment_healthy"])
		})
	}
}

func TestTagLabel(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"team": "tag_team", "cost-center": "tag_cost_center", "app.kubernetes.io/name": "tag_app_kubernetes_io_name",
		"Owner": "tag_Owner", "1st": "tag_1st", "équipe": "tag__quipe", "": "tag_",
	} {
		assert.Equal(t, want, tagLabel(key), key)
	}
	// Two keys with one label name: the first is used, the poll still works.
	env := pagesEnv(t, &searchPages{pages: [][]byte{readFixture(t, "search-deployments", "page-1.json")}})
	env.Options = DeploymentHealthOptions{Interval: config.NewDuration(2 * time.Minute), Tags: []string{"cost-center", "cost_center"}}
	src, err := newDeploymentHealthSource(env)
	require.NoError(t, err)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, countLabel(t, snap, "tag_cost_center", "cc-42"))
	require.NoError(t, lintSnapshot(snap))
}

// TestDeploymentHealthSimulator: one walk over the simulator, ESS and ECE:
// page count, the mix of problems, filters, sharding, and deployments
// that vanish.
func TestDeploymentHealthSimulator(t *testing.T) {
	t.Parallel()
	for _, mode := range []ecesim.Mode{ecesim.ModeESS, ecesim.ModeECE} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			sim, env := simEnv(t, ecesim.Options{Mode: mode, Seed: 41, DeploymentsPerOrg: 60})
			src, _ := newDeploymentHealthSource(env)
			snap, err := src.Poll(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 1, sim.Requests("search-deployments"), "60 deployments: one page of 250")
			assert.Equal(t, 1, sim.TotalRequests(), "no per-deployment call")
			fams := familyNames(t, snap)
			assert.Equal(t, 60, fams["ece_deployment_healthy"])
			assert.Equal(t, 3*60, fams["ece_elasticsearch_shards_status"])
			assert.Positive(t, countValue(t, snap, "ece_deployment_healthy", 0))
			assert.Positive(t, countValue(t, snap, "ece_deployment_resource_plan_pending", 1))
			assert.Positive(t, countValue(t, snap, "ece_deployment_resource_plan_healthy", 0))
			assert.Equal(t, 60, countValue(t, snap, "ece_elasticsearch_shards_status", 1), "one colour per resource")
			assert.Positive(t, countLabel(t, snap, "version", "8.11.1"))
			require.NoError(t, lintSnapshot(snap))

			// A deployment deleted upstream drops every series on the next poll.
			gone := sim.Deployments()[0].ID
			require.Positive(t, countLabel(t, snap, "deployment_id", gone))
			require.True(t, sim.DeleteDeployment(gone))
			snap2, err := src.Poll(context.Background())
			require.NoError(t, err)
			assert.Zero(t, countLabel(t, snap2, "deployment_id", gone))
			assert.Equal(t, 59, familyNames(t, snap2)["ece_deployment_healthy"])
		})
	}
}

func TestDeploymentHealthFiltersAndShards(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 42, DeploymentsPerOrg: 40})
	var all []string
	for _, d := range sim.Deployments() {
		all = append(all, d.ID)
	}
	ids := func(s *Snapshot) []string {
		var out []string
		for _, id := range all {
			if countLabel(t, s, "deployment_id", id) > 0 {
				out = append(out, id)
			}
		}
		return out
	}

	env.Account.Deployments = config.DeploymentFilter{Include: []string{"sim-logs-.*", all[0]}, Exclude: []string{".*-dev-.*"}}
	require.NoError(t, env.Account.Deployments.Compile())
	src, _ := newDeploymentHealthSource(env)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	var want []string
	for _, d := range sim.Deployments() {
		if env.Account.Deployments.Match(d.ID, d.Name) {
			want = append(want, d.ID)
		}
	}
	require.NotEmpty(t, want)
	assert.ElementsMatch(t, want, ids(snap))

	// Two shards split the deployments without overlap.
	env.Account.Deployments = config.DeploymentFilter{}
	var union []string
	for shard := range 2 {
		env.Sharder = HashSharder{Shard: uint32(shard), TotalShards: 2}
		src, _ := newDeploymentHealthSource(env)
		snap, err := src.Poll(context.Background())
		require.NoError(t, err)
		got := ids(snap)
		assert.NotEmpty(t, got)
		for _, id := range got {
			assert.True(t, env.Sharder.OwnsDeployment(id))
		}
		union = append(union, got...)
	}
	slices.Sort(union)
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	assert.Equal(t, sorted, union)
}

// TestDeploymentHealthAnswerSize measures, at 5,000 deployments, the bytes
// of one whole _search walk against one GET /deployments: the figures
// behind keeping discovery on GET /deployments (deployment_health.go).
func TestDeploymentHealthAnswerSize(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 deployments")
	}
	// Not parallel: it would take the CPU from the package's timing-bound
	// tests (backoff, fault matrix) on a small machine.
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 43, DeploymentsPerOrg: 5000, RemoteClustersPerES: -1, APIKeys: -1, Now: testNow}))
	var searchBytes, listBytes int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		mu.Lock()
		if strings.HasSuffix(r.URL.Path, "/_search") {
			searchBytes += rec.Body.Len()
		} else {
			listBytes += rec.Body.Len()
		}
		mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	client, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("sim-api-key"), eceapi.WithMaxRetries(0))
	require.NoError(t, err)
	env, _ := fixtureEnv(t, nil)
	env.Client = client
	src, _ := newDeploymentHealthSource(env)
	start := time.Now()
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	elapsed := time.Since(start)
	_, _, err = client.Deployments.List(context.Background())
	require.NoError(t, err)
	pages := sim.Requests("search-deployments")
	t.Logf("5,000 deployments: _search walk %d pages, %.1f MiB (%.1f KiB per deployment); GET /deployments 1 call, %.1f MiB; ratio %.1f; %d series; walk took %s",
		pages, float64(searchBytes)/(1<<20), float64(searchBytes)/5000/1024, float64(listBytes)/(1<<20), float64(searchBytes)/float64(listBytes), snap.Len(), elapsed.Round(time.Millisecond))
	assert.Equal(t, 21, pages, "5,000 / 250 full pages, then the empty page that ends the walk (match_count is not trusted)")
	assert.Greater(t, searchBytes, 5*listBytes, "the walk is many times the list")
	assert.Less(t, searchBytes/pages, int(config.DefaultHTTP.MaxBodyBytes)/8, "a page stays far below http.max_body_bytes")
}

// TestDeploymentHealthTags: collectors.deployment_health.tags decodes as
// written, tags: [] is the default (none), and --config.check's output
// parses back to the same options.
func TestDeploymentHealthTags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		yaml string
		want []string
	}{
		{"", nil},
		{"collectors:\n  deployment_health: {tags: []}\n", nil},
		{"collectors:\n  deployment_health: {tags: [team, cost-center, \"app.kubernetes.io/name\"]}\n", []string{"team", "cost-center", "app.kubernetes.io/name"}},
	} {
		cfg, err := config.Parse([]byte("accounts:\n  - {name: prod, api_key: k}\n" + tc.yaml))
		require.NoError(t, err, tc.yaml)
		assert.Equal(t, tc.want, cfg.Collectors.Options(deploymentHealthName).(DeploymentHealthOptions).Tags, tc.yaml)
		out, err := cfg.Redacted()
		require.NoError(t, err)
		again, err := config.Parse(out)
		require.NoError(t, err)
		assert.Equal(t, cfg.Collectors, again.Collectors, "round trip")
	}
}

// TestDeploymentHealthOptionsErrors: the options decode strictly (their
// own UnmarshalYAML keeps config's strict decoder) and every error of the
// collectors section is reported at once, each with its full path.
func TestDeploymentHealthOptionsErrors(t *testing.T) {
	t.Parallel()
	const accounts = "accounts:\n  - {name: prod, api_key: k}\n"
	_, err := config.Parse([]byte(accounts + "collectors:\n  deployment_health:\n    tag: [x]\n"))
	assert.EqualError(t, err, "collectors.deployment_health.tag: unknown field (line 5)")
	_, err = config.Parse([]byte(accounts + "collectors:\n  deployment_health:\n    interval: 10s\n    tags: ['', a, a]\n  colour: {}\n  billing: {concurrency: 0}\n"))
	assert.EqualError(t, err, strings.Join([]string{
		`collectors.deployment_health.interval: "10s": must be at least 30s`,
		`collectors.deployment_health.tags[0]: must not be empty`,
		`collectors.deployment_health.tags[2]: "a": listed twice`,
		`collectors.colour: unknown collector`,
		`collectors.billing.concurrency: 0: must be between 1 and 64`,
	}, "\n"))
}

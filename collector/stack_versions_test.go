package collector

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

func stackEnv(t *testing.T, fixture string) (Env, *[]string) {
	t.Helper()
	body := readFixture(t, "get-version-stacks", fixture)
	var queries []string
	env := pagesEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	return env, &queries
}

func TestStackVersionsFixture(t *testing.T) {
	t.Parallel()
	all := []string{"ece_stack_version_accessible", "ece_stack_version_deleted", "ece_stack_version_whitelisted", "ece_stack_version_info"}
	for _, tc := range []struct {
		fixture string
		names   []string // compared: absent from want means absent from the output
		want    string
	}{
		{"ess.json", all, `
# HELP ece_stack_version_accessible Whether the calling user can use the stack version (1) or not (0); ESS only (ECE does not send it). Cached; refreshed by collector stack_versions.
# TYPE ece_stack_version_accessible gauge
ece_stack_version_accessible{account="test",version="7.17.24"} 1
ece_stack_version_accessible{account="test",version="8.11.1"} 0
ece_stack_version_accessible{account="test",version="8.14.3"} 1
ece_stack_version_accessible{account="test",version="8.15.1"} 1
# HELP ece_stack_version_deleted Whether the stack version is marked for deletion (1) or not (0). Cached; refreshed by collector stack_versions.
# TYPE ece_stack_version_deleted gauge
ece_stack_version_deleted{account="test",version="7.17.24"} 0
ece_stack_version_deleted{account="test",version="8.11.1"} 1
ece_stack_version_deleted{account="test",version="8.14.3"} 0
ece_stack_version_deleted{account="test",version="8.15.1"} 0
# HELP ece_stack_version_info Stack version metadata, value 1: the lowest version recommended to upgrade from, and the versions it can upgrade to (comma-separated, in the API's order). Cached; refreshed by collector stack_versions.
# TYPE ece_stack_version_info gauge
ece_stack_version_info{account="test",min_upgradable_from="6.8.0",upgradable_to="8.14.3,8.15.1",version="7.17.24"} 1
ece_stack_version_info{account="test",min_upgradable_from="7.17.0",upgradable_to="",version="8.15.1"} 1
ece_stack_version_info{account="test",min_upgradable_from="7.17.0",upgradable_to="8.14.3,8.15.1",version="8.11.1"} 1
ece_stack_version_info{account="test",min_upgradable_from="7.17.0",upgradable_to="8.15.1",version="8.14.3"} 1
# HELP ece_stack_version_whitelisted Whether the stack version is whitelisted (1) or not (0); ESS only (ECE does not send it). Cached; refreshed by collector stack_versions.
# TYPE ece_stack_version_whitelisted gauge
ece_stack_version_whitelisted{account="test",version="7.17.24"} 0
ece_stack_version_whitelisted{account="test",version="8.11.1"} 1
ece_stack_version_whitelisted{account="test",version="8.14.3"} 1
ece_stack_version_whitelisted{account="test",version="8.15.1"} 1
`},
		// ECE sends neither accessible nor whitelisted: absent, not 0.
		{"ece.json", all[:3], `
# HELP ece_stack_version_deleted Whether the stack version is marked for deletion (1) or not (0). Cached; refreshed by collector stack_versions.
# TYPE ece_stack_version_deleted gauge
ece_stack_version_deleted{account="test",version="7.17.24"} 0
ece_stack_version_deleted{account="test",version="8.11.1"} 1
ece_stack_version_deleted{account="test",version="8.14.3"} 0
ece_stack_version_deleted{account="test",version="8.15.1"} 0
`},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			env, queries := stackEnv(t, tc.fixture)
			src, err := newStackVersionsSource(env)
			require.NoError(t, err)
			snap, err := src.Poll(context.Background())
			require.NoError(t, err)
			assert.Equal(t, []string{"GET /api/v1/stack/versions?show_deleted=true"}, *queries)
			require.NoError(t, testutil.GatherAndCompare(gatherSnapshot(t, snap), strings.NewReader(tc.want), tc.names...))
			require.NoError(t, lintSnapshot(snap))
		})
	}
}

func TestStackVersionsShardsAndSimulator(t *testing.T) {
	t.Parallel()
	for _, mode := range []ecesim.Mode{ecesim.ModeESS, ecesim.ModeECE} {
		sim, env := simEnv(t, ecesim.Options{Mode: mode, Seed: 44})
		src, _ := newStackVersionsSource(env)
		snap, err := src.Poll(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 1, countValue(t, snap, "ece_stack_version_deleted", 1), mode)
		assert.Equal(t, mode == ecesim.ModeESS, familyNames(t, snap)["ece_stack_version_accessible"] > 0, mode)

		env.Sharder = HashSharder{Shard: 1, TotalShards: 2}
		src, _ = newStackVersionsSource(env)
		snap, err = src.Poll(context.Background())
		require.NoError(t, err)
		assert.Zero(t, snap.Len(), "shard 1 leaves the versions to shard 0")
		assert.Equal(t, 1, sim.Requests("get-version-stacks"))
	}
}

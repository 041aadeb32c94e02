package collector

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

func TestAPIKeysFixture(t *testing.T) {
	t.Parallel()
	env, _ := fixtureEnv(t, map[string]string{
		"/api/v1/users/auth/keys": `{"keys":[
			{"id":"k1","user_id":"u1","organization_id":"o1","description":"ci","creation_date":"2026-01-02T03:04:05Z","expiration_date":"2026-12-01T00:00:00Z","key":"SENTINEL-KEY-VALUE"},
			{"id":"k2","user_id":"u1","organization_id":"o1","description":"forever","creation_date":"2025-06-01T00:00:00Z"}]}`,
	})
	src, err := newAPIKeysCollector(env)
	require.NoError(t, err)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	want := `
# HELP ece_api_key_expiration_timestamp_seconds When the API key expires; absent for keys that never expire. Cached; refreshed every 15m by collector api_keys.
# TYPE ece_api_key_expiration_timestamp_seconds gauge
ece_api_key_expiration_timestamp_seconds{account="test",key_id="k1",user_id="u1"} 1.7960832e+09
# HELP ece_api_key_info API key metadata, value 1; expires is "false" for keys that never expire. Cached; refreshed every 15m by collector api_keys.
# TYPE ece_api_key_info gauge
ece_api_key_info{account="test",description="ci",expires="true",key_id="k1",organization_id="o1",user_id="u1"} 1
ece_api_key_info{account="test",description="forever",expires="false",key_id="k2",organization_id="o1",user_id="u1"} 1
# HELP ece_api_key_creation_timestamp_seconds When the API key was created. Cached; refreshed every 15m by collector api_keys.
# TYPE ece_api_key_creation_timestamp_seconds gauge
ece_api_key_creation_timestamp_seconds{account="test",key_id="k1",user_id="u1"} 1.767323045e+09
ece_api_key_creation_timestamp_seconds{account="test",key_id="k2",user_id="u1"} 1.7487360e+09
`
	require.NoError(t, testutil.CollectAndCompare(snapCollector{snap}, stringsReader(want),
		"ece_api_key_expiration_timestamp_seconds", "ece_api_key_info", "ece_api_key_creation_timestamp_seconds"))
	require.NoError(t, lintSnapshot(snap))
}

func TestAPIKeysNeverExposesTheKeyField(t *testing.T) {
	t.Parallel()
	_, env := simEnv(t, ecesim.Options{Seed: 4, LeakKeyField: true, APIKeys: 12})
	src, _ := newAPIKeysCollector(env)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	for _, m := range snap.metrics {
		assert.NotContains(t, m.Desc().String(), ecesim.LeakedKeyValue)
		assert.Equal(t, 0, countLabelValueContaining(t, snap, ecesim.LeakedKeyValue))
	}
	fams := familyNames(t, snap)
	assert.Equal(t, 12, fams["ece_api_key_info"])
	assert.Equal(t, 10, fams["ece_api_key_expiration_timestamp_seconds"], "2 of 12 simulated keys never expire")
}

func TestAPIKeysECEScopes(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 5, APIKeys: 9})
	env.Settings.APIKeys.Scope = "all"
	src, _ := newAPIKeysCollector(env)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, sim.Requests("get-users-api-keys"))
	assert.Equal(t, 9, familyNames(t, snap)["ece_api_key_info"])

	// Without the platform admin role, _all is refused with a clear error.
	_, env2 := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 5, NotPlatformAdmin: true})
	env2.Settings.APIKeys.Scope = "all"
	src2, _ := newAPIKeysCollector(env2)
	_, err = src2.Poll(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs a platform administrator")
	assert.Equal(t, ReasonAuth, Reason(err))

	// ESS ignores scope all.
	sim3, env3 := simEnv(t, ecesim.Options{Seed: 6})
	env3.Settings.APIKeys.Scope = "all"
	env3.Account.Platform = config.PlatformESS
	src3, _ := newAPIKeysCollector(env3)
	_, err = src3.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, sim3.Requests("get-api-keys"))
}

func countLabelValueContaining(t *testing.T, s *Snapshot, sub string) int {
	t.Helper()
	n := 0
	for _, m := range s.metrics {
		var pb = metricPB(t, m)
		for _, lp := range pb.GetLabel() {
			if contains(lp.GetValue(), sub) {
				n++
			}
		}
	}
	return n
}

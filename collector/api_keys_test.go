package collector

import (
	"context"
	"sync"
	"testing"
	"time"

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
	src, err := newAPIKeysSource(env)
	require.NoError(t, err)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	want := `
# HELP ece_api_key_expiration_timestamp_seconds When the API key expires; absent for keys that never expire. Cached; refreshed by collector api_keys.
# TYPE ece_api_key_expiration_timestamp_seconds gauge
ece_api_key_expiration_timestamp_seconds{account="test",key_id="k1",user_id="u1"} 1.7960832e+09
# HELP ece_api_key_info API key metadata, value 1; expires is "false" for keys that never expire. Cached; refreshed by collector api_keys.
# TYPE ece_api_key_info gauge
ece_api_key_info{account="test",description="ci",expires="true",key_id="k1",organization_id="o1",user_id="u1"} 1
ece_api_key_info{account="test",description="forever",expires="false",key_id="k2",organization_id="o1",user_id="u1"} 1
# HELP ece_api_key_creation_timestamp_seconds When the API key was created. Cached; refreshed by collector api_keys.
# TYPE ece_api_key_creation_timestamp_seconds gauge
ece_api_key_creation_timestamp_seconds{account="test",key_id="k1",user_id="u1"} 1.767323045e+09
ece_api_key_creation_timestamp_seconds{account="test",key_id="k2",user_id="u1"} 1.7487360e+09
`
	require.NoError(t, testutil.GatherAndCompare(snapGatherer(snap), stringsReader(want),
		"ece_api_key_expiration_timestamp_seconds", "ece_api_key_info", "ece_api_key_creation_timestamp_seconds"))
	require.NoError(t, lintSnapshot(snap))
}

func TestAPIKeysNeverExposesTheKeyField(t *testing.T) {
	t.Parallel()
	_, env := simEnv(t, ecesim.Options{Seed: 4, LeakKeyField: true, APIKeys: 12})
	src, _ := newAPIKeysSource(env)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	for _, m := range samples(snap) {
		assert.NotContains(t, m.name+m.help, ecesim.LeakedKeyValue)
		assert.Equal(t, 0, countLabelValueContaining(t, snap, ecesim.LeakedKeyValue))
	}
	fams := familyNames(t, snap)
	assert.Equal(t, 10, fams["ece_api_key_info"], "12 simulated keys, 2 expired and so unlisted")
	assert.Equal(t, 8, fams["ece_api_key_expiration_timestamp_seconds"], "2 of the 10 listed keys never expire")
}

func TestAPIKeysECEScopes(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 5, APIKeys: 9})
	env.Options = withOptions(apiKeysName, func(o *APIKeysOptions) { o.Scope = "all" })
	src, _ := newAPIKeysSource(env)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, sim.Requests("get-users-api-keys"))
	assert.Equal(t, 8, familyNames(t, snap)["ece_api_key_info"], "9 simulated keys, one expired and so unlisted")

	// Without the platform admin role, _all is refused with a clear error.
	_, env2 := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 5, NotPlatformAdmin: true})
	env2.Options = withOptions(apiKeysName, func(o *APIKeysOptions) { o.Scope = "all" })
	src2, _ := newAPIKeysSource(env2)
	_, err = src2.Poll(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs a platform administrator")
	assert.Equal(t, ReasonAuth, Reason(err))

	// ESS ignores scope all.
	sim3, env3 := simEnv(t, ecesim.Options{Seed: 6})
	env3.Options = withOptions(apiKeysName, func(o *APIKeysOptions) { o.Scope = "all" })
	env3.Account.Platform = config.PlatformESS
	src3, _ := newAPIKeysSource(env3)
	_, err = src3.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, sim3.Requests("get-api-keys"))
}

// TestAPIKeysAsECEListsThem: ECE keys belong to users other than the
// built-in admin (which cannot own keys), some never expire (ECE 3.0 and
// older send no expiration_date), and an expired key vanishes from the
// listing, so its series go with it.
func TestAPIKeysAsECEListsThem(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := testNow()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	_, env := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 7, APIKeys: 6, Now: clock})
	env.Options = withOptions(apiKeysName, func(o *APIKeysOptions) { o.Scope = "all" })
	src, _ := newAPIKeysSource(env)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	infos := labelSets(t, snap, "ece_api_key_info")
	require.Len(t, infos, 5, "the expired sixth is not listed")
	expiring := labelSets(t, snap, "ece_api_key_expiration_timestamp_seconds")
	owners := map[string]bool{}
	for _, l := range infos {
		owners[l["user_id"]] = true
		hasExpiry := false
		for _, e := range expiring {
			hasExpiry = hasExpiry || e["key_id"] == l["key_id"]
		}
		if l["key_id"] == "sim-key-0004" {
			assert.Equal(t, "false", l["expires"], "a key without expiration_date")
			assert.False(t, hasExpiry, "no expiration series for a key that never expires")
		} else {
			assert.Equal(t, "true", l["expires"], l["key_id"])
			assert.True(t, hasExpiry, l["key_id"])
		}
	}
	assert.Equal(t, map[string]bool{"sim-user-1": true, "sim-user-2": true}, owners, "never admin")

	mu.Lock()
	now = now.Add(4 * 24 * time.Hour) // sim-key-0001 expires after 3 days
	mu.Unlock()
	snap, err = src.Poll(context.Background())
	require.NoError(t, err)
	for _, name := range []string{"ece_api_key_info", "ece_api_key_expiration_timestamp_seconds", "ece_api_key_creation_timestamp_seconds"} {
		for _, l := range labelSets(t, snap, name) {
			assert.NotEqual(t, "sim-key-0001", l["key_id"], "%s: an expired key is not still valid", name)
		}
	}
	assert.Len(t, labelSets(t, snap, "ece_api_key_info"), 4)
}

// familyIs reports whether a metric belongs to the family name.
func familyIs(m sample, name string) bool { return m.name == name }

// labelSets returns the label sets of one family of a snapshot.
func labelSets(t *testing.T, s *Snapshot, name string) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, m := range samples(s) {
		if !familyIs(m, name) {
			continue
		}
		l := map[string]string{}
		for _, lp := range metricPB(t, m).GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		out = append(out, l)
	}
	return out
}

func countLabelValueContaining(t *testing.T, s *Snapshot, sub string) int {
	t.Helper()
	n := 0
	for _, m := range samples(s) {
		var pb = metricPB(t, m)
		for _, lp := range pb.GetLabel() {
			if contains(lp.GetValue(), sub) {
				n++
			}
		}
	}
	return n
}

package collector

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// accountFixture serves testdata/get-current-account/<name> as GET /account.
func accountFixture(t *testing.T, name string) Env {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "get-current-account", name))
	require.NoError(t, err)
	env, _ := fixtureEnv(t, map[string]string{"/api/v1/account": string(b)})
	return env
}

func TestAccountFixture(t *testing.T) {
	t.Parallel()
	names := []string{"ece_account_info", "ece_account_trust_all"}
	for _, tc := range []struct{ fixture, want string }{
		{"trust-all.json", `
# HELP ece_account_info The account of the credentials (GET /account), value 1. Cached; refreshed by collector account.
# TYPE ece_account_info gauge
ece_account_info{account="test",account_id="a1b2c3d4e5f60718293a4b5c6d7e8f90"} 1
# HELP ece_account_trust_all 1 if every cluster of the account trusts every other cluster of the account by default; absent when the account sets no trust. Cached; refreshed by collector account.
# TYPE ece_account_trust_all gauge
ece_account_trust_all{account="test"} 1
`},
		// No trust object: no trust series rather than a made-up 0.
		{"no-trust.json", `
# HELP ece_account_info The account of the credentials (GET /account), value 1. Cached; refreshed by collector account.
# TYPE ece_account_info gauge
ece_account_info{account="test",account_id="a1b2c3d4e5f60718293a4b5c6d7e8f90"} 1
`},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			snap, err := pollOnce(t, accountFixture(t, tc.fixture), newAccountSource)
			require.NoError(t, err)
			compareSnapshot(t, snap, tc.want, names...)
		})
	}
}

// TestAccountWithoutIDFails: the spec requires id; an answer without one
// fails the poll as a decode error (the last good data stays).
func TestAccountWithoutIDFails(t *testing.T) {
	t.Parallel()
	_, err := pollOnce(t, accountFixture(t, "no-id.json"), newAccountSource)
	require.Error(t, err)
	assert.Equal(t, eceapi.ReasonDecode, Reason(err))
}

// TestAccountOnlyOnTheOrganizationShard: account-level data comes from
// shard 0 alone, without a call on the others.
func TestAccountOnlyOnTheOrganizationShard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		shard, series, calls int
	}{{0, 2, 1}, {1, 0, 0}} {
		sim, env := simEnv(t, ecesim.Options{Seed: 3})
		sh, err := NewHashSharder(tc.shard, 2)
		require.NoError(t, err)
		env.Sharder = sh
		snap, err := pollOnce(t, env, newAccountSource)
		require.NoError(t, err)
		assert.Equal(t, tc.series, snap.Len(), "shard %d", tc.shard)
		assert.Equal(t, tc.calls, sim.Requests("get-current-account"), "shard %d", tc.shard)
	}
}

// TestAccountAgainstSimulator: ESS and ECE both answer GET /account.
func TestAccountAgainstSimulator(t *testing.T) {
	t.Parallel()
	for _, mode := range []ecesim.Mode{ecesim.ModeESS, ecesim.ModeECE} {
		_, env := simEnv(t, ecesim.Options{Mode: mode, Seed: 3})
		snap, err := pollOnce(t, env, newAccountSource)
		require.NoError(t, err, mode)
		assert.Equal(t, 1, countValue(t, snap, "ece_account_info", 1), mode)
		require.NoError(t, lintSnapshot(snap))
	}
}

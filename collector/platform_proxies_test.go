package collector

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlatformProxiesFixture(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fixture, want, log string
	}{
		{"get-proxies-health/yellow.json", `
# HELP ece_platform_proxies_expected Expected minimum number of proxies. Cached; refreshed by collector platform_proxies.
# TYPE ece_platform_proxies_expected gauge
ece_platform_proxies_expected{account="test"} 3
# HELP ece_platform_proxies_observed Number of proxies observed. Cached; refreshed by collector platform_proxies.
# TYPE ece_platform_proxies_observed gauge
ece_platform_proxies_observed{account="test"} 2
# HELP ece_platform_proxies_status Health of the proxies as a whole, as a state set: 1 for the current status (green, yellow or red), 0 for the others; a status the exporter does not know is status=\"unknown\" 1, the others 0. Cached; refreshed by collector platform_proxies.
# TYPE ece_platform_proxies_status gauge
ece_platform_proxies_status{account="test",status="green"} 0
ece_platform_proxies_status{account="test",status="red"} 0
ece_platform_proxies_status{account="test",status="yellow"} 1
`, ""},
		{"get-proxies-health/unknown-status.json", `
# HELP ece_platform_proxies_status Health of the proxies as a whole, as a state set: 1 for the current status (green, yellow or red), 0 for the others; a status the exporter does not know is status=\"unknown\" 1, the others 0. Cached; refreshed by collector platform_proxies.
# TYPE ece_platform_proxies_status gauge
ece_platform_proxies_status{account="test",status="green"} 0
ece_platform_proxies_status{account="test",status="red"} 0
ece_platform_proxies_status{account="test",status="unknown"} 1
ece_platform_proxies_status{account="test",status="yellow"} 0
`, `msg="unknown proxies status, exported as status=\"unknown\"; logged once" status=Purple`},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			env := platformFixtures(t, map[string]string{"platform/infrastructure/proxies/health": tc.fixture})
			logs := logBuffer(&env)
			snap, err := pollOnce(t, env, newPlatformProxiesSource)
			require.NoError(t, err)
			names := []string{"ece_platform_proxies_status"}
			if tc.log == "" {
				names = append(names, "ece_platform_proxies_expected", "ece_platform_proxies_observed")
				assert.Empty(t, logs.String())
			} else {
				assert.Contains(t, logs.String(), tc.log)
			}
			compareSnapshot(t, snap, tc.want, names...)
		})
	}
}

// TestPlatformProxiesUnknownStatusLoggedOnce: an unknown status is logged
// on the first poll only, and exported on every poll.
func TestPlatformProxiesUnknownStatusLoggedOnce(t *testing.T) {
	t.Parallel()
	env := platformFixtures(t, map[string]string{"platform/infrastructure/proxies/health": "get-proxies-health/unknown-status.json"})
	logs := logBuffer(&env)
	src, err := newPlatformProxiesSource(env)
	require.NoError(t, err)
	for range 3 {
		snap, err := src.Poll(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 1, countLabel(t, snap, "status", "unknown"))
	}
	assert.Equal(t, 1, strings.Count(logs.String(), "unknown proxies status"))
}

package collector

import (
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
# HELP ece_platform_proxies_status Health of the proxies as a whole, as a state set: 1 for the current status (green, yellow or red), 0 for the others. Cached; refreshed by collector platform_proxies.
# TYPE ece_platform_proxies_status gauge
ece_platform_proxies_status{account="test",status="green"} 0
ece_platform_proxies_status{account="test",status="red"} 0
ece_platform_proxies_status{account="test",status="yellow"} 1
`, ""},
		{"get-proxies-health/unknown-status.json", `
# HELP ece_platform_proxies_status Health of the proxies as a whole, as a state set: 1 for the current status (green, yellow or red), 0 for the others. Cached; refreshed by collector platform_proxies.
# TYPE ece_platform_proxies_status gauge
ece_platform_proxies_status{account="test",status="green"} 0
ece_platform_proxies_status{account="test",status="red"} 0
ece_platform_proxies_status{account="test",status="yellow"} 0
`, `msg="unknown proxies status; every state of ece_platform_proxies_status is 0" status=Purple`},
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

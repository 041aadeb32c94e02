package collector

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPlatformRunnersFixture: a runner listed twice is reported once (the
// first listing wins); a runner without roles has no role series.
func TestPlatformRunnersFixture(t *testing.T) {
	t.Parallel()
	env := platformFixtures(t, map[string]string{"platform/infrastructure/runners": "get-runners/mixed.json"})
	snap, err := pollOnce(t, env, newPlatformRunnersSource)
	require.NoError(t, err)
	compareSnapshot(t, snap, `
# HELP ece_platform_runner_connected Whether the runner is connected (1) or not (0). Cached; refreshed by collector platform_runners.
# TYPE ece_platform_runner_connected gauge
ece_platform_runner_connected{account="test",runner_id="10.0.0.1"} 1
ece_platform_runner_connected{account="test",runner_id="10.0.0.2"} 0
# HELP ece_platform_runner_healthy Whether the runner is healthy (1) or not (0). Cached; refreshed by collector platform_runners.
# TYPE ece_platform_runner_healthy gauge
ece_platform_runner_healthy{account="test",runner_id="10.0.0.1"} 1
ece_platform_runner_healthy{account="test",runner_id="10.0.0.2"} 0
# HELP ece_platform_runner_info Runner metadata, value 1. Cached; refreshed by collector platform_runners.
# TYPE ece_platform_runner_info gauge
ece_platform_runner_info{account="test",host_ip="10.0.0.1",public_hostname="host-1.ece.example",runner_id="10.0.0.1",version="3.8.0",zone="zone-1"} 1
ece_platform_runner_info{account="test",host_ip="10.0.0.2",public_hostname="host-2.ece.example",runner_id="10.0.0.2",version="",zone=""} 1
# HELP ece_platform_runner_role_info One series of value 1 per role of the runner (allocator, coordinator, director, proxy, ...). Cached; refreshed by collector platform_runners.
# TYPE ece_platform_runner_role_info gauge
ece_platform_runner_role_info{account="test",role="allocator",runner_id="10.0.0.1"} 1
ece_platform_runner_role_info{account="test",role="proxy",runner_id="10.0.0.1"} 1
# HELP ece_platform_runners Number of runners listed. Cached; refreshed by collector platform_runners.
# TYPE ece_platform_runners gauge
ece_platform_runners{account="test"} 2
`, "ece_platform_runner_connected", "ece_platform_runner_healthy", "ece_platform_runner_info", "ece_platform_runner_role_info", "ece_platform_runners")
}

package collector

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
)

func TestPlatformLicenseFixture(t *testing.T) {
	t.Parallel()
	names := []string{"ece_platform_license_capacity_memory_bytes", "ece_platform_license_expiration_timestamp_seconds", "ece_platform_license_info",
		"ece_platform_license_max_resource_units", "ece_platform_license_max_instances", "ece_platform_license_usage_memory_bytes"}
	for _, tc := range []struct{ fixture, want string }{
		// Version 4: resource units of 64 GiB; 384 GiB connected is over the 256 GiB allowed.
		{"get-license/v4-over-capacity.json", `
# HELP ece_platform_license_capacity_memory_bytes Memory the license allows: resource units times 64 GiB (64 GiB per unit: our inference, the spec does not say; version 4 and later), or allocators times memory per allocator (version 2); absent for licenses that count instances. Cached; refreshed by collector platform_license.
# TYPE ece_platform_license_capacity_memory_bytes gauge
ece_platform_license_capacity_memory_bytes{account="test"} 2.74877906944e+11
# HELP ece_platform_license_expiration_timestamp_seconds When the ECE license expires. Cached; refreshed by collector platform_license.
# TYPE ece_platform_license_expiration_timestamp_seconds gauge
ece_platform_license_expiration_timestamp_seconds{account="test"} 1.7660592e+09
# HELP ece_platform_license_info License metadata, value 1. Cached; refreshed by collector platform_license.
# TYPE ece_platform_license_info gauge
ece_platform_license_info{account="test",issued_to="Example Corp",license_type="enterprise",version="4"} 1
# HELP ece_platform_license_max_resource_units Resource units the license allows (64 GiB of memory each: our inference, the spec does not say); absent before version 4. Cached; refreshed by collector platform_license.
# TYPE ece_platform_license_max_resource_units gauge
ece_platform_license_max_resource_units{account="test"} 4
# HELP ece_platform_license_usage_memory_bytes Memory of the connected allocators, as the license counts it: usage_stats.total_connected_memory_total, whose unit the spec does not give; MiB assumed (our inference, as the allocators' capacities). Cached; refreshed by collector platform_license.
# TYPE ece_platform_license_usage_memory_bytes gauge
ece_platform_license_usage_memory_bytes{account="test"} 4.12316860416e+11
`},
		// Version 2: allocators times memory per allocator (10 × 128 GiB); no usage reported.
		{"get-license/v2.json", `
# HELP ece_platform_license_capacity_memory_bytes Memory the license allows: resource units times 64 GiB (64 GiB per unit: our inference, the spec does not say; version 4 and later), or allocators times memory per allocator (version 2); absent for licenses that count instances. Cached; refreshed by collector platform_license.
# TYPE ece_platform_license_capacity_memory_bytes gauge
ece_platform_license_capacity_memory_bytes{account="test"} 1.37438953472e+12
# HELP ece_platform_license_expiration_timestamp_seconds When the ECE license expires. Cached; refreshed by collector platform_license.
# TYPE ece_platform_license_expiration_timestamp_seconds gauge
ece_platform_license_expiration_timestamp_seconds{account="test"} 1.7987616e+09
# HELP ece_platform_license_info License metadata, value 1. Cached; refreshed by collector platform_license.
# TYPE ece_platform_license_info gauge
ece_platform_license_info{account="test",issued_to="Old Corp",license_type="platinum",version="2"} 1
`},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			env := platformFixtures(t, map[string]string{"platform/license": tc.fixture})
			snap, err := pollOnce(t, env, newPlatformLicenseSource)
			require.NoError(t, err)
			compareSnapshot(t, snap, tc.want, names...)
			assert.Zero(t, countLabelValueContaining(t, snap, "SENTINEL"), "the signature is never exposed")
		})
	}
}

// TestPlatformLicenseNotFound: ECE without a license answers 404; the
// collector fails with reason not_found rather than reporting nothing.
func TestPlatformLicenseNotFound(t *testing.T) {
	t.Parallel()
	env := platformFixtures(t, nil)
	_, err := pollOnce(t, env, newPlatformLicenseSource)
	require.Error(t, err)
	assert.Equal(t, ReasonNotFound, Reason(err))
}

// TestPlatformLicenseNotInstalled: the spec's 404 license.license_not_found
// (no license installed) exports nothing and does not fail the poll.
func TestPlatformLicenseNotInstalled(t *testing.T) {
	t.Parallel()
	env := pagesEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Cloud-Error-Codes", "license.license_not_found")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errors":[{"code":"license.license_not_found","message":"The license cannot be found."}]}`))
	}))
	env.Account.Platform = config.PlatformECE
	snap, err := pollOnce(t, env, newPlatformLicenseSource)
	require.NoError(t, err)
	assert.Zero(t, snap.Len())
}

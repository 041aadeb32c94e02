package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

func TestPlatformAllocatorsFixture(t *testing.T) {
	t.Parallel()
	env := platformFixtures(t, map[string]string{"platform/infrastructure/allocators": "get-allocators/mixed.json"})
	snap, err := pollOnce(t, env, newPlatformAllocatorsSource)
	require.NoError(t, err)
	compareSnapshot(t, snap, `
# HELP ece_platform_allocator_connected Whether the allocator is connected (1) or not (0). Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_connected gauge
ece_platform_allocator_connected{account="test",allocator_id="alloc-1",zone="zone-1"} 1
ece_platform_allocator_connected{account="test",allocator_id="alloc-2",zone="zone-1"} 0
ece_platform_allocator_connected{account="test",allocator_id="alloc-3",zone="zone-2"} 1
# HELP ece_platform_allocator_maintenance_mode Whether the allocator is in maintenance mode (1): no new workload is placed on it. Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_maintenance_mode gauge
ece_platform_allocator_maintenance_mode{account="test",allocator_id="alloc-1",zone="zone-1"} 0
ece_platform_allocator_maintenance_mode{account="test",allocator_id="alloc-2",zone="zone-1"} 0
ece_platform_allocator_maintenance_mode{account="test",allocator_id="alloc-3",zone="zone-2"} 1
# HELP ece_platform_allocator_memory_capacity_bytes Memory capacity of the allocator. Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_memory_capacity_bytes gauge
ece_platform_allocator_memory_capacity_bytes{account="test",allocator_id="alloc-1",zone="zone-1"} 6.8719476736e+10
ece_platform_allocator_memory_capacity_bytes{account="test",allocator_id="alloc-2",zone="zone-1"} 6.8719476736e+10
ece_platform_allocator_memory_capacity_bytes{account="test",allocator_id="alloc-3",zone="zone-2"} 1.37438953472e+11
# HELP ece_platform_allocator_memory_used_bytes Memory of the allocator used by its instances. Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_memory_used_bytes gauge
ece_platform_allocator_memory_used_bytes{account="test",allocator_id="alloc-1",zone="zone-1"} 6.442450944e+10
ece_platform_allocator_memory_used_bytes{account="test",allocator_id="alloc-2",zone="zone-1"} 0
ece_platform_allocator_memory_used_bytes{account="test",allocator_id="alloc-3",zone="zone-2"} 4.294967296e+09
# HELP ece_platform_allocator_storage_capacity_bytes Storage capacity of the allocator; absent when the API does not report it. Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_storage_capacity_bytes gauge
ece_platform_allocator_storage_capacity_bytes{account="test",allocator_id="alloc-1",zone="zone-1"} 5.36870912e+11
ece_platform_allocator_storage_capacity_bytes{account="test",allocator_id="alloc-3",zone="zone-2"} 5.36870912e+11
# HELP ece_platform_allocator_instances_unhealthy Number of instances on the allocator reported unhealthy. Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_instances_unhealthy gauge
ece_platform_allocator_instances_unhealthy{account="test",allocator_id="alloc-1",zone="zone-1"} 1
ece_platform_allocator_instances_unhealthy{account="test",allocator_id="alloc-2",zone="zone-1"} 0
ece_platform_allocator_instances_unhealthy{account="test",allocator_id="alloc-3",zone="zone-2"} 0
# HELP ece_platform_allocator_instances_moving Number of instances moving away from the allocator. The spec says the instances' moving flag is not populated when returned from the search endpoint, so 0 can mean unknown. Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_instances_moving gauge
ece_platform_allocator_instances_moving{account="test",allocator_id="alloc-1",zone="zone-1"} 1
ece_platform_allocator_instances_moving{account="test",allocator_id="alloc-2",zone="zone-1"} 0
ece_platform_allocator_instances_moving{account="test",allocator_id="alloc-3",zone="zone-2"} 0
# HELP ece_platform_allocator_info Allocator metadata, value 1. Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_info gauge
ece_platform_allocator_info{account="test",allocator_id="alloc-1",host_ip="10.0.0.1",public_hostname="alloc-1.ece.example",version="3.8.0",zone="zone-1"} 1
ece_platform_allocator_info{account="test",allocator_id="alloc-2",host_ip="10.0.0.2",public_hostname="alloc-2.ece.example",version="",zone="zone-1"} 1
ece_platform_allocator_info{account="test",allocator_id="alloc-3",host_ip="10.0.0.3",public_hostname="alloc-3.ece.example",version="3.8.0",zone="zone-2"} 1
# HELP ece_platform_allocator_zone_allocators_connected Number of connected allocators in the zone. Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_zone_allocators_connected gauge
ece_platform_allocator_zone_allocators_connected{account="test",zone="zone-1"} 1
ece_platform_allocator_zone_allocators_connected{account="test",zone="zone-2"} 1
# HELP ece_platform_allocator_zone_memory_capacity_bytes Memory capacity of the zone's allocators (all of them, in maintenance or not). Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_zone_memory_capacity_bytes gauge
ece_platform_allocator_zone_memory_capacity_bytes{account="test",zone="zone-1"} 1.37438953472e+11
ece_platform_allocator_zone_memory_capacity_bytes{account="test",zone="zone-2"} 1.37438953472e+11
# HELP ece_platform_allocator_zone_memory_used_bytes Memory used by instances on the zone's allocators. Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_zone_memory_used_bytes gauge
ece_platform_allocator_zone_memory_used_bytes{account="test",zone="zone-1"} 6.442450944e+10
ece_platform_allocator_zone_memory_used_bytes{account="test",zone="zone-2"} 4.294967296e+09
# HELP ece_platform_allocator_zone_instances Number of instances on the zone's allocators. Cached; refreshed by collector platform_allocators.
# TYPE ece_platform_allocator_zone_instances gauge
ece_platform_allocator_zone_instances{account="test",zone="zone-1"} 2
ece_platform_allocator_zone_instances{account="test",zone="zone-2"} 1
`, "ece_platform_allocator_connected", "ece_platform_allocator_maintenance_mode", "ece_platform_allocator_memory_capacity_bytes",
		"ece_platform_allocator_memory_used_bytes", "ece_platform_allocator_storage_capacity_bytes", "ece_platform_allocator_instances_unhealthy",
		"ece_platform_allocator_instances_moving", "ece_platform_allocator_info", "ece_platform_allocator_zone_allocators_connected",
		"ece_platform_allocator_zone_memory_capacity_bytes", "ece_platform_allocator_zone_memory_used_bytes", "ece_platform_allocator_zone_instances")
}

// TestPlatformAllocatorsPaging: every page is fetched, once; the calls are
// floor(allocators/100)+1.
func TestPlatformAllocatorsPaging(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 3, DeploymentsPerOrg: 2000, RemoteClustersPerES: -1})
	snap, err := pollOnce(t, env, newPlatformAllocatorsSource)
	require.NoError(t, err)
	assert.Equal(t, 3, sim.Requests("get-allocators"), "200 allocators: two full pages, then an empty one")
	fams := familyNames(t, snap)
	assert.Equal(t, 200, fams["ece_platform_allocator_connected"])
	assert.Equal(t, 3, fams["ece_platform_allocator_zone_allocators"])
	assert.Equal(t, float64(200-6+1), valueOf(t, snap, "ece_platform_allocator_zone_allocators", "zone", "sim-zone-3"), "zone 3 holds the extra allocators, summed across pages")

	// A smaller page size pages more: 200/64 → 4 pages.
	sim.ResetCounts()
	src, _ := newPlatformAllocatorsSource(env)
	src.(*platformAllocatorsSource).pageSize = 64
	snap, err = src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 4, sim.Requests("get-allocators"))
	assert.Equal(t, 200, familyNames(t, snap)["ece_platform_allocator_connected"])
}

// TestPlatformAllocatorsPagingStopsWhenFromIsIgnored: an API that answers
// the same full page whatever from says must not be paged forever.
func TestPlatformAllocatorsPagingStopsWhenFromIsIgnored(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(filepath.Join("testdata", "get-allocators", "mixed.json"))
	require.NoError(t, err)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	env := platformFixtures(t, nil)
	env.Client, err = eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("k"), eceapi.WithMaxRetries(0))
	require.NoError(t, err)
	src, _ := newPlatformAllocatorsSource(env)
	src.(*platformAllocatorsSource).pageSize = 3 // the fixture's three allocators fill a page
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int32(2), hits.Load(), "the second page brought nothing new")
	assert.Equal(t, 3, familyNames(t, snap)["ece_platform_allocator_connected"])
}

// valueOf returns the value of the one series of name with label=value.
func valueOf(t *testing.T, s *Snapshot, name, label, value string) float64 {
	t.Helper()
	for _, m := range samples(s) {
		if m.name != name {
			continue
		}
		pb := metricPB(t, m)
		for _, lp := range pb.GetLabel() {
			if lp.GetName() == label && lp.GetValue() == value {
				return pb.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no series %s{%s=%q}", name, label, value)
	return 0
}

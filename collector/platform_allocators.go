package collector

import (
	"context"
	"time"

	"github.com/go-kit/log/level"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// The platform_allocators collector reports each ECE allocator's state and
// capacity, and the per-zone sums that capacity alerts use without joins.
// GET /platform/infrastructure/allocators is paged: one call per 100
// allocators, plus one when the count is a multiple of 100.

const platformAllocatorsName = "platform_allocators"

// maxAllocatorPages bounds the paging (100,000 allocators) in case an API
// ignores from.
const maxAllocatorPages = 1000

func init() {
	registerCollector(Registration{
		Name:           platformAllocatorsName,
		DefaultEnabled: true,
		MinInterval:    15 * time.Second,
		Defaults:       IntervalOptions{Interval: config.NewDuration(time.Minute)},
		Supports:       eceOnly,
		New:            newPlatformAllocatorsSource,
	})
}

type platformAllocatorsSource struct {
	env      Env
	pageSize int

	connected, healthy, maintenance *seriesDesc
	memTotal, memUsed, storageTotal *seriesDesc
	instances, unhealthy, moving    *seriesDesc
	info                            *seriesDesc

	zoneAllocators, zoneConnected *seriesDesc
	zoneMemTotal, zoneMemUsed     *seriesDesc
	zoneInstances                 *seriesDesc
}

func newPlatformAllocatorsSource(env Env) (Source, error) {
	f := env.descSet(platformAllocatorsName)
	a := func(name, help string) *seriesDesc {
		return f.desc("platform_allocator_"+name, help, "allocator_id", "zone")
	}
	z := func(name, help string) *seriesDesc { return f.desc("platform_allocator_zone_"+name, help, "zone") }
	return &platformAllocatorsSource{
		env: env, pageSize: eceapi.AllocatorsPageSize,
		connected:    a("connected", "Whether the allocator is connected (1) or not (0)."),
		healthy:      a("healthy", "Whether the allocator is healthy (1) or not (0): connected, or without instances."),
		maintenance:  a("maintenance_mode", "Whether the allocator is in maintenance mode (1): no new workload is placed on it."),
		memTotal:     a("memory_capacity_bytes", "Memory capacity of the allocator."),
		memUsed:      a("memory_used_bytes", "Memory of the allocator used by its instances."),
		storageTotal: a("storage_capacity_bytes", "Storage capacity of the allocator; absent when the API does not report it."),
		instances:    a("instances", "Number of instances on the allocator."),
		unhealthy:    a("instances_unhealthy", "Number of instances on the allocator reported unhealthy."),
		moving:       a("instances_moving", "Number of instances moving away from the allocator. The spec says the instances' moving flag is not populated when returned from the search endpoint, so 0 can mean unknown."),
		info: f.desc("platform_allocator_info", "Allocator metadata, value 1.",
			"allocator_id", "zone", "version", "host_ip", "public_hostname"),
		zoneAllocators: z("allocators", "Number of allocators in the zone."),
		zoneConnected:  z("allocators_connected", "Number of connected allocators in the zone."),
		zoneMemTotal:   z("memory_capacity_bytes", "Memory capacity of the zone's allocators (all of them, in maintenance or not)."),
		zoneMemUsed:    z("memory_used_bytes", "Memory used by instances on the zone's allocators."),
		zoneInstances:  z("instances", "Number of instances on the zone's allocators."),
	}, nil
}

type zoneSums struct{ allocators, connected, memTotal, memUsed, instances float64 }

func (c *platformAllocatorsSource) Poll(ctx context.Context) (*Snapshot, error) {
	s := NewSnapshot(c.env.Account.Name)
	if c.env.Sharder != nil && !c.env.Sharder.OwnsOrganization() {
		return s, nil // another shard reports the platform
	}
	seen := map[string]bool{}
	zones := map[string]*zoneSums{}
	var order []string
	pages := 0
	for from := 0; ; from += c.pageSize {
		if pages == maxAllocatorPages {
			level.Warn(c.env.Logger).Log("msg", "allocator paging stopped at the page limit", "pages", pages, "allocators", len(seen))
			break
		}
		pages++
		ov, _, err := c.env.Client.Platform.Allocators(ctx, &eceapi.AllocatorsOptions{From: from, Size: c.pageSize})
		if err != nil {
			return nil, platformErr(err)
		}
		listed, fresh := 0, 0
		for _, zone := range ov.Zones {
			for _, a := range zone.Allocators {
				listed++
				if a.AllocatorID == "" || seen[a.AllocatorID] {
					continue
				}
				seen[a.AllocatorID] = true
				fresh++
				zid := a.ZoneID
				if zid == "" {
					zid = zone.ZoneID
				}
				zs := zones[zid]
				if zs == nil {
					zs = &zoneSums{}
					zones[zid] = zs
					order = append(order, zid)
				}
				c.allocator(s, a, zid, zs)
			}
		}
		if listed < c.pageSize || fresh == 0 {
			break
		}
	}
	for _, zid := range order {
		zs := zones[zid]
		s.gauge(c.zoneAllocators, zs.allocators, zid)
		s.gauge(c.zoneConnected, zs.connected, zid)
		s.gauge(c.zoneMemTotal, zs.memTotal, zid)
		s.gauge(c.zoneMemUsed, zs.memUsed, zid)
		s.gauge(c.zoneInstances, zs.instances, zid)
	}
	return s, nil
}

func (c *platformAllocatorsSource) allocator(s *Snapshot, a eceapi.AllocatorInfo, zone string, zs *zoneSums) {
	id := a.AllocatorID
	s.gauge(c.connected, boolFloat(a.Status.Connected), id, zone)
	s.gauge(c.healthy, boolFloat(a.Status.Healthy), id, zone)
	s.gauge(c.maintenance, boolFloat(a.Status.MaintenanceMode), id, zone)
	total, used := a.Capacity.Memory.Total*mib, a.Capacity.Memory.Used*mib
	s.gauge(c.memTotal, total, id, zone)
	s.gauge(c.memUsed, used, id, zone)
	if a.Capacity.Storage != nil {
		s.gauge(c.storageTotal, a.Capacity.Storage.Total*mib, id, zone)
	}
	unhealthy, moving := 0, 0
	for _, in := range a.Instances {
		if in.Healthy != nil && !*in.Healthy {
			unhealthy++
		}
		if in.Moving != nil && *in.Moving {
			moving++
		}
	}
	s.gauge(c.instances, float64(len(a.Instances)), id, zone)
	s.gauge(c.unhealthy, float64(unhealthy), id, zone)
	s.gauge(c.moving, float64(moving), id, zone)
	version := ""
	if a.BuildInfo != nil {
		version = a.BuildInfo.Version
	}
	s.gauge(c.info, 1, id, zone, version, a.HostIP, a.PublicHostname)

	zs.allocators++
	zs.connected += boolFloat(a.Status.Connected)
	zs.memTotal += total
	zs.memUsed += used
	zs.instances += float64(len(a.Instances))
}

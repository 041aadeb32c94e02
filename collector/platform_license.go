package collector

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// The platform_license collector reports the ECE license: when it expires
// (after which deployments can no longer be created or changed), its
// capacity and the usage the API counts against it. GET /platform/license,
// one call.

const platformLicenseName = "platform_license"

// resourceUnitBytes is one license resource unit: 64 GiB of memory.
const resourceUnitBytes = 64 << 30

func init() {
	registerCollector(Registration{
		Name:           platformLicenseName,
		DefaultEnabled: true,
		MinInterval:    5 * time.Minute,
		Defaults:       IntervalOptions{Interval: config.NewDuration(time.Hour)},
		Supports:       eceOnly,
		New:            newPlatformLicenseSource,
	})
}

type platformLicenseSource struct {
	env                           Env
	expires, info                 *seriesDesc
	capacityMemory, maxInstances  *seriesDesc
	usageMemory, maxResourceUnits *seriesDesc
}

func newPlatformLicenseSource(env Env) (Source, error) {
	f := env.descSet(platformLicenseName)
	return &platformLicenseSource{
		env:              env,
		expires:          f.desc("platform_license_expiration_timestamp_seconds", "When the ECE license expires."),
		info:             f.desc("platform_license_info", "License metadata, value 1.", "license_type", "version", "issued_to"),
		capacityMemory:   f.desc("platform_license_capacity_memory_bytes", "Memory the license allows: resource units times 64 GiB (64 GiB per unit: our inference, the spec does not say; version 4 and later), or allocators times memory per allocator (version 2); absent for licenses that count instances."),
		maxResourceUnits: f.desc("platform_license_max_resource_units", "Resource units the license allows (64 GiB of memory each: our inference, the spec does not say); absent before version 4."),
		maxInstances:     f.desc("platform_license_max_instances", "Instances the license allows (version 3 licenses only)."),
		usageMemory:      f.desc("platform_license_usage_memory_bytes", "Memory of the connected allocators, as the license counts it: usage_stats.total_connected_memory_total, whose unit the spec does not give; MiB assumed (our inference, as the allocators' capacities)."),
	}, nil
}

func (c *platformLicenseSource) Poll(ctx context.Context) (*Snapshot, error) {
	s := NewSnapshot(c.env.Account.Name)
	if c.env.Sharder != nil && !c.env.Sharder.OwnsOrganization() {
		return s, nil
	}
	lo, _, err := c.env.Client.Platform.License(ctx)
	var apiErr *eceapi.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && apiErr.HasCode("license.license_not_found") {
		// No license installed (the spec's 404 license.license_not_found):
		// a state, not a failure; nothing to export, every poll.
		return s, nil
	}
	if err != nil {
		return nil, platformErr(err)
	}
	l := lo.License
	if l.ExpiryDateMillis > 0 {
		s.gauge(c.expires, l.ExpiryDateMillis/1000)
	}
	s.gauge(c.info, 1, l.Type, strconv.FormatFloat(l.Version, 'f', -1, 64), l.IssuedTo)
	switch {
	case l.MaxResourceUnits > 0:
		s.gauge(c.maxResourceUnits, l.MaxResourceUnits)
		s.gauge(c.capacityMemory, l.MaxResourceUnits*resourceUnitBytes)
	case l.MaxAllocators > 0 && l.MaxRAMPerAllocator > 0:
		s.gauge(c.capacityMemory, l.MaxAllocators*l.MaxRAMPerAllocator*mib)
	}
	if l.MaxInstances > 0 {
		s.gauge(c.maxInstances, l.MaxInstances)
	}
	if lo.UsageStats != nil {
		s.gauge(c.usageMemory, lo.UsageStats.TotalConnectedMemory*mib)
	}
	return s, nil
}

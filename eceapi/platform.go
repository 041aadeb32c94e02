package eceapi

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// PlatformService covers the ECE platform operations: allocators, proxies,
// runners, the license and the platform's TLS certificates. They exist on
// ECE only (Elastic Cloud answers 404) and need a platform administrator
// (other users get 403).
type PlatformService service

// TLSServiceNames are the values of the spec's service_name enum of
// GET /platform/configuration/security/tls/{service_name}.
var TLSServiceNames = []string{"adminconsole", "proxy", "ui", "internalca"}

// AllocatorsPageSize is the spec's default page size of the allocator search.
const AllocatorsPageSize = 100

// AllocatorsOptions pages the allocator search. The zero value asks for the
// API's defaults (from 0, size 100).
type AllocatorsOptions struct {
	From int
	Size int
}

// Allocators returns one page of the allocators, grouped by zone. A page
// holds at most opts.Size allocators; a zone may be split across pages.
//
// GET /platform/infrastructure/allocators (get-allocators)
func (s *PlatformService) Allocators(ctx context.Context, opts *AllocatorsOptions) (*AllocatorOverview, *Response, error) {
	q := url.Values{}
	if opts != nil {
		if opts.From < 0 || opts.Size < 0 {
			return nil, nil, fmt.Errorf("list allocators: from %d, size %d: must not be negative", opts.From, opts.Size)
		}
		if opts.From > 0 {
			q.Set("from", strconv.Itoa(opts.From))
		}
		if opts.Size > 0 {
			q.Set("size", strconv.Itoa(opts.Size))
		}
	}
	var v AllocatorOverview
	resp, err := s.client.get(ctx, "get-allocators", "platform/infrastructure/allocators", q, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("list allocators: %w", err)
	}
	return &v, resp, nil
}

// ProxiesHealth returns the health of the proxies as a whole.
//
// GET /platform/infrastructure/proxies/health (get-proxies-health)
func (s *PlatformService) ProxiesHealth(ctx context.Context) (*ProxiesHealth, *Response, error) {
	var v ProxiesHealth
	resp, err := s.client.get(ctx, "get-proxies-health", "platform/infrastructure/proxies/health", nil, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get proxies health: %w", err)
	}
	return &v, resp, nil
}

// Runners returns every runner (host) of the platform.
//
// GET /platform/infrastructure/runners (get-runners)
func (s *PlatformService) Runners(ctx context.Context) (*RunnerOverview, *Response, error) {
	var v RunnerOverview
	resp, err := s.client.get(ctx, "get-runners", "platform/infrastructure/runners", nil, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("list runners: %w", err)
	}
	return &v, resp, nil
}

// License returns the platform license and its usage. Without a license
// the API answers 404 license.license_not_found.
//
// GET /platform/license (get-license)
func (s *PlatformService) License(ctx context.Context) (*LicenseObject, *Response, error) {
	var v LicenseObject
	resp, err := s.client.get(ctx, "get-license", "platform/license", nil, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get license: %w", err)
	}
	return &v, resp, nil
}

// TLSCertificate returns the public certificate chain of one platform
// service (one of TLSServiceNames), as PEM text; the private key is never
// part of the answer.
//
// GET /platform/configuration/security/tls/{service_name} (get-tls-certificate)
func (s *PlatformService) TLSCertificate(ctx context.Context, serviceName string) (*TLSPublicCertChain, *Response, error) {
	known := false
	for _, n := range TLSServiceNames {
		known = known || n == serviceName
	}
	if !known {
		return nil, nil, fmt.Errorf("get TLS certificate: service %q: %w", serviceName, ErrInvalidPathSegment)
	}
	var v TLSPublicCertChain
	resp, err := s.client.get(ctx, "get-tls-certificate", "platform/configuration/security/tls/"+serviceName, nil, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get TLS certificate of %s: %w", serviceName, err)
	}
	return &v, resp, nil
}

// AllocatorOverview is the answer of GET /platform/infrastructure/allocators.
type AllocatorOverview struct {
	Zones []AllocatorZoneInfo `json:"zones"`
}

// AllocatorZoneInfo is the allocators of one zone.
type AllocatorZoneInfo struct {
	ZoneID     string          `json:"zone_id"`
	Allocators []AllocatorInfo `json:"allocators"`
}

// AllocatorInfo is one allocator.
type AllocatorInfo struct {
	AllocatorID    string                    `json:"allocator_id"`
	ZoneID         string                    `json:"zone_id"`
	HostIP         string                    `json:"host_ip"`
	PublicHostname string                    `json:"public_hostname"`
	Status         AllocatorHealthStatus     `json:"status"`
	Capacity       AllocatorCapacity         `json:"capacity"`
	Instances      []AllocatedInstanceStatus `json:"instances"`
	BuildInfo      *AllocatorBuildInfo       `json:"build_info,omitempty"`
}

// AllocatorHealthStatus is the state of an allocator.
type AllocatorHealthStatus struct {
	Connected       bool `json:"connected"`
	Healthy         bool `json:"healthy"`
	MaintenanceMode bool `json:"maintenance_mode"`
}

// AllocatorCapacity is the memory (MiB) and storage (MiB) of an allocator.
type AllocatorCapacity struct {
	Memory AllocatorCapacityMemory `json:"memory"`
	// Storage is nil when the API leaves it out.
	Storage *AllocatorCapacityStorage `json:"storage,omitempty"`
}

// AllocatorCapacityMemory is the installed and the used memory, in MiB.
type AllocatorCapacityMemory struct {
	Total float64 `json:"total"`
	Used  float64 `json:"used"`
}

// AllocatorCapacityStorage is the installed storage, in MiB.
type AllocatorCapacityStorage struct {
	Total float64 `json:"total"`
}

// AllocatedInstanceStatus is one instance placed on an allocator.
type AllocatedInstanceStatus struct {
	ClusterType  string  `json:"cluster_type"`
	ClusterID    string  `json:"cluster_id"`
	InstanceName string  `json:"instance_name"`
	NodeMemory   float64 `json:"node_memory"`
	// Healthy and Moving are nil when the API leaves them out.
	Healthy *bool `json:"healthy,omitempty"`
	Moving  *bool `json:"moving,omitempty"`
}

// AllocatorBuildInfo is the build of the allocator's software.
type AllocatorBuildInfo struct {
	Version    string `json:"version"`
	CommitHash string `json:"commit_hash"`
}

// ProxiesHealth is the answer of GET /platform/infrastructure/proxies/health.
type ProxiesHealth struct {
	// Status is "Green", "Yellow" or "Red" as the spec spells them.
	Status               string  `json:"status"`
	ObservedProxiesCount float64 `json:"observed_proxies_count"`
	ExpectedProxiesCount float64 `json:"expected_proxies_count"`
}

// RunnerOverview is the answer of GET /platform/infrastructure/runners.
type RunnerOverview struct {
	Runners []RunnerInfo `json:"runners"`
}

// RunnerInfo is one runner (host) of the platform.
type RunnerInfo struct {
	RunnerID       string           `json:"runner_id"`
	Zone           string           `json:"zone,omitempty"`
	HostIP         string           `json:"host_ip"`
	PublicHostname string           `json:"public_hostname"`
	Connected      bool             `json:"connected"`
	Healthy        bool             `json:"healthy"`
	Roles          []RunnerRoleInfo `json:"roles"`
	BuildInfo      *RunnerBuildInfo `json:"build_info,omitempty"`
}

// RunnerRoleInfo is one role of a runner (allocator, proxy, director...).
type RunnerRoleInfo struct {
	RoleName string `json:"role_name"`
}

// RunnerBuildInfo is the build of the runner's software.
type RunnerBuildInfo struct {
	Version    string `json:"version"`
	CommitHash string `json:"commit_hash"`
}

// LicenseObject is the answer of GET /platform/license. The license's
// signature is deliberately not decoded.
type LicenseObject struct {
	License LicenseInfo `json:"license"`
	// UsageStats is nil when the API leaves it out.
	UsageStats *UsageStats `json:"usage_stats,omitempty"`
}

// LicenseInfo is the license itself. Dates are Unix milliseconds; the
// maxima are zero when the license version does not use them.
type LicenseInfo struct {
	UID                string  `json:"uid"`
	Version            float64 `json:"version"`
	Type               string  `json:"type"`
	IssuedTo           string  `json:"issued_to"`
	Issuer             string  `json:"issuer"`
	StartDateMillis    float64 `json:"start_date_in_millis"`
	ExpiryDateMillis   float64 `json:"expiry_date_in_millis"`
	MaxResourceUnits   float64 `json:"max_resource_units,omitempty"`
	MaxInstances       float64 `json:"max_instances,omitempty"`
	MaxAllocators      float64 `json:"max_allocators,omitempty"`
	MaxRAMPerAllocator float64 `json:"max_ram_per_allocator_mb,omitempty"`
}

// UsageStats is the platform's current usage as the license counts it.
type UsageStats struct {
	// TotalConnectedMemory is the memory of the connected allocators, in
	// MiB (an int32 in the spec, so not bytes).
	TotalConnectedMemory float64 `json:"total_connected_memory_total"`
}

// TLSPublicCertChain is the answer of GET
// /platform/configuration/security/tls/{service_name}.
type TLSPublicCertChain struct {
	UserSupplied bool `json:"user_supplied"`
	// Chain holds the PEM encoded certificates of the chain, server
	// certificate first.
	Chain []string `json:"chain"`
	// ChainStatus is nil when the API leaves it out.
	ChainStatus *ChainStatus `json:"chain_status,omitempty"`
}

// ChainStatus is what the API computed of the chain's validity.
type ChainStatus struct {
	// ExpirationDate is kept as sent (ISO 8601 in UTC per the spec) so
	// that an unusual format cannot fail the whole answer; see Expiration.
	ExpirationDate           string `json:"expiration_date"`
	FirstCertificateToExpire string `json:"first_certificate_to_expire"`
}

// Expiration parses ExpirationDate; ok is false when it is absent or not
// an RFC 3339 date.
func (c *ChainStatus) Expiration() (t time.Time, ok bool) {
	if c == nil || c.ExpirationDate == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, c.ExpirationDate)
	return t.UTC(), err == nil
}

package ecesim

import (
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// The ECE platform: allocators, proxies, runners, the license and the
// platform's TLS certificates, served in ECE mode only (ESS answers 404 as
// the real API does) and only to a platform administrator (otherwise 403
// root.unauthorized.rbac).
//
// The data is a fixed, realistic mix, the same for every seed:
//
//   - sim-zone-1 is full: its two allocators use 97 % and 95 % of their
//     memory (96 % of the zone).
//   - sim-zone-2 has a healthy allocator, a disconnected one (not healthy,
//     its instances unhealthy) and one in maintenance mode whose instance
//     is moving away.
//   - sim-zone-3 has one lightly used allocator, plus one more per 10
//     deployments beyond 60, so that large worlds page the allocator
//     search (100 per page by default).
//   - The proxies are Yellow: 2 observed of 3 expected.
//   - Each allocator has a runner (role allocator; the disconnected
//     allocator's runner is disconnected), and three control-plane
//     runners carry the director, coordinator and proxy roles.
//   - The license (version 4, enterprise) expires 20 days after the
//     simulator's start and allows 4 resource units (256 GiB) while the
//     connected allocators have 384 GiB: over capacity.
//   - Real X.509 chains (Ed25519, fixed keys and serials, so the answers
//     are byte-identical for the same clock), valid from 30 days before the
//     start: adminconsole (user supplied) expires in 12 days, proxy (user
//     supplied) in 200 days, ui in 400 days, internalca in 10 years.

// Platform operation names (spec operationIds).
const (
	opAllocators     = "get-allocators"
	opProxiesHealth  = "get-proxies-health"
	opRunners        = "get-runners"
	opLicense        = "get-license"
	opTLSCertificate = "get-tls-certificate"
)

func init() {
	routes = append(routes,
		rt("GET", "platform/infrastructure/allocators", opAllocators, ModeECE, (*Server).allocators),
		rt("GET", "platform/infrastructure/proxies/health", opProxiesHealth, ModeECE, (*Server).proxiesHealth),
		rt("GET", "platform/infrastructure/runners", opRunners, ModeECE, (*Server).runners),
		rt("GET", "platform/license", opLicense, ModeECE, (*Server).license),
		rt("GET", "platform/configuration/security/tls/{service_name}", opTLSCertificate, ModeECE, (*Server).tlsCertificate),
	)
}

type simAllocator struct {
	id, zone, hostIP                string
	totalMiB, usedMiB               int
	connected, healthy, maintenance bool
	instances                       []simInstance
}

type simInstance struct {
	name, clusterID string
	memMiB          int
	healthy, moving bool
}

type simChain struct {
	userSupplied bool
	pems         []string
	expires      time.Time
	firstSubject string
}

// platform is the generated ECE platform of a Server.
type platform struct {
	allocators []simAllocator // sorted by id
	runners    []jsRunner
	licenseExp time.Time
	start      time.Time
	chains     map[string]simChain
}

func newPlatform(o Options, now time.Time) *platform {
	now = now.UTC().Truncate(time.Second)
	inst := func(n, mem int, healthy, moving bool) simInstance {
		return simInstance{name: fmt.Sprintf("instance-%010d", n), clusterID: fmt.Sprintf("%032x", 0x5e000+n), memMiB: mem, healthy: healthy, moving: moving}
	}
	p := &platform{start: now, licenseExp: now.Add(20 * 24 * time.Hour), chains: map[string]simChain{}}
	p.allocators = []simAllocator{
		{id: "sim-allocator-1a", zone: "sim-zone-1", totalMiB: 65536, usedMiB: 63488, connected: true, healthy: true,
			instances: []simInstance{inst(0, 32768, true, false), inst(1, 30720, true, false)}},
		{id: "sim-allocator-1b", zone: "sim-zone-1", totalMiB: 65536, usedMiB: 62464, connected: true, healthy: true,
			instances: []simInstance{inst(2, 61440, true, false)}},
		{id: "sim-allocator-2a", zone: "sim-zone-2", totalMiB: 65536, usedMiB: 32768, connected: true, healthy: true,
			instances: []simInstance{inst(3, 16384, true, false), inst(4, 16384, true, false)}},
		{id: "sim-allocator-2b", zone: "sim-zone-2", totalMiB: 65536, usedMiB: 16384, connected: false, healthy: false,
			instances: []simInstance{inst(5, 8192, false, false), inst(6, 8192, false, false)}},
		{id: "sim-allocator-2c", zone: "sim-zone-2", totalMiB: 65536, usedMiB: 8192, connected: true, healthy: true, maintenance: true,
			instances: []simInstance{inst(7, 8192, true, true)}},
		{id: "sim-allocator-3a", zone: "sim-zone-3", totalMiB: 131072, usedMiB: 16384, connected: true, healthy: true,
			instances: []simInstance{inst(8, 16384, true, false)}},
	}
	for i := 0; i < (o.DeploymentsPerOrg-60)/10; i++ {
		p.allocators = append(p.allocators, simAllocator{id: fmt.Sprintf("sim-allocator-3x%04d", i), zone: "sim-zone-3",
			totalMiB: 65536, connected: true, healthy: true})
	}
	for i := range p.allocators {
		p.allocators[i].hostIP = fmt.Sprintf("10.16.%d.%d", (i+10)/256%256, (i+10)%256)
	}
	sort.Slice(p.allocators, func(i, j int) bool { return p.allocators[i].id < p.allocators[j].id })

	for _, a := range p.allocators {
		p.runners = append(p.runners, jsRunner{RunnerID: a.hostIP, RunnerName: "sim-host-" + a.id[len("sim-allocator-"):], Zone: a.zone,
			HostIP: a.hostIP, PublicHostname: a.id + ".sim.ece.local", Connected: a.connected, Healthy: a.healthy,
			Containers: []jsContainer{{Name: "frc-allocators-allocator", SetName: "allocators"}},
			Roles:      []jsRole{{"allocator"}}, BuildInfo: &jsBuildInfo{Version: "3.8.0", CommitHash: "5e1a7c0"}})
	}
	for i, z := range []string{"sim-zone-1", "sim-zone-2", "sim-zone-3"} {
		ip := fmt.Sprintf("10.0.0.%d", 10+i)
		p.runners = append(p.runners, jsRunner{RunnerID: ip, RunnerName: fmt.Sprintf("sim-control-%d", i+1), Zone: z,
			HostIP: ip, PublicHostname: fmt.Sprintf("sim-control-%d.sim.ece.local", i+1), Connected: true, Healthy: true,
			Containers: []jsContainer{{Name: "frc-directors-director", SetName: "directors"}, {Name: "frc-proxies-proxy", SetName: "proxies"}},
			Roles:      []jsRole{{"coordinator"}, {"director"}, {"proxy"}}, BuildInfo: &jsBuildInfo{Version: "3.8.0", CommitHash: "5e1a7c0"}})
	}
	sort.Slice(p.runners, func(i, j int) bool { return p.runners[i].RunnerID < p.runners[j].RunnerID })

	notBefore := now.Add(-30 * 24 * time.Hour)
	ca, caKey := simCert(1, 1000, "sim-ece-root-ca", notBefore, now.Add(10*365*24*time.Hour), nil, nil)
	p.chains["internalca"] = chainOf(false, ca)
	for i, svc := range []struct {
		name         string
		valid        time.Duration
		userSupplied bool
	}{
		{"adminconsole", 12 * 24 * time.Hour, true},
		{"proxy", 200 * 24 * time.Hour, true},
		{"ui", 400 * 24 * time.Hour, false},
	} {
		leaf, _ := simCert(byte(10+i), int64(1001+i), "sim-"+svc.name+".ece.local", notBefore, now.Add(svc.valid), ca, caKey)
		p.chains[svc.name] = chainOf(svc.userSupplied, leaf, ca)
	}
	return p
}

// simCert makes a certificate signed by parent (self-signed when parent is
// nil) with a key derived from seed.
func simCert(seed byte, serial int64, cn string, notBefore, notAfter time.Time, parent *x509.Certificate, parentKey ed25519.PrivateKey) (*x509.Certificate, ed25519.PrivateKey) {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	key := ed25519.NewKeyFromSeed(s)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"sim"}},
		NotBefore: notBefore, NotAfter: notAfter, BasicConstraintsValid: true,
	}
	if parent == nil {
		tmpl.IsCA, tmpl.KeyUsage = true, x509.KeyUsageCertSign|x509.KeyUsageCRLSign
		parent, parentKey = tmpl, key
	} else {
		tmpl.DNSNames = []string{cn}
		tmpl.KeyUsage, tmpl.ExtKeyUsage = x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(nil, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		panic("ecesim: certificate: " + err.Error())
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic("ecesim: certificate: " + err.Error())
	}
	return cert, key
}

func chainOf(userSupplied bool, certs ...*x509.Certificate) simChain {
	c := simChain{userSupplied: userSupplied}
	for _, cert := range certs {
		c.pems = append(c.pems, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
		if c.expires.IsZero() || cert.NotAfter.Before(c.expires) {
			c.expires, c.firstSubject = cert.NotAfter, cert.Subject.String()
		}
	}
	return c
}

// ---- JSON shapes (the spec's definitions of the same name) ----

type jsAllocatorOverview struct {
	Zones []jsAllocatorZone `json:"zones"`
}

type jsAllocatorZone struct {
	ZoneID     string        `json:"zone_id"`
	Allocators []jsAllocator `json:"allocators"`
}

type jsAllocator struct {
	AllocatorID    string               `json:"allocator_id"`
	ZoneID         string               `json:"zone_id"`
	HostIP         string               `json:"host_ip"`
	PublicHostname string               `json:"public_hostname"`
	Status         jsAllocStatus        `json:"status"`
	Capacity       jsCapacity           `json:"capacity"`
	Settings       struct{}             `json:"settings"`
	Instances      []jsPlatformInstance `json:"instances"`
	Metadata       []jsMetadata         `json:"metadata"`
	BuildInfo      jsBuildInfo          `json:"build_info"`
	Features       []string             `json:"features"`
	ExternalLinks  []jsExternLink       `json:"external_links"`
}

type jsAllocStatus struct {
	Connected       bool `json:"connected"`
	Healthy         bool `json:"healthy"`
	MaintenanceMode bool `json:"maintenance_mode"`
	HealthChecks    struct {
		DockerHealthy bool `json:"is_docker_healthy"`
		ZKConnected   bool `json:"is_connected_to_zk"`
		HasInstances  bool `json:"has_instances"`
	} `json:"health_checks"`
}

type jsCapacity struct {
	Memory struct {
		Total int `json:"total"`
		Used  int `json:"used"`
	} `json:"memory"`
	Storage struct {
		Total int64 `json:"total"`
	} `json:"storage"`
	AvailableCPUs int `json:"available_cpus"`
}

type jsPlatformInstance struct {
	ClusterType    string `json:"cluster_type"`
	ClusterID      string `json:"cluster_id"`
	InstanceName   string `json:"instance_name"`
	NodeMemory     int    `json:"node_memory"`
	Healthy        bool   `json:"healthy"`
	ClusterHealthy bool   `json:"cluster_healthy"`
	Moving         bool   `json:"moving"`
}

type jsMetadata struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type jsExternLink struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	URI   string `json:"uri"`
}

type jsBuildInfo struct {
	Version    string `json:"version"`
	CommitHash string `json:"commit_hash"`
}

type jsRunner struct {
	RunnerID       string        `json:"runner_id"`
	RunnerName     string        `json:"runner_name"`
	Zone           string        `json:"zone"`
	HostIP         string        `json:"host_ip"`
	PublicHostname string        `json:"public_hostname"`
	Connected      bool          `json:"connected"`
	Healthy        bool          `json:"healthy"`
	Containers     []jsContainer `json:"containers"`
	Roles          []jsRole      `json:"roles"`
	BuildInfo      *jsBuildInfo  `json:"build_info,omitempty"`
}

type jsContainer struct {
	Name    string `json:"container_name"`
	SetName string `json:"container_set_name"`
}

type jsRole struct {
	RoleName string `json:"role_name"`
}

// ---- handlers ----

// platformAdmin answers 403 for a user without the platform admin role.
func (s *Server) platformAdmin() *reply {
	if s.opts.NotPlatformAdmin {
		r := errReply(http.StatusForbidden, "root.unauthorized.rbac", "User must have Platform level permissions")
		return &r
	}
	return nil
}

// intParam reads a non-negative integer query parameter.
func intParam(r *http.Request, name string, def int) (int, *reply) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		e := errReply(http.StatusBadRequest, "root.invalid_data", fmt.Sprintf("The parameter [%s] must be a non-negative integer: [%s]", name, v), name)
		return 0, &e
	}
	return n, nil
}

func (s *Server) allocators(r *http.Request, _ map[string]string) reply {
	if e := s.platformAdmin(); e != nil {
		return *e
	}
	from, e := intParam(r, "from", 0)
	if e != nil {
		return *e
	}
	size, e := intParam(r, "size", 100)
	if e != nil {
		return *e
	}
	all := s.platform.allocators
	lo, hi := min(from, len(all)), min(from+size, len(all))
	out := jsAllocatorOverview{Zones: []jsAllocatorZone{}}
	zoneIdx := map[string]int{}
	for _, a := range all[lo:hi] {
		i, ok := zoneIdx[a.zone]
		if !ok {
			i = len(out.Zones)
			zoneIdx[a.zone] = i
			out.Zones = append(out.Zones, jsAllocatorZone{ZoneID: a.zone, Allocators: []jsAllocator{}})
		}
		out.Zones[i].Allocators = append(out.Zones[i].Allocators, allocatorJSON(a))
	}
	return okReply(http.StatusOK, out)
}

func allocatorJSON(a simAllocator) jsAllocator {
	j := jsAllocator{AllocatorID: a.id, ZoneID: a.zone, HostIP: a.hostIP, PublicHostname: a.id + ".sim.ece.local",
		Instances: []jsPlatformInstance{}, Metadata: []jsMetadata{{Key: "rack", Value: "sim-rack-" + a.zone[len(a.zone)-1:]}},
		BuildInfo: jsBuildInfo{Version: "3.8.0", CommitHash: "5e1a7c0"}, Features: []string{}, ExternalLinks: []jsExternLink{}}
	j.Status.Connected, j.Status.Healthy, j.Status.MaintenanceMode = a.connected, a.healthy, a.maintenance
	j.Status.HealthChecks.DockerHealthy, j.Status.HealthChecks.ZKConnected = a.connected, a.connected
	j.Status.HealthChecks.HasInstances = len(a.instances) > 0
	j.Capacity.Memory.Total, j.Capacity.Memory.Used = a.totalMiB, a.usedMiB
	j.Capacity.Storage.Total = int64(a.totalMiB) * 8
	j.Capacity.AvailableCPUs = a.totalMiB / 4096
	for _, in := range a.instances {
		j.Instances = append(j.Instances, jsPlatformInstance{ClusterType: "elasticsearch", ClusterID: in.clusterID, InstanceName: in.name,
			NodeMemory: in.memMiB, Healthy: in.healthy, ClusterHealthy: in.healthy, Moving: in.moving})
	}
	return j
}

func (s *Server) proxiesHealth(_ *http.Request, _ map[string]string) reply {
	if e := s.platformAdmin(); e != nil {
		return *e
	}
	return okReply(http.StatusOK, map[string]any{
		"status": "Yellow", "observed_proxies_count": 2, "expected_proxies_count": 3,
		"allocations": []map[string]any{
			{"allocations_type": "elasticsearch", "max_allocations": 250, "proxies_at_max_allocations": 0},
			{"allocations_type": "kibana", "max_allocations": 250, "proxies_at_max_allocations": 0},
		},
		"filtered_groups": []map[string]any{{
			"group":  map[string]any{"id": "sim-zone-1-proxies", "filters": []map[string]string{{"key": "zone", "value": "sim-zone-1"}}, "expected_proxies_count": 1},
			"status": "Yellow", "observed_proxies_count": 0,
		}},
	})
}

func (s *Server) runners(_ *http.Request, _ map[string]string) reply {
	if e := s.platformAdmin(); e != nil {
		return *e
	}
	return okReply(http.StatusOK, map[string]any{"runners": s.platform.runners})
}

func (s *Server) license(_ *http.Request, _ map[string]string) reply {
	if e := s.platformAdmin(); e != nil {
		return *e
	}
	connected := 0
	for _, a := range s.platform.allocators {
		if a.connected {
			connected += a.totalMiB
		}
	}
	start := s.platform.licenseExp.Add(-365 * 24 * time.Hour)
	return okReply(http.StatusOK, map[string]any{
		"license": map[string]any{
			"uid": "sim-license-0001", "version": 4, "type": "enterprise", "subscription_type": "enterprise",
			"issuer": "sim-issuer", "issued_to": "sim-customer", "signature": "sim-signature-not-a-secret",
			"issue_date_in_millis": start.UnixMilli(), "start_date_in_millis": start.UnixMilli(),
			"expiry_date_in_millis": s.platform.licenseExp.UnixMilli(), "max_resource_units": 4,
		},
		"usage_stats": map[string]any{"total_connected_memory_total": connected},
	})
}

func (s *Server) tlsCertificate(_ *http.Request, p map[string]string) reply {
	if e := s.platformAdmin(); e != nil {
		return *e
	}
	c, ok := s.platform.chains[p["service_name"]]
	if !ok {
		return errReply(http.StatusBadRequest, "root.invalid_data",
			fmt.Sprintf("The service name [%s] is not one of adminconsole, proxy, ui, internalca", p["service_name"]), "service_name")
	}
	return okReply(http.StatusOK, map[string]any{
		"user_supplied": c.userSupplied, "api_managed": true, "chain": c.pems,
		"chain_status": map[string]any{
			"expiration_date":             c.expires.UTC().Format(time.RFC3339),
			"first_certificate_to_expire": c.firstSubject,
		},
	})
}

package ecesim

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var platformOps = []struct{ op, path string }{
	{opAllocators, "platform/infrastructure/allocators"},
	{opProxiesHealth, "platform/infrastructure/proxies/health"},
	{opRunners, "platform/infrastructure/runners"},
	{opLicense, "platform/license"},
	{opTLSCertificate, "platform/configuration/security/tls/adminconsole"},
}

func TestPlatformAnswersMatchTheSpec(t *testing.T) {
	t.Parallel()
	sp := loadSpec(t, ModeECE)
	_, base := start(t, Options{Mode: ModeECE, Seed: 1})
	for _, c := range platformOps {
		a := get(t, base+c.path)
		require.Equal(t, http.StatusOK, a.status, "%s: %s", c.op, a.raw)
		checkAnswer(t, sp, c.op, a)
	}
	for _, svc := range []string{"proxy", "ui", "internalca"} {
		checkAnswer(t, sp, opTLSCertificate, get(t, base+"platform/configuration/security/tls/"+svc))
	}
}

func TestPlatformIsECEOnlyAndForPlatformAdmins(t *testing.T) {
	t.Parallel()
	ess, essBase := start(t, Options{Mode: ModeESS, Seed: 1})
	_, notAdmin := start(t, Options{Mode: ModeECE, Seed: 1, NotPlatformAdmin: true})
	for _, c := range platformOps {
		a := get(t, essBase+c.path)
		assert.Equal(t, http.StatusNotFound, a.status, c.op)
		assert.Equal(t, "root.resource_not_found", a.errCode(t), c.op)
		assert.Equal(t, 1, ess.Requests(c.op), "counted under its operation")

		a = get(t, notAdmin+c.path)
		assert.Equal(t, http.StatusForbidden, a.status, c.op)
		assert.Equal(t, "root.unauthorized.rbac", a.errCode(t), c.op)
		assert.Equal(t, "root.unauthorized.rbac", a.header.Get("x-cloud-error-codes"))

		a = do(t, "GET", notAdmin+c.path, "ApiKey wrong", nil)
		assert.Equal(t, http.StatusUnauthorized, a.status, "authentication comes first: %s", c.op)
	}
}

func TestPlatformMix(t *testing.T) {
	t.Parallel()
	_, base := start(t, Options{Mode: ModeECE, Seed: 1})

	type alloc struct {
		zone                            string
		total, used                     float64
		connected, healthy, maintenance bool
		instances, unhealthy, moving    int
	}
	got := map[string]alloc{}
	zoneTotal, zoneUsed := map[string]float64{}, map[string]float64{}
	for _, z := range list(t, get(t, base+"platform/infrastructure/allocators").body, "zones") {
		for _, a := range list(t, z, "allocators") {
			id := path(t, a, "allocator_id").(string)
			al := alloc{zone: path(t, a, "zone_id").(string), total: num(t, a, "capacity", "memory", "total"), used: num(t, a, "capacity", "memory", "used"),
				connected: path(t, a, "status", "connected").(bool), healthy: path(t, a, "status", "healthy").(bool),
				maintenance: path(t, a, "status", "maintenance_mode").(bool)}
			used := 0.0
			for _, in := range list(t, a, "instances") {
				al.instances++
				used += num(t, in, "node_memory")
				if !path(t, in, "healthy").(bool) {
					al.unhealthy++
				}
				if path(t, in, "moving").(bool) {
					al.moving++
				}
			}
			assert.LessOrEqual(t, used, al.used, "%s: instances fit in the used memory", id)
			assert.LessOrEqual(t, al.used, al.total, id)
			got[id] = al
			zoneTotal[al.zone] += al.total
			zoneUsed[al.zone] += al.used
		}
	}
	require.Len(t, got, 6, "small worlds have the six allocators of the mix")
	assert.GreaterOrEqual(t, zoneUsed["sim-zone-1"]/zoneTotal["sim-zone-1"], 0.95, "a full zone")
	assert.Less(t, zoneUsed["sim-zone-3"]/zoneTotal["sim-zone-3"], 0.5)
	assert.Equal(t, alloc{zone: "sim-zone-2", total: 65536, used: 16384, instances: 2, unhealthy: 2}, got["sim-allocator-2b"], "disconnected")
	assert.Equal(t, alloc{zone: "sim-zone-2", total: 65536, used: 8192, connected: true, healthy: true, maintenance: true, instances: 1, moving: 1}, got["sim-allocator-2c"], "maintenance")

	px := get(t, base+"platform/infrastructure/proxies/health").body
	assert.Equal(t, "Yellow", path(t, px, "status"))
	assert.Less(t, num(t, px, "observed_proxies_count"), num(t, px, "expected_proxies_count"))

	runners := list(t, get(t, base+"platform/infrastructure/runners").body, "runners")
	assert.Len(t, runners, 9, "one per allocator and three for the control plane")
	disconnected, proxies := 0, 0
	for _, r := range runners {
		if !path(t, r, "connected").(bool) {
			disconnected++
		}
		for _, role := range list(t, r, "roles") {
			if path(t, role, "role_name") == "proxy" {
				proxies++
			}
		}
	}
	assert.Equal(t, 1, disconnected)
	assert.Equal(t, 3, proxies)

	lic := get(t, base+"platform/license").body
	exp := time.UnixMilli(int64(num(t, lic, "license", "expiry_date_in_millis"))).UTC()
	assert.Equal(t, simNow.Add(20*24*time.Hour), exp, "expires 20 days after the start")
	usedMiB := num(t, lic, "usage_stats", "total_connected_memory_total")
	assert.Greater(t, usedMiB, num(t, lic, "license", "max_resource_units")*64*1024, "over capacity")
	assert.Equal(t, zoneTotal["sim-zone-1"]+zoneTotal["sim-zone-2"]+zoneTotal["sim-zone-3"]-65536, usedMiB, "the connected allocators' memory")

	// Real certificates, expiring relative to the simulator's clock.
	for svc, want := range map[string]struct {
		days         int
		userSupplied bool
		certs        int
	}{"adminconsole": {12, true, 2}, "proxy": {200, true, 2}, "ui": {400, false, 2}, "internalca": {3650, false, 1}} {
		a := get(t, base+"platform/configuration/security/tls/"+svc)
		chain := list(t, a.body, "chain")
		require.Len(t, chain, want.certs, svc)
		var first time.Time
		for i, p := range chain {
			block, rest := pem.Decode([]byte(p.(string)))
			require.NotNil(t, block, svc)
			assert.Empty(t, rest)
			cert, err := x509.ParseCertificate(block.Bytes)
			require.NoError(t, err, svc)
			if i == 0 {
				first = cert.NotAfter
			}
			if i == len(chain)-1 {
				require.NoError(t, cert.CheckSignatureFrom(cert), "%s: the chain ends in a self-signed CA", svc)
			}
		}
		assert.Equal(t, simNow.Add(time.Duration(want.days)*24*time.Hour), first, svc)
		assert.Equal(t, want.userSupplied, path(t, a.body, "user_supplied"), svc)
		assert.Equal(t, first.Format(time.RFC3339), path(t, a.body, "chain_status", "expiration_date"), svc)
	}
	a := get(t, base+"platform/configuration/security/tls/nginx")
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, "root.invalid_data", a.errCode(t))
}

func TestPlatformAllocatorPaging(t *testing.T) {
	t.Parallel()
	sim, base := start(t, Options{Mode: ModeECE, Seed: 1, DeploymentsPerOrg: 2000, RemoteClustersPerES: -1})
	want := len(sim.platform.allocators)
	require.Equal(t, 6+194, want, "one more allocator per 10 deployments beyond 60")

	seen := map[string]bool{}
	pages := 0
	for from := 0; ; from += 100 {
		pages++
		a := get(t, base+"platform/infrastructure/allocators?size=100&from="+strconv.Itoa(from))
		require.Equal(t, http.StatusOK, a.status)
		n := 0
		for _, z := range list(t, a.body, "zones") {
			for _, al := range list(t, z, "allocators") {
				id := path(t, al, "allocator_id").(string)
				assert.False(t, seen[id], "%s on two pages", id)
				seen[id] = true
				n++
			}
		}
		if n < 100 {
			break
		}
	}
	assert.Len(t, seen, want)
	assert.Equal(t, 3, pages, "200 allocators: two full pages and an empty one")

	def := get(t, base+"platform/infrastructure/allocators")
	n := 0
	for _, z := range list(t, def.body, "zones") {
		n += len(list(t, z, "allocators"))
	}
	assert.Equal(t, 100, n, "size defaults to 100")

	for _, q := range []string{"size=-1", "from=x", "size=1.5"} {
		a := get(t, base+"platform/infrastructure/allocators?"+q)
		assert.Equal(t, http.StatusBadRequest, a.status, q)
		assert.Equal(t, "root.invalid_data", a.errCode(t), q)
	}
}

func TestPlatformIsDeterministic(t *testing.T) {
	t.Parallel()
	_, a := start(t, Options{Mode: ModeECE, Seed: 1})
	_, b := start(t, Options{Mode: ModeECE, Seed: 99})
	for _, c := range platformOps {
		assert.Equal(t, string(get(t, a+c.path).raw), string(get(t, b+c.path).raw), c.op)
	}
}

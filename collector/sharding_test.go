package collector

import (
	"context"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// dataSeries returns the ece_ series (not the exporter's own) of a registry
// as sorted "name{labels} value" strings.
func dataSeries(t *testing.T, reg prometheus.Gatherer) []string {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var out []string
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "ece_exporter_") || mf.GetName() == "ece_deployments" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var l []string
			for _, lp := range m.GetLabel() {
				l = append(l, lp.GetName()+"="+lp.GetValue())
			}
			out = append(out, mf.GetName()+"{"+strings.Join(l, ",")+"} "+formatValue(m.GetGauge().GetValue()))
		}
	}
	sort.Strings(out)
	return out
}

func formatValue(v float64) string {
	return strings.TrimRight(strings.TrimRight(strconvF(v), "0"), ".")
}

func TestThreeShardsEqualOneExporter(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 41, Organizations: 2, DeploymentsPerOrg: 15, Now: testNow}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := essConfig(srv.URL)

	start := func(sh Sharder) (*Manager, prometheus.Gatherer) {
		reg := prometheus.NewPedanticRegistry()
		m, err := NewManager(Options{Registerer: reg, Enabled: DefaultEnabled(), Now: testNow, Sharder: sh})
		require.NoError(t, err)
		require.NoError(t, m.Apply(cfg))
		waitReady(t, m)
		return m, m.Gatherer(reg)
	}
	stop := func(m *Manager) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m.Stop(ctx)
	}

	sim.ResetCounts()
	m, reg := start(NoSharding{})
	want := dataSeries(t, reg)
	unsharded := sim.RequestCounts()
	stop(m)
	require.NotEmpty(t, want)

	var union []string
	perShard := map[string]int{}
	for shard := 0; shard < 3; shard++ {
		h, err := NewHashSharder(shard, 3)
		require.NoError(t, err)
		sim.ResetCounts()
		m, reg := start(h)
		union = append(union, dataSeries(t, reg)...)
		for op, n := range sim.RequestCounts() {
			perShard[op] += n
		}
		stop(m)
	}
	sort.Strings(union)
	assert.Equal(t, want, union, "the union of the shards' series is the unsharded exporter's")

	// Per-deployment calls split across shards; organization-level ones
	// are made by shard 0 (billing per-deployment totals are asked by every
	// shard that has items to fetch, to map deployments to organizations).
	for _, op := range []string{"get-costs-items-by-deployment", "get-deployment-es-resource-remote-clusters", "get-costs-overview", "get-costs-charts", "get-api-keys"} {
		assert.Equal(t, unsharded[op], perShard[op], op)
	}
	assert.Equal(t, 3*unsharded["list-deployments"], perShard["list-deployments"], "every shard lists deployments")
}

func TestOrdinalFromHostname(t *testing.T) {
	t.Parallel()
	n, err := OrdinalFromHostname("ece-exporter-2")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	for _, bad := range []string{"ece-exporter", "host", ""} {
		_, err := OrdinalFromHostname(bad)
		assert.Error(t, err, bad)
	}
}

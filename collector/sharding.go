package collector

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// HashSharder splits deployments across replicas by a stable hash of their
// id (the kube-state-metrics model): replica Shard of TotalShards owns the
// deployments whose FNV-1a hash modulo TotalShards equals Shard, and shard 0
// also owns organization-level data (billing overview, cost charts, API keys).
type HashSharder struct {
	Shard, TotalShards uint32
}

// NewHashSharder validates the shard settings.
func NewHashSharder(shard, total int) (HashSharder, error) {
	if total < 1 {
		return HashSharder{}, fmt.Errorf("--total-shards=%d: must be at least 1", total)
	}
	if shard < 0 || shard >= total {
		return HashSharder{}, fmt.Errorf("--shard=%d: must be between 0 and --total-shards-1 (%d)", shard, total-1)
	}
	return HashSharder{Shard: uint32(shard), TotalShards: uint32(total)}, nil
}

// OrdinalFromHostname returns N from a StatefulSet pod name "name-N".
func OrdinalFromHostname(host string) (int, error) {
	i := strings.LastIndex(host, "-")
	n, err := strconv.Atoi(host[i+1:])
	if i < 0 || err != nil || n < 0 {
		return 0, fmt.Errorf("--shard.from-hostname: hostname %q does not end in -<ordinal>", host)
	}
	return n, nil
}

// OwnsDeployment implements Sharder.
func (h HashSharder) OwnsDeployment(id string) bool {
	if h.TotalShards <= 1 {
		return true
	}
	f := fnv.New32a()
	_, _ = f.Write([]byte(id))
	return f.Sum32()%h.TotalShards == h.Shard
}

// OwnsOrganization implements Sharder.
func (h HashSharder) OwnsOrganization() bool { return h.Shard == 0 }

// ShardMetrics exposes ece_exporter_shard_ordinal and ece_exporter_total_shards.
func ShardMetrics(h HashSharder) []prometheus.Collector {
	ord := prometheus.NewGauge(prometheus.GaugeOpts{Name: "ece_exporter_shard_ordinal", Help: "Shard of this replica (--shard)."})
	tot := prometheus.NewGauge(prometheus.GaugeOpts{Name: "ece_exporter_total_shards", Help: "Number of shards the deployments are split into (--total-shards)."})
	ord.Set(float64(h.Shard))
	tot.Set(float64(h.TotalShards))
	return []prometheus.Collector{ord, tot}
}

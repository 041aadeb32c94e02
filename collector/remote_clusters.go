package collector

import (
	"context"
	"time"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// The remote_clusters collector asks, for every Elasticsearch resource in the
// deployments snapshot, for its certificate-based remote clusters, and exposes
// their live state as 0/1 gauges.

const remoteClustersName = "remote_clusters"

// RemoteClustersOptions are the options of the remote_clusters collector
// (collectors.remote_clusters).
type RemoteClustersOptions struct {
	Interval config.Duration `yaml:"interval"`
	// Concurrency bounds the per-deployment requests in flight.
	Concurrency int `yaml:"concurrency"`
}

// PollInterval implements config.CollectorOptions.
func (o RemoteClustersOptions) PollInterval() config.Duration { return o.Interval }

// Validate implements config.CollectorOptions.
func (o RemoteClustersOptions) Validate() error { return config.CheckConcurrency(o.Concurrency) }

func init() {
	registerCollector(Registration{
		Name:           remoteClustersName,
		DefaultEnabled: true,
		NeedsDiscovery: true,
		MinInterval:    15 * time.Second,
		Defaults:       RemoteClustersOptions{Interval: config.NewDuration(time.Minute), Concurrency: 8},
		New:            newRemoteClustersSource,
	})
}

type remoteClustersSource struct {
	env         Env
	concurrency int
	flags       [5]*seriesDesc // healthy, connected, compatible, trusted, trusted_back
	skip        *seriesDesc
	infoMissing *seriesDesc
}

func newRemoteClustersSource(env Env) (Source, error) {
	f := env.descSet(remoteClustersName)
	l := []string{"deployment_id", "ref_id", "remote_deployment_id", "remote_ref_id", "alias"}
	c := &remoteClustersSource{
		env:         env,
		concurrency: max(1, optionsOf[RemoteClustersOptions](env, remoteClustersName).Concurrency),
		skip:        f.desc("remote_cluster_skip_unavailable", "Whether searches skip the remote cluster when it is unavailable (1) or fail (0).", l...),
		infoMissing: f.desc("remote_cluster_info_missing", "Remote clusters of the resource for which the API returned no live state (info); no health flags are exposed for them.", "deployment_id", "ref_id"),
	}
	for i, fl := range []struct{ name, help string }{
		{"healthy", "Whether the remote cluster is healthy (1) or not (0)."},
		{"connected", "Whether there is at least one connection to the remote cluster (1) or none (0)."},
		{"compatible", "Whether the remote cluster version is compatible with this cluster (1) or not (0)."},
		{"trusted", "Whether the remote cluster is trusted by this cluster (1) or not (0)."},
		{"trusted_back", "Whether the remote cluster trusts this cluster back (1) or not (0)."},
	} {
		c.flags[i] = f.desc("remote_cluster_"+fl.name, fl.help, l...)
	}
	return c, nil
}

type esResource struct{ deploymentID, refID string }

func (c *remoteClustersSource) Poll(ctx context.Context) (*Snapshot, error) {
	deps, err := c.env.Discovery.Wait(ctx)
	if err != nil {
		return nil, err
	}
	var targets []esResource
	for _, d := range deps {
		for _, r := range d.Resources {
			if r.Kind == "elasticsearch" {
				targets = append(targets, esResource{d.ID, r.RefID})
			}
		}
	}
	s := NewSnapshot(c.env.Account.Name)
	err = fanOut(ctx, s, targets, c.concurrency, "remote clusters", "Elasticsearch resources",
		func(ctx context.Context, t esResource) (*eceapi.RemoteResources, error) {
			rs, _, err := c.env.Client.Deployments.RemoteClusters(ctx, t.deploymentID, t.refID)
			return rs, err
		},
		func(t esResource, rs *eceapi.RemoteResources) { c.add(s, t, rs) })
	if err != nil {
		return nil, err
	}
	return s, nil
}

// add exposes the remote clusters of one Elasticsearch resource.
func (c *remoteClustersSource) add(s *Snapshot, t esResource, rs *eceapi.RemoteResources) {
	missing := 0
	seen := map[string]struct{}{}
	for _, r := range rs.Resources {
		key := r.DeploymentID + "\x00" + r.ElasticsearchRefID + "\x00" + r.Alias
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = struct{}{}
		lv := []string{t.deploymentID, t.refID, r.DeploymentID, r.ElasticsearchRefID, r.Alias}
		s.gauge(c.skip, boolFloat(r.SkipUnavailable != nil && *r.SkipUnavailable), lv...)
		if r.Info == nil {
			missing++
			continue
		}
		for j, v := range []bool{r.Info.Healthy, r.Info.Connected, r.Info.Compatible, r.Info.Trusted, r.Info.TrustedBack} {
			s.gauge(c.flags[j], boolFloat(v), lv...)
		}
	}
	s.gauge(c.infoMissing, float64(missing), t.deploymentID, t.refID)
}

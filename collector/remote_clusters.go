package collector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
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
	results := make([]*eceapi.RemoteResources, len(targets))
	errs := make([]error, len(targets))
	forEach(ctx, len(targets), c.concurrency, func(i int) {
		results[i], _, errs[i] = c.env.Client.Deployments.RemoteClusters(ctx, targets[i].deploymentID, targets[i].refID)
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("remote clusters: %w", err)
	}

	s := NewSnapshot(c.env.Account.Name)
	failed := 0
	for i, t := range targets {
		if err := errs[i]; err != nil {
			if isNotFound(err) {
				// Deleted since discovery: its series go away, not a failure.
				continue
			}
			failed++
			s.Partial = append(s.Partial, err)
			continue
		}
		missing := 0
		seen := map[string]struct{}{}
		for _, r := range results[i].Resources {
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
	if failed > 0 && failed == len(targets) {
		// Nothing worked: that is a failed poll, not a partial one.
		return nil, fmt.Errorf("remote clusters of all %d Elasticsearch resources failed, first error: %w", failed, s.Partial[0])
	}
	return s, nil
}

// isNotFound reports a 404 from the API.
func isNotFound(err error) bool {
	var apiErr *eceapi.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound
}

// forEach runs fn(0..n-1) with at most limit in parallel and returns when
// all are done. Items not yet started when ctx ends are skipped.
func forEach(ctx context.Context, n, limit int, fn func(i int)) {
	if limit < 1 {
		limit = 1
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}(i)
	}
	wg.Wait()
}

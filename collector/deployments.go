package collector

import (
	"context"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// The deployments collector lists deployments (one call per interval), feeds
// the Discovery that the other collectors iterate, and exposes what it found.

const deploymentsName = "deployments"

func init() {
	registerCollector(Registration{
		Name:           deploymentsName,
		DefaultEnabled: true,
		MinInterval:    30 * time.Second,
		Defaults:       IntervalOptions{Interval: config.NewDuration(5 * time.Minute)},
		New:            newDeploymentsSource,
	})
}

type deploymentsSource struct {
	env          Env
	info         *seriesDesc
	resourceInfo *seriesDesc
	count        *seriesDesc
}

func newDeploymentsSource(env Env) (Source, error) {
	f := env.descSet(deploymentsName)
	return &deploymentsSource{
		env:          env,
		info:         f.desc("deployment_info", "Deployments visible to the account (after include/exclude filters), value 1.", "deployment_id", "deployment_name"),
		resourceInfo: f.desc("deployment_resource_info", "Resources of each deployment, value 1.", "deployment_id", "kind", "ref_id", "resource_id"),
		count:        f.desc("deployments", "Number of deployments visible to the account (after include/exclude filters and sharding)."),
	}, nil
}

func (c *deploymentsSource) Poll(ctx context.Context) (*Snapshot, error) {
	list, _, err := c.env.Client.Deployments.List(ctx)
	if err != nil {
		// Dependents waiting for the first discovery stop waiting; they keep
		// using the previous list if there is one.
		c.env.Discovery.markDone()
		return nil, err
	}
	deps := filterDeployments(list, c.env.Account.Deployments, c.env.Sharder, c.env.Logger)
	c.env.Discovery.set(deps)
	s := NewSnapshot(c.env.Account.Name)
	for _, d := range deps {
		s.gauge(c.info, 1, d.ID, d.Name)
		for _, r := range d.Resources {
			s.gauge(c.resourceInfo, 1, d.ID, r.Kind, r.RefID, r.ID)
		}
	}
	s.gauge(c.count, float64(len(deps)))
	return s, nil
}

// filterDeployments applies include/exclude filters and sharding, and drops
// duplicate ids and resources (keeping the first), which the API should
// never send but which would otherwise break the scrape.
func filterDeployments(list *eceapi.DeploymentsListResponse, f config.DeploymentFilter, sh Sharder, logger log.Logger) []Deployment {
	out := make([]Deployment, 0, len(list.Deployments))
	seen := make(map[string]struct{}, len(list.Deployments))
	dups := 0
	for _, d := range list.Deployments {
		if d.ID == "" {
			continue
		}
		if _, dup := seen[d.ID]; dup {
			dups++
			continue
		}
		seen[d.ID] = struct{}{}
		if !f.Match(d.ID, d.Name) || (sh != nil && !sh.OwnsDeployment(d.ID)) {
			continue
		}
		dep := Deployment{ID: d.ID, Name: d.Name, Resources: make([]Resource, 0, len(d.Resources))}
		seenRes := make(map[[2]string]struct{}, len(d.Resources))
		for _, r := range d.Resources {
			k := [2]string{r.Kind, r.RefID}
			if _, dup := seenRes[k]; dup || r.Kind == "" || r.RefID == "" {
				continue
			}
			seenRes[k] = struct{}{}
			dep.Resources = append(dep.Resources, Resource{Kind: r.Kind, RefID: r.RefID, ID: r.ID})
		}
		out = append(out, dep)
	}
	if dups > 0 && logger != nil {
		level.Warn(logger).Log("msg", "API listed the same deployment id more than once; kept the first", "collector", deploymentsName, "duplicates", dups)
	}
	return out
}

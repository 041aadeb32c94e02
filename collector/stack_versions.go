package collector

import (
	"context"
	"strings"
	"time"

	"github.com/ece-exporter/ece_exporter/config"
)

// The stack_versions collector lists the Elastic Stack versions of the
// platform, deleted ones included (GET /stack/versions?show_deleted=true),
// so that a rule can join them with ece_deployment_resource_version_info
// and say when a deployment runs a version that is deleted or no longer
// accessible: users are forced to upgrade when that happens. The list is
// the same for every deployment: with sharding only shard 0 reports it.

const stackVersionsName = "stack_versions"

func init() {
	registerCollector(Registration{
		Name:           stackVersionsName,
		DefaultEnabled: true,
		MinInterval:    15 * time.Minute,
		Defaults:       IntervalOptions{Interval: config.NewDuration(6 * time.Hour)},
		New:            newStackVersionsSource,
	})
}

type stackVersionsSource struct {
	env                            Env
	deleted, accessible, whitelist *seriesDesc
	info                           *seriesDesc
}

func newStackVersionsSource(env Env) (Source, error) {
	f := env.descSet(stackVersionsName)
	return &stackVersionsSource{
		env:        env,
		deleted:    f.desc("stack_version_deleted", "Whether the stack version is marked for deletion (1) or not (0).", "version"),
		accessible: f.desc("stack_version_accessible", "Whether the calling user can use the stack version (1) or not (0); ESS only (ECE does not send it).", "version"),
		whitelist:  f.desc("stack_version_whitelisted", "Whether the stack version is whitelisted (1) or not (0); ESS only (ECE does not send it).", "version"),
		info:       f.desc("stack_version_info", "Stack version metadata, value 1: the lowest version recommended to upgrade from, and the versions it can upgrade to (comma-separated, in the API's order).", "version", "min_upgradable_from", "upgradable_to"),
	}, nil
}

func (c *stackVersionsSource) Poll(ctx context.Context) (*Snapshot, error) {
	s := NewSnapshot(c.env.Account.Name)
	if c.env.Sharder != nil && !c.env.Sharder.OwnsOrganization() {
		return s, nil // shard 0 reports the platform's versions
	}
	list, _, err := c.env.Client.Stack.Versions(ctx, true)
	if err != nil {
		return nil, err
	}
	seen := map[string]struct{}{}
	for _, v := range list.Stacks {
		if _, dup := seen[v.Version]; dup || v.Version == "" {
			continue
		}
		seen[v.Version] = struct{}{}
		s.gauge(c.deleted, boolFloat(v.Deleted), v.Version)
		if v.Accessible != nil {
			s.gauge(c.accessible, boolFloat(*v.Accessible), v.Version)
		}
		if v.Whitelisted != nil {
			s.gauge(c.whitelist, boolFloat(*v.Whitelisted), v.Version)
		}
		s.gauge(c.info, 1, v.Version, v.MinUpgradableFrom, strings.Join(v.UpgradableTo, ","))
	}
	return s, nil
}

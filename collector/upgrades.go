package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// The upgrades collector (opt-in) asks, for every stateless resource in the
// deployments snapshot, which stack version an upgrade would move it to,
// with the dry run only (validate_only=true). It is off by default because
// it costs one API call per resource.

const upgradesName = "upgrades"

// UpgradesOptions are the options of the upgrades collector
// (collectors.upgrades).
type UpgradesOptions struct {
	Interval config.Duration `yaml:"interval"`
	// Concurrency bounds the per-deployment requests in flight.
	Concurrency int `yaml:"concurrency"`
}

// PollInterval implements config.CollectorOptions.
func (o UpgradesOptions) PollInterval() config.Duration { return o.Interval }

// Validate implements config.CollectorOptions.
func (o UpgradesOptions) Validate() error { return config.CheckConcurrency(o.Concurrency) }

func init() {
	registerCollector(Registration{
		Name:           upgradesName,
		DefaultEnabled: false,
		NeedsDiscovery: true,
		MinInterval:    time.Hour,
		Defaults:       UpgradesOptions{Interval: config.NewDuration(24 * time.Hour), Concurrency: 2},
		New:            newUpgradesSource,
	})
}

type upgradesSource struct {
	env         Env
	concurrency int
	target      *seriesDesc
}

func newUpgradesSource(env Env) (Source, error) {
	f := env.descSet(upgradesName)
	return &upgradesSource{
		env:         env,
		concurrency: max(1, optionsOf[UpgradesOptions](env, upgradesName).Concurrency),
		target:      f.desc("upgrade_target_info", "Stack version an upgrade of the stateless resource would move it to (upgrade dry run, validate_only=true), value 1; stack_version is empty when the dry run reported none.", "deployment_id", "kind", "ref_id", "stack_version"),
	}, nil
}

type upgradeTarget struct{ deploymentID, kind, refID string }

func (c *upgradesSource) Poll(ctx context.Context) (*Snapshot, error) {
	deps, err := c.env.Discovery.Wait(ctx)
	if err != nil {
		return nil, err
	}
	var targets []upgradeTarget
	for _, d := range deps {
		for _, r := range d.Resources {
			if eceapi.IsStatelessKind(r.Kind) {
				targets = append(targets, upgradeTarget{d.ID, r.Kind, r.RefID})
			}
		}
	}
	results := make([]*eceapi.DeploymentResourceUpgradeResponse, len(targets))
	errs := make([]error, len(targets))
	forEach(ctx, len(targets), c.concurrency, func(i int) {
		t := targets[i]
		results[i], _, errs[i] = c.env.Client.Deployments.UpgradeDryRun(ctx, t.deploymentID, t.kind, t.refID)
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("upgrade dry runs: %w", err)
	}
	s := NewSnapshot(c.env.Account.Name)
	for i, t := range targets {
		if errs[i] != nil {
			if !isNotFound(errs[i]) {
				s.Partial = append(s.Partial, errs[i])
			}
			continue
		}
		// A dry run that succeeded without naming a version (202 with an
		// empty body or {}) is shown as such: stack_version="".
		s.gauge(c.target, 1, t.deploymentID, t.kind, t.refID, results[i].StackVersion)
	}
	if len(targets) > 0 && len(s.Partial) == len(targets) {
		return nil, fmt.Errorf("upgrade dry runs of all %d resources failed, first error: %w", len(targets), s.Partial[0])
	}
	return s, nil
}

package collector

import (
	"context"
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
	s := NewSnapshot(c.env.Account.Name)
	err = fanOut(ctx, s, targets, c.concurrency, "upgrade dry runs", "resources",
		func(ctx context.Context, t upgradeTarget) (*eceapi.DeploymentResourceUpgradeResponse, error) {
			res, _, err := c.env.Client.Deployments.UpgradeDryRun(ctx, t.deploymentID, t.kind, t.refID)
			return res, err
		},
		// A dry run that succeeded without naming a version (202 with an
		// empty body or {}) is shown as such: stack_version="".
		func(t upgradeTarget, res *eceapi.DeploymentResourceUpgradeResponse) {
			s.gauge(c.target, 1, t.deploymentID, t.kind, t.refID, res.StackVersion)
		})
	if err != nil {
		return nil, err
	}
	return s, nil
}

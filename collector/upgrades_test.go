package collector

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

func TestUpgradesCollectorUsesTheDryRunOnly(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 51, DeploymentsPerOrg: 8})
	discover(t, env)
	src, err := newUpgradesCollector(env)
	require.NoError(t, err)
	sim.ResetCounts()
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	stateless := 0
	for _, d := range sim.Deployments() {
		for _, r := range d.Resources {
			if r.Kind != "elasticsearch" {
				stateless++
			}
		}
	}
	assert.Equal(t, stateless, sim.Requests("upgrade-deployment-stateless-resource"))
	assert.Equal(t, stateless, familyNames(t, snap)["ece_upgrade_target_info"])
	assert.Zero(t, sim.RealUpgrades())
	require.NoError(t, lintSnapshot(snap))

	// A resource that fails is a partial failure; a 404 (deleted) is not.
	sim.SetFault("upgrade-deployment-stateless-resource", ecesim.Fault{Status: 502, Times: 1})
	snap, err = src.Poll(context.Background())
	require.NoError(t, err)
	assert.Len(t, snap.Partial, 1)
	assert.Zero(t, sim.RealUpgrades())
}

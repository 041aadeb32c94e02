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
	src, err := newUpgradesSource(env)
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

// TestUpgradesCollectorEmptyAnswers: a dry run accepted with an empty body
// reports no version; it is shown as stack_version="" and is no failure.
func TestUpgradesCollectorEmptyAnswers(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 52, DeploymentsPerOrg: 6, EmptyUpgradeAnswers: true})
	discover(t, env)
	src, err := newUpgradesSource(env)
	require.NoError(t, err)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Empty(t, snap.Partial, "an empty answer is not a failure")
	infos := labelSets(t, snap, "ece_upgrade_target_info")
	assert.Len(t, infos, sim.Requests("upgrade-deployment-stateless-resource"), "one series per resource asked")
	none, versions := 0, 0
	for _, l := range infos {
		if l["stack_version"] == "" {
			none++
		} else {
			versions++
		}
	}
	assert.Positive(t, none, "resources whose dry run reported no version")
	assert.Positive(t, versions)
	require.NoError(t, lintSnapshot(snap))

	// {} reads the same.
	sim.SetFault("upgrade-deployment-stateless-resource", ecesim.Fault{Status: 202, Body: []byte(`{}`)})
	snap, err = src.Poll(context.Background())
	require.NoError(t, err)
	assert.Empty(t, snap.Partial)
	for _, l := range labelSets(t, snap, "ece_upgrade_target_info") {
		assert.Empty(t, l["stack_version"])
	}
	assert.Zero(t, sim.RealUpgrades())
}

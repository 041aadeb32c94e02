package collector

import (
	"context"
	"time"

	"github.com/ece-exporter/ece_exporter/config"
)

// The platform_runners collector reports each ECE runner (host): connected,
// healthy, its build and its roles. GET /platform/infrastructure/runners,
// one call.

const platformRunnersName = "platform_runners"

func init() {
	registerCollector(Registration{
		Name:           platformRunnersName,
		DefaultEnabled: true,
		MinInterval:    time.Minute,
		Defaults:       IntervalOptions{Interval: config.NewDuration(5 * time.Minute)},
		Supports:       eceOnly,
		New:            newPlatformRunnersSource,
	})
}

type platformRunnersSource struct {
	env                        Env
	connected, healthy         *seriesDesc
	info, roleInfo, runnersNum *seriesDesc
}

func newPlatformRunnersSource(env Env) (Source, error) {
	f := env.descSet(platformRunnersName)
	return &platformRunnersSource{
		env:        env,
		connected:  f.desc("platform_runner_connected", "Whether the runner is connected (1) or not (0).", "runner_id"),
		healthy:    f.desc("platform_runner_healthy", "Whether the runner is healthy (1) or not (0).", "runner_id"),
		info:       f.desc("platform_runner_info", "Runner metadata, value 1.", "runner_id", "zone", "version", "host_ip", "public_hostname"),
		roleInfo:   f.desc("platform_runner_role_info", "One series of value 1 per role of the runner (allocator, coordinator, director, proxy, ...).", "runner_id", "role"),
		runnersNum: f.desc("platform_runners", "Number of runners listed."),
	}, nil
}

func (c *platformRunnersSource) Poll(ctx context.Context) (*Snapshot, error) {
	s := NewSnapshot(c.env.Account.Name)
	if c.env.Sharder != nil && !c.env.Sharder.OwnsOrganization() {
		return s, nil
	}
	ro, _, err := c.env.Client.Platform.Runners(ctx)
	if err != nil {
		return nil, platformErr(err)
	}
	seen := make(map[string]bool, len(ro.Runners))
	for _, r := range ro.Runners {
		if r.RunnerID == "" || seen[r.RunnerID] {
			continue
		}
		seen[r.RunnerID] = true
		s.gauge(c.connected, boolFloat(r.Connected), r.RunnerID)
		s.gauge(c.healthy, boolFloat(r.Healthy), r.RunnerID)
		version := ""
		if r.BuildInfo != nil {
			version = r.BuildInfo.Version
		}
		s.gauge(c.info, 1, r.RunnerID, r.Zone, version, r.HostIP, r.PublicHostname)
		for _, role := range r.Roles {
			if role.RoleName != "" {
				s.gauge(c.roleInfo, 1, r.RunnerID, role.RoleName)
			}
		}
	}
	s.gauge(c.runnersNum, float64(len(seen)))
	return s, nil
}

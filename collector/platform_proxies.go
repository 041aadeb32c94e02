package collector

import (
	"context"
	"strings"
	"time"

	"github.com/go-kit/log/level"

	"github.com/ece-exporter/ece_exporter/config"
)

// The platform_proxies collector reports the health of the ECE proxies as
// a whole: GET /platform/infrastructure/proxies/health, one call.

const platformProxiesName = "platform_proxies"

// proxyStatuses are the states of the status state set: the spec's "Green",
// "Yellow" and "Red", lower-cased as label values.
var proxyStatuses = []string{"green", "yellow", "red"}

func init() {
	registerCollector(Registration{
		Name:           platformProxiesName,
		DefaultEnabled: true,
		MinInterval:    15 * time.Second,
		Defaults:       IntervalOptions{Interval: config.NewDuration(time.Minute)},
		Supports:       eceOnly,
		New:            newPlatformProxiesSource,
	})
}

type platformProxiesSource struct {
	env                      Env
	status, observed, expect *seriesDesc
}

func newPlatformProxiesSource(env Env) (Source, error) {
	f := env.descSet(platformProxiesName)
	return &platformProxiesSource{
		env:      env,
		status:   f.desc("platform_proxies_status", "Health of the proxies as a whole, as a state set: 1 for the current status (green, yellow or red), 0 for the others.", "status"),
		observed: f.desc("platform_proxies_observed", "Number of proxies observed."),
		expect:   f.desc("platform_proxies_expected", "Expected minimum number of proxies."),
	}, nil
}

func (c *platformProxiesSource) Poll(ctx context.Context) (*Snapshot, error) {
	s := NewSnapshot(c.env.Account.Name)
	if c.env.Sharder != nil && !c.env.Sharder.OwnsOrganization() {
		return s, nil
	}
	h, _, err := c.env.Client.Platform.ProxiesHealth(ctx)
	if err != nil {
		return nil, platformErr(err)
	}
	status := strings.ToLower(strings.TrimSpace(h.Status))
	known := false
	for _, st := range proxyStatuses {
		known = known || st == status
		s.gauge(c.status, boolFloat(st == status), st)
	}
	if !known {
		level.Warn(c.env.Logger).Log("msg", "unknown proxies status; every state of ece_platform_proxies_status is 0", "status", h.Status)
	}
	s.gauge(c.observed, h.ObservedProxiesCount)
	s.gauge(c.expect, h.ExpectedProxiesCount)
	return s, nil
}

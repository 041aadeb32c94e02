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
	// warned is the last unknown status logged: an unknown status is
	// logged once, not every poll (polls of one source do not overlap).
	warned string
}

func newPlatformProxiesSource(env Env) (Source, error) {
	f := env.descSet(platformProxiesName)
	return &platformProxiesSource{
		env:      env,
		status:   f.desc("platform_proxies_status", "Health of the proxies as a whole, as a state set: 1 for the current status (green, yellow or red), 0 for the others; a status the exporter does not know is status=\"unknown\" 1, the others 0.", "status"),
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
		s.gauge(c.status, 1, "unknown")
		if c.warned != h.Status {
			c.warned = h.Status
			level.Warn(c.env.Logger).Log("msg", "unknown proxies status, exported as status=\"unknown\"; logged once", "status", truncateLabel(h.Status))
		}
	} else {
		c.warned = ""
	}
	s.gauge(c.observed, h.ObservedProxiesCount)
	s.gauge(c.expect, h.ExpectedProxiesCount)
	return s, nil
}

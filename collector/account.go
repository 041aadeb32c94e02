package collector

import (
	"context"
	"time"

	"github.com/ece-exporter/ece_exporter/config"
)

// The account collector reads the account of the credentials (GET /account,
// ESS and ECE): its id, which the billing collectors use as the
// organization when GET /organizations is refused, and its trust setting,
// which decides whether the account's clusters trust each other by default
// (a remote cluster that is not trusted back often comes from there).

const accountName = "account"

func init() {
	registerCollector(Registration{
		Name:           accountName,
		DefaultEnabled: true,
		MinInterval:    5 * time.Minute,
		Defaults:       IntervalOptions{Interval: config.NewDuration(time.Hour)},
		New:            newAccountSource,
	})
}

type accountSource struct {
	env      Env
	info     *seriesDesc
	trustAll *seriesDesc
}

func newAccountSource(env Env) (Source, error) {
	f := env.descSet(accountName)
	return &accountSource{
		env:      env,
		info:     f.desc("account_info", "The account of the credentials (GET /account), value 1.", "account_id"),
		trustAll: f.desc("account_trust_all", "1 if every cluster of the account trusts every other cluster of the account by default; absent when the account sets no trust."),
	}, nil
}

func (c *accountSource) Poll(ctx context.Context) (*Snapshot, error) {
	s := NewSnapshot(c.env.Account.Name)
	if !c.env.Sharder.OwnsOrganization() {
		return s, nil // account-level data is shard 0's
	}
	acc, _, err := c.env.Client.Accounts.Get(ctx)
	if err != nil {
		return nil, err
	}
	s.gauge(c.info, 1, acc.ID)
	if acc.Trust != nil {
		s.gauge(c.trustAll, boolFloat(acc.Trust.TrustAll))
	}
	return s, nil
}

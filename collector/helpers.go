package collector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log/level"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// Helpers shared by several collectors.

// fanOut runs one API call per item, at most limit at a time, and hands
// every success to add, in item order. A 404 (the item was deleted since it
// was listed) is skipped: its series go away, it is not a failure. Other
// failures are partial failures of s; when every item failed, that is a
// failed poll, not a partial one. what names the calls ("itemized costs")
// and noun the items ("deployments") in the errors.
func fanOut[T, R any](ctx context.Context, s *Snapshot, items []T, limit int, what, noun string,
	call func(context.Context, T) (R, error), add func(T, R)) error {
	results := make([]R, len(items))
	errs := make([]error, len(items))
	forEach(ctx, len(items), limit, func(i int) {
		results[i], errs[i] = call(ctx, items[i])
	})
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	var failed []error
	for i, it := range items {
		if err := errs[i]; err != nil {
			if !isNotFound(err) {
				failed = append(failed, err)
			}
			continue
		}
		add(it, results[i])
	}
	if len(failed) > 0 && len(failed) == len(items) {
		return fmt.Errorf("%s of all %d %s failed, first error: %w", what, len(items), noun, failed[0])
	}
	s.Partial = append(s.Partial, failed...)
	return nil
}

// isNotFound reports a 404 from the API.
func isNotFound(err error) bool {
	var apiErr *eceapi.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound
}

// forEach runs fn(0..n-1) with at most limit in parallel and returns when
// all are done. Items not yet started when ctx ends are skipped.
func forEach(ctx context.Context, n, limit int, fn func(i int)) {
	if limit < 1 {
		limit = 1
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}(i)
	}
	wg.Wait()
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// essOnly keeps the billing collectors off on ECE accounts, where the
// billing API is "currently unavailable in self-hosted ECE". Flags do not
// change that: --collector.billing is the default and means "on where it
// applies".
func essOnly(acc config.Account) (bool, string) {
	if acc.Platform == config.PlatformECE {
		return false, "the billing API is unavailable in self-hosted ECE"
	}
	return true, ""
}

// orgRefresh is how long a discovered organization list is reused.
const orgRefresh = 6 * time.Hour

// orgSource finds the organizations to report on: configured ones, else
// GET /organizations, else the account id from GET /account. The discovered
// list is cached for orgRefresh.
type orgSource struct {
	account config.Account
	client  *eceapi.Client
	now     func() time.Time
	mu      sync.Mutex
	cached  []string
	fetched time.Time
}

func (o *orgSource) get(ctx context.Context) ([]string, error) {
	if len(o.account.OrganizationIDs) > 0 {
		return o.account.OrganizationIDs, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	if o.cached != nil && now.Sub(o.fetched) < orgRefresh {
		return o.cached, nil
	}
	list, _, err := o.client.Organizations.List(ctx)
	var ids []string
	if err == nil {
		for _, org := range list.Organizations {
			if org.ID != "" {
				ids = append(ids, org.ID)
			}
		}
	}
	if err != nil || len(ids) == 0 {
		acc, _, aerr := o.client.Accounts.Get(ctx)
		if aerr != nil {
			if err != nil {
				return nil, fmt.Errorf("discover organizations: %w (and %w)", err, aerr)
			}
			return nil, fmt.Errorf("discover organizations: %w", aerr)
		}
		if acc.ID == "" {
			return nil, errors.New("discover organizations: GET /account returned no id")
		}
		ids = []string{acc.ID}
	}
	o.cached, o.fetched = ids, now
	return ids, nil
}

// eceGuard turns the answer of an ECE installation to a billing call into a
// configuration error, logged once. The Manager never polls billing on ECE
// (essOnly); the guard keeps a billing Source built for an ECE account
// from calling the API every poll.
type eceGuard struct {
	env    Env
	once   sync.Once
	failed error
}

func (g *eceGuard) check(err error) error {
	if g.env.Account.Platform != config.PlatformECE || err == nil {
		return err
	}
	var apiErr *eceapi.APIError
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusNotFound || apiErr.StatusCode == http.StatusNotImplemented || apiErr.StatusCode == http.StatusBadRequest) {
		g.once.Do(func() {
			g.failed = errUnsupported{msg: "the billing API is unavailable in self-hosted ECE: disable the billing collectors for ECE accounts (" + apiErr.Error() + ")"}
			level.Error(g.env.Logger).Log("msg", "configuration error: billing is unavailable in self-hosted ECE; the collector will not call the API again for this account", "err", apiErr)
		})
		return g.failed
	}
	return err
}

// maxLabelLen bounds a label value (or logged value) taken from free text
// of the API, so that a hostile body cannot make huge series or log lines.
const maxLabelLen = 256

// truncateLabel cuts v to maxLabelLen bytes, never inside a UTF-8 sequence.
func truncateLabel(v string) string {
	if len(v) <= maxLabelLen {
		return v
	}
	return strings.ToValidUTF8(v[:maxLabelLen], "")
}

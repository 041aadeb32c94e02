package collector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// The api_keys collector lists API key metadata and exposes creation and
// expiration times, so that alerts can fire before a key expires. The key
// itself is never decoded (eceapi.APIKey has no field for it).

const apiKeysName = "api_keys"

// Values of collectors.api_keys.scope.
const (
	ScopeOwn = "own"
	ScopeAll = "all"
)

// APIKeysOptions are the options of the api_keys collector
// (collectors.api_keys).
type APIKeysOptions struct {
	Interval config.Duration `yaml:"interval"`
	// Scope is ScopeOwn (the keys of the authenticated user) or ScopeAll
	// (every user's keys). ScopeAll only has an effect on ECE accounts; ESS
	// accounts always list their own keys.
	Scope string `yaml:"scope"`
}

// PollInterval implements config.CollectorOptions.
func (o APIKeysOptions) PollInterval() config.Duration { return o.Interval }

// Validate implements config.CollectorOptions.
func (o APIKeysOptions) Validate() error {
	if o.Scope != ScopeOwn && o.Scope != ScopeAll {
		return fmt.Errorf("scope: %q: must be own or all", o.Scope)
	}
	return nil
}

func init() {
	registerCollector(Registration{
		Name:           apiKeysName,
		DefaultEnabled: true,
		MinInterval:    time.Minute,
		Defaults:       APIKeysOptions{Interval: config.NewDuration(15 * time.Minute), Scope: ScopeOwn},
		New:            newAPIKeysSource,
	})
}

type apiKeysSource struct {
	env      Env
	all      bool
	created  *seriesDesc
	expires  *seriesDesc
	info     *seriesDesc
	keyCount *seriesDesc
}

func newAPIKeysSource(env Env) (Source, error) {
	f := env.descSet(apiKeysName)
	return &apiKeysSource{
		env: env,
		// scope "all" lists every user's keys; it exists on ECE only.
		all:      optionsOf[APIKeysOptions](env, apiKeysName).Scope == ScopeAll && env.Account.Platform == config.PlatformECE,
		created:  f.desc("api_key_creation_timestamp_seconds", "When the API key was created.", "key_id", "user_id"),
		expires:  f.desc("api_key_expiration_timestamp_seconds", "When the API key expires; absent for keys that never expire.", "key_id", "user_id"),
		info:     f.desc("api_key_info", "API key metadata, value 1; expires is \"false\" for keys that never expire.", "key_id", "user_id", "organization_id", "description", "expires"),
		keyCount: f.desc("api_keys", "Number of API keys listed."),
	}, nil
}

func (c *apiKeysSource) Poll(ctx context.Context) (*Snapshot, error) {
	s := NewSnapshot(c.env.Account.Name)
	if c.env.Sharder != nil && !c.env.Sharder.OwnsOrganization() {
		return s, nil // another shard reports API keys
	}
	var (
		keys *eceapi.APIKeysResponse
		err  error
	)
	if c.all {
		keys, _, err = c.env.Client.APIKeys.ListAll(ctx)
		var apiErr *eceapi.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden {
			return nil, fmt.Errorf("api_keys scope \"all\" needs a platform administrator (GET /users/auth/keys/_all was refused): %w", err)
		}
	} else {
		keys, _, err = c.env.Client.APIKeys.List(ctx)
	}
	if err != nil {
		return nil, err
	}
	seen := make(map[[2]string]struct{}, len(keys.Keys))
	for _, k := range keys.Keys {
		id := [2]string{k.ID, k.UserID}
		if _, dup := seen[id]; dup || k.ID == "" {
			continue
		}
		seen[id] = struct{}{}
		if !k.CreationDate.IsZero() {
			s.gauge(c.created, unixSeconds(k.CreationDate), k.ID, k.UserID)
		}
		expires := "false"
		if k.ExpirationDate != nil && !k.ExpirationDate.IsZero() {
			expires = "true"
			s.gauge(c.expires, unixSeconds(*k.ExpirationDate), k.ID, k.UserID)
		}
		s.gauge(c.info, 1, k.ID, k.UserID, k.OrganizationID, k.Description, expires)
	}
	s.gauge(c.keyCount, float64(len(seen)))
	return s, nil
}

package main

import (
	"runtime"
	"sync"
	"weak"

	"github.com/ece-exporter/ece_exporter/admin"
	"github.com/ece-exporter/ece_exporter/config"
)

// tokenReload reads the admin token with every configuration load and
// swaps it in only when that configuration is applied: a reload that
// fails to apply, or is superseded by a later one, leaves the token as it
// was. The token read for a configuration is remembered by the
// configuration's pointer (weakly: a dropped configuration drops it).
type tokenReload struct {
	read    func() (admin.Token, error)
	set     func(admin.Token)
	mu      sync.Mutex
	pending map[weak.Pointer[config.Config]]admin.Token
}

func newTokenReload(read func() (admin.Token, error), set func(admin.Token)) *tokenReload {
	return &tokenReload{read: read, set: set, pending: map[weak.Pointer[config.Config]]admin.Token{}}
}

// load wraps a configuration load: it also reads the token, and fails if
// either fails.
func (r *tokenReload) load(load func() (*config.Config, error)) func() (*config.Config, error) {
	return func() (*config.Config, error) {
		cfg, err := load()
		if err != nil {
			return nil, err
		}
		tok, err := r.read()
		if err != nil {
			return nil, err
		}
		key := weak.Make(cfg)
		r.mu.Lock()
		r.pending[key] = tok
		r.mu.Unlock()
		runtime.AddCleanup(cfg, func(k weak.Pointer[config.Config]) {
			r.mu.Lock()
			delete(r.pending, k)
			r.mu.Unlock()
		}, key)
		return cfg, nil
	}
}

// apply wraps a configuration apply: once it succeeds, the token read
// with that configuration (if any: the first one's was read at start-up)
// becomes the admin token.
func (r *tokenReload) apply(apply func(*config.Config) error) func(*config.Config) error {
	return func(cfg *config.Config) error {
		key := weak.Make(cfg)
		r.mu.Lock()
		tok, ok := r.pending[key]
		delete(r.pending, key)
		r.mu.Unlock()
		if err := apply(cfg); err != nil {
			return err
		}
		if ok {
			r.set(tok)
		}
		return nil
	}
}

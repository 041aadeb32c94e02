package collector

import (
	"context"
	"sync"
)

// Deployment is one discovered deployment, after include/exclude filters
// and sharding.
type Deployment struct {
	ID        string
	Name      string
	Resources []Resource
}

// Resource is one resource of a discovered deployment.
type Resource struct {
	Kind  string
	RefID string
	ID    string
}

// Discovery holds the latest deployments snapshot of one account. The
// deployments collector writes it; the other collectors read it instead of
// listing deployments again.
type Discovery struct {
	mu          sync.RWMutex
	deployments []Deployment
	have        bool
	once        sync.Once
	firstDone   chan struct{}
}

// NewDiscovery returns an empty Discovery.
func NewDiscovery() *Discovery { return &Discovery{firstDone: make(chan struct{})} }

// set publishes a new list (never modified afterwards).
func (d *Discovery) set(deps []Deployment) {
	d.mu.Lock()
	d.deployments, d.have = deps, true
	d.mu.Unlock()
	d.markDone()
}

// markDone records that the first discovery poll ended, successful or not.
func (d *Discovery) markDone() { d.once.Do(func() { close(d.firstDone) }) }

// Current returns the latest list and whether there is one. The slice is
// shared and must not be modified.
func (d *Discovery) Current() ([]Deployment, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.deployments, d.have
}

// Wait blocks until the first discovery poll ended (or ctx is done), then
// returns the current list, or errNoDiscovery when there is none.
func (d *Discovery) Wait(ctx context.Context) ([]Deployment, error) {
	select {
	case <-d.firstDone:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	deps, ok := d.Current()
	if !ok {
		return nil, errNoDiscovery
	}
	return deps, nil
}

// Find returns the deployment with id.
func (d *Discovery) Find(id string) (Deployment, bool) {
	deps, _ := d.Current()
	for _, dep := range deps {
		if dep.ID == id {
			return dep, true
		}
	}
	return Deployment{}, false
}

package collector

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// TestStopWaitsForARunningApply: Stop during an Apply (a reload applied
// while the daemon shuts down) waits for it and stops the pollers it
// started; an Apply after Stop fails and starts nothing.
func TestStopWaitsForARunningApply(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(ecesim.New(ecesim.Options{Seed: 5, DeploymentsPerOrg: 2, Now: testNow}))
	t.Cleanup(srv.Close)
	entered, release := make(chan struct{}), make(chan struct{})
	// The client of the first Apply is built by this option: it holds
	// that Apply in the middle, before its pollers are swapped in.
	blocking := func(*eceapi.Client) error {
		select {
		case <-entered:
		default:
			close(entered)
			<-release
		}
		return nil
	}
	m, err := NewManager(Options{Registerer: prometheus.NewRegistry(), Enabled: DefaultEnabled(), Now: testNow,
		ClientOptions: []eceapi.Option{blocking}})
	require.NoError(t, err)

	applied := make(chan error, 1)
	var applyDone atomic.Bool
	go func() {
		err := m.Apply(essConfig(srv.URL))
		applyDone.Store(true)
		applied <- err
	}()
	<-entered
	stopped := make(chan struct{})
	var appliedBeforeStop atomic.Bool
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m.Stop(ctx)
		appliedBeforeStop.Store(applyDone.Load())
		close(stopped)
	}()
	// Release the Apply once Stop has begun.
	for {
		m.mu.RLock()
		s := m.stopped
		m.mu.RUnlock()
		if s {
			break
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-stopped:
		t.Fatal("Stop returned while an Apply was running")
	default:
	}
	close(release)
	<-stopped
	assert.True(t, appliedBeforeStop.Load(), "Stop returned before the running Apply")
	require.NoError(t, <-applied, "the running Apply finishes")
	ps := m.pollerList()
	require.NotEmpty(t, ps, "the running Apply swapped its pollers in")
	for _, p := range ps {
		select {
		case <-p.stopped:
		default:
			t.Fatalf("poller %s/%s still runs after Stop", p.account, p.collector)
		}
	}

	assert.ErrorIs(t, m.Apply(essConfig(srv.URL)), ErrStopped)
	assert.Equal(t, ps, m.pollerList(), "an Apply after Stop starts nothing")
}

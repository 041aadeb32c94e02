package config

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reloadFixture is a SafeConfig whose loads are scripted: each load takes
// the next step from steps and, if it has a gate, waits for it.
type reloadFixture struct {
	sc      *SafeConfig
	reg     *prometheus.Registry
	logs    *strings.Builder
	mu      sync.Mutex
	applied []string
}

type loadStep struct {
	name string
	err  error
	gate chan struct{} // nil: the load returns at once
}

func newReloadFixture(t *testing.T, steps chan loadStep) *reloadFixture {
	t.Helper()
	f := &reloadFixture{reg: prometheus.NewRegistry(), logs: &strings.Builder{}}
	var logMu sync.Mutex
	logger := log.LoggerFunc(func(kv ...any) error {
		logMu.Lock()
		defer logMu.Unlock()
		return log.NewLogfmtLogger(f.logs).Log(kv...)
	})
	load := func() (*Config, error) {
		s := <-steps
		if s.gate != nil {
			<-s.gate
		}
		if s.err != nil {
			return nil, s.err
		}
		return &Config{Accounts: []Account{{Name: s.name}}}, nil
	}
	apply := func(c *Config) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.applied = append(f.applied, c.Accounts[0].Name)
		return nil
	}
	var err error
	f.sc, err = NewSafeConfig(f.reg, logger, load, apply)
	require.NoError(t, err)
	return f
}

func (f *reloadFixture) successful(t *testing.T) float64 {
	t.Helper()
	return testutil.ToFloat64(f.sc.success)
}

// waitErr waits for a reload's result, failing the test if it hangs.
func waitErr(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("reload blocked")
		return nil
	}
}

// TestReloadDoesNotHoldALockAcrossTheLoad: while one reload waits on a
// load that hangs (a file on a hung file system), a later reload completes,
// the hung one returns as soon as its context ends, and when its load
// finally finishes it is dropped, not applied over the newer configuration
// (issue 14 §1).
func TestReloadDoesNotHoldALockAcrossTheLoad(t *testing.T) {
	t.Parallel()
	steps := make(chan loadStep, 4)
	f := newReloadFixture(t, steps)
	require.NoError(t, f.sc.Set(&Config{Accounts: []Account{{Name: "initial"}}}))
	assert.Equal(t, 1.0, f.successful(t))

	hung := make(chan struct{})
	steps <- loadStep{name: "stale", gate: hung}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- f.sc.Reload(ctx) }()
	// Wait until the first reload has taken its step.
	require.Eventually(t, func() bool { return len(steps) == 0 }, 5*time.Second, time.Millisecond)

	steps <- loadStep{name: "fresh"}
	second := make(chan error, 1)
	go func() { second <- f.sc.Reload(context.Background()) }()
	require.NoError(t, waitErr(t, second), "a later reload is not held up")
	assert.Equal(t, "fresh", f.sc.Config().Accounts[0].Name)

	cancel() // shutdown
	require.ErrorIs(t, waitErr(t, first), context.Canceled, "the hung reload returns at shutdown")

	close(hung) // the hung load finishes late: dropped
	steps <- loadStep{err: errors.New("accounts[0].api_key_file: bad")}
	require.Error(t, f.sc.Reload(context.Background()))
	assert.Equal(t, 0.0, f.successful(t))
	steps <- loadStep{name: "last"}
	require.NoError(t, f.sc.Reload(context.Background()))
	assert.Equal(t, 1.0, f.successful(t))

	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, []string{"initial", "fresh", "last"}, f.applied, "the stale load was never applied")
}

// TestReloadOutcomeOrder: a reload that started earlier but fails after a
// later one succeeded neither changes the running configuration nor the
// gauge, but its caller gets the error and it is logged.
func TestReloadOutcomeOrder(t *testing.T) {
	t.Parallel()
	steps := make(chan loadStep, 2)
	f := newReloadFixture(t, steps)
	require.NoError(t, f.sc.Set(&Config{Accounts: []Account{{Name: "initial"}}}))

	gate := make(chan struct{})
	steps <- loadStep{err: errors.New("old failure"), gate: gate}
	first := make(chan error, 1)
	go func() { first <- f.sc.Reload(context.Background()) }()
	require.Eventually(t, func() bool { return len(steps) == 0 }, 5*time.Second, time.Millisecond)
	steps <- loadStep{name: "new"}
	require.NoError(t, f.sc.Reload(context.Background()))
	close(gate)
	require.EqualError(t, waitErr(t, first), "old failure")
	assert.Equal(t, 1.0, f.successful(t), "the newer success stays visible")
	assert.Equal(t, "new", f.sc.Config().Accounts[0].Name)
}

func TestReloadFailureIsLoggedAndCounted(t *testing.T) {
	t.Parallel()
	steps := make(chan loadStep, 1)
	f := newReloadFixture(t, steps)
	require.NoError(t, f.sc.Set(&Config{Accounts: []Account{{Name: "initial"}}}))
	steps <- loadStep{err: errors.New(`accounts[0].api_key_file: "fifo": read /x/fifo: not a regular file (a named pipe)`)}
	require.Error(t, f.sc.Reload(context.Background()))
	assert.Equal(t, 0.0, f.successful(t))
	assert.Equal(t, "initial", f.sc.Config().Accounts[0].Name)
	assert.Contains(t, f.logs.String(), `msg="configuration reload failed; keeping the previous configuration" err="accounts[0].api_key_file: \"fifo\": read /x/fifo: not a regular file (a named pipe)"`)
	require.NoError(t, testutil.GatherAndCompare(f.reg, strings.NewReader(`
# HELP ece_exporter_config_last_reload_successful Whether the last configuration reload succeeded (1) or kept the previous configuration (0).
# TYPE ece_exporter_config_last_reload_successful gauge
ece_exporter_config_last_reload_successful 0
`), "ece_exporter_config_last_reload_successful"))
}

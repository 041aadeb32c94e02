package collector

import (
	"context"
	"flag"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

var soak = flag.Duration("soak", 0, "run the soak test this long (make soak: 10m); 0 runs the short CI version")

// TestSoak polls every second with random faults and concurrent scrapes,
// samples heap and goroutines, and fails if they grow without bound.
func TestSoak(t *testing.T) {
	d := *soak
	if d == 0 {
		d = 12 * time.Second
		if testing.Short() {
			t.Skip("short mode; the short soak runs in make test")
		}
	}
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 81, Organizations: 2, DeploymentsPerOrg: 20, Now: testNow}))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	cfg := config.DefaultConfig
	second := config.NewDuration(time.Second) // below the configurable minimums on purpose
	cfg.Collectors = config.Collectors{
		deploymentsName:    IntervalOptions{Interval: second},
		billingName:        withOptions(billingName, func(o *BillingOptions) { o.Interval = second }),
		billingChartsName:  withOptions(billingChartsName, func(o *BillingChartsOptions) { o.Interval = second }),
		remoteClustersName: withOptions(remoteClustersName, func(o *RemoteClustersOptions) { o.Interval = second }),
		apiKeysName:        withOptions(apiKeysName, func(o *APIKeysOptions) { o.Interval = second }),
	}
	cfg.HTTP.Timeout = 2 * time.Second
	cfg.Accounts = []config.Account{{Name: "soak", Platform: config.PlatformESS, URL: srv.URL, Credentials: config.Credentials{APIKey: "sim-api-key"}}}
	reg := prometheus.NewRegistry()
	m, err := NewManager(Options{Registerer: reg, Enabled: DefaultEnabled(), Now: testNow,
		ClientOptions: []eceapi.Option{eceapi.WithBackoff(10*time.Millisecond, 50*time.Millisecond, time.Second), eceapi.WithMaxRetries(1)}})
	require.NoError(t, err)
	require.NoError(t, m.Apply(&cfg))
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()

	faults := []ecesim.Fault{{Status: 500}, {Status: 429, Headers: map[string]string{"Retry-After": "1"}}, {Status: 502, HTMLBody: true},
		{Truncate: true}, {Latency: 300 * time.Millisecond}, {Hang: true}, {Body: []byte("null")}, {ResetConn: true}}
	ops := []string{"list-deployments", "get-costs-deployments", "get-costs-charts", "get-deployment-es-resource-remote-clusters", "get-api-keys", "*"}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // chaos
		defer wg.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for ctx.Err() == nil {
			sim.ClearFaults()
			if r.IntN(3) > 0 {
				sim.SetFault(ops[r.IntN(len(ops))], faults[r.IntN(len(faults))])
			}
			if r.IntN(4) == 0 { // ID churn: a deployment replaced by a new one
				sim.ChurnDeployments(1)
			}
			sleep(ctx, 700*time.Millisecond)
		}
		sim.ClearFaults()
	}()
	// Concurrent scrapes through /metrics as main.go serves it, one in the
	// text format and one in protobuf (the encoders share the snapshots).
	handler := promhttp.HandlerFor(m.Gatherer(reg), promhttp.HandlerOpts{})
	accept := []string{"text/plain", `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`}
	scrapes := make([]int, 2)
	for i := 0; i < 2; i++ {
		go func(i int) {
			defer wg.Done()
			for ctx.Err() == nil {
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				req.Header.Set("Accept", accept[i])
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				scrapes[i]++
				sleep(ctx, 50*time.Millisecond)
			}
		}(i)
	}

	type sample struct {
		at         time.Duration
		heap       uint64
		goroutines int
	}
	var samples []sample
	start := time.Now()
	every := d / 12
	for ctx.Err() == nil {
		sleep(ctx, every)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		samples = append(samples, sample{time.Since(start).Round(time.Second), ms.HeapInuse, runtime.NumGoroutine()})
	}
	wg.Wait()
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer stopCancel()
	m.Stop(stopCtx)

	for _, s := range samples {
		t.Logf("soak t=%-5s heap_inuse=%6.1f MiB goroutines=%d", s.at, float64(s.heap)/(1<<20), s.goroutines)
	}
	t.Logf("soak: %s, %d upstream requests, %d scrapes", d, sim.TotalRequests(), scrapes[0]+scrapes[1])
	require.GreaterOrEqual(t, len(samples), 6)
	half := samples[:len(samples)/2]
	var maxHeap uint64
	maxG := 0
	for _, s := range half {
		maxHeap = max(maxHeap, s.heap)
		maxG = max(maxG, s.goroutines)
	}
	last := samples[len(samples)-1]
	assert.LessOrEqual(t, last.heap, maxHeap*3/2+8<<20, "heap grows without bound")
	assert.LessOrEqual(t, last.goroutines, maxG+40, "goroutines grow without bound")
	assert.Greater(t, sim.TotalRequests(), int(d/time.Second), "polls kept going")
}

// Command benchharness prints the performance figures of ece_exporter at
// scale (make bench): for 50, 500 and 5,000 simulated deployments it runs
// the real collectors against a simulator in a child process (with 20 ms of
// injected upstream latency) and reports one poll cycle's wall time and API
// calls, scrape latency p50/p99 over repeated scrapes, bytes and series per
// scrape, allocations per scrape, RSS and Go heap, and the same scrape
// figures for "the limit": a registry serving identical pre-built const
// metrics through promhttp.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
	"github.com/ece-exporter/ece_exporter/internal/exposition"
)

func main() {
	simN := flag.Int("sim", 0, "internal: run only a simulator with this many deployments and print its URL")
	sizes := flag.String("sizes", "50,500,5000", "deployment counts")
	scrapes := flag.Int("scrapes", 200, "scrapes per measurement")
	latency := flag.Duration("latency", 20*time.Millisecond, "injected upstream latency")
	flag.StringVar(&accept, "accept", "", `Accept header of the scrapes (e.g. Prometheus 3's protobuf-first list; default none: text)`)
	flag.StringVar(&acceptEncoding, "accept-encoding", "", `Accept-Encoding of the scrapes ("gzip", as Prometheus sends; default none)`)
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of our scrapes (the last size) to this file")
	flag.StringVar(&heapProfile, "heapprofile", "", "write a heap profile after warm-up (the last size) to this file")
	flag.StringVar(&without, "without", "", "comma-separated default collectors to leave off (before/after figures in one run)")
	flag.Parse()
	if *simN > 0 {
		runSim(*simN, *latency)
		return
	}
	fmt.Printf("%-6s %-8s %-7s %-9s %-8s %-10s %-10s %-10s %-10s %-7s %-11s %-9s %-9s %-8s\n",
		"deps", "series", "bytes", "calls", "inflight", "cycle", "p50", "p99", "limit_p99", "ratio", "allocs/scr", "rss_MiB", "heap_MiB", "expected")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := measure(n, *scrapes, *latency); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

var cpuProfile, heapProfile, accept, acceptEncoding, without string

// enabled is the default collectors minus -without.
func enabled() []string {
	var out []string
	for _, c := range collector.DefaultEnabled() {
		if !slices.Contains(strings.Split(without, ","), c) {
			out = append(out, c)
		}
	}
	return out
}

func runSim(n int, latency time.Duration) {
	sim := ecesim.New(ecesim.Options{Seed: 1, DeploymentsPerOrg: n, RemoteClustersPerES: 2, APIKeys: 20})
	sim.SetFault("*", ecesim.Fault{Latency: latency})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	fmt.Println(srv.URL)
	// Serve until the parent closes stdin; then print the request count.
	_, _ = io.Copy(io.Discard, os.Stdin)
	fmt.Fprintln(os.Stderr, "max_in_flight", sim.MaxInFlight(), "total", sim.TotalRequests())
}

func measure(n, scrapes int, latency time.Duration) error {
	cmd := exec.Command(os.Args[0], "-sim", strconv.Itoa(n), "-latency", latency.String())
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	url = strings.TrimSpace(url)

	cfg := config.DefaultConfig
	cfg.HTTP.MaxInFlight = 16
	cfg.HTTP.MaxRetries = 0
	billing := cfg.Collectors.Options("billing").(collector.BillingOptions)
	billing.Concurrency = 8
	remote := cfg.Collectors.Options("remote_clusters").(collector.RemoteClustersOptions)
	remote.Concurrency = 8
	cfg.Collectors = cfg.Collectors.With("billing", billing).With("remote_clusters", remote)
	cfg.Accounts = []config.Account{{Name: "bench", Platform: config.PlatformESS, URL: url, Credentials: config.Credentials{APIKey: "sim-api-key"}}}
	reg := prometheus.NewRegistry()
	m, err := collector.NewManager(collector.Options{Registerer: reg, Enabled: enabled()})
	if err != nil {
		return err
	}
	start := time.Now()
	if err := m.Apply(&cfg); err != nil {
		return err
	}
	for !m.Ready() {
		time.Sleep(5 * time.Millisecond)
	}
	cycle := time.Since(start)
	_ = stdin.Close()
	_ = cmd.Wait()
	var inflight, calls int
	if _, err := fmt.Sscanf(strings.TrimSpace(stderr.String()), "max_in_flight %d total %d", &inflight, &calls); err != nil {
		return fmt.Errorf("simulator counters: %w (stderr: %q)", err, stderr.String())
	}

	// The same gatherer as main.go's /metrics.
	ours, err := exposition.Handler(m.Gatherer(reg), promhttp.HandlerOpts{})
	if err != nil {
		return err
	}
	stopProfile := func() {}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return err
		}
		stopProfile = func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}
	}
	p50, p99, bytes, allocs := scrapeStats(ours, scrapes)
	stopProfile()
	if heapProfile != "" {
		f, err := os.Create(heapProfile)
		if err != nil {
			return err
		}
		runtime.GC()
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	mfs, err := m.Gatherer(reg).Gather()
	if err != nil {
		return err
	}
	series := 0
	for _, mf := range mfs {
		series += len(mf.GetMetric())
	}
	// Memory of the exporter alone, before the comparison registry exists.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := rssMiB()
	limitReg := prometheus.NewRegistry()
	limitReg.MustRegister(constCollector(mfs))
	_, lp99, _, _ := scrapeStats(promhttp.HandlerFor(limitReg, promhttp.HandlerOpts{}), scrapes)

	// README's formula: list, organizations, 3 per organization, items and
	// remote clusters per deployment, keys; then the deployment_health walk
	// (250 per page, at least one) and the stack versions call.
	expected := 1 + 1 + 3 + n + n + 1
	if on := enabled(); slices.Contains(on, "deployment_health") {
		expected += max(1, (n+249)/250)
	}
	if slices.Contains(enabled(), "stack_versions") {
		expected++
	}
	fmt.Printf("%-6d %-8d %-7s %-9d %-8d %-10s %-10s %-10s %-10s %-7.2f %-11d %-9.1f %-9.1f %-8d\n",
		n, series, humanBytes(bytes), calls, inflight, cycle.Round(time.Millisecond), p50.Round(time.Microsecond), p99.Round(time.Microsecond),
		lp99.Round(time.Microsecond), float64(p99)/float64(lp99), allocs, rss, float64(ms.HeapInuse)/(1<<20), expected)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m.Stop(ctx)
	return nil
}

// scrapeStats scrapes h repeatedly in-process and returns latency
// percentiles, bytes per scrape and allocations per scrape.
func scrapeStats(h http.Handler, n int) (p50, p99 time.Duration, bytes int, allocs uint64) {
	lat := make([]time.Duration, 0, n)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		rec := &countingWriter{header: http.Header{}}
		start := time.Now()
		h.ServeHTTP(rec, req)
		lat = append(lat, time.Since(start))
		bytes = rec.n
	}
	runtime.ReadMemStats(&after)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[n/2], lat[n*99/100], bytes, (after.Mallocs - before.Mallocs) / uint64(n)
}

// countingWriter is a ResponseWriter that counts and discards the body, as
// a socket would take it: the harness measures the exporter, not a buffer
// holding a copy of every scrape.
type countingWriter struct {
	header http.Header
	n      int
}

func (w *countingWriter) Header() http.Header         { return w.header }
func (w *countingWriter) WriteHeader(int)             {}
func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// constCollector serves the gathered families as pre-built const metrics:
// the fastest a registry can serve the same series.
func constCollector(mfs []*dto.MetricFamily) prometheus.Collector {
	var metrics []prometheus.Metric
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var names, values []string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
				values = append(values, l.GetValue())
			}
			desc := prometheus.NewDesc(mf.GetName(), mf.GetHelp(), names, nil)
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				metrics = append(metrics, prometheus.MustNewConstMetric(desc, prometheus.CounterValue, m.GetCounter().GetValue(), values...))
			case dto.MetricType_HISTOGRAM:
				b := map[float64]uint64{}
				for _, bk := range m.GetHistogram().GetBucket() {
					b[bk.GetUpperBound()] = bk.GetCumulativeCount()
				}
				metrics = append(metrics, prometheus.MustNewConstHistogram(desc, m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum(), b, values...))
			default:
				metrics = append(metrics, prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, m.GetGauge().GetValue(), values...))
			}
		}
	}
	return prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) {
		for _, m := range metrics {
			ch <- m
		}
	})
}

func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

func humanBytes(n int) string {
	if n > 1<<20 {
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.0fK", float64(n)/1024)
}

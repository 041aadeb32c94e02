// Command benchharness prints the performance figures of ece_exporter at
// scale (make bench): for 50, 500 and 5,000 simulated deployments it runs
// the real collectors against a simulator in a child process (with 20 ms of
// injected upstream latency) and reports one poll cycle's wall time and API
// calls, scrape latency p50/p99 over repeated scrapes, bytes and series per
// scrape, allocations per scrape, RSS and Go heap, and the same scrape
// figures for "the limit": an HTTP handler that writes one pre-built byte
// slice identical to our answer (same headers, same body, per format and
// encoding), served over loopback exactly as ours is. Nothing can answer the
// same scrape faster over the same connection, so ours/limit is the factor
// left to gain.
//
// Every scrape, ours and the limit's, is a real HTTP request over a
// keep-alive loopback connection, its body read to the end by a client in
// this process. CPU per scrape is this process's user+system CPU time over
// the scrape loop divided by the scrapes, so it includes the client's reads
// (the same for ours and the limit: the limit's CPU is that floor).
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
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
	flag.StringVar(&accept, "accept", "", `Accept header of the scrapes (e.g. Prometheus 3's protobuf-first list); with it or -accept-encoding, only this one variant is measured instead of -variants`)
	flag.StringVar(&acceptEncoding, "accept-encoding", "", `Accept-Encoding of the -accept scrapes ("gzip", as Prometheus sends; default none)`)
	flag.StringVar(&variantList, "variants", "text,text+gzip,openmetrics,openmetrics+gzip,protobuf,protobuf+gzip", "formats and encodings measured, each against its limit: "+strings.Join(variantNames(), ", "))
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of our scrapes (the last size) to this file")
	flag.StringVar(&heapProfile, "heapprofile", "", "write a heap profile after warm-up (the last size) to this file")
	flag.StringVar(&without, "without", "", "comma-separated default collectors to leave off (before/after figures in one run)")
	flag.Parse()
	if *simN > 0 {
		runSim(*simN, *latency)
		return
	}
	vs, err := chosenVariants()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("%-6s %-8s %-9s %-8s %-10s %-9s %-18s %-8s %-9s %-9s %-9s %-9s %-9s %-9s %-6s %-6s %-11s %-8s %-8s\n",
		"deps", "series", "calls", "expected", "inflight", "cycle", "variant", "bytes",
		"p50", "p99", "cpu/scr", "lim_p50", "lim_p99", "lim_cpu", "r_p99", "r_cpu", "allocs/scr", "rss_MiB", "heap_MiB")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := measure(n, *scrapes, *latency, vs); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

var cpuProfile, heapProfile, accept, acceptEncoding, without, variantList string

// variant is one way Prometheus scrapes: an Accept header (the format) and
// an Accept-Encoding.
type variant struct {
	name, accept, acceptEncoding string
	// wantType is the start of the Content-Type the answer must carry: a
	// harness that measured text while claiming protobuf would mislead.
	wantType string
}

// Accept headers as the scrapers send them: Prometheus 2's default list
// (OpenMetrics first), a scrape config asking for the 0.0.4 text, and
// Prometheus 3 with protobuf first (scrape_protocols: [PrometheusProto, …]).
const (
	acceptText        = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
	acceptOpenMetrics = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	acceptProtobuf    = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=1,application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
)

var allVariants = []variant{
	{"text", acceptText, "", "text/plain"},
	{"text+gzip", acceptText, "gzip", "text/plain"},
	{"openmetrics", acceptOpenMetrics, "", "application/openmetrics-text"},
	{"openmetrics+gzip", acceptOpenMetrics, "gzip", "application/openmetrics-text"},
	{"protobuf", acceptProtobuf, "", "application/vnd.google.protobuf"},
	{"protobuf+gzip", acceptProtobuf, "gzip", "application/vnd.google.protobuf"},
}

func variantNames() []string {
	var out []string
	for _, v := range allVariants {
		out = append(out, v.name)
	}
	return out
}

func chosenVariants() ([]variant, error) {
	if accept != "" || acceptEncoding != "" {
		return []variant{{name: "custom", accept: accept, acceptEncoding: acceptEncoding}}, nil
	}
	var out []variant
	for _, name := range strings.Split(variantList, ",") {
		i := slices.IndexFunc(allVariants, func(v variant) bool { return v.name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, fmt.Errorf("unknown variant %q (known: %s)", name, strings.Join(variantNames(), ", "))
		}
		out = append(out, allVariants[i])
	}
	return out, nil
}

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

func measure(n, scrapes int, latency time.Duration, vs []variant) error {
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

	// The same gatherer and handler as main.go's /metrics, over loopback.
	ours, err := m.Handler(reg, exposition.Options{})
	if err != nil {
		return err
	}
	oursSrv := httptest.NewServer(ours)
	defer oursSrv.Close()
	client := newClient()
	defer client.CloseIdleConnections()
	// Warm-up: one scrape per variant, its answer checked.
	for _, v := range vs {
		a, err := fetch(client, oursSrv.URL, v)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(a.header.Get("Content-Type"), v.wantType) {
			return fmt.Errorf("%s: answered Content-Type %q, want %s", v.name, a.header.Get("Content-Type"), v.wantType)
		}
		if v.acceptEncoding == "gzip" && a.header.Get("Content-Encoding") != "gzip" {
			return fmt.Errorf("%s: answer not gzip-encoded", v.name)
		}
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
	oursStats := make([]stats, len(vs))
	for i, v := range vs {
		if oursStats[i], err = scrapeStats(client, oursSrv.URL, v, scrapes); err != nil {
			return err
		}
	}
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
	// Memory of the exporter alone, before any limit's copy of an answer
	// exists.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := rssMiB()

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

	for i, v := range vs {
		// The limit: our answer to this very request, captured once, then
		// written from memory with the same headers.
		a, err := fetch(client, oursSrv.URL, v)
		if err != nil {
			return err
		}
		limitSrv := httptest.NewServer(fixedAnswer(a))
		lim, err := scrapeStats(client, limitSrv.URL, v, scrapes)
		limitSrv.Close()
		if err != nil {
			return err
		}
		o := oursStats[i]
		if d := lim.bytes - o.bytes; v.acceptEncoding == "" && (d > o.bytes/100 || -d > o.bytes/100) {
			// Identity answers differ between scrapes only by the live
			// self-metrics (request counters, durations; the pollers
			// keep running): more than 1% means the limit is not
			// serving what we serve.
			return fmt.Errorf("%s: limit answered %d bytes, ours %d", v.name, lim.bytes, o.bytes)
		}
		fmt.Printf("%-6d %-8d %-9d %-8d %-10d %-9s %-18s %-8s %-9s %-9s %-9s %-9s %-9s %-9s %-6.2f %-6.2f %-11d %-8.1f %-8.1f\n",
			n, series, calls, expected, inflight, cycle.Round(time.Millisecond), v.name, humanBytes(o.bytes),
			ms3(o.p50), ms3(o.p99), ms3(o.cpu), ms3(lim.p50), ms3(lim.p99), ms3(lim.cpu),
			float64(o.p99)/float64(lim.p99), float64(o.cpu)/float64(max(lim.cpu, time.Microsecond)),
			o.allocs, rss, float64(ms.HeapInuse)/(1<<20))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m.Stop(ctx)
	return nil
}

// newClient is a scraper over one keep-alive loopback connection at a time:
// it asks for what the variant says and never decompresses (Prometheus
// decompresses too, but the figures are the server's: bytes on the wire).
func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: 1,
		ForceAttemptHTTP2:   false,
	}, Timeout: 30 * time.Second}
}

type answer struct {
	header http.Header
	body   []byte
}

// fetch scrapes url once and keeps the whole answer.
func fetch(c *http.Client, url string, v variant) (answer, error) {
	resp, err := c.Do(newRequest(url, v))
	if err != nil {
		return answer{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return answer{}, fmt.Errorf("%s: status %d", v.name, resp.StatusCode)
	}
	return answer{header: resp.Header, body: body}, nil
}

func newRequest(url string, v variant) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	if v.accept != "" {
		req.Header.Set("Accept", v.accept)
	}
	if v.acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", v.acceptEncoding)
	}
	return req
}

// fixedAnswer is the physical limit: one pre-built byte slice, the headers
// that came with it, one Write.
func fixedAnswer(a answer) http.Handler {
	h := http.Header{}
	for _, k := range []string{"Content-Type", "Content-Encoding", "Vary"} {
		if v := a.header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range h {
			w.Header()[k] = v
		}
		_, _ = w.Write(a.body)
	})
}

type stats struct {
	p50, p99, cpu time.Duration
	bytes         int
	allocs        uint64
}

// scrapeStats scrapes url n times over loopback, reading each body to the
// end, and returns latency percentiles (request sent to last byte read),
// CPU per scrape, bytes per scrape (as sent: compressed when gzip) and
// allocations per scrape (the whole process: server and client).
func scrapeStats(c *http.Client, url string, v variant, n int) (stats, error) {
	lat := make([]time.Duration, 0, n)
	var before, after runtime.MemStats
	var st stats
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	for i := 0; i < n; i++ {
		start := time.Now()
		resp, err := c.Do(newRequest(url, v))
		if err != nil {
			return st, err
		}
		nb, err := io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return st, err
		}
		lat = append(lat, time.Since(start))
		st.bytes = int(nb)
	}
	st.cpu = (cpuTime() - cpu0) / time.Duration(n)
	runtime.ReadMemStats(&after)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	st.p50, st.p99 = lat[n/2], lat[n*99/100]
	st.allocs = (after.Mallocs - before.Mallocs) / uint64(n)
	return st, nil
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms3(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
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

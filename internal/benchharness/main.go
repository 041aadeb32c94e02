// Command benchharness prints the performance figures of ece_exporter at
// scale (make bench): for each size (50, 500, 5,000, 20,000 simulated
// deployments), unsharded or as each shard of -total-shards, it runs the
// real collectors against a simulator in a child process (with 20 ms of
// injected upstream latency) and reports the first poll cycle's wall time
// and API calls beside README's formula, the collectors whose poll failed,
// the poll build time per 100k series and per collector, series, RSS and
// Go heap, and per variant (format and encoding) the bytes per scrape
// (as sent and decoded), scrape latency p50/p99, CPU and allocations per
// scrape, the scrapes that timed out, and the same scrape figures for "the
// limit": an HTTP handler that writes one pre-built byte slice identical to
// our answer (same headers, same body), served over loopback exactly as
// ours is. Nothing can answer the same scrape faster over the same
// connection, so ours/limit is the factor left to gain. Where issue 19's
// targets apply (5,000 deployments per replica), each variant gets a
// PASS/MISS line computed from the same run; a MISS never fails the run.
//
// Every scrape, ours and the limit's, is a real HTTP request over a
// keep-alive loopback connection, its body read to the end by a client in
// this process with a 30 s timeout. CPU per scrape is this process's
// user+system CPU time over the scrape loop divided by the scrapes, so it
// includes the client's reads (the same for ours and the limit: the limit's
// CPU is that floor).
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
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
	scrapesLarge := flag.Int("scrapes-large", 10, fmt.Sprintf("scrapes per measurement for sizes of %d deployments and more", largeSize))
	latency := flag.Duration("latency", 20*time.Millisecond, "injected upstream latency")
	totalShards := flag.Int("total-shards", 1, "run the exporter as each shard of this many (as --shard/--total-shards), one after another, and report every shard")
	shardList := flag.String("shards", "", "with -total-shards: only these shards (comma-separated; default all)")
	simShard := flag.Int("sim-shard", 0, "internal: with -sim, count the deployments this shard owns")
	markdown := flag.Bool("markdown", false, "print the figures as Markdown tables on stdout at the end (the text goes to stderr as it comes)")
	flag.StringVar(&accept, "accept", "", `Accept header of the scrapes (e.g. Prometheus 3's protobuf-first list); with it or -accept-encoding, only this one variant is measured instead of -variants`)
	flag.StringVar(&acceptEncoding, "accept-encoding", "", `Accept-Encoding of the -accept scrapes ("gzip", as Prometheus sends; default none)`)
	flag.StringVar(&variantList, "variants", "text,text+gzip,openmetrics,openmetrics+gzip,protobuf,protobuf+gzip", "formats and encodings measured, each against its limit: "+strings.Join(variantNames(), ", "))
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of our scrapes (the last size) to this file")
	flag.StringVar(&heapProfile, "heapprofile", "", "write a heap profile after warm-up (the last size) to this file")
	flag.StringVar(&without, "without", "", "comma-separated default collectors to leave off (before/after figures in one run)")
	flag.Parse()
	if *simN > 0 {
		runSim(*simN, *latency, *simShard, *totalShards)
		return
	}
	vs, err := chosenVariants()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "-sizes: %q is not a deployment count\n", s)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	shards, err := chosenShards(*totalShards, *shardList)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	run := runInfo{scrapes: *scrapes, scrapesLarge: *scrapesLarge, totalShards: *totalShards, shards: shards, latency: *latency, timeout: scrapeTimeout, cores: runtime.NumCPU()}
	// With -markdown, the text goes to stderr as the run goes on (progress,
	// and the same figures) and the tables to stdout at the end.
	progress := os.Stdout
	if *markdown {
		progress = os.Stderr
	}
	_, _ = fmt.Fprint(progress, run.header())
	var results []result
	for _, n := range ns {
		for _, k := range shards {
			r, err := measure(n, k, *totalShards, run.scrapesFor(n), *latency, vs)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
				os.Exit(1)
			}
			results = append(results, r)
			_, _ = fmt.Fprint(progress, r.text())
		}
	}
	if *markdown {
		fmt.Print(renderMarkdown(run, results))
	}
}

// largeSize is where -scrapes-large replaces -scrapes: a scrape of 20,000
// deployments takes seconds.
const largeSize = 10000

// scrapeTimeout is the scraper's timeout, Prometheus's largest sane
// scrape_timeout: a scrape slower than this counts as a timeout.
const scrapeTimeout = 30 * time.Second

// chosenShards is the shards -total-shards and -shards ask for.
func chosenShards(total int, list string) ([]int, error) {
	if total < 1 {
		return nil, fmt.Errorf("-total-shards=%d: must be at least 1", total)
	}
	if list == "" {
		out := make([]int, total)
		for k := range out {
			out[k] = k
		}
		return out, nil
	}
	var out []int
	for _, s := range strings.Split(list, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || k < 0 || k >= total {
			return nil, fmt.Errorf("-shards: %q is not a shard of -total-shards=%d", s, total)
		}
		out = append(out, k)
	}
	return out, nil
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

func runSim(n int, latency time.Duration, shard, total int) {
	sim := ecesim.New(ecesim.Options{Seed: 1, DeploymentsPerOrg: n, RemoteClustersPerES: 2, APIKeys: 20})
	sim.SetFault("*", ecesim.Fault{Latency: latency})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	owned := n
	if total > 1 {
		sh, err := collector.NewHashSharder(shard, total)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		owned = 0
		for _, d := range sim.Deployments() {
			if sh.OwnsDeployment(d.ID) {
				owned++
			}
		}
	}
	fmt.Println(srv.URL)
	fmt.Println("owned", owned)
	// Serve until the parent closes stdin; then print the request counts.
	_, _ = io.Copy(io.Discard, os.Stdin)
	counts := sim.RequestCounts()
	ops := make([]string, 0, len(counts))
	for op, c := range counts {
		ops = append(ops, op+"="+strconv.Itoa(c))
	}
	sort.Strings(ops)
	fmt.Fprintln(os.Stderr, "max_in_flight", sim.MaxInFlight(), "total", sim.TotalRequests())
	fmt.Fprintln(os.Stderr, strings.Join(ops, " "))
}

// oursHandler is our /metrics handler, built as main.go builds it.
func oursHandler(m *collector.Manager, reg *prometheus.Registry) (http.Handler, error) {
	return m.Handler(reg, exposition.Options{})
}

// measure runs the exporter as shard k of total (1: unsharded) against a
// simulator of n deployments and measures every variant, ours and the
// limit's. A scrape that times out is counted, not fatal.
func measure(n, shard, total, scrapes int, latency time.Duration, vs []variant) (result, error) {
	res := result{deployments: n, shard: shard, totalShards: total, scrapes: scrapes}
	// The previous measurement's memory goes back to the OS before this
	// one's RSS is read.
	debug.FreeOSMemory()
	cmd := exec.Command(os.Args[0], "-sim", strconv.Itoa(n), "-latency", latency.String(), "-sim-shard", strconv.Itoa(shard), "-total-shards", strconv.Itoa(total))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return res, err
	}
	out := bufio.NewReader(stdout)
	url, err := out.ReadString('\n')
	if err != nil {
		return res, fmt.Errorf("simulator: %w (stderr: %q)", err, stderr.String())
	}
	url = strings.TrimSpace(url)
	line, err := out.ReadString('\n')
	if err != nil {
		return res, fmt.Errorf("simulator: %w", err)
	}
	if _, err := fmt.Sscanf(line, "owned %d", &res.owned); err != nil {
		return res, fmt.Errorf("simulator owned count %q: %w", line, err)
	}

	cfg := benchConfig(url)
	// As main.go: --shard and --total-shards make the Sharder.
	sharder, err := collector.NewHashSharder(shard, total)
	if err != nil {
		return res, err
	}
	reg := prometheus.NewRegistry()
	m, err := collector.NewManager(collector.Options{Registerer: reg, Enabled: enabled(), Sharder: sharder})
	if err != nil {
		return res, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m.Stop(ctx)
	}()
	start := time.Now()
	if err := m.Apply(&cfg); err != nil {
		return res, err
	}
	for !m.Ready() {
		time.Sleep(5 * time.Millisecond)
	}
	res.cycle = time.Since(start)
	res.snapshots = m.SnapshotStats()
	_ = stdin.Close()
	_ = cmd.Wait()
	lines := strings.SplitN(strings.TrimSpace(stderr.String()), "\n", 2)
	if _, err := fmt.Sscanf(lines[0], "max_in_flight %d total %d", &res.inflight, &res.calls); err != nil || len(lines) < 2 {
		return res, fmt.Errorf("simulator counters: %v (stderr: %q)", err, stderr.String())
	}
	res.callsByOp = lines[1]
	res.expected = expectedCalls(n, res.owned, sharder.OwnsOrganization(), enabled())

	// The same gatherer and handler as main.go's /metrics, over loopback.
	ours, err := oursHandler(m, reg)
	if err != nil {
		return res, err
	}
	oursSrv := httptest.NewServer(ours)
	defer oursSrv.Close()
	client := newClient(scrapeTimeout)
	defer client.CloseIdleConnections()
	res.rows = make([]row, len(vs))
	for i, v := range vs {
		res.rows[i].variant = v
	}
	if err := warmUp(client, oursSrv.URL, res.rows); err != nil {
		return res, err
	}
	stopProfile := func() {}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return res, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return res, err
		}
		stopProfile = func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}
	}
	for i, v := range vs {
		st, err := scrapeStats(client, oursSrv.URL, v, scrapes)
		if err != nil {
			return res, err
		}
		st.timeouts += res.rows[i].ours.timeouts
		res.rows[i].ours = st
	}
	stopProfile()
	if heapProfile != "" {
		f, err := os.Create(heapProfile)
		if err != nil {
			return res, err
		}
		runtime.GC()
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return res, err
		}
	}
	mfs, err := m.Gatherer(reg).Gather()
	if err != nil {
		return res, err
	}
	for _, mf := range mfs {
		res.series += len(mf.GetMetric())
	}
	res.failed = failedCollectors(mfs)
	// Memory of the exporter alone, before any limit's copy of an answer
	// exists.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.rssMiB = rssMiB()
	res.heapMiB = float64(ms.HeapInuse) / (1 << 20)

	for i, v := range vs {
		r := &res.rows[i]
		// The limit: our answer to this very request, captured once, then
		// written from memory with the same headers.
		a, err := capture(client, oursSrv.URL, v, &r.ours.timeouts)
		if err != nil {
			return res, err
		}
		if a.body == nil {
			r.limitErr = "our answer timed out 3 times"
			continue
		}
		if r.identityBytes, err = a.identitySize(); err != nil {
			return res, fmt.Errorf("%s: %w", v.name, err)
		}
		limitSrv := httptest.NewServer(fixedAnswer(a))
		lim, err := scrapeStats(client, limitSrv.URL, v, scrapes)
		limitSrv.Close()
		if err != nil {
			return res, err
		}
		r.limit = lim
		o := r.ours
		if d := lim.bytes - o.bytes; v.acceptEncoding == "" && o.bytes > 0 && lim.bytes > 0 && (d > o.bytes/100 || -d > o.bytes/100) {
			// Identity answers differ between scrapes only by the live
			// self-metrics (request counters, durations; the pollers
			// keep running): more than 1% means the limit is not
			// serving what we serve.
			return res, fmt.Errorf("%s: limit answered %d bytes, ours %d", v.name, lim.bytes, o.bytes)
		}
	}
	return res, nil
}

// warmUpScrapes is how many scrapes of each variant precede the measured
// ones: a format and encoding is kept encoded only once asked for twice
// (exposition.Wants), so that with one the first measured scrape of an
// identity variant would encode and keep its body (over 100 ms at 5,000
// deployments, the p99 of 50 scrapes) where a scraper's steady state
// serves the body the poll encoded.
const warmUpScrapes = 2

// warmUp scrapes each row's variant warmUpScrapes times, checking its
// answers; a timeout is counted in the row.
func warmUp(c *http.Client, url string, rows []row) error {
	for i := range rows {
		v := rows[i].variant
		for range warmUpScrapes {
			a, err := fetch(c, url, v)
			if isTimeout(err) {
				rows[i].ours.timeouts++
				continue
			}
			if err != nil {
				return err
			}
			if err := a.check(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// benchConfig is the exporter's configuration in the bench: the defaults,
// one ESS account at url, 16 requests in flight, no retries.
func benchConfig(url string) config.Config {
	cfg := config.DefaultConfig
	cfg.HTTP.MaxInFlight = 16
	cfg.HTTP.MaxRetries = 0
	billing := cfg.Collectors.Options("billing").(collector.BillingOptions)
	billing.Concurrency = 8
	remote := cfg.Collectors.Options("remote_clusters").(collector.RemoteClustersOptions)
	remote.Concurrency = 8
	cfg.Collectors = cfg.Collectors.With("billing", billing).With("remote_clusters", remote)
	cfg.Accounts = []config.Account{{Name: "bench", Platform: config.PlatformESS, URL: url, Credentials: config.Credentials{APIKey: "sim-api-key"}}}
	return cfg
}

// expectedCalls is README's formula for the first poll cycle of one shard
// owning owned of the n deployments of one organization (ownsOrg: shard 0,
// or unsharded). Every shard lists the deployments and the organizations,
// walks deployment_health's search over all n (250 per page, until a short
// page: ceil((n+1)/250)) and reads the costs listing (for the items); per
// owned deployment it reads the items and the remote clusters (the
// simulator gives each one Elasticsearch resource). Shard 0 also reads the
// overview, the closed month (overview and costs listing again: the first
// cycle after start-up), the chart, the account, the keys and the stack
// versions.
func expectedCalls(n, owned int, ownsOrg bool, on []string) int {
	const orgs = 1
	has := func(c string) bool { return slices.Contains(on, c) }
	calls := 1 // GET /deployments
	if has("billing") || has("billing_charts") {
		calls++ // organizations
	}
	if has("billing") {
		calls += orgs + owned // costs listing, items
		if ownsOrg {
			calls += orgs * 3 // overview, closed month's overview and listing
		}
	}
	if has("remote_clusters") {
		calls += owned
	}
	if has("deployment_health") {
		calls += (n + 1 + 249) / 250
	}
	if ownsOrg {
		for _, c := range []string{"billing_charts", "account", "api_keys", "stack_versions"} {
			if has(c) {
				calls++
			}
		}
	}
	return calls
}

// capture fetches our answer to v for the limit to serve, trying again
// after a timeout (counted in timeouts); a nil body after three.
func capture(c *http.Client, url string, v variant, timeouts *int) (answer, error) {
	for range 3 {
		a, err := fetch(c, url, v)
		if isTimeout(err) {
			*timeouts++
			continue
		}
		return a, err
	}
	return answer{}, nil
}

// isTimeout reports whether err is the client's timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout())
}

// newClient is a scraper over one keep-alive loopback connection at a time:
// it asks for what the variant says and never decompresses (Prometheus
// decompresses too, but the figures are the server's: bytes on the wire).
// A scrape slower than timeout fails, as Prometheus's scrape_timeout.
func newClient(timeout time.Duration) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: 1,
		ForceAttemptHTTP2:   false,
	}, Timeout: timeout}
}

type answer struct {
	header http.Header
	body   []byte
}

// check reports an answer that is not the format and encoding v asked for:
// a harness that measured text while claiming protobuf would mislead.
func (a answer) check(v variant) error {
	if !strings.HasPrefix(a.header.Get("Content-Type"), v.wantType) {
		return fmt.Errorf("%s: answered Content-Type %q, want %s", v.name, a.header.Get("Content-Type"), v.wantType)
	}
	if v.acceptEncoding == "gzip" && a.header.Get("Content-Encoding") != "gzip" {
		return fmt.Errorf("%s: answer not gzip-encoded", v.name)
	}
	return nil
}

// identitySize is the size of the answer's body decoded: the bytes an
// identity scrape of the same answer would carry.
func (a answer) identitySize() (int, error) {
	switch enc := a.header.Get("Content-Encoding"); enc {
	case "", "identity":
		return len(a.body), nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(a.body))
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(io.Discard, zr)
		return int(n), err
	default:
		return 0, fmt.Errorf("cannot decode Content-Encoding %q", enc)
	}
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
	// scrapes is how many were measured, timeouts how many of ours timed
	// out (measured, warm-up and capture scrapes).
	scrapes, timeouts int
}

// scrapeStats scrapes url n times over loopback, reading each body to the
// end, and returns latency percentiles (request sent to last byte read),
// CPU per scrape, bytes per scrape (as sent: compressed when gzip) and
// allocations per scrape (the whole process: server and client). A scrape
// that times out is counted and enters the percentiles at the time it took
// to fail (the client's timeout): the p99 of a run with timeouts is a lower
// bound. Any other failure is an error.
func scrapeStats(c *http.Client, url string, v variant, n int) (stats, error) {
	lat := make([]time.Duration, 0, n)
	var before, after runtime.MemStats
	st := stats{scrapes: n}
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	for i := 0; i < n; i++ {
		start := time.Now()
		resp, err := c.Do(newRequest(url, v))
		if err == nil {
			var nb int64
			nb, err = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("%s: status %d", v.name, resp.StatusCode)
			}
			if err == nil {
				st.bytes = int(nb)
			}
		}
		switch {
		case isTimeout(err):
			st.timeouts++
		case err != nil:
			return st, err
		}
		lat = append(lat, time.Since(start))
	}
	st.cpu = (cpuTime() - cpu0) / time.Duration(n)
	runtime.ReadMemStats(&after)
	st.p50, st.p99 = percentiles(lat)
	st.allocs = (after.Mallocs - before.Mallocs) / uint64(n)
	return st, nil
}

// percentiles is the p50 and p99 of lat (nearest rank, as the harness has
// always reported: with 20 scrapes p99 is the slowest).
func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	if len(lat) == 0 {
		return 0, 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)*99/100]
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

package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/ece-exporter/ece_exporter/collector"
)

// runInfo is what every measurement of one run shares.
type runInfo struct {
	scrapes, scrapesLarge int
	totalShards           int
	shards                []int
	latency, timeout      time.Duration
	cores                 int
}

// scrapesFor is the scrapes per measurement at n deployments.
func (ri runInfo) scrapesFor(n int) int {
	if n >= largeSize {
		return ri.scrapesLarge
	}
	return ri.scrapes
}

// header says how the figures were measured.
func (ri runInfo) header() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %d scrapes per row (%d at %d deployments and more; p99 is the nearest rank: the slowest scrape when there are fewer than 100); scrape timeout %s; upstream latency %s; %d cores\n",
		ri.scrapes, ri.scrapesLarge, largeSize, ri.timeout, ri.latency, ri.cores)
	if ri.totalShards > 1 {
		fmt.Fprintf(&b, "# every size as shard %s of --total-shards=%d, one after another in this process\n", joinInts(ri.shards), ri.totalShards)
	}
	fmt.Fprintf(&b, "# targets (at %d deployments per replica): ratio ours/limit <= %g for p99 and CPU, p99 <= %s identity / %s gzip, CPU per scrape <= %s, no timeout\n",
		targetDeployments, targetRatio, ms3(targetP99Identity), ms3(targetP99Gzip), ms3(targetCPU))
	return b.String()
}

// result is one measurement: n deployments, the exporter as one shard.
type result struct {
	deployments, shard, totalShards int
	// owned is the deployments this shard owns (all when unsharded).
	owned                             int
	series, calls, expected, inflight int
	// callsByOp is the simulator's "operation=count …" of the cycle.
	callsByOp       string
	cycle           time.Duration
	rssMiB, heapMiB float64
	scrapes         int
	snapshots       []collector.SnapshotStat
	// failed is the collectors whose last poll failed, with the reasons
	// of their errors: a collector missing from a cycle changes every
	// figure above.
	failed []string
	rows   []row
}

// row is one variant's figures, ours and the limit's.
type row struct {
	variant     variant
	ours, limit stats
	// identityBytes is the decoded size of the answer the limit serves
	// (the same as its bytes for an identity answer).
	identityBytes int
	// limitErr says why the limit was not measured.
	limitErr string
}

func (r result) shardName() string {
	if r.totalShards <= 1 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", r.shard, r.totalShards)
}

// ratio is a/b, NaN when b is not measured.
func ratio(a, b time.Duration) float64 {
	if b <= 0 || a <= 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func (r row) p99Ratio() float64 { return ratio(r.ours.p99, r.limit.p99) }

// cpuRatio divides by at least a microsecond: a tiny limit's CPU rounds to
// zero in getrusage.
func (r row) cpuRatio() float64 {
	if r.limit.scrapes == 0 {
		return math.NaN()
	}
	return ratio(r.ours.cpu, max(r.limit.cpu, time.Microsecond))
}

// gzipRatio is the wire bytes over the identity bytes of a gzip answer,
// NaN for an identity one.
func (r row) gzipRatio() float64 {
	if r.variant.acceptEncoding != "gzip" || r.identityBytes == 0 {
		return math.NaN()
	}
	return float64(r.ours.bytes) / float64(r.identityBytes)
}

// buildPer100k is the poll build time per 100,000 series: the seal time of
// every served snapshot over their series.
func buildPer100k(snaps []collector.SnapshotStat) time.Duration {
	var series int
	var build time.Duration
	for _, s := range snaps {
		series += s.Series
		build += s.Build
	}
	if series == 0 {
		return 0
	}
	return time.Duration(float64(build) / float64(series) * 100000)
}

// collectorStat is one collector's snapshots summed over the accounts.
type collectorStat struct {
	collector string
	series    int
	build     time.Duration
}

// byCollector sums the snapshots per collector, the most series first.
func byCollector(snaps []collector.SnapshotStat) []collectorStat {
	var out []collectorStat
	for _, s := range snaps {
		i := slices.IndexFunc(out, func(c collectorStat) bool { return c.collector == s.Collector })
		if i < 0 {
			out = append(out, collectorStat{collector: s.Collector})
			i = len(out) - 1
		}
		out[i].series += s.Series
		out[i].build += s.Build
	}
	slices.SortStableFunc(out, func(a, b collectorStat) int {
		if a.series != b.series {
			return b.series - a.series
		}
		return strings.Compare(a.collector, b.collector)
	})
	return out
}

// failedCollectors reads the self-metrics: each collector whose last poll
// failed (ece_exporter_collector_success 0), with the reasons its errors
// counted ("billing (decode)"), sorted.
func failedCollectors(mfs []*dto.MetricFamily) []string {
	label := func(m *dto.Metric, name string) string {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	reasons := map[string][]string{}
	var failed []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			c := label(m, "collector")
			switch mf.GetName() {
			case "ece_exporter_collector_success":
				if m.GetGauge().GetValue() == 0 && !slices.Contains(failed, c) {
					failed = append(failed, c)
				}
			case "ece_exporter_collector_errors_total":
				if r := label(m, "reason"); m.GetCounter().GetValue() > 0 && !slices.Contains(reasons[c], r) {
					reasons[c] = append(reasons[c], r)
				}
			}
		}
	}
	slices.Sort(failed)
	out := make([]string, len(failed))
	for i, c := range failed {
		out[i] = c
		if rs := reasons[c]; len(rs) > 0 {
			slices.Sort(rs)
			out[i] += " (" + strings.Join(rs, ", ") + ")"
		}
	}
	return out
}

// Issue 19's targets, for one replica of about 5,000 deployments.
const (
	targetDeployments = 5000
	targetRatio       = 2.0
	targetP99Identity = 50 * time.Millisecond
	targetP99Gzip     = 25 * time.Millisecond
	targetCPU         = 10 * time.Millisecond
)

// targetsApply reports whether a result is held to the targets: at least
// 5,000 deployments, at most 5,000 per shard (5,000 unsharded, 20,000 as
// one of 4 shards).
func (r result) targetsApply() bool {
	return r.deployments >= targetDeployments && r.deployments <= targetDeployments*max(1, r.totalShards)
}

// check is one target: the figure, its limit and whether it is met.
type check struct {
	name  string
	value string
	pass  bool
}

func (c check) String() string {
	verdict := "MISS"
	if c.pass {
		verdict = "PASS"
	}
	return c.name + " " + c.value + " " + verdict
}

// targetChecks holds one row to the targets. A figure not measured (a limit
// whose capture timed out) is a MISS.
func targetChecks(r row) []check {
	p99Limit := targetP99Identity
	if r.variant.acceptEncoding == "gzip" {
		p99Limit = targetP99Gzip
	}
	ratioCheck := func(name string, v float64) check {
		return check{name, fmtRatio(v) + " <= " + strconv.FormatFloat(targetRatio, 'g', -1, 64), !math.IsNaN(v) && v <= targetRatio}
	}
	return []check{
		ratioCheck("p99 ratio", r.p99Ratio()),
		ratioCheck("CPU ratio", r.cpuRatio()),
		{"p99", ms3(r.ours.p99) + " <= " + ms3(p99Limit), r.ours.scrapes > 0 && r.ours.p99 <= p99Limit},
		{"CPU/scrape", ms3(r.ours.cpu) + " <= " + ms3(targetCPU), r.ours.scrapes > 0 && r.ours.cpu <= targetCPU},
		{"timeouts", strconv.Itoa(r.ours.timeouts) + " = 0", r.ours.timeouts == 0},
	}
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// textColumns are the per-variant columns of the text output.
const textRow = "%-18s %-8s %-9s %-6s %-9s %-9s %-9s %-9s %-9s %-9s %-6s %-6s %-8s %-11s\n"

// text is one result as it is printed while the run goes on: the size's
// figures, a row per variant, the collectors, and the target checks where
// they apply.
func (r result) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n== %d deployments, shard %s (%d owned): %d series, %d API calls per cycle (expected %d), max %d in flight, poll cycle %s, build %s per 100k series, RSS %.1f MiB, Go heap %.1f MiB, %d scrapes per row\n",
		r.deployments, r.shardName(), r.owned, r.series, r.calls, r.expected, r.inflight, r.cycle.Round(time.Millisecond),
		ms3(buildPer100k(r.snapshots)), r.rssMiB, r.heapMiB, r.scrapes)
	if len(r.failed) > 0 {
		fmt.Fprintf(&b, "   FAILED last poll: %s\n", strings.Join(r.failed, "; "))
	}
	if r.calls != r.expected {
		fmt.Fprintf(&b, "   calls by operation: %s\n", r.callsByOp)
	}
	fmt.Fprintf(&b, textRow, "variant", "bytes", "identity", "gz/id", "p50", "p99", "cpu/scr", "lim_p50", "lim_p99", "lim_cpu", "r_p99", "r_cpu", "timeouts", "allocs/scr")
	for _, w := range r.rows {
		fmt.Fprintf(&b, textRow, w.variant.name, humanBytes(w.ours.bytes), humanBytes(w.identityBytes), fmtRatio(w.gzipRatio()),
			ms3(w.ours.p50), ms3(w.ours.p99), ms3(w.ours.cpu), limitFig(w, w.limit.p50), limitFig(w, w.limit.p99), limitFig(w, w.limit.cpu),
			fmtRatio(w.p99Ratio()), fmtRatio(w.cpuRatio()), strconv.Itoa(w.ours.timeouts), strconv.FormatUint(w.ours.allocs, 10))
		if w.limitErr != "" {
			fmt.Fprintf(&b, "   %s: limit not measured: %s\n", w.variant.name, w.limitErr)
		}
	}
	b.WriteString("   collectors (series, build):")
	for _, c := range byCollector(r.snapshots) {
		fmt.Fprintf(&b, " %s %d %s;", c.collector, c.series, ms3(c.build))
	}
	b.WriteString("\n")
	if r.targetsApply() {
		for _, w := range r.rows {
			var cs []string
			for _, c := range targetChecks(w) {
				cs = append(cs, c.String())
			}
			fmt.Fprintf(&b, "   targets %-18s %s\n", w.variant.name, strings.Join(cs, "; "))
		}
	} else if r.deployments > targetDeployments && r.totalShards <= 1 {
		// One replica beyond the targets' size: it must work.
		timeouts := 0
		for _, w := range r.rows {
			timeouts += w.ours.timeouts
		}
		fmt.Fprintf(&b, "   one replica: %d timeouts at a %s scrape timeout %s, RSS %.1f MiB\n",
			timeouts, scrapeTimeout, passMiss(timeouts == 0), r.rssMiB)
	}
	return b.String()
}

func limitFig(w row, d time.Duration) string {
	if w.limitErr != "" {
		return "n/a"
	}
	return ms3(d)
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// renderMarkdown is the whole run as Markdown tables: the scrapes beside
// the limit, the figures per size and shard, the collectors, the targets.
func renderMarkdown(ri runInfo, rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d scrapes per row (%d at %d deployments and more), scrape timeout %s, upstream latency %s, %d cores.\n\n",
		ri.scrapes, ri.scrapesLarge, largeSize, ri.timeout, ri.latency, ri.cores)
	b.WriteString("| deployments | shard | variant | bytes/scrape | identity bytes | gzip/identity | ours p50 / p99 | ours CPU/scrape | limit p50 / p99 | limit CPU/scrape | p99 ratio | CPU ratio | timeouts |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		for _, w := range r.rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s / %s | %s | %s / %s | %s | %s | %s | %d |\n",
				thousands(r.deployments), r.shardName(), w.variant.name, unitBytes(w.ours.bytes), unitBytes(w.identityBytes), fmtRatio(w.gzipRatio()),
				ms3(w.ours.p50), ms3(w.ours.p99), ms3(w.ours.cpu), limitFig(w, w.limit.p50), limitFig(w, w.limit.p99), limitFig(w, w.limit.cpu),
				fmtRatio(w.p99Ratio()), fmtRatio(w.cpuRatio()), w.ours.timeouts)
		}
	}
	b.WriteString("\n| deployments | shard | owned | series | API calls/cycle (expected) | max in flight | poll cycle | build per 100k series | biggest collector | failed collectors | RSS | Go heap |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		biggest := "-"
		if cs := byCollector(r.snapshots); len(cs) > 0 {
			biggest = fmt.Sprintf("%s (%s series, %s)", cs[0].collector, thousands(cs[0].series), ms3(cs[0].build))
		}
		failed := "none"
		if len(r.failed) > 0 {
			failed = strings.Join(r.failed, "; ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s (%s) | %d | %s | %s | %s | %s | %.1f MiB | %.1f MiB |\n",
			thousands(r.deployments), r.shardName(), thousands(r.owned), thousands(r.series), thousands(r.calls), thousands(r.expected),
			r.inflight, r.cycle.Round(time.Millisecond), ms3(buildPer100k(r.snapshots)), biggest, failed, r.rssMiB, r.heapMiB)
	}
	b.WriteString("\n| deployments | shard | collector | series | build |\n|---|---|---|---|---|\n")
	for _, r := range rs {
		for _, c := range byCollector(r.snapshots) {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", thousands(r.deployments), r.shardName(), c.collector, thousands(c.series), ms3(c.build))
		}
	}
	var targets strings.Builder
	for _, r := range rs {
		if !r.targetsApply() {
			continue
		}
		for _, w := range r.rows {
			cs := targetChecks(w)
			cells := make([]string, len(cs))
			for i, c := range cs {
				cells[i] = c.value + " " + passMiss(c.pass)
			}
			fmt.Fprintf(&targets, "| %s | %s | %s | %s |\n", thousands(r.deployments), r.shardName(), w.variant.name, strings.Join(cells, " | "))
		}
	}
	if targets.Len() > 0 {
		b.WriteString("\n| deployments | shard | variant | p99 ratio | CPU ratio | p99 | CPU/scrape | timeouts |\n|---|---|---|---|---|---|---|---|\n")
		b.WriteString(targets.String())
	}
	return b.String()
}

// unitBytes is n in KiB or MiB, as README's tables write sizes.
func unitBytes(n int) string {
	if n > 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(n)/1024)
}

// thousands writes n with comma separators, as README's tables do.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func joinInts(ks []int) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = strconv.Itoa(k)
	}
	return strings.Join(s, ",")
}

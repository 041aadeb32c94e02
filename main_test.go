package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"gopkg.in/yaml.v3"

	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/config"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden from the demo output")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// daemon is one in-process run of the exporter on a loopback port.
type daemon struct {
	url    string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan int
}

func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{url: "http://" + ln.Addr().String(), logs: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() { d.done <- run(ctx, args, io.Discard, d.logs, ln) }()
	t.Cleanup(func() { d.stop(t) })
	return d
}

func (d *daemon) stop(t *testing.T) int {
	t.Helper()
	d.cancel()
	select {
	case code, ok := <-d.done:
		if ok {
			close(d.done)
		}
		return code
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not stop within 20s")
		return -1
	}
}

func (d *daemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(d.url + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func (d *daemon) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(d.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not ready within 30s; logs:\n%s", d.logs.String())
}

// volatile are metric families whose values depend on timing, not data.
var volatile = regexp.MustCompile(`^(ece_exporter_collector_duration_seconds|ece_exporter_collector_last_success_timestamp_seconds|ece_exporter_api_request_duration_seconds\w*|ece_exporter_build_info|ece_exporter_config_last_reload_success_timestamp_seconds|ece_exporter_api_ratelimit_remaining|ece_exporter_api_planned_requests_per_hour)\b`)

// normalize drops the samples of timing-dependent families (keeping their
// HELP and TYPE) so the rest can be compared with the golden file.
func normalize(body string) string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if line == "" || volatile.MatchString(line) {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n") + "\n"
}

func TestEndToEndDemo(t *testing.T) {
	demoNow = func() time.Time { return time.Date(2026, 11, 18, 13, 30, 0, 0, time.UTC) }
	t.Cleanup(func() { demoNow = time.Now })
	d := startDaemon(t, "--demo", "--web.disable-exporter-metrics", "--log.level=debug")

	code, _ := d.get(t, "/-/healthy")
	assert.Equal(t, http.StatusOK, code)
	d.waitReady(t)

	code, body := d.get(t, "/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, family := range []string{"ece_deployment_info", "ece_billing_organization_cost_ecu", "ece_billing_chart_cost_ecu",
		"ece_billing_line_item_balance_ecu", "ece_billing_budget_ecu", "ece_billing_instance_cost_ecu", "ece_remote_cluster_healthy", "ece_api_key_expiration_timestamp_seconds",
		"ece_platform_allocator_zone_memory_used_bytes", "ece_platform_proxies_status", "ece_platform_runner_connected",
		"ece_platform_license_expiration_timestamp_seconds", "ece_platform_certificate_expiration_timestamp_seconds",
		"ece_exporter_collector_success", "ece_exporter_api_requests_total", "ece_exporter_build_info"} {
		assert.Contains(t, body, "\n"+family+"{", family)
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	require.NoError(t, err)
	assert.Empty(t, problems, "promlint")

	golden := filepath.Join("testdata", "metrics.golden")
	got := normalize(body)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "golden file missing: run `make golden`")
	assert.Equal(t, string(want), got, "metrics differ from %s; if intended, run `make golden`", golden)

	// Endpoints.
	code, _ = d.get(t, "/-/reload")
	assert.Equal(t, http.StatusMethodNotAllowed, code)
	code, page := d.get(t, "/")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, page, "/metrics")
	assert.Equal(t, 0, d.stop(t))
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	code := run(context.Background(), []string{"--version"}, &out, io.Discard, nil)
	assert.Equal(t, 0, code)
	assert.Contains(t, out.String(), "ece_exporter, version")
}

func TestHelpExits0(t *testing.T) {
	for _, flag := range []string{"--help-long", "--help-man"} {
		code := run(context.Background(), []string{flag, "--demo"}, io.Discard, io.Discard, nil)
		assert.Equal(t, 0, code, "%s ends the program, even with --demo", flag)
	}
	for _, flag := range []string{"--help", "-h"} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{flag}, &out, &errOut, nil)
		assert.Equal(t, 0, code, flag)
		assert.Contains(t, out.String(), "--config.file", flag)
		assert.Contains(t, out.String(), "collector.billing", flag)
		assert.Empty(t, errOut.String(), flag)
	}
}

func TestBadFlagExits1(t *testing.T) {
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"--no-such-flag"}, io.Discard, &errOut, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "no-such-flag")
}

// TestREADMEMetricTable keeps README's metric table equal to what the code
// can expose.
func TestREADMEMetricTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	row := regexp.MustCompile("(?m)^\\| `(ece_[a-z0-9_]+)`(?:, `(ece_[a-z0-9_]+)`)? \\|")
	documented := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		for _, n := range m[1:] {
			if n != "" {
				documented[n] = true
			}
		}
	}
	code := map[string]bool{}
	for _, n := range append(collector.MetricNames(),
		"ece_exporter_config_last_reload_successful", "ece_exporter_config_last_reload_success_timestamp_seconds",
		"ece_exporter_build_info", "ece_exporter_admin_requests_total", "ece_exporter_shard_ordinal", "ece_exporter_total_shards") {
		code[n] = true
	}
	assert.Equal(t, code, documented)

	// The labels column of every collector metric matches its descriptor.
	labelRow := regexp.MustCompile("(?m)^\\| `(ece_[a-z0-9_]+)` \\| ([^|]*) \\|")
	readmeLabels := map[string]string{}
	prev := ""
	for _, m := range labelRow.FindAllStringSubmatch(string(readme), -1) {
		cell := strings.TrimSpace(m[2])
		if cell == "same" { // "same labels as the row above"
			cell = prev
		}
		readmeLabels[m[1]], prev = cell, cell
	}
	for name, labels := range collector.MetricLabels() {
		cell, ok := readmeLabels[name]
		if !ok {
			continue // documented in a shared row
		}
		var want []string
		for _, l := range labels {
			if l != "account" {
				want = append(want, l)
			}
		}
		var got []string
		for _, l := range strings.Split(cell, ",") {
			if l = strings.TrimSpace(l); l != "" {
				got = append(got, l)
			}
		}
		assert.ElementsMatch(t, want, got, "README labels of %s: %q", name, cell)
	}
}

// TestREADMEOptionsTable keeps README's collector rows of the
// configuration table equal to the registry: one row per collector, its
// defaults and its minimum interval.
func TestREADMEOptionsTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	row := regexp.MustCompile("(?m)^\\| `collectors\\.([a-z_]+)` \\| `([^`]*)` \\| (.*) \\|$")
	rows := map[string][2]string{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		rows[m[1]] = [2]string{m[2], m[3]}
	}
	var names []string
	for n := range rows {
		names = append(names, n)
	}
	sort.Strings(names)
	assert.Equal(t, config.CollectorNames(), names, "README rows collectors.<name>")
	for _, name := range config.CollectorNames() {
		var node yaml.Node
		require.NoError(t, node.Encode(config.DefaultCollectors()[name]))
		var kv []string
		for i := 0; i+1 < len(node.Content); i += 2 {
			v := node.Content[i+1]
			value := v.Value
			if v.Kind == yaml.SequenceNode { // a list, in flow style
				var items []string
				for _, it := range v.Content {
					items = append(items, it.Value)
				}
				value = "[" + strings.Join(items, ", ") + "]"
			}
			kv = append(kv, node.Content[i].Value+": "+value)
		}
		assert.Equal(t, "{"+strings.Join(kv, ", ")+"}", rows[name][0], "README default of collectors.%s", name)
		assert.Contains(t, rows[name][1], "min "+config.NewDuration(config.MinInterval(name)).String(), "README minimum interval of collectors.%s", name)
	}
}

// TestFreeTextOnlyOnInfo: names and descriptions (free text a user can
// change) are labels of _info series only, so that renaming a deployment
// or a key does not break the series of its values.
func TestFreeTextOnlyOnInfo(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "metrics.golden"))
	require.NoError(t, err)
	defer f.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(f)
	require.NoError(t, err)
	freeText := map[string]bool{"deployment_name": true, "description": true, "name": true, "organization_name": true}
	seen := 0
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if freeText[lp.GetName()] {
					seen++
					assert.True(t, strings.HasSuffix(name, "_info"), "%s carries free-text label %s", name, lp.GetName())
				}
			}
		}
	}
	assert.Positive(t, seen, "the golden has _info series with names")
}

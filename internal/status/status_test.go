package status

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

var now = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

func fakeStatus() collector.Status {
	return collector.Status{Accounts: []collector.AccountStatus{
		{Name: "prod", Platform: "ess", RateLimit: eceapi.RateLimit{Present: true, Limit: 10000, Remaining: 120, Interval: time.Minute},
			Collectors: []collector.CollectorStatus{
				{Name: "billing", State: collector.StateOK, Interval: time.Hour, EffectiveInterval: time.Hour,
					LastSuccess: now.Add(-90 * time.Second), NextPoll: now.Add(58 * time.Minute), Calls: 7, Duration: 1200 * time.Millisecond, Series: 321},
				{Name: "api_keys", State: collector.StateFailing, Interval: 10 * time.Minute,
					LastError: `get-api-keys: 500 root.unexpected_error: <script>alert("x")</script> & more`, LastErrorAt: now.Add(-time.Minute),
					NextPoll: now.Add(9 * time.Minute), Calls: 3, Duration: 80 * time.Millisecond},
				{Name: "deployments", State: collector.StateStale, Interval: 5 * time.Minute, EffectiveInterval: 20 * time.Minute,
					LastSuccess: now.Add(-30 * time.Minute), LastError: "rate limited", LastErrorAt: now.Add(-10 * time.Second), Series: 40},
				{Name: "platform_runners", State: collector.StateNotPolled, Interval: time.Minute, Reason: "ECE only; this account is ESS"},
			}},
		{Name: "onprem", Platform: "ece", Collectors: []collector.CollectorStatus{
			{Name: "platform_runners", State: collector.StatePending, Interval: time.Minute, NextPoll: now.Add(time.Second)},
		}},
	}}
}

func registryWith(t *testing.T, reloadOK float64, expiry map[string]float64) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	ok := prometheus.NewGauge(prometheus.GaugeOpts{Name: "ece_exporter_config_last_reload_successful", Help: "h"})
	ok.Set(reloadOK)
	ts := prometheus.NewGauge(prometheus.GaugeOpts{Name: "ece_exporter_config_last_reload_success_timestamp_seconds", Help: "h"})
	ts.Set(float64(now.Add(-2 * time.Hour).Unix()))
	exp := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ece_exporter_credential_expiration_timestamp_seconds", Help: "h"}, []string{"account"})
	for a, v := range expiry {
		exp.WithLabelValues(a).Set(v)
	}
	reg.MustRegister(ok, ts, exp)
	return reg
}

func get(t *testing.T, h http.Handler, method string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "/status", nil))
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

// row is one collector row of the page: its cells by data-label.
type row struct {
	account, collector, state string
	cells                     map[string]string
}

// rows parses the page and returns its collector rows.
func rows(t *testing.T, page string) []row {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	require.NoError(t, err)
	var out []row
	var account string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "section" {
			account = strings.TrimPrefix(attr(n, "id"), "account-")
		}
		if n.Type == html.ElementNode && n.Data == "tr" && attr(n, "data-collector") != "" {
			r := row{account: account, collector: attr(n, "data-collector"), state: attr(n, "data-state"), cells: map[string]string{}}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.Data == "td" {
					r.cells[attr(c, "data-label")] = text(c)
				}
			}
			out = append(out, r)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// TestPageRows: one row per account × collector with its state and
// figures; the failing collector shows its error; not polled says why.
func TestPageRows(t *testing.T) {
	h := Handler(Options{Status: fakeStatus, Gatherer: registryWith(t, 1, map[string]float64{"onprem": float64(now.Add(5 * 24 * time.Hour).Unix())}),
		Shard: 1, TotalShards: 3, Now: func() time.Time { return now }})
	res, page := get(t, h, http.MethodGet)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.NotContains(t, page, "<script", "no JavaScript at all")

	got := rows(t, page)
	var keys []string
	for _, r := range got {
		keys = append(keys, r.account+"/"+r.collector+"="+r.state)
	}
	assert.Equal(t, []string{"prod/billing=ok", "prod/api_keys=failing", "prod/deployments=stale", "prod/platform_runners=not polled", "onprem/platform_runners=pending"}, keys)

	billing := got[0].cells
	assert.Equal(t, "2026-12-01 09:28:30 UTC (1m30s ago)", billing["Last success"])
	assert.Equal(t, "1h0m (1h0m)", billing["Interval"])
	assert.Equal(t, "in 58m0s", billing["Next poll"])
	assert.Equal(t, "7", billing["Calls"])
	assert.Equal(t, "1.2s", billing["Duration"])
	assert.Equal(t, "321", billing["Series"])
	assert.Equal(t, "–", billing["Last error"])

	keysRow := got[1].cells
	assert.Equal(t, `get-api-keys: 500 root.unexpected_error: <script>alert("x")</script> & more at 2026-12-01 09:29:00 UTC (1m0s ago)`, keysRow["Last error"])
	assert.Equal(t, "never", keysRow["Last success"])
	assert.Equal(t, "10m0s (–)", keysRow["Interval"], "no effective interval before a full cycle")

	assert.Equal(t, "5m0s (20m0s)", got[2].cells["Interval"], "backed off: the effective interval shows it")
	assert.Equal(t, "not polled ECE only; this account is ESS", got[3].cells["State"])
	assert.Equal(t, "–", got[3].cells["Calls"])
	assert.Equal(t, "–", got[4].cells["Series"], "pending: nothing to count yet")

	assert.Contains(t, page, "120 of 10000 calls left per 1m0s")
	assert.Contains(t, page, "no x-ratelimit headers seen yet")
	assert.Contains(t, page, "API key expires 2026-12-06 09:30:00 UTC (in 5d0h)")
	assert.Contains(t, page, "no expiry reported")
	assert.Contains(t, page, "shard 1 of 3")
	assert.Contains(t, page, "last reload succeeded; configuration loaded 2026-12-01 07:30:00 UTC (2h0m ago)")
	assert.Contains(t, page, "version ")
}

// TestPageEscapesHostileText: error text (and any label) is HTML-escaped:
// markup from an upstream answer never becomes markup on the page.
func TestPageEscapesHostileText(t *testing.T) {
	st := collector.Status{Accounts: []collector.AccountStatus{{Name: `a"><img src=x onerror=alert(1)>`, Platform: "ess",
		Collectors: []collector.CollectorStatus{{Name: "c<b>", State: collector.StateFailing, Reason: "<i>why</i>",
			LastError: `</td></tr></table><script>alert(1)</script><a href="javascript:x">`, LastErrorAt: now}}}}}
	h := Handler(Options{Status: func() collector.Status { return st }, Now: func() time.Time { return now }})
	_, page := get(t, h, http.MethodGet)
	for _, bad := range []string{"<script", "<img", "c<b>", "<i>", `href="javascript`, "</table><"} {
		assert.NotContains(t, page, bad)
	}
	assert.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;")
	got := rows(t, page)
	require.Len(t, got, 1, "the error text did not break the table")
	assert.Equal(t, `</td></tr></table><script>alert(1)</script><a href="javascript:x"> at 2026-12-01 09:30:00 UTC (0s ago)`, got[0].cells["Last error"])
	assert.Equal(t, "c<b>", got[0].collector)
}

// TestPageReloadFailedAndMethods: a failed reload is shown as such;
// only GET and HEAD are served.
func TestPageReloadFailedAndMethods(t *testing.T) {
	h := Handler(Options{Status: fakeStatus, Gatherer: registryWith(t, 0, nil), Now: func() time.Time { return now }})
	_, page := get(t, h, http.MethodGet)
	assert.Contains(t, page, "last reload FAILED: the previous configuration stays active (loaded 2026-12-01 07:30:00 UTC (2h0m ago))")
	assert.Contains(t, page, "not sharded")
	res, _ := get(t, h, http.MethodHead)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	res, _ = get(t, h, http.MethodPost)
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	assert.Equal(t, "GET, HEAD", res.Header.Get("Allow"))

	empty := Handler(Options{Now: func() time.Time { return now }})
	_, page = get(t, empty, http.MethodGet)
	assert.Contains(t, page, "No account is configured yet.")
	assert.Contains(t, page, "Configuration</dt><dd class=\"warn\">unknown")
}

// Package status serves the exporter's /status page: server-side HTML
// (html/template, no JavaScript) that shows, per account and collector,
// what the exporter polls, how it went and when it polls next; per account
// the API rate-limit state and the credential's expiry; at the top the
// build, the configuration reload state and the shard.
//
// The data comes from collector.Manager.Status (a plain copy, errors
// already redacted and bounded) and from the registry (build info, reload
// gauges, credential expiry), so the page never calls the API itself.
package status

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"

	"github.com/ece-exporter/ece_exporter/collector"
)

//go:embed status.html
var files embed.FS

var page = template.Must(template.New("status.html").Funcs(template.FuncMap{
	"stateClass": func(s string) string { return strings.ReplaceAll(s, " ", "-") },
}).ParseFS(files, "status.html"))

// Options configures the page.
type Options struct {
	// Status returns the pollers' state (collector.Manager.Status).
	Status func() collector.Status
	// Gatherer holds the exporter's own metrics: the configuration reload
	// gauges and the credential expiry are read from it.
	Gatherer prometheus.Gatherer
	// Shard and TotalShards are --shard and --total-shards.
	Shard, TotalShards int
	// MetricsPath is linked from the page.
	MetricsPath string
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// Handler returns the /status handler.
func Handler(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MetricsPath == "" {
		o.MetricsPath = "/metrics"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Only GET or HEAD requests allowed", http.StatusMethodNotAllowed)
			return
		}
		var buf bytes.Buffer
		if err := page.Execute(&buf, build(o)); err != nil {
			http.Error(w, "cannot render the status page: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		_, _ = w.Write(buf.Bytes())
	})
}

// view is what the template renders.
type view struct {
	Now                      string
	Version, Revision        string
	Branch, BuildDate, GoVer string
	Reload                   string
	ReloadOK                 bool
	Shard                    string
	MetricsPath              string
	Accounts                 []accountView
	Summary                  map[string]int
}

type accountView struct {
	Name, Platform string
	RateLimit      string
	RateLow        bool
	Credential     string
	CredentialSoon bool
	Rows           []rowView
}

type rowView struct {
	Collector, State, Reason string
	LastSuccess, LastError   string
	LastErrorAt              string
	Interval, Effective      string
	NextPoll                 string
	Calls, Duration, Series  string
}

func build(o Options) view {
	now := o.Now()
	v := view{
		Now:     now.UTC().Format(time.RFC3339),
		Version: orUnknown(version.Version), Revision: orUnknown(version.Revision), Branch: orUnknown(version.Branch),
		BuildDate: orUnknown(version.BuildDate), GoVer: version.GoVersion,
		MetricsPath: o.MetricsPath,
		Summary:     map[string]int{},
		Shard:       "not sharded (--total-shards=1)",
	}
	if o.TotalShards > 1 {
		v.Shard = fmt.Sprintf("shard %d of %d (--shard=%d --total-shards=%d)", o.Shard, o.TotalShards, o.Shard, o.TotalShards)
	}
	gauges := readGauges(o.Gatherer)
	switch ok, seen := gauges.value("ece_exporter_config_last_reload_successful", ""); {
	case !seen:
		v.Reload = "unknown"
	default:
		v.ReloadOK = ok == 1
		when := "never"
		if ts, seen := gauges.value("ece_exporter_config_last_reload_success_timestamp_seconds", ""); seen && ts > 0 {
			when = stamp(unix(ts), now)
		}
		if v.ReloadOK {
			v.Reload = "last reload succeeded; configuration loaded " + when
		} else {
			v.Reload = "last reload FAILED: the previous configuration stays active (loaded " + when + "); see the log"
		}
	}
	var st collector.Status
	if o.Status != nil {
		st = o.Status()
	}
	for _, a := range st.Accounts {
		av := accountView{Name: a.Name, Platform: strings.ToUpper(a.Platform), RateLimit: "no x-ratelimit headers seen yet"}
		if rl := a.RateLimit; rl.Present {
			av.RateLimit = fmt.Sprintf("%d calls left", rl.Remaining)
			if rl.Limit > 0 {
				av.RateLimit = fmt.Sprintf("%d of %d calls left", rl.Remaining, rl.Limit)
				av.RateLow = float64(rl.Remaining) < 0.05*float64(rl.Limit)
			}
			if rl.Interval > 0 {
				av.RateLimit += " per " + dur(rl.Interval)
			}
			if av.RateLow {
				av.RateLimit += " (under 5%: polls slow down)"
			}
		}
		av.Credential = "no expiry reported (only ECE API keys send x-elastic-api-key-expiration)"
		if ts, seen := gauges.value("ece_exporter_credential_expiration_timestamp_seconds", a.Name); seen {
			exp := unix(ts)
			av.Credential = "API key expires " + stamp(exp, now)
			av.CredentialSoon = exp.Sub(now) < 14*24*time.Hour
		}
		for _, c := range a.Collectors {
			v.Summary[c.State]++
			r := rowView{Collector: c.Name, State: c.State, Reason: c.Reason, LastError: c.LastError,
				Interval: dur(c.Interval), LastSuccess: "never", Effective: "–", NextPoll: "–",
				Calls: "–", Duration: "–", Series: "–"}
			if c.State == collector.StateNotPolled {
				av.Rows = append(av.Rows, r)
				continue
			}
			if !c.LastSuccess.IsZero() {
				r.LastSuccess = stamp(c.LastSuccess, now)
			}
			if !c.LastErrorAt.IsZero() {
				r.LastErrorAt = stamp(c.LastErrorAt, now)
			}
			if c.EffectiveInterval > 0 {
				r.Effective = dur(c.EffectiveInterval)
			}
			if !c.NextPoll.IsZero() {
				r.NextPoll = until(c.NextPoll, now)
			}
			if c.State != collector.StatePending {
				r.Calls = fmt.Sprint(c.Calls)
				r.Duration = dur(c.Duration)
				r.Series = fmt.Sprint(c.Series)
				if c.Partial > 0 {
					r.Series += fmt.Sprintf(" (%d items failed)", c.Partial)
				}
			}
			av.Rows = append(av.Rows, r)
		}
		v.Accounts = append(v.Accounts, av)
	}
	return v
}

// gauges are the values of the exporter's own gauges, by name and account
// label ("" for none).
type gauges map[string]map[string]float64

func (g gauges) value(name, account string) (float64, bool) {
	v, ok := g[name][account]
	return v, ok
}

var wanted = map[string]bool{
	"ece_exporter_config_last_reload_successful":                true,
	"ece_exporter_config_last_reload_success_timestamp_seconds": true,
	"ece_exporter_credential_expiration_timestamp_seconds":      true,
}

func readGauges(g prometheus.Gatherer) gauges {
	out := gauges{}
	if g == nil {
		return out
	}
	mfs, _ := g.Gather() // a partial answer still has what it has
	for _, mf := range mfs {
		if !wanted[mf.GetName()] {
			continue
		}
		byAccount := map[string]float64{}
		for _, m := range mf.GetMetric() {
			account := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "account" {
					account = l.GetValue()
				}
			}
			byAccount[account] = m.GetGauge().GetValue()
		}
		out[mf.GetName()] = byAccount
	}
	return out
}

func unix(ts float64) time.Time {
	sec, frac := math.Modf(ts)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// stamp is a time with its distance from now: "2026-12-01 09:20:00 UTC (3m ago)".
func stamp(t, now time.Time) string {
	d := now.Sub(t)
	rel := dur(d) + " ago"
	if d < 0 {
		rel = "in " + dur(-d)
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + rel + ")"
}

// until is how long until t: "in 1m30s", "now" when due.
func until(t, now time.Time) string {
	d := t.Sub(now)
	if d <= 0 {
		return "due now"
	}
	return "in " + dur(d)
}

// dur is a short human duration: 950ms, 12s, 3m5s, 2h0m, 3d4h.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

// states lists the summary's states in a fixed order.
func (v view) States() []stateCount {
	var out []stateCount
	for _, s := range []string{collector.StateOK, collector.StateStale, collector.StateFailing, collector.StatePending, collector.StateNotPolled} {
		if n := v.Summary[s]; n > 0 {
			out = append(out, stateCount{s, n})
		}
	}
	return out
}

type stateCount struct {
	State string
	N     int
}

// orUnknown stands in for a build detail not set at link time (go build
// without the Makefile's -ldflags).
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

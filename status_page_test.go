package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/websocket"

	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// demoFailure is what the demo's ESS API answers the api_keys collector in
// the status page tests: an error that carries markup and echoes the key.
const demoFailure = `{"errors":[{"code":"root.unexpected_error","message":"key store down <b>for demo-ess-api-key</b>"}]}`

// startStatusDemo runs the daemon on the demo's simulated APIs, with the
// ESS api_keys collector forced to fail.
func startStatusDemo(t *testing.T, args ...string) *daemon {
	t.Helper()
	sims, cfg := startDemo()
	t.Cleanup(sims.Close)
	ess, ok := sims[0].Config.Handler.(*ecesim.Server)
	require.True(t, ok)
	ess.SetFault("get-api-keys", ecesim.Fault{Status: http.StatusInternalServerError, Body: []byte(demoFailure)})
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("accounts:\n")
	for i, acc := range cfg.Accounts {
		key := filepath.Join(dir, fmt.Sprintf("key%d", i))
		require.NoError(t, os.WriteFile(key, []byte(acc.Credentials.APIKey.Reveal()), 0o600))
		fmt.Fprintf(&b, "  - {name: %s, platform: %s, url: %q, api_key_file: %s}\n", acc.Name, acc.Platform, acc.URL, key)
	}
	b.WriteString("http: {max_retries: 0}\n")
	config := filepath.Join(dir, "config.yml")
	require.NoError(t, os.WriteFile(config, []byte(b.String()), 0o600))
	d := startDaemon(t, append([]string{"--config.file=" + config}, args...)...)
	d.waitReady(t)
	return d
}

var rowRE = regexp.MustCompile(`data-collector="([a-z_]+)" data-state="([a-z ]+)"`)

// TestStatusPageDemo: on the demo, the landing page links /status; the
// page has a row per account × collector; the failing collector shows its
// error, redacted and escaped; ECE-only collectors on ESS say why they are
// not polled.
func TestStatusPageDemo(t *testing.T) {
	d := startStatusDemo(t)
	_, landing := d.get(t, "/")
	assert.Contains(t, landing, `href="/status"`)
	code, page := d.get(t, "/status")
	require.Equal(t, http.StatusOK, code)

	sections := strings.Split(page, `<section class="account"`)
	require.Len(t, sections, 4, "three accounts")
	for i, want := range []string{"demo-ess", "demo-ess-v2", "demo-ece"} {
		sec := sections[i+1]
		assert.Contains(t, sec, "Account "+want)
		rows := rowRE.FindAllStringSubmatch(sec, -1)
		assert.Len(t, rows, len(collectorNames(t)), "%s: a row per collector", want)
	}
	ess := sections[1]
	assert.Contains(t, ess, `data-collector="api_keys" data-state="failing"`)
	assert.Contains(t, ess, "key store down &lt;b&gt;for &lt;secret&gt;&lt;/b&gt;")
	assert.Contains(t, ess, `data-collector="deployments" data-state="ok"`)
	assert.Regexp(t, `data-collector="platform_allocators" data-state="not polled">\s*<td data-label="Collector"><div><b>platform_allocators</b></div></td>\s*<td data-label="State"><div><span class="state not-polled">not polled</span> <span class="why">[^<]+</span>`, ess)
	assert.Contains(t, ess, "calls left", "the simulator's rate-limit headers")
	ece := sections[3]
	assert.Contains(t, ece, `data-collector="platform_allocators" data-state="ok"`)
	assert.Contains(t, ece, "API key expires ", "the ECE key's expiry header")
	assert.NotContains(t, page, "demo-ess-api-key")
	assert.Contains(t, page, "last reload succeeded")
}

// collectorNames are the registered collectors, from the help text.
func collectorNames(t *testing.T) []string {
	t.Helper()
	var out bytes.Buffer
	run(context.Background(), []string{"--help"}, &out, &out, nil)
	var names []string
	for _, m := range regexp.MustCompile(`--\[no-\]collector\.([a-z_]+)`).FindAllStringSubmatch(out.String(), -1) {
		if m[1] != "disable" { // --collector.disable-defaults
			names = append(names, m[1])
		}
	}
	require.NotEmpty(t, names)
	return names
}

// TestStatusPageChromium loads the demo's status page in a real headless
// Chromium (Debian's chromium), at 1280 px and at 400 px wide: screenshots
// go to $STATUS_SCREENSHOTS (default /tmp: status-desktop.png,
// status-narrow.png), the DOM Chromium built must hold every row and the
// failing collector, and at 400 px the page must not scroll sideways.
// deploy/check.sh runs it (STATUS_CHROMIUM=1); a plain go test skips it.
func TestStatusPageChromium(t *testing.T) {
	if os.Getenv("STATUS_CHROMIUM") == "" {
		t.Skip("set STATUS_CHROMIUM=1 (deploy/check.sh does) to run the headless Chromium check")
	}
	bin := os.Getenv("CHROMIUM")
	if bin == "" {
		bin = "chromium"
	}
	bin, err := exec.LookPath(bin)
	require.NoError(t, err, "chromium is not installed (apt-get install chromium)")
	out := os.Getenv("STATUS_SCREENSHOTS")
	if out == "" {
		out = os.TempDir()
	}
	d := startStatusDemo(t)
	url := d.url + "/status"

	chromium := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--hide-scrollbars"}
		cmd := exec.CommandContext(ctx, bin, append(append(base, args...), url)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		require.NoError(t, err, "chromium: %s", stderr.String())
		return b
	}

	for _, shot := range []struct {
		name          string
		width, height int
	}{{"status-desktop.png", 1280, 1400}, {"status-narrow.png", 400, 2400}} {
		path := filepath.Join(out, shot.name)
		_ = os.Remove(path)
		chromium(fmt.Sprintf("--window-size=%d,%d", shot.width, shot.height), "--screenshot="+path)
		png, err := os.ReadFile(path)
		require.NoError(t, err, shot.name)
		require.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "%s is a PNG", shot.name)
		w, h := pngSize(png)
		assert.Equal(t, [2]int{shot.width, shot.height}, [2]int{w, h}, shot.name)
		t.Logf("screenshot %s (%dx%d)", path, w, h)
	}

	dom := string(chromium("--window-size=400,2400", "--dump-dom"))
	rows := rowRE.FindAllStringSubmatch(dom, -1)
	assert.Len(t, rows, 3*len(collectorNames(t)), "a row per account × collector (the demo's three) in the DOM Chromium built")
	assert.Contains(t, dom, `data-collector="api_keys" data-state="failing"`)
	assert.Contains(t, dom, "key store down &lt;b&gt;for &lt;secret&gt;&lt;/b&gt;")
	assert.NotContains(t, dom, "demo-ess-api-key")

	// Layout at 400 px, measured by Chromium itself: the page is as wide
	// as the viewport (no sideways scrolling), and the failing row's error
	// cell is laid out (visible, non-empty box).
	width := chromiumEval(t, bin, url, 400, `document.documentElement.scrollWidth + "/" + window.innerWidth`)
	assert.Equal(t, "400/400", width, "scrollWidth/innerWidth at 400 px")
	box := chromiumEval(t, bin, url, 400, `(() => { const c = document.querySelector('tr[data-collector="api_keys"][data-state="failing"] td[data-label="Last error"]'); const r = c.getBoundingClientRect(); return (r.width > 0 && r.height > 0 && r.right <= window.innerWidth) + " " + getComputedStyle(c).display; })()`)
	assert.Equal(t, "true grid", box, "the failing collector's error cell is visible inside 400 px")
	desk := chromiumEval(t, bin, url, 1280, `document.documentElement.scrollWidth + "/" + window.innerWidth + " " + getComputedStyle(document.querySelector("td")).display`)
	assert.Equal(t, "1280/1280 table-cell", desk, "at 1280 px: a table, no sideways scrolling")
}

// pngSize reads the width and height of a PNG's IHDR chunk.
func pngSize(b []byte) (int, int) {
	if len(b) < 24 {
		return 0, 0
	}
	be := func(p []byte) int { return int(p[0])<<24 | int(p[1])<<16 | int(p[2])<<8 | int(p[3]) }
	return be(b[16:20]), be(b[20:24])
}

// chromiumEval loads url in headless Chromium with a viewport width px
// wide and returns the string value of the JavaScript expression expr,
// evaluated through the DevTools protocol once the page has loaded. (The
// page itself has no JavaScript; this only measures its layout.)
func chromiumEval(t *testing.T, bin, url string, width int, expr string) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+dir, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--remote-allow-origins=http://127.0.0.1",
		fmt.Sprintf("--window-size=%d,900", width), url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	var port string
	for ctx.Err() == nil {
		if b, err := os.ReadFile(filepath.Join(dir, "DevToolsActivePort")); err == nil {
			if p, _, ok := strings.Cut(string(b), "\n"); ok && p != "" {
				port = p
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NotEmpty(t, port, "chromium did not open its DevTools port: %s", stderr.String())

	var ws *websocket.Conn
	for ctx.Err() == nil && ws == nil {
		var targets []struct{ Type, URL, WebSocketDebuggerURL string }
		resp, err := http.Get("http://127.0.0.1:" + port + "/json/list")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		for _, tg := range targets {
			if tg.Type == "page" && tg.URL == url && tg.WebSocketDebuggerURL != "" {
				ws, err = websocket.Dial(tg.WebSocketDebuggerURL, "", "http://127.0.0.1")
				require.NoError(t, err)
			}
		}
		if ws == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	require.NotNil(t, ws, "no page target for %s", url)
	defer ws.Close()
	_ = ws.SetDeadline(time.Now().Add(30 * time.Second))

	id := 0
	call := func(method string, params map[string]any) {
		id++
		require.NoError(t, websocket.JSON.Send(ws, map[string]any{"id": id, "method": method, "params": params}))
	}
	eval := func(expr string) string {
		call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
		for {
			var msg struct {
				ID     int
				Result struct {
					Result struct {
						Value any
					}
					ExceptionDetails *struct {
						Text      string
						Exception struct{ Description string }
					}
				}
			}
			require.NoError(t, websocket.JSON.Receive(ws, &msg))
			if msg.ID != id {
				continue // an event
			}
			if e := msg.Result.ExceptionDetails; e != nil {
				t.Fatalf("evaluating %s: %s %s", expr, e.Text, e.Exception.Description)
			}
			return fmt.Sprint(msg.Result.Result.Value)
		}
	}
	for eval(`document.readyState + " " + location.href + " " + !!document.documentElement`) != "complete "+url+" true" {
		require.NoError(t, ctx.Err(), "the page did not finish loading")
		time.Sleep(50 * time.Millisecond)
	}
	// A headless window is at least 500 px wide; the viewport is set
	// exactly, as the screenshots' is.
	call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false})
	return eval(expr)
}

// Command idleflood measures the exporter under an idle-connection flood:
// it starts a built ece_exporter --demo under a file descriptor limit
// (prlimit), opens connections that each send one keep-alive request and
// then stay idle, and scrapes /metrics on a new connection every 500 ms,
// printing the exporter's open file descriptors and the scrape latency.
//
//	make build && go run ./internal/idleflood -binary ./ece_exporter -conns 320 -nofile 300 -duration 45s
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"time"
)

func main() {
	binary := flag.String("binary", "./ece_exporter", "exporter binary")
	conns := flag.Int("conns", 320, "idle connections")
	nofile := flag.Int("nofile", 300, "file descriptor limit of the exporter")
	duration := flag.Duration("duration", 45*time.Second, "how long to scrape during the flood")
	addr := flag.String("addr", "127.0.0.1:19871", "listen address")
	flag.Parse()
	if err := run(*binary, *addr, *conns, *nofile, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "idleflood:", err)
		os.Exit(1)
	}
}

func run(binary, addr string, conns, nofile int, duration time.Duration) error {
	n := strconv.Itoa(nofile)
	cmd := exec.Command("prlimit", "--nofile="+n+":"+n, binary, "--demo", "--web.listen-address="+addr)
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	fds := func() int {
		e, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
		return len(e)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 3 * time.Second}
	scrape := func() (int, time.Duration) {
		start := time.Now()
		resp, err := client.Get("http://" + addr + "/metrics")
		if err != nil {
			return 0, time.Since(start)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	deadline := time.Now().Add(30 * time.Second)
	for code, _ := scrape(); code != http.StatusOK; code, _ = scrape() {
		if time.Now().After(deadline) {
			return fmt.Errorf("the exporter did not answer within 30s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // first polls done
	base := fds()
	open := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range open {
			_ = c.Close()
		}
	}()
	for i := 0; i < conns; i++ {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		open = append(open, c)
		if _, err := io.WriteString(c, "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
	}
	var ok []time.Duration
	total, maxFDs, back := 0, 0, time.Duration(-1)
	start := time.Now()
	for time.Since(start) < duration {
		code, d := scrape()
		total++
		if code == http.StatusOK {
			ok = append(ok, d)
		}
		f := fds()
		maxFDs = max(maxFDs, f)
		if back < 0 && f <= base+5 {
			back = time.Since(start)
		}
		time.Sleep(500 * time.Millisecond)
	}
	fmt.Printf("%d idle connections, fd limit %d: fds %d before, at most %d during", conns, nofile, base, maxFDs)
	if back >= 0 {
		fmt.Printf(", back to baseline after %s", back.Round(100*time.Millisecond))
	}
	fmt.Printf("; %d/%d scrapes answered", len(ok), total)
	if len(ok) > 0 {
		sort.Slice(ok, func(i, j int) bool { return ok[i] < ok[j] })
		fmt.Printf(", p50 %s, max %s", ok[len(ok)/2].Round(time.Millisecond), ok[len(ok)-1].Round(time.Millisecond))
	}
	fmt.Println()
	return nil
}

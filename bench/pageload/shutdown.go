package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// runShutdown measures how long serve takes to exit after SIGINT, as after
// Ctrl-C, in each scenario: a fresh serve for every run.
func runShutdown(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("shutdown", flag.ContinueOnError)
	opts := commonFlags(fs)
	runs := fs.Int("runs", 5, "`runs` per scenario")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e, app, cleanup, err := opts.setup(ctx, "pageload-shutdown.")
	if err != nil {
		return err
	}
	defer cleanup()
	wd, err := startWebDriver(ctx, e)
	if err != nil {
		return err
	}
	defer wd.stop()

	type scenario struct {
		name string
		// connect opens what stays connected during the shutdown; the
		// function it returns lets go of it afterwards.
		connect func(t target) (func(), error)
	}
	goClient := func(t target, h2 bool) (*http.Client, error) {
		c, err := t.client()
		if err != nil {
			return nil, err
		}
		tr := c.Transport.(*http.Transport)
		tr.ForceAttemptHTTP2 = h2
		if !h2 {
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		c.Timeout = 0
		return c, nil
	}
	idleGo := func(h2 bool) func(t target) (func(), error) {
		return func(t target) (func(), error) {
			c, err := goClient(t, h2)
			if err != nil {
				return nil, err
			}
			resp, err := c.Get(t.url)
			if err != nil {
				return nil, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if want := map[bool]int{true: 2, false: 1}[h2]; resp.ProtoMajor != want {
				return nil, fmt.Errorf("client spoke %s", resp.Proto)
			}
			return c.CloseIdleConnections, nil
		}
	}
	scenarios := []scenario{
		{"nothing connected", func(target) (func(), error) { return func() {}, nil }},
		{"a Chromium tab open on the page (idle HTTP/2 connection)", func(t target) (func(), error) {
			pin, err := spkiPin(t)
			if err != nil {
				return nil, err
			}
			s, done, err := wd.newSession(ctx, []string{pin})
			if err != nil {
				return nil, err
			}
			if err := s.navigate(ctx, t.url); err != nil {
				done()
				return nil, err
			}
			var l load
			if err := s.script(ctx, loadScript, &l); err != nil || l.Proto != "h2" {
				done()
				return nil, fmt.Errorf("the page loaded over %q: %v", l.Proto, err)
			}
			return done, nil
		}},
		{"Go's client, idle HTTP/2 connection", idleGo(true)},
		{"Go's client, idle HTTP/1.1 connection", idleGo(false)},
		{"a request in flight that never ends (a long poll)", func(t target) (func(), error) {
			c, err := goClient(t, true)
			if err != nil {
				return nil, err
			}
			go func() {
				if resp, err := c.Get(strings.TrimSuffix(t.url, "/") + "/hang"); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
			select {
			case <-app.hang:
			case <-time.After(10 * time.Second):
				return nil, errors.New("the request did not reach the application")
			}
			return c.CloseIdleConnections, nil
		}},
	}

	results := map[string][]time.Duration{}
	for run := range *runs {
		for _, sc := range scenarios {
			d, err := shutdownOnce(ctx, e, wd, sc.connect)
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", sc.name, run+1, err)
			}
			results[sc.name] = append(results[sc.name], d)
			logf("run %d  %-55s %7.1f ms", run+1, sc.name, float64(d)/1e6)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d runs per scenario; from SIGINT to the process's exit.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), *runs)
	b.WriteString("| connected when Ctrl-C comes | median ms | max ms |\n|---|--:|--:|\n")
	for _, sc := range scenarios {
		ds := results[sc.name]
		var ms []float64
		for _, d := range ds {
			ms = append(ms, float64(d)/1e6)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f |\n", sc.name, median(ms), slices.Max(ms))
	}
	return opts.report(b.String())
}

// shutdownOnce starts serve, connects as connect says, sends SIGINT and
// returns how long serve took to exit.
func shutdownOnce(ctx context.Context, e *env, wd *webDriver, connect func(target) (func(), error)) (time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	logFile, err := os.Create(filepath.Join(e.dir, "serve-shutdown.log"))
	if err != nil {
		return 0, err
	}
	defer logFile.Close()
	cmd := exec.Command(e.httpsguard, "serve", "--to", "http://"+e.appAddr, "--https", fmt.Sprintf("127.0.0.1:%d", port), "--http", "off")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan time.Time, 1)
	go func() { cmd.Wait(); exited <- time.Now() }()
	kill := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	t := target{name: "httpsguard serve", url: fmt.Sprintf("https://127.0.0.1:%d/", port), caFile: e.caRoot, proto: "h2"}
	if err := waitReady(ctx, t); err != nil {
		kill()
		return 0, err
	}
	release, err := connect(t)
	if err != nil {
		kill()
		return 0, err
	}
	defer release()
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		kill()
		return 0, err
	}
	select {
	case end := <-exited:
		if !cmd.ProcessState.Success() {
			return 0, fmt.Errorf("serve exited with %v", cmd.ProcessState)
		}
		return end.Sub(start), nil
	case <-time.After(30 * time.Second):
		kill()
		return 0, errors.New("serve did not exit 30 s after SIGINT")
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// webDriver is a running chromedriver, spoken to over its W3C WebDriver
// HTTP API on loopback.
type webDriver struct {
	e      *env
	cmd    *exec.Cmd
	base   string
	client *http.Client
}

func startWebDriver(ctx context.Context, e *env) (*webDriver, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd, err := e.start("chromedriver", e.chromedriver, fmt.Sprintf("--port=%d", port))
	if err != nil {
		return nil, err
	}
	w := &webDriver{e: e, cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), client: &http.Client{Timeout: 2 * time.Minute}}
	for deadline := time.Now().Add(20 * time.Second); ; {
		var st struct {
			Value struct {
				Ready bool `json:"ready"`
			} `json:"value"`
		}
		if err := w.call(ctx, http.MethodGet, "/status", nil, &st); err == nil && st.Value.Ready {
			return w, nil
		}
		if time.Now().After(deadline) {
			return nil, errors.New("chromedriver did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *webDriver) stop() {
	if w.cmd.ProcessState == nil {
		_ = w.cmd.Process.Signal(os.Interrupt)
	}
}

// call sends one WebDriver command and decodes the answer into out.
func (w *webDriver) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webdriver %s %s: %d %.300s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// session is one Chromium with a fresh profile.
type session struct {
	w  *webDriver
	id string
}

// newSession starts Chromium with the benchmark's flags, a profile of its
// own (so an empty cache) and trust in the pinned keys alone.
func (w *webDriver) newSession(ctx context.Context, pins []string) (*session, func(), error) {
	profile, err := os.MkdirTemp(w.e.dir, "profile.")
	if err != nil {
		return nil, nil, err
	}
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--no-proxy-server", "--user-data-dir=" + profile,
	}
	if len(pins) > 0 {
		args = append(args, "--ignore-certificate-errors-spki-list="+strings.Join(pins, ","))
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":      "chrome",
		"pageLoadStrategy": "normal",
		"goog:chromeOptions": map[string]any{
			"binary": w.e.chromium,
			"args":   args,
		},
	}}}
	var resp struct {
		Value struct {
			SessionID string `json:"sessionId"`
		} `json:"value"`
	}
	if err := w.call(ctx, http.MethodPost, "/session", caps, &resp); err != nil {
		os.RemoveAll(profile)
		return nil, nil, err
	}
	s := &session{w: w, id: resp.Value.SessionID}
	return s, func() {
		_ = w.call(context.Background(), http.MethodDelete, "/session/"+s.id, nil, nil)
		os.RemoveAll(profile)
	}, nil
}

// navigate loads url and returns once its load event is over.
func (s *session) navigate(ctx context.Context, url string) error {
	return s.w.call(ctx, http.MethodPost, "/session/"+s.id+"/url", map[string]string{"url": url}, nil)
}

// script runs JavaScript in the page and decodes its result into out.
func (s *session) script(ctx context.Context, js string, out any) error {
	var resp struct {
		Value json.RawMessage `json:"value"`
	}
	if err := s.w.call(ctx, http.MethodPost, "/session/"+s.id+"/execute/sync", map[string]any{"script": js, "args": []any{}}, &resp); err != nil {
		return err
	}
	return json.Unmarshal(resp.Value, out)
}

// loadOnce loads t's page in a new Chromium and returns what the page
// measured, after checking that every module ran over the protocol
// expected.
func (w *webDriver) loadOnce(ctx context.Context, t target, pins []string) (load, error) {
	s, done, err := w.newSession(ctx, pins)
	if err != nil {
		return load{}, err
	}
	defer done()
	cpu := cpuMS(t.pid)
	if err := s.navigate(ctx, t.url); err != nil {
		return load{}, fmt.Errorf("%s: %w", t.name, err)
	}
	var l load
	// Module scripts run before the load event, so the page is done; wait
	// a little in case the event loop has not reached the last one yet.
	for range 50 {
		if err := s.script(ctx, loadScript, &l); err != nil {
			return load{}, fmt.Errorf("%s: %w", t.name, err)
		}
		if l.Modules == modules && l.LoadMS > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.CPUMS = cpuMS(t.pid) - cpu
	if l.Modules != modules || l.Proto != t.proto {
		return l, fmt.Errorf("%s: %d modules ran over %q, want %d over %q", t.name, l.Modules, l.Proto, modules, t.proto)
	}
	return l, nil
}

// Package webdriver drives headless Chromium through chromedriver's W3C
// WebDriver HTTP API, just enough for the web checker's browser tests:
// open a page, type, click, read text, run a script, take a screenshot. It
// needs no module beyond the standard library; the browser and driver are
// the Debian packages chromium and chromium-driver.
package webdriver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// elementKey is the W3C name of an element reference in JSON.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// Paths of the Debian packages' programs.
var (
	ChromiumPath     = "/usr/bin/chromium"
	ChromedriverPath = "/usr/bin/chromedriver"
)

// Available reports whether chromium and chromedriver are installed.
func Available() error {
	for _, p := range []string{ChromiumPath, ChromedriverPath} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s not found (apt-get install chromium chromium-driver)", p)
		}
	}
	return nil
}

// Driver is a running chromedriver with one browser session.
type Driver struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT/session/ID
	client  *http.Client
	dataDir string
}

// Start runs chromedriver on a free loopback port and opens a headless
// Chromium session with a fresh profile in dataDir and any extra
// command-line arguments (such as --blink-settings=scriptEnabled=false).
func Start(ctx context.Context, dataDir string, extraArgs ...string) (*Driver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("webdriver: picking a port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(ChromedriverPath, "--port="+strconv.Itoa(port), "--allowed-ips=127.0.0.1")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("webdriver: starting chromedriver: %w", err)
	}
	d := &Driver{cmd: cmd, client: &http.Client{Timeout: 60 * time.Second}, dataDir: dataDir}
	root := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := d.waitReady(ctx, root); err != nil {
		d.kill()
		return nil, err
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": ChromiumPath,
			"args": append([]string{
				"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
				"--user-data-dir=" + dataDir, "--window-size=1280,900",
			}, extraArgs...),
		},
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	if err := d.call(ctx, "POST", root+"/session", caps, &created); err != nil {
		d.kill()
		return nil, fmt.Errorf("webdriver: creating a session: %w", err)
	}
	d.base = root + "/session/" + created.SessionID
	return d, nil
}

func (d *Driver) waitReady(ctx context.Context, root string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, "GET", root+"/status", nil)
		if res, err := d.client.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("webdriver: chromedriver did not start")
}

// Close ends the session and stops chromedriver.
func (d *Driver) Close() {
	if d.base != "" {
		_ = d.call(context.Background(), "DELETE", d.base, nil, nil)
	}
	d.kill()
}

func (d *Driver) kill() {
	if d.cmd.Process != nil {
		_ = d.cmd.Process.Kill()
		_ = d.cmd.Wait()
	}
}

// call sends one WebDriver command and decodes its "value" into out.
func (d *Driver) call(ctx context.Context, method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var env struct {
		Value     json.RawMessage `json:"value"`
		SessionID string          `json:"sessionId"`
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("webdriver: %s %s: bad answer %.200q", method, url, data)
	}
	if res.StatusCode != 200 {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(env.Value, &e)
		return fmt.Errorf("webdriver: %s: %s", e.Error, e.Message)
	}
	if out == nil {
		return nil
	}
	// Session creation answers {"value": {"sessionId": ...}}.
	if err := json.Unmarshal(env.Value, out); err != nil {
		return fmt.Errorf("webdriver: decoding %.200q: %w", env.Value, err)
	}
	return nil
}

// Navigate opens url and waits for it to load.
func (d *Driver) Navigate(ctx context.Context, url string) error {
	return d.call(ctx, "POST", d.base+"/url", map[string]string{"url": url}, nil)
}

// URL returns the address of the current page.
func (d *Driver) URL(ctx context.Context) (string, error) {
	var u string
	err := d.call(ctx, "GET", d.base+"/url", nil, &u)
	return u, err
}

// Element is a reference to an element of the current page.
type Element string

// Find returns the first element matching the CSS selector.
func (d *Driver) Find(ctx context.Context, css string) (Element, error) {
	var ref map[string]string
	if err := d.call(ctx, "POST", d.base+"/element", map[string]string{"using": "css selector", "value": css}, &ref); err != nil {
		return "", err
	}
	return Element(ref[elementKey]), nil
}

// Type sends keystrokes to el.
func (d *Driver) Type(ctx context.Context, el Element, text string) error {
	return d.call(ctx, "POST", d.base+"/element/"+string(el)+"/value", map[string]string{"text": text}, nil)
}

// Click clicks el.
func (d *Driver) Click(ctx context.Context, el Element) error {
	return d.call(ctx, "POST", d.base+"/element/"+string(el)+"/click", map[string]any{}, nil)
}

// Text returns el's rendered text.
func (d *Driver) Text(ctx context.Context, el Element) (string, error) {
	var s string
	err := d.call(ctx, "GET", d.base+"/element/"+string(el)+"/text", nil, &s)
	return s, err
}

// Execute runs script (a function body) in the page and decodes its return
// value into out. DevTools evaluation is not subject to the page's CSP.
func (d *Driver) Execute(ctx context.Context, script string, out any) error {
	return d.call(ctx, "POST", d.base+"/execute/sync", map[string]any{"script": script, "args": []any{}}, out)
}

// SetWindowSize resizes the browser window.
func (d *Driver) SetWindowSize(ctx context.Context, width, height int) error {
	return d.call(ctx, "POST", d.base+"/window/rect", map[string]int{"width": width, "height": height}, nil)
}

// Screenshot returns a PNG of the viewport.
func (d *Driver) Screenshot(ctx context.Context) ([]byte, error) {
	var b64 string
	if err := d.call(ctx, "GET", d.base+"/screenshot", nil, &b64); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(b64)
}

// FullPageScreenshot resizes the window to the page's height (at width),
// up to maxHeight pixels when maxHeight > 0, and returns a PNG of it.
func (d *Driver) FullPageScreenshot(ctx context.Context, width, maxHeight int) ([]byte, error) {
	if err := d.SetWindowSize(ctx, width, 900); err != nil {
		return nil, err
	}
	var h float64
	if err := d.Execute(ctx, "return document.documentElement.scrollHeight", &h); err != nil {
		return nil, err
	}
	height := int(h)
	if maxHeight > 0 && height > maxHeight {
		height = maxHeight
	}
	if err := d.SetWindowSize(ctx, width, height); err != nil {
		return nil, err
	}
	return d.Screenshot(ctx)
}

// WaitFor polls until cond returns true or ctx ends; it returns cond's last
// error on timeout.
func (d *Driver) WaitFor(ctx context.Context, cond func() (bool, error)) error {
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			if last == nil {
				last = ctx.Err()
			}
			return fmt.Errorf("webdriver: condition not met: %w", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

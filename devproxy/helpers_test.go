package devproxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/localca"
	"github.com/httpsguard/httpsguard/localca/localcatest"
)

// testServer is a running devproxy server with clients that trust its CA.
type testServer struct {
	*Server
	ca   *localca.CA
	logs *logRecorder
	// h2 negotiates HTTP/2 like a browser; h1 speaks HTTP/1.1 only, like a
	// browser's WebSocket connection. Neither follows redirects.
	h2, h1 *http.Client
	// stop cancels Serve's context and returns what Serve returned.
	stop func() error
}

// start runs a server for cfg on loopback ports chosen by the kernel. The
// test may preset CA, HTTPSAddr and HTTPAddr.
func start(t testing.TB, cfg Config) *testServer {
	t.Helper()
	if cfg.CA == nil {
		cfg.CA = localcatest.New(t)
	}
	if cfg.HTTPSAddr == "" {
		cfg.HTTPSAddr = "localhost:0"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	logs := newLogRecorder()
	cfg.Logger = slog.New(logs)
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Listen(ctx); err != nil {
		cancel()
		t.Fatalf("Listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	ts := &testServer{Server: srv, ca: cfg.CA, logs: logs, stop: stop}
	ts.h2 = newClient(t, cfg.CA, true)
	ts.h1 = newClient(t, cfg.CA, false)
	return ts
}

func newClient(t testing.TB, ca *localca.CA, h2 bool) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: ca.Pool()},
		ForceAttemptHTTP2:   h2,
		Proxy:               nil,
		MaxIdleConnsPerHost: 512,
	}
	if !h2 {
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// url returns the HTTPS URL of path on host ("localhost" or an IP).
func (ts *testServer) url(host, path string) string {
	return "https://" + ts.urlHost(host, ts.httpsPort(), "443") + path
}

func (ts *testServer) get(t *testing.T, c *http.Client, rawURL string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", req.URL, err)
	}
	return resp, string(body)
}

// upstream starts a plain-HTTP application on loopback and returns its URL
// as the proxy takes it.
func upstream(t testing.TB, h http.Handler) *url.URL {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := ParseUpstream(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// logRecorder is a slog.Handler that keeps records for assertions.
type logRecorder struct {
	mu      *sync.Mutex
	records *[]logRecord
	changed *chan struct{} // closed and replaced on every record
	attrs   []slog.Attr
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func newLogRecorder() *logRecorder {
	ch := make(chan struct{})
	return &logRecorder{mu: new(sync.Mutex), records: new([]logRecord), changed: &ch}
}

// wait blocks until n records at level or above contain substr, and
// returns them. Records logged by the server after a client has already
// seen the outcome (a failed handshake) arrive a moment later.
func (l *logRecorder) wait(t testing.TB, n int, level slog.Level, substr string) []logRecord {
	t.Helper()
	for {
		l.mu.Lock()
		ch := *l.changed
		l.mu.Unlock()
		if got := l.matching(level, substr); len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatalf("no %d log records with %q after 30s:\n%s", n, substr, l.dump())
		}
	}
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range l.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool { rec.attrs[a.Key] = a.Value.String(); return true })
	l.mu.Lock()
	*l.records = append(*l.records, rec)
	close(*l.changed)
	*l.changed = make(chan struct{})
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	c := *l
	c.attrs = append(append([]slog.Attr(nil), l.attrs...), as...)
	return &c
}

func (l *logRecorder) WithGroup(string) slog.Handler { return l }

// matching returns the records at level or above whose message contains
// substr.
func (l *logRecorder) matching(level slog.Level, substr string) []logRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logRecord
	for _, r := range *l.records {
		if r.level >= level && strings.Contains(r.msg, substr) {
			out = append(out, r)
		}
	}
	return out
}

func (l *logRecorder) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, r := range *l.records {
		fmt.Fprintf(&b, "%v %s %v\n", r.level, r.msg, r.attrs)
	}
	return b.String()
}

// freePort returns a loopback address nobody listens on (a port that was
// free a moment ago).
func freePort(t testing.TB) string {
	t.Helper()
	addr, err := testnet.ClosedAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// startOn serves h on addr until the test ends.
func startOn(t testing.TB, addr string, h http.Handler) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("starting the application on %s: %v", addr, err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
}

func startCA(t testing.TB) *localca.CA { return localcatest.New(t) }

// serveRaw is an application written by hand: it listens on loopback and
// runs serve, in a goroutine of its own, on every connection (which it
// closes afterwards) until the test ends. It returns the application's
// address as the proxy takes it.
func serveRaw(t testing.TB, serve func(net.Conn)) *url.URL {
	t.Helper()
	return mustUpstream(t, fmt.Sprintf("http://127.0.0.1:%d", testnet.ServeConns(t, nil, serve)))
}

func mustUpstream(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := ParseUpstream(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

package devproxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/httpsguard/httpsguard/internal/browsertest"
)

const (
	browserResources = 40      // small parallel fetches
	browserBig       = 3 << 20 // the download
	browserUpload    = 2 << 20 // the POST with a body of known length
	browserStreamUp  = 1 << 20 // the POST with a streamed body (HTTP/2 only in Chromium)
	browserEvents    = 4       // events of the event stream
	browserWSBig     = 1 << 20 // the largest WebSocket message
)

// browserPage loads through the proxy and, once loaded, exercises HTTP/2
// the way a web app does: many fetches in parallel on one connection, a
// download and uploads larger than the flow-control windows, an event stream
// read while it is open, a response with trailers, and a WebSocket (which
// Chromium opens over HTTP/1.1, as the server offers no extended CONNECT).
// It posts what it saw, as JSON, to /report.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>HTTP/2 through httpsguard serve</title>
<script>
"use strict";
const N = %d, UPLOAD = %d, STREAM_UP = %d, WS_BIG = %d;

function hex(buf) {
  return Array.from(new Uint8Array(buf), b => b.toString(16).padStart(2, "0")).join("");
}
async function sha256(buf) { return hex(await crypto.subtle.digest("SHA-256", buf)); }
// The same bytes as browserPattern in Go.
function pattern(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = ((i * 31) ^ (i >>> 11)) & 255;
  return b;
}
async function ok(path, init) {
  const r = await fetch(path, init);
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r;
}
async function big() {
  const buf = await (await ok("/big")).arrayBuffer();
  return {length: buf.byteLength, sha256: await sha256(buf)};
}
async function upload() {
  const data = pattern(UPLOAD);
  const echo = await (await ok("/echo", {method: "POST", body: data})).json();
  return {sent: data.length, sha256: await sha256(data), echo};
}
// A request body of unknown length, sent as it is produced: Chromium does
// this over HTTP/2 only.
async function streamUpload() {
  const data = pattern(STREAM_UP);
  const body = new ReadableStream({
    start(c) {
      for (let o = 0; o < data.length; o += 65536) c.enqueue(data.slice(o, o + 65536));
      c.close();
    }
  });
  const echo = await (await ok("/echo", {method: "POST", body, duplex: "half"})).json();
  return {sent: data.length, sha256: await sha256(data), echo};
}
// The server sends the next event only once the page acknowledges the last
// one, so the stream completes only if each event is passed on as it is
// written.
async function stream() {
  const r = await ok("/stream");
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const events = [];
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      events.push(buf.slice(0, i));
      buf = buf.slice(i + 2);
      await ok("/ack?n=" + events.length);
    }
  }
  return {type: r.headers.get("content-type"), events, rest: buf};
}
// A WebSocket through the proxy: the application says what it was told
// (X-Forwarded-Proto), then echoes text and binary messages, the last one
// larger than any buffer on the way.
function webSocket() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket("wss://" + location.host + "/ws");
    ws.binaryType = "arraybuffer";
    const sent = ["hello", "x".repeat(70000)];
    const got = [];
    let hello = null;
    ws.onerror = () => reject(new Error("WebSocket error"));
    ws.onmessage = async (ev) => {
      if (hello === null) {
        hello = ev.data;
        for (const m of sent) ws.send(m);
        ws.send(pattern(WS_BIG));
        return;
      }
      got.push(typeof ev.data === "string" ? ev.data : {bytes: ev.data.byteLength, sha256: await sha256(ev.data)});
      if (got.length === sent.length + 1) {
        ws.close(1000);
        resolve({hello, echoedText: got.slice(0, sent.length).map((m, i) => m === "echo:" + sent[i]), binary: got[sent.length]});
      }
    };
  });
}
async function run() {
  const resources = [];
  for (let i = 0; i < N; i++) resources.push(ok("/r/" + i).then(r => r.text()));
  const [bodies, bigResult, up, streamUp, events, trailers, ws] = await Promise.all([
    Promise.all(resources), big(), upload(), streamUpload(), stream(),
    ok("/trailers").then(r => r.text()), webSocket(),
  ]);
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    resources: bodies, big: bigResult, upload: up, streamUpload: streamUp,
    stream: events, trailers, webSocket: ws,
    navigation: nav.nextHopProtocol,
    entries: performance.getEntriesByType("resource").map(e => ({
      path: new URL(e.name).pathname, protocol: e.nextHopProtocol,
    })),
  };
}
function report(summary) {
  return fetch("/report", {method: "POST", body: JSON.stringify(summary)});
}
window.addEventListener("load", () => {
  run().then(report, err => report({error: String(err && err.stack || err)}));
});
</script></head>
<body>pending</body></html>
`

// browserPattern returns the bytes the page uploads (its pattern function).
func browserPattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i * 31) ^ (i >> 11))
	}
	return b
}

func browserResource(i int) string {
	return strings.Repeat("r"+strconv.Itoa(i)+".", i+1)
}

type browserEcho struct {
	Bytes   int    `json:"bytes"`
	SHA256  string `json:"sha256"`
	Pattern bool   `json:"pattern"` // the body is browserPattern's bytes
}

type browserUploadResult struct {
	Sent   int         `json:"sent"`
	SHA256 string      `json:"sha256"`
	Echo   browserEcho `json:"echo"`
}

type browserSummary struct {
	Error     string   `json:"error"`
	Resources []string `json:"resources"`
	Big       struct {
		Length int    `json:"length"`
		SHA256 string `json:"sha256"`
	} `json:"big"`
	Upload       browserUploadResult `json:"upload"`
	StreamUpload browserUploadResult `json:"streamUpload"`
	Stream       struct {
		Type   string   `json:"type"`
		Events []string `json:"events"`
		Rest   string   `json:"rest"`
	} `json:"stream"`
	Trailers  string `json:"trailers"`
	WebSocket struct {
		Hello      string `json:"hello"`
		EchoedText []bool `json:"echoedText"`
		Binary     struct {
			Bytes  int    `json:"bytes"`
			SHA256 string `json:"sha256"`
		} `json:"binary"`
	} `json:"webSocket"`
	Navigation string `json:"navigation"`
	Entries    []struct {
		Path     string `json:"path"`
		Protocol string `json:"protocol"`
	} `json:"entries"`
}

// browserApp is the application behind the proxy; big is the download. The
// page's report arrives on the channel.
func browserApp(big []byte) (http.Handler, <-chan []byte) {
	reports := make(chan []byte, 1)
	acks := make(chan int, browserEvents+1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, browserPage, browserResources, browserUpload, browserStreamUp, browserWSBig)
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil) // same origin: the page's
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(2 * browserWSBig)
		ctx := r.Context()
		if err := c.Write(ctx, websocket.MessageText, []byte("proto="+r.Header.Get("X-Forwarded-Proto"))); err != nil {
			return
		}
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if typ == websocket.MessageText {
				msg = append([]byte("echo:"), msg...)
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("GET /r/{i}", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.PathValue("i"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, browserResource(i))
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(big)))
		w.Write(big)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(browserEcho{
			Bytes:   len(body),
			SHA256:  hex.EncodeToString(sum[:]),
			Pattern: bytes.Equal(body, browserPattern(len(body))),
		})
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		rc := http.NewResponseController(w)
		for n := 1; n <= browserEvents; n++ {
			fmt.Fprintf(w, "data: event %d\n\n", n)
			if err := rc.Flush(); err != nil {
				return
			}
			if n == browserEvents {
				return
			}
			select {
			case got := <-acks:
				if got != n {
					fmt.Fprintf(w, "data: acknowledged %d, not %d\n\n", got, n)
					return
				}
			case <-r.Context().Done():
				return
			case <-time.After(time.Minute):
				// Ends the stream; the test then reports the events seen.
				return
			}
		}
	})
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case reports <- b:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /ack", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		select {
		case acks <- n:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Body-Length")
		w.Header().Set("Content-Type", "text/plain")
		n, _ := io.WriteString(w, "body before trailers")
		w.Header().Set("X-Body-Length", strconv.Itoa(n))
	})
	return mux, reports
}

// leafPin returns what --ignore-certificate-errors-spki-list takes for the
// proxy's certificate: the base64 SHA-256 of its SubjectPublicKeyInfo. The
// certificate comes from a handshake verified against the test CA, so
// Chromium trusts exactly the key the CA certified, and nothing else.
func leafPin(t *testing.T, ts *testServer) string {
	t.Helper()
	conn, err := tls.Dial("tcp", net.JoinHostPort("localhost", ts.httpsPort()), &tls.Config{
		RootCAs:    ts.ca.Pool(),
		ServerName: "localhost",
		NextProtos: []string{"h2"},
	})
	if err != nil {
		t.Fatalf("verified handshake with the proxy: %v", err)
	}
	defer conn.Close()
	st := conn.ConnectionState()
	if st.NegotiatedProtocol != "h2" {
		t.Fatalf("the proxy negotiated %q, not h2", st.NegotiatedProtocol)
	}
	sum := sha256.Sum256(st.PeerCertificates[0].RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestBrowserHTTP2 loads a page in headless Chromium through the proxy and
// checks that every request but the WebSocket went over HTTP/2, served by
// net/http's server, and that everything the page fetched, uploaded,
// streamed and sent over the WebSocket arrived intact.
func TestBrowserHTTP2(t *testing.T) {
	bin := browsertest.Chromium(t)

	big := make([]byte, browserBig)
	rand.NewChaCha8([32]byte{'h', '2'}).Read(big)
	bigSum := sha256.Sum256(big)
	app, reports := browserApp(big)
	ts := start(t, Config{Upstream: upstream(t, app)})

	// The trailers reach an HTTP/2 client; the browser must read the body
	// past them (fetch does not expose trailers).
	resp, body := ts.get(t, ts.h2, ts.url("localhost", "/trailers"))
	if resp.ProtoMajor != 2 || body != "body before trailers" || resp.Trailer.Get("X-Body-Length") != "20" {
		t.Fatalf("/trailers over %s: %q, trailers %v", resp.Proto, body, resp.Trailer)
	}

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pageURL := ts.url("localhost", "/page")
	// Headless Chromium keeps the page open until it is stopped; the page
	// reports to the application when its work is done.
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--disable-gpu", "--no-sandbox",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"--no-first-run", "--disable-extensions", "--disable-sync",
		"--disable-background-networking", "--disable-component-update",
		"--no-proxy-server", "--enable-logging=stderr",
		"--ignore-certificate-errors-spki-list="+leafPin(t, ts),
		pageURL)
	// A HOME of its own keeps the user's NSS database (where the real
	// local CA may be trusted) out of the test: the pin is the only trust.
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var raw []byte
	var waitErr error
	select {
	case raw = <-reports:
	case waitErr = <-exited:
		waitErr = fmt.Errorf("chromium exited before the page reported: %v", waitErr)
	case <-time.After(2 * time.Minute):
		waitErr = errors.New("the page did not report within 2 minutes")
	}
	cancel()
	if waitErr == nil {
		<-exited
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nchromium's stderr:\n%s\nproxy log:\n%s",
			fmt.Sprintf(format, args...), stderr.Bytes(), ts.logs.dump())
	}
	if waitErr != nil {
		fail("%s: %v", pageURL, waitErr)
	}
	var s browserSummary
	if err := json.Unmarshal(raw, &s); err != nil {
		fail("the page's report %.200q: %v", raw, err)
	}
	if s.Error != "" {
		fail("the page failed: %s", s.Error)
	}

	if len(s.Resources) != browserResources {
		t.Errorf("%d resources, want %d", len(s.Resources), browserResources)
	}
	for i, got := range s.Resources {
		if want := browserResource(i); got != want {
			t.Errorf("/r/%d: %q, want %q", i, got, want)
		}
	}
	if s.Big.Length != browserBig || s.Big.SHA256 != hex.EncodeToString(bigSum[:]) {
		t.Errorf("/big: %d bytes, SHA-256 %s; want %d, %x", s.Big.Length, s.Big.SHA256, browserBig, bigSum)
	}
	for name, u := range map[string]browserUploadResult{"upload": s.Upload, "streamed upload": s.StreamUpload} {
		want := map[string]int{"upload": browserUpload, "streamed upload": browserStreamUp}[name]
		wantSum := sha256.Sum256(browserPattern(want))
		if u.Sent != want || u.SHA256 != hex.EncodeToString(wantSum[:]) {
			t.Errorf("%s: the page sent %d bytes, SHA-256 %s; want %d, %x", name, u.Sent, u.SHA256, want, wantSum)
		}
		if u.Echo != (browserEcho{Bytes: u.Sent, SHA256: u.SHA256, Pattern: true}) {
			t.Errorf("%s: the app received %+v; the page sent %d bytes, SHA-256 %s", name, u.Echo, u.Sent, u.SHA256)
		}
	}
	if s.Stream.Type != "text/event-stream" || s.Stream.Rest != "" || len(s.Stream.Events) != browserEvents {
		t.Errorf("/stream: %+v", s.Stream)
	}
	for i, ev := range s.Stream.Events {
		if want := fmt.Sprintf("data: event %d", i+1); ev != want {
			t.Errorf("/stream event %d: %q, want %q", i+1, ev, want)
		}
	}
	if s.Trailers != "body before trailers" {
		t.Errorf("/trailers: %q", s.Trailers)
	}
	wsSum := sha256.Sum256(browserPattern(browserWSBig))
	if ws := s.WebSocket; ws.Hello != "proto=https" || len(ws.EchoedText) != 2 || !ws.EchoedText[0] || !ws.EchoedText[1] ||
		ws.Binary.Bytes != browserWSBig || ws.Binary.SHA256 != hex.EncodeToString(wsSum[:]) {
		t.Errorf("WebSocket: %+v; want proto=https, both texts echoed, %d bytes with SHA-256 %x", ws, browserWSBig, wsSum)
	}

	// The page and every fetch went over HTTP/2.
	if s.Navigation != "h2" {
		t.Errorf("the page loaded over %q, want h2", s.Navigation)
	}
	paths := map[string]int{}
	for _, e := range s.Entries {
		paths[e.Path]++
		if e.Protocol != "h2" {
			t.Errorf("%s fetched over %q, want h2", e.Path, e.Protocol)
		}
	}
	for _, p := range []string{"/r/0", "/r/39", "/big", "/stream", "/ack", "/trailers"} {
		if paths[p] == 0 {
			t.Errorf("no resource timing entry for %s: %v", p, paths)
		}
	}
	if paths["/echo"] != 2 {
		t.Errorf("%d resource timing entries for /echo, want 2", paths["/echo"])
	}

	// The proxy saw the same: every request over HTTP/2 but the WebSocket's
	// HTTP/1.1 upgrade, nothing worse than an access-log record. A record
	// is written when the handler returns, which may be just after the
	// browser has the whole response: wait for all of them (the test's
	// /trailers, the page and its fetches, two uploads, an acknowledgement
	// per event, the WebSocket, the report).
	want := 1 + 1 + browserResources + 1 + 2 + 1 + browserEvents + 1 + 2
	var reqs []logRecord
	for _, r := range ts.logs.wait(t, want, slog.LevelInfo, AccessMessage) {
		if r.msg == AccessMessage {
			reqs = append(reqs, r)
		}
	}
	if len(reqs) < want {
		t.Errorf("%d requests in the access log, want %d:\n%s", len(reqs), want, ts.logs.dump())
	}
	for _, r := range reqs {
		want, status := "HTTP/2.0", ""
		if r.attrs["path"] == "/ws" {
			want, status = "HTTP/1.1", "101"
		}
		if r.attrs["proto"] != want || (status != "" && r.attrs["status"] != status) {
			t.Errorf("%s %s over %s (%s), want %s", r.attrs["method"], r.attrs["path"], r.attrs["proto"], r.attrs["status"], want)
		}
	}
	if bad := ts.logs.matching(slog.LevelWarn, ""); len(bad) > 0 {
		t.Errorf("the proxy logged warnings or errors:\n%s", ts.logs.dump())
	}
	if t.Failed() {
		t.Logf("chromium's stderr:\n%s\nproxy log:\n%s", stderr.Bytes(), ts.logs.dump())
	}
}

package scan_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/localca/localcatest"
	"github.com/httpsguard/httpsguard/scan"
)

// hostileServer accepts TCP connections on loopback and hands each to
// handle, over TLS when cfg is set. Every connection is closed when the test
// ends, so a handler may block forever.
func hostileServer(t *testing.T, cfg *tls.Config, handle func(net.Conn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				defer c.Close()
				if cfg != nil {
					tc := tls.Server(c, cfg)
					if err := tc.Handshake(); err != nil {
						return
					}
					c = tc
				}
				handle(c)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// readRequest reads one request head, so the handler answers after it.
func readRequest(c net.Conn) bool {
	_, err := http.ReadRequest(bufio.NewReader(c))
	return err == nil
}

func drip(c net.Conn, lines ...string) {
	for i := 0; ; i++ {
		if _, err := io.WriteString(c, lines[i%len(lines)]); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestHostileServers(t *testing.T) {
	ca := localcatest.New(t)
	cert := localcatest.Issue(t, ca, "127.0.0.1")
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"http/1.1"}}

	slowHeaders := func(c net.Conn) {
		if readRequest(c) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			drip(c, "X-Drip: a\r\n")
		}
	}
	slowBody := func(c net.Conn) {
		if readRequest(c) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nStrict-Transport-Security: max-age=63072000\r\nContent-Length: 100000\r\n\r\n<html>")
			drip(c, "a")
		}
	}
	endless := func(c net.Conn) {
		if readRequest(c) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nStrict-Transport-Security: max-age=63072000\r\n\r\n<html>")
			chunk := []byte(strings.Repeat("<p>endless</p>", 4096))
			for {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}
	}
	malformed := func(c net.Conn) {
		if readRequest(c) {
			io.WriteString(c, "THIS IS NOT HTTP\r\n\r\n")
		}
	}
	huge := func(c net.Conn) {
		if readRequest(c) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Huge: "+strings.Repeat("h", 1<<20)+"\r\n\r\n")
		}
	}
	hang := func(c net.Conn) { io.Copy(io.Discard, c) } // accepts, never answers
	banner := func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n") }
	redirectLoop := func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			next := "/a"
			if req.URL.Path == "/a" {
				next = "/"
			}
			fmt.Fprintf(c, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n", next)
		}
	}

	closed := func() int {
		p, err := testnet.ClosedPort()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	tests := []struct {
		name      string
		https     func(net.Conn) // served over TLS; nil: nothing listens
		rawHTTPS  func(net.Conn) // served on the HTTPS port without TLS
		http      func(net.Conn)
		id        string // a check that must end in want
		want      []scan.Status
		errSubstr string // in the check's message, error or evidence, or the result error
		unreach   bool   // the whole target is unreachable
		alsoID    string // another check that must end in alsoWant
		alsoWant  scan.Status
	}{
		{name: "slow headers", https: slowHeaders, http: slowHeaders, id: "HGS-TLS-001", want: []scan.Status{scan.StatusPass}, errSubstr: "no complete response head", alsoID: "HGS-HSTS-001", alsoWant: scan.StatusError},
		{name: "slow body", https: slowBody, http: slowBody, id: "HGS-HSTS-001", want: []scan.Status{scan.StatusPass}, alsoID: "HGS-CNT-001", alsoWant: scan.StatusError},
		{name: "endless body", https: endless, http: endless, id: "HGS-HSTS-001", want: []scan.Status{scan.StatusPass}},
		{name: "malformed response", https: malformed, http: malformed, id: "HGS-RED-001", want: []scan.Status{scan.StatusError}, errSubstr: "malformed"},
		{name: "huge headers", https: huge, http: huge, id: "HGS-RED-001", want: []scan.Status{scan.StatusError}, errSubstr: "header"},
		{name: "tls hangs mid-handshake", rawHTTPS: hang, http: redirectLoop, id: "HGS-TLS-001", want: []scan.Status{scan.StatusFail}, errSubstr: "tls handshake with 127.0.0.1"},
		{name: "non-http port", rawHTTPS: banner, http: banner, unreach: true, errSubstr: "does not look like a tls handshake"},
		{name: "redirect loop", https: redirectLoop, http: redirectLoop, id: "HGS-RED-004", want: []scan.Status{scan.StatusFail}, errSubstr: "loop"},
		{name: "refused", unreach: true, errSubstr: "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var httpsPort, httpPort int
			switch {
			case tt.https != nil:
				httpsPort = hostileServer(t, tlsCfg, tt.https)
			case tt.rawHTTPS != nil:
				httpsPort = hostileServer(t, nil, tt.rawHTTPS)
			default:
				httpsPort = closed()
			}
			if tt.http != nil {
				httpPort = hostileServer(t, nil, tt.http)
			} else {
				httpPort = closed()
			}
			sc, err := scan.New(scan.Options{
				HTTPPort: httpPort, HTTPSPort: httpsPort, RootCAs: ca.Pool(),
				Timeout: 3 * time.Second, RequestTimeout: time.Second,
				ConnectTimeout: time.Second, HandshakeTimeout: time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			res := sc.Scan(t.Context(), "127.0.0.1")
			if len(res.Checks) != len(scan.Catalog()) {
				t.Fatalf("%d checks reported, want all %d (error %q)", len(res.Checks), len(scan.Catalog()), res.Error)
			}
			if tt.unreach {
				if !strings.Contains(strings.ToLower(res.Error), tt.errSubstr) || res.Score != 0 {
					t.Fatalf("error %q score %d", res.Error, res.Score)
				}
				return
			}
			if res.Error != "" {
				t.Fatalf("scan error: %s", res.Error)
			}
			c := check(t, res, tt.id)
			ok := false
			for _, w := range tt.want {
				ok = ok || c.Status == w
			}
			if !ok {
				t.Fatalf("%s: %s, want %v: %s %s %v", tt.id, c.Status, tt.want, c.Message, c.Error, c.Evidence)
			}
			if tt.errSubstr != "" {
				all := strings.ToLower(c.Message + " " + c.Error + " " + strings.Join(c.Evidence, " ") + " " + hopErrors(res))
				if !strings.Contains(all, tt.errSubstr) {
					t.Errorf("%q not found in %q", tt.errSubstr, all)
				}
			}
			if tt.alsoID != "" {
				if c := check(t, res, tt.alsoID); c.Status != tt.alsoWant {
					t.Errorf("%s: %s, want %s: %s %s", tt.alsoID, c.Status, tt.alsoWant, c.Message, c.Error)
				}
			}
			for _, c := range res.Checks {
				if c.Status == scan.StatusError && c.Error == "" {
					t.Errorf("%s errored without saying why", c.ID)
				}
			}
			// The TLS checks report whatever the HTTP layer did.
			if tt.https != nil && check(t, res, "HGS-TLS-004").Status != scan.StatusPass {
				t.Errorf("TLS version check did not report: %+v", check(t, res, "HGS-TLS-004"))
			}
		})
	}
}

func hopErrors(res *scan.Result) string {
	var b strings.Builder
	for _, h := range append(append([]scan.Hop{}, res.HTTPRedirects...), res.HTTPSRedirects...) {
		b.WriteString(h.Error + " " + strconv.Itoa(h.Status) + " ")
	}
	return b.String()
}

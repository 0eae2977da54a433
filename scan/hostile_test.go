package scan_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/localca/localcatest"
	"github.com/httpsguard/httpsguard/scan"
)

// hostileServer serves handle on a loopback port (testnet.ServeConns).
func hostileServer(t *testing.T, cfg *tls.Config, handle func(net.Conn)) int {
	t.Helper()
	return testnet.ServeConns(t, cfg, handle)
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

// hostileCase is one misbehaving server, and what the scan must make of
// it.
type hostileCase struct {
	name     string
	https    func(net.Conn) // served over TLS (after a completed handshake)
	rawHTTPS func(net.Conn) // served on the HTTPS port without TLS
	tlsCfg   func(*tls.Config)
	http     func(net.Conn) // served on the HTTP port; nil: nothing listens
	// dns, when set, is the answer of a DNS server on loopback for the
	// host scanned, hostile.invalid.
	dns dnsmessage.RCode
	// short scans with limits of a second (the case is about running out
	// of time); the others get limits no busy machine reaches, so that
	// what they test does not depend on timing.
	short bool

	// wantKind is the kind of the result's error: the page cannot be
	// fetched and there is no grade. "" wants a grade.
	wantKind   scan.ErrorKind
	wantDetail string
	// incomplete: the grade must be marked incomplete, with this check
	// among those that could not complete.
	incomplete string
	// id and want: a check that must reach this status.
	id   string
	want scan.Status
}

// hostileCases are the servers of TestHostileServers. The handlers are
// shared with the command's and the web's tests of the same servers.
func hostileCases() []hostileCase {
	neverAnswer := func(c net.Conn) { io.Copy(io.Discard, c) } // accepts, never answers
	dripStatus := func(c net.Conn) {
		if readRequest(c) {
			drip(c, "H", "T", "T", "P", "/", "1", ".", "1", " ", "2", "0", "0")
		}
	}
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
	garbage := func(c net.Conn) {
		if readRequest(c) {
			io.WriteString(c, "THIS IS NOT HTTP\r\n\r\n")
		}
	}
	closeAtOnce := func(c net.Conn) {}
	hugeHead := func(c net.Conn) {
		if readRequest(c) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			line := "X-Huge: " + strings.Repeat("h", 8000) + "\r\n"
			for range (2 << 20) / len(line) {
				if _, err := io.WriteString(c, line); err != nil {
					return
				}
			}
			io.WriteString(c, "\r\n")
		}
	}
	banner := func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n"); io.Copy(io.Discard, c) }
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
	oldTLSOnly := func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11 }

	return []hostileCase{
		// Unfetchable: no grade, the cause named.
		{name: "tls then garbage", https: garbage, wantKind: scan.KindNotHTTP},
		{name: "tls then close at once", https: closeAtOnce, wantKind: scan.KindClosed},
		{name: "tls then never answers", https: neverAnswer, wantKind: scan.KindTimeout, wantDetail: "head", short: true},
		{name: "tls then drips its status line", https: dripStatus, wantKind: scan.KindTimeout, wantDetail: "head", short: true},
		{name: "tls then drips its headers", https: slowHeaders, wantKind: scan.KindTimeout, wantDetail: "head", short: true},
		{name: "tls then 2 MB of headers", https: hugeHead, wantKind: scan.KindTooLarge},
		{name: "ssh banner on the https port", rawHTTPS: banner, wantKind: scan.KindNotTLS},
		{name: "hung handshake", rawHTTPS: neverAnswer, wantKind: scan.KindTimeout, wantDetail: "handshake", short: true},
		{name: "refused", wantKind: scan.KindRefused, id: "HGS-TLS-001", want: scan.StatusError},
		{name: "tls 1.0 and 1.1 only", https: garbage, tlsCfg: oldTLSOnly, wantKind: scan.KindTLS, wantDetail: "protocol_version", id: "HGS-TLS-004", want: scan.StatusFail},
		{name: "https redirect loop", https: redirectLoop, wantKind: scan.KindRedirectLoop, wantDetail: "loop", id: "HGS-RED-004", want: scan.StatusFail},
		{name: "name does not resolve", dns: dnsmessage.RCodeNameError, wantKind: scan.KindDNS, wantDetail: "no_such_host"},
		{name: "dns server failure", dns: dnsmessage.RCodeServerFailure, wantKind: scan.KindDNS, wantDetail: "server_failure"},

		// The page is fetched: a grade, incomplete where a check could
		// not observe what it judges.
		{name: "endless body", https: endless, id: "HGS-HSTS-001", want: scan.StatusPass},
		{name: "slow body", https: slowBody, incomplete: "HGS-CNT-001", id: "HGS-HSTS-001", want: scan.StatusPass, short: true},
		{name: "ssh banner on the http port", https: servePage, http: banner, incomplete: "HGS-RED-001"},
		{name: "http redirect loop", https: servePage, http: redirectLoop, id: "HGS-RED-004", want: scan.StatusFail},
		{name: "nothing on the http port", https: servePage, id: "HGS-RED-001", want: scan.StatusInfo},
	}
}

// servePage answers every request on a keep-alive connection with a small
// well-configured page.
func servePage(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		body := "<!doctype html><title>ok</title>"
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nStrict-Transport-Security: max-age=63072000; includeSubDomains\r\n"+
			"Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\nX-Content-Type-Options: nosniff\r\n"+
			"Content-Length: %d\r\n\r\n%s", len(body), body)
	}
}

// hostileTarget starts the servers of tc and returns the options and the
// target that scan them.
func hostileTarget(t *testing.T, tc hostileCase) (scan.Options, string) {
	t.Helper()
	ca := localcatest.New(t)
	cert := localcatest.Issue(t, ca, "127.0.0.1")
	cfg := &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"http/1.1"}}
	if tc.tlsCfg != nil {
		tc.tlsCfg(cfg)
	}
	closed := func() int {
		p, err := testnet.ClosedPort()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	opts := scan.Options{
		RootCAs: ca.Pool(),
		Timeout: hostileTimeout, RequestTimeout: time.Second,
		ConnectTimeout: time.Second, HandshakeTimeout: time.Second,
	}
	if !tc.short {
		opts.Timeout, opts.RequestTimeout = patientTimeout, patientTimeout/2
		opts.ConnectTimeout, opts.HandshakeTimeout = patientTimeout/4, patientTimeout/4
	}
	switch {
	case tc.https != nil:
		opts.HTTPSPort = hostileServer(t, cfg, tc.https)
	case tc.rawHTTPS != nil:
		opts.HTTPSPort = hostileServer(t, nil, tc.rawHTTPS)
	default:
		opts.HTTPSPort = closed()
	}
	if tc.http != nil {
		opts.HTTPPort = hostileServer(t, nil, tc.http)
	} else {
		opts.HTTPPort = closed()
	}
	target := "127.0.0.1"
	if tc.dns != 0 {
		srv, err := testnet.NewDNSServer(tc.dns, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		opts.Resolver = srv.Resolver()
		target = "hostile.invalid"
	}
	return opts, target
}

// hostileTimeout is the --timeout of the hostile scans that test running
// out of time, patientTimeout of the others.
const (
	hostileTimeout = 3 * time.Second
	patientTimeout = 20 * time.Second
)

// TestHostileServers scans servers that misbehave in every way a client
// meets: each scan ends within three times its time limit, and a page that
// cannot be fetched gives no grade and names its cause.
func TestHostileServers(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts, target := hostileTarget(t, tc)
			sc, err := scan.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res := sc.Scan(t.Context(), target)
			// A liveness bound, not a performance figure: the scan's own
			// deadline is one time limit, the rest is slack for a busy
			// machine.
			if took := time.Since(start); took > 3*opts.Timeout {
				t.Errorf("the scan took %s, more than 3 × %s", took, opts.Timeout)
			}
			if len(res.Checks) != len(scan.Catalog()) {
				t.Fatalf("%d checks reported, want all %d (error %+v)", len(res.Checks), len(scan.Catalog()), res.Error)
			}
			for _, c := range res.Checks {
				if c.Status == scan.StatusError && (c.Error == nil || c.Error.Kind == "" || c.Error.Message == "" || c.Error.Fix == "") {
					t.Errorf("%s errored without a classified cause and its fix: %+v", c.ID, c.Error)
				}
				if c.Status == scan.StatusError && c.Error.Kind == scan.KindInternal {
					t.Errorf("%s: %s", c.ID, c.Error.Message)
				}
			}
			if tc.wantKind != "" {
				switch {
				case res.Error == nil:
					t.Fatalf("graded %s %d; want no grade (%s)", res.Grade, res.Score, tc.wantKind)
				case res.Error.Kind != tc.wantKind || tc.wantDetail != "" && res.Error.Detail != tc.wantDetail:
					t.Fatalf("error %s/%s (%s), want %s/%s", res.Error.Kind, res.Error.Detail, res.Error.Message, tc.wantKind, tc.wantDetail)
				case res.Graded() || res.Grade != "" || res.Score != 0 || res.Incomplete:
					t.Errorf("an unfetchable page was graded: %q %d incomplete=%v", res.Grade, res.Score, res.Incomplete)
				case res.Error.Message == "" || res.Error.Fix == "":
					t.Errorf("error without a message or a fix: %+v", res.Error)
				}
				doc, err := json.Marshal(res)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(doc), `"grade":null`) || !strings.Contains(string(doc), `"score":null`) {
					t.Errorf("JSON has a grade or score: %s", doc)
				}
			} else {
				if res.Error != nil {
					t.Fatalf("no grade: %s: %s", res.Error.Kind, res.Error.Message)
				}
				var errored []string
				for _, c := range res.ErroredChecks() {
					errored = append(errored, c.ID+" ("+c.Error.Message+")")
				}
				if want := tc.incomplete != ""; res.Incomplete != want {
					t.Errorf("incomplete=%v, want %v; errored: %v", res.Incomplete, want, errored)
				}
				if tc.incomplete != "" && check(t, res, tc.incomplete).Status != scan.StatusError {
					t.Errorf("%s did not error: %+v", tc.incomplete, check(t, res, tc.incomplete))
				}
			}
			if tc.id != "" {
				if c := check(t, res, tc.id); c.Status != tc.want {
					t.Errorf("%s: %s, want %s: %s %+v %v", tc.id, c.Status, tc.want, c.Message, c.Error, c.Evidence)
				}
			}
		})
	}
}

// TestSameSlowSiteSameVerdict scans one site whose every answer is slow
// beyond the request limit several times: a timeout is an error, never a
// verdict, so each scan reaches the same result.
func TestSameSlowSiteSameVerdict(t *testing.T) {
	tc := hostileCase{short: true, https: func(c net.Conn) {
		if readRequest(c) {
			time.Sleep(1500 * time.Millisecond) // past RequestTimeout (1s)
			servePage(c)
		}
	}}
	opts, target := hostileTarget(t, tc)
	sc, err := scan.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for i := range 3 {
		res := sc.Scan(t.Context(), target)
		got := fmt.Sprintf("grade %q error %+v", res.Grade, res.Error)
		if res.Error != nil {
			got = fmt.Sprintf("no grade: %s/%s", res.Error.Kind, res.Error.Detail)
		}
		if i == 0 {
			first = got
		} else if got != first {
			t.Errorf("scan %d: %s; scan 1: %s", i+1, got, first)
		}
	}
}

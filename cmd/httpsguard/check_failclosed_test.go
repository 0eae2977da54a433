package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/localca/localcatest"
	"github.com/httpsguard/httpsguard/report"
	"github.com/httpsguard/httpsguard/scan"
)

// answerEach reads each request on a connection and writes reply.
func answerEach(reply func(w io.Writer)) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			reply(c)
		}
	}
}

// TestCheckFailsClosed runs the command on servers whose page cannot be
// fetched, and on one whose grade is incomplete: no grade (or a grade
// marked incomplete) in text, JSON and SARIF, and exit status 2 — with
// --fail-under too.
func TestCheckFailsClosed(t *testing.T) {
	ca := localcatest.New(t)
	cert := localcatest.Issue(t, ca, "127.0.0.1")
	cfg := &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"http/1.1"}}
	closed := func() int {
		p, err := testnet.ClosedPort()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := testnet.ServeConns(t, cfg, answerEach(func(w io.Writer) { io.WriteString(w, "SSH-2.0-OpenSSH_9.6\r\n\r\n") }))
	hugeHead := testnet.ServeConns(t, cfg, answerEach(func(w io.Writer) {
		io.WriteString(w, "HTTP/1.1 200 OK\r\nX-Huge: "+strings.Repeat("h", 300<<10)+"\r\nContent-Length: 0\r\n\r\n")
	}))
	// Every response's body stops half-way: the page's head arrives, its
	// content never does.
	slowBody := testnet.ServeConns(t, cfg, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nStrict-Transport-Security: max-age=63072000\r\nContent-Length: 1000\r\n\r\n<html>")
		io.Copy(io.Discard, c)
	})

	// The time limits are far beyond what the servers need, except where
	// running out of time is the point: what is tested must not depend on
	// timing.
	tests := []struct {
		name      string
		httpsPort int
		kind      scan.ErrorKind // "" for an incomplete grade
		timeout   string
	}{
		{"refused", closed(), scan.KindRefused, "20s"},
		{"not http after the handshake", garbage, scan.KindNotHTTP, "20s"},
		{"head larger than browsers accept", hugeHead, scan.KindTooLarge, "20s"},
		{"body never completes", slowBody, "", "4s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			common := []string{"--https-port", strconv.Itoa(tt.httpsPort), "--http-port", strconv.Itoa(closed()),
				"--ca-file", ca.RootFile(), "--timeout", tt.timeout, "127.0.0.1"}
			for _, format := range []string{"text", "json", "sarif"} {
				code, out, errOut := runCheck(t, append([]string{"--format", format}, common...)...)
				if code != exitError {
					t.Errorf("%s: exit %d, want %d\n%s%s", format, code, exitError, out, errOut)
				}
				assertFailClosed(t, format, out, tt.kind)
				if format != "text" && !strings.Contains(errOut, "127.0.0.1: ") {
					t.Errorf("%s: nothing said on stderr: %q", format, errOut)
				}
			}
			if code, out, _ := runCheck(t, append([]string{"--fail-under", "10"}, common...)...); code != exitError {
				t.Errorf("--fail-under: exit %d, want %d\n%s", code, exitError, out)
			}
		})
	}
}

// TestCheckNameDoesNotResolve scans a name a DNS server on loopback
// answers NXDOMAIN for, through the command's own reporting: the cause is
// DNS, named first, with a DNS fix.
func TestCheckNameDoesNotResolve(t *testing.T) {
	dns, err := testnet.NewDNSServer(dnsmessage.RCodeNameError, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	sc, err := scan.New(scan.Options{Timeout: 20 * time.Second, Resolver: dns.Resolver()})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []report.Format{report.Text, report.JSON, report.SARIF} {
		var out, diag bytes.Buffer
		code, err := runChecks(context.Background(), sc, []string{"nowhere.invalid"}, &out, format, report.Options{}, nil, false, 0, &diag)
		if err != nil {
			t.Fatal(err)
		}
		if code != exitError {
			t.Errorf("%s: exit %d, want %d", format, code, exitError)
		}
		assertFailClosed(t, string(format), out.String(), scan.KindDNS)
		if format == report.Text && !strings.Contains(out.String(), "DNS record, not a server setting") {
			t.Errorf("text output lacks the DNS fix:\n%s", out.String())
		}
		if !strings.Contains(diag.String(), "nowhere.invalid: no grade (dns)") {
			t.Errorf("%s: stderr %q", format, diag.String())
		}
	}
}

// assertFailClosed checks one report: kind set, no grade; kind "", an
// incomplete grade.
func assertFailClosed(t *testing.T, format, out string, kind scan.ErrorKind) {
	t.Helper()
	switch format {
	case "text":
		first, _, _ := strings.Cut(out, "\n")
		if kind != "" && (!strings.Contains(first, "NO GRADE:") || !strings.Contains(out, "cause: "+string(kind))) {
			t.Errorf("text does not say why first:\n%s", out)
		}
		if kind != "" && strings.Contains(out, "/100") {
			t.Errorf("text shows a score:\n%s", out)
		}
		if kind == "" && (!strings.Contains(first, "INCOMPLETE") || !strings.Contains(out, "HGS-CNT-001")) {
			t.Errorf("text does not mark the grade incomplete:\n%s", out)
		}
	case "json":
		var doc map[string]any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("json: %v\n%s", err, out)
		}
		e, _ := doc["error"].(map[string]any)
		switch {
		case kind != "" && (doc["grade"] != nil || doc["score"] != nil || e == nil || e["kind"] != string(kind)):
			t.Errorf("json: grade %v score %v error %v, want no grade and kind %s", doc["grade"], doc["score"], e, kind)
		case kind == "" && (doc["grade"] == nil || doc["incomplete"] != true):
			t.Errorf("json: grade %v incomplete %v, want an incomplete grade", doc["grade"], doc["incomplete"])
		}
	case "sarif":
		var log struct {
			Runs []struct {
				Invocations []struct {
					ExecutionSuccessful        bool `json:"executionSuccessful"`
					ToolExecutionNotifications []struct {
						Level   string `json:"level"`
						Message struct{ Text string }
					} `json:"toolExecutionNotifications"`
				} `json:"invocations"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(out), &log); err != nil {
			t.Fatalf("sarif: %v", err)
		}
		inv := log.Runs[0].Invocations[0]
		var notes []string
		for _, n := range inv.ToolExecutionNotifications {
			notes = append(notes, n.Level+": "+n.Message.Text)
		}
		want := fmt.Sprintf("no grade (%s)", kind)
		if kind == "" {
			want = "so the grade is incomplete"
		}
		if inv.ExecutionSuccessful || !strings.Contains(strings.Join(notes, "\n"), want) {
			t.Errorf("sarif: executionSuccessful %v, notifications %q; want false and %q", inv.ExecutionSuccessful, notes, want)
		}
	}
}

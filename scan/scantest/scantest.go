// Package scantest runs httpsguard's full check against a Go application's
// own handler stack, in-process, in a test: the handler is served over real
// TLS (a certificate from a throw-away local CA) and over plain HTTP on
// loopback, the scanner is pointed at both with a --resolve style override,
// and the test fails when the score or grade drops below what the
// application promised.
//
//	func TestSecurityGrade(t *testing.T) {
//		scantest.Require(t, myapp.Handler(), scantest.Config{MinScore: 90})
//	}
package scantest

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/localca"
	"github.com/httpsguard/httpsguard/localca/localcatest"
	"github.com/httpsguard/httpsguard/scan"
)

// DefaultHost is the host name the site is scanned under. The .test TLD is
// reserved (RFC 2606), so it never reaches a real site.
const DefaultHost = "app.test"

// Config tunes a test scan. The zero value scans DefaultHost with the
// httpsguard scoring model and asserts nothing beyond "it could be scanned".
type Config struct {
	// Host is the name the site is served and scanned under (default
	// DefaultHost). The certificate covers it.
	Host string
	// HTTPHandler is what the plain-HTTP listener serves. Nil serves the
	// application handler there too, so the application's own redirect to
	// HTTPS is what gets checked.
	HTTPHandler http.Handler
	// NoHTTP starts no plain-HTTP listener (a site that only speaks HTTPS).
	NoHTTP bool
	// MinScore fails the test when the score is lower. MinGrade fails it
	// when the grade is worse (for example "A-").
	MinScore int
	MinGrade string
	// NoFail fails the test when any check has status fail.
	NoFail bool
	// Options are passed to the scanner; Resolve, RootCAs, HTTPPort and
	// HTTPSPort are set by Scan. Timeout defaults to 10s.
	Options scan.Options
	// Leaf customises the site's certificate (an expired one, an RSA
	// key...); Names defaults to Host.
	Leaf localca.LeafOptions
	// ConfigureTLS, when set, may change the HTTPS server's TLS settings
	// (versions, cipher suites) before it starts, to match production.
	ConfigureTLS func(*tls.Config)
}

// Site is an application served on loopback over HTTPS and HTTP.
type Site struct {
	Host  string
	HTTPS *httptest.Server
	HTTP  *httptest.Server // nil with Config.NoHTTP
	CA    *localca.CA
	// Options point a scanner at the site: Resolve maps Host's ports 443
	// and 80 to the listeners, and RootCAs trusts the site's CA only.
	Options scan.Options
}

// NewSite serves h for cfg and returns it; the servers stop when the test
// ends.
func NewSite(t testing.TB, h http.Handler, cfg Config) *Site {
	t.Helper()
	host := cfg.Host
	if host == "" {
		host = DefaultHost
	}
	ca := localcatest.New(t)
	leaf := cfg.Leaf
	if len(leaf.Names) == 0 {
		leaf.Names = []string{host}
	}
	cert, err := ca.IssueLeaf(leaf)
	if err != nil {
		t.Fatalf("scantest: issuing certificate: %v", err)
	}
	tlsSrv := httptest.NewUnstartedServer(h)
	tlsSrv.EnableHTTP2 = true
	tlsSrv.TLS = tlsConfig(cert)
	if cfg.ConfigureTLS != nil {
		cfg.ConfigureTLS(tlsSrv.TLS)
	}
	tlsSrv.Config.ErrorLog = quietLogger()
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)

	s := &Site{Host: host, HTTPS: tlsSrv, CA: ca}
	opts := cfg.Options
	opts.RootCAs = ca.Pool()
	opts.Resolve = map[string]string{host + ":443": tlsSrv.Listener.Addr().String()}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	if !cfg.NoHTTP {
		hh := cfg.HTTPHandler
		if hh == nil {
			hh = h
		}
		s.HTTP = httptest.NewUnstartedServer(hh)
		s.HTTP.Config.ErrorLog = quietLogger()
		s.HTTP.Start()
		t.Cleanup(s.HTTP.Close)
		opts.Resolve[host+":80"] = s.HTTP.Listener.Addr().String()
	} else {
		// Nothing listens: point port 80 at a closed loopback port.
		opts.Resolve[host+":80"] = closedPort(t)
	}
	// The scanner probes www.host when the site asks for preloading; keep
	// that probe on loopback too.
	if _, ok := opts.Resolve["www."+host+":443"]; !ok {
		opts.Resolve["www."+host+":443"] = closedPort(t)
	}
	s.Options = opts
	return s
}

// Scan scans the site and returns the result, failing the test only when
// the scanner cannot be built.
func (s *Site) Scan(t testing.TB) *scan.Result {
	t.Helper()
	sc, err := scan.New(s.Options)
	if err != nil {
		t.Fatalf("scantest: %v", err)
	}
	return sc.Scan(context.Background(), s.Host)
}

// Scan serves h as NewSite does and returns the scan result, failing the
// test when cfg's thresholds are not met.
func Scan(t testing.TB, h http.Handler, cfg Config) *scan.Result {
	t.Helper()
	res := NewSite(t, h, cfg).Scan(t)
	Assert(t, res, cfg)
	return res
}

// Require is Scan for the common case: fail unless the score is at least
// cfg.MinScore (and cfg.MinGrade, when set).
func Require(t testing.TB, h http.Handler, cfg Config) *scan.Result {
	t.Helper()
	return Scan(t, h, cfg)
}

// Assert fails the test when res misses cfg's thresholds, listing every
// check that cost points so the failure says what to fix. A result without
// a grade always fails, and so does an incomplete grade when a threshold
// is set: it may be better than the site deserves.
func Assert(t testing.TB, res *scan.Result, cfg Config) {
	t.Helper()
	if res.Error != nil {
		t.Errorf("scantest: %s has no grade: %s (%s)\n  fix: %s", res.Host, res.Error.Message, res.Error.Kind, res.Error.Fix)
		return
	}
	var problems []string
	if res.Incomplete && (cfg.MinScore > 0 || cfg.MinGrade != "" || cfg.NoFail) {
		for _, c := range res.ErroredChecks() {
			problems = append(problems, "check "+c.ID+" could not complete ("+string(c.Error.Kind)+": "+c.Error.Message+")")
		}
	}
	if cfg.MinScore > 0 && res.Score < cfg.MinScore {
		problems = append(problems, "score "+strconv.Itoa(res.Score)+" is below "+strconv.Itoa(cfg.MinScore))
	}
	if cfg.MinGrade != "" && scan.GradeRank(cfg.MinGrade) < 0 {
		// A bar that is not a grade would let every grade pass.
		problems = append(problems, "MinGrade "+strconv.Quote(cfg.MinGrade)+" is not a grade (A+, A, A-, B+ … F)")
	} else if cfg.MinGrade != "" && scan.GradeRank(res.Grade) < scan.GradeRank(cfg.MinGrade) {
		problems = append(problems, "grade "+res.Grade+" is worse than "+cfg.MinGrade)
	}
	if cfg.NoFail {
		for _, c := range res.Checks {
			if c.Status == scan.StatusFail {
				problems = append(problems, "check "+c.ID+" failed")
				break
			}
		}
	}
	if len(problems) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("scantest: " + strings.Join(problems, "; ") + " (" + res.Scoring + " scoring)\n")
	for _, c := range res.Checks {
		if c.ScoreImpact < 0 || c.Status == scan.StatusFail {
			b.WriteString("  " + c.ID + " " + string(c.Status) + " " + strconv.Itoa(c.ScoreImpact) + ": " + c.Message + "\n")
			if c.Fix != "" {
				b.WriteString("      fix: " + c.Fix + "\n")
			}
		}
	}
	t.Error(b.String())
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t testing.TB) string {
	t.Helper()
	addr, err := testnet.ClosedAddr()
	if err != nil {
		t.Fatalf("scantest: %v", err)
	}
	return addr
}

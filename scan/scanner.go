package scan

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

// Scanner scans targets. It is safe for concurrent use; every Scan has its
// own connections and limits.
type Scanner struct {
	opts    Options
	anchors []trustAnchor
	log     *slog.Logger
	version string
}

// New validates opts, loads the trust anchors (system pool and CA files)
// once, and returns a Scanner.
func New(opts Options) (*Scanner, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	anchors, err := o.loadAnchors()
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return &Scanner{opts: o, anchors: anchors, log: log, version: v}, nil
}

// SetVersion sets the tool version recorded in every Result (the CLI passes
// its build version).
func (s *Scanner) SetVersion(v string) { s.version = v }

// Options returns the options in force, defaults filled in.
func (s *Scanner) Options() Options { return s.opts }

// Scan scans one target (a host name, host:port, or http/https URL) and
// returns its Result. It never panics and never returns nil. When there is
// no grade (a bad target, or an HTTPS page that cannot be fetched: a name
// that does not resolve, a refused port, a server that does not speak TLS
// or HTTP...), Result.Error says why, with its kind, and Grade is empty.
func (s *Scanner) Scan(ctx context.Context, targetStr string) (res *Result) {
	started := time.Now()
	res = &Result{
		SchemaVersion: SchemaVersion,
		Tool:          Tool{Name: "httpsguard", Version: s.version},
		Target:        targetStr,
		StartedAt:     started.UTC(),
		Scoring:       s.opts.Scoring,
		Checks:        []Check{},
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("scan panicked", "target", targetStr, "panic", p, "stack", string(debug.Stack()))
			res.Error = &Error{Kind: KindInternal, Message: fmt.Sprintf("internal error while scanning: %v", p), Fix: fixInternal}
			res.Score, res.Grade, res.Incomplete = 0, "", false
		}
		res.DurationMS = time.Since(started).Milliseconds()
	}()
	t, err := parseTarget(targetStr, s.opts.HTTPPort, s.opts.HTTPSPort)
	if err != nil {
		res.Error = &Error{Kind: KindInvalidTarget, Message: err.Error(), cause: err,
			Fix: "Give a host name (example.com), host:port, or an http:// or https:// URL."}
		return res
	}
	res.Host, res.URL = t.host, t.httpsURL()

	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	f := newFetcher(&s.opts, s.anchors)
	f.log = f.log.With("target", t.host)
	defer f.close()
	obs := s.gather(ctx, f, t)
	f.verifyPending()
	s.evaluate(res, obs)
	return res
}

// observations are the raw material of the checks: everything fetched for
// one target.
type observations struct {
	t     target
	now   time.Time
	https *chain
	http  *chain
	tls   *tlsProbe

	// robots and cors are the Observatory's follow-up requests: GET
	// /robots.txt, then the CORS preflight where it sends it
	// (observatory.Input.CORSURL). pageCORS is the preflight of the
	// analysed page itself, which HGS-HDR-007 judges; it is the same
	// response as cors unless the Observatory preflighted /robots.txt.
	robots, cors, pageCORS          *fetched
	robotsErr, corsErr, pageCORSErr error
	// robotsHops, corsHops and pageCORSHops hold every response of
	// those requests, redirects included (the Observatory's cookie jar
	// sees them all after a certificate error).
	robotsHops, corsHops, pageCORSHops []*fetched
	corsElsewhere                      bool // cors is not the page's preflight

	notFound    *fetched // a random path that does not exist
	notFoundErr error
	trace       *fetched
	traceErr    error
	// paths are the admin and login pages probed, over HTTPS (following
	// same-site redirects) and over HTTP (first response only).
	paths []pathProbe

	// tlsVerify is the chain verdict of the TLS probe, used when no HTTPS
	// response came back.
	tlsVerify verifyResult
	// wwwErr is set when www.host answers on the HTTPS port but a verified
	// TLS handshake fails (hstspreload's domain.www.no_tls).
	wwwErr error

	// What the checks share, computed once: the parsed HTTPS page (see
	// mainPage), the HSTS header, the cookies and the forms judged, and
	// the Observatory's tests (or why they did not run).
	parsedMain *page
	hsts       *hstsView
	cookies    *cookieView
	forms      *formView
	obTests    map[string]observatory.Test
	obErr      error

	// rootsTried names the trust anchors chains were verified against.
	rootsTried []string

	deadline *Error // set when the per-target timeout expired
}

// pathProbe is one admin or login path, fetched over both schemes.
type pathProbe struct {
	path               string
	kind               string // "admin" or "login"
	https              *chain
	http               *fetched
	httpErr            error
	found              bool
	foundDjangoAdmin   bool
	page               page
	servedOverHTTP     bool // the page itself is served over http:// without a redirect
	httpRedirectsToTLS bool
}

// probedPaths are the admin and login pages looked for (ponycheckup's and
// the usual framework defaults).
var probedPaths = []struct{ path, kind string }{
	{"/admin/", "admin"},
	{"/login", "login"},
	{"/accounts/login/", "login"},
}

// gather fetches everything, as much as possible at once: the two page
// sessions, then (once the first TLS handshake is done, so they share its
// connection) the protocol probes and the leak probes, and the
// Observatory's robots.txt and CORS preflight as soon as the analysed
// session is known.
func (s *Scanner) gather(ctx context.Context, f *fetcher, t target) *observations {
	o := &observations{t: t, now: s.opts.now()}
	for _, a := range f.anchors {
		o.rootsTried = append(o.rootsTried, a.name)
	}
	var wg sync.WaitGroup
	mainCtx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			if err != nil {
				f.markWarm(nil)
				return
			}
			f.markWarm(&cs)
		},
	})
	// The Observatory's follow-ups go to the analysed session: HTTPS when
	// it completed, else HTTP. They start as soon as that is known,
	// alongside the other probes. The Observatory sends its CORS
	// preflight after robots.txt because its answer can change the
	// preflight's URL (see observatory.Input.CORSURL); that happens only
	// after a certificate error, so the page's own preflight, which is
	// the Observatory's in every other case and the one HGS-HDR-007
	// judges, goes out at once next to robots.txt, and a second preflight
	// is sent only when the Observatory's goes elsewhere.
	followUps := func(c *chain, https bool) {
		page := c.final.url.String()
		wg.Go(func() {
			o.pageCORS, o.pageCORSHops, o.pageCORSErr = f.preflight(ctx, page)
		})
		wg.Go(func() {
			// RobotsURL depends on the session's start URL only: no need to
			// verify certificates before this request.
			in := followUpInput(c, https, nil, func(*fetched) bool { return true })
			hdr := http.Header{"Accept": {observatory.RobotsAccept}}
			o.robots, o.robotsHops, o.robotsErr = f.followAuto(ctx, http.MethodGet, in.RobotsURL(), hdr)
			in = followUpInput(c, https, o.robots, f.verifiedNow)
			if u := in.CORSURL(); u != page {
				o.corsElsewhere = true
				o.cors, o.corsHops, o.corsErr = f.preflight(ctx, u)
			}
		})
	}
	httpsDone := make(chan struct{})
	wg.Go(func() {
		defer close(httpsDone)
		o.https = f.follow(mainCtx, t.httpsURL(), newJar(), s.opts.MaxRedirects)
		f.markWarm(nil) // no handshake happened (refused, or a plain-text answer)
		if sessionOK(o.https) {
			followUps(o.https, true)
		}
		if o.wantWWWCheck() {
			wg.Go(func() { o.wwwErr = f.checkWWW(ctx, t) })
		}
	})
	wg.Go(func() {
		o.http = f.follow(ctx, t.httpURL(), newJar(), s.opts.MaxRedirects)
		<-httpsDone
		if !sessionOK(o.https) && sessionOK(o.http) {
			followUps(o.http, false)
		}
	})
	wg.Go(func() { o.tls = f.probeTLS(ctx, t, f.waitWarm(ctx)) })
	wg.Go(func() {
		f.waitWarm(ctx)
		o.notFound, o.notFoundErr = f.do(ctx, http.MethodGet, t.httpsBase()+"/httpsguard-"+randomToken()+"/", nil)
	})
	wg.Go(func() {
		f.waitWarm(ctx)
		o.trace, o.traceErr = f.do(ctx, "TRACE", t.httpsBase()+"/", nil)
	})
	o.paths = make([]pathProbe, len(probedPaths))
	for i, p := range probedPaths {
		wg.Go(func() {
			f.waitWarm(ctx)
			o.paths[i] = s.probePath(ctx, f, t, p.path, p.kind)
		})
	}
	wg.Wait()
	if !o.corsElsewhere {
		o.cors, o.corsHops, o.corsErr = o.pageCORS, o.pageCORSHops, o.pageCORSErr
	}

	switch {
	case o.tls != nil && o.tls.state != nil:
		o.tlsVerify = f.verifyState(t.host, o.tls.state)
	case o.tls != nil && len(o.tls.served) > 0:
		// No Go handshake completed, but the raw probes read the chain.
		o.tlsVerify = f.verifyState(t.host, &tls.ConnectionState{PeerCertificates: o.tls.served})
	}
	if o.https != nil && len(o.https.hops) == 0 {
		// The page's handshake failed: the raw probes may say why, in
		// the words of the versions and suites the server accepts.
		if e := o.noSharedSuite(asError(o.https.err)); e != nil {
			o.https.err = e
		}
	}
	if ctx.Err() != nil {
		o.deadline = classify(ctx.Err(), "", o.t.httpsURL(), step{}, &s.opts, true)
	}
	return o
}

// sessionOK reports whether a chain completed as the Observatory counts it:
// no request failed (hitting the redirect limit is not a failure).
func sessionOK(c *chain) bool {
	return c.final != nil && !c.failed
}

// probePath fetches one admin or login path over HTTPS (following
// redirects) and over HTTP (first response only).
func (s *Scanner) probePath(ctx context.Context, f *fetcher, t target, path, kind string) pathProbe {
	p := pathProbe{path: path, kind: kind}
	var wg sync.WaitGroup
	wg.Go(func() {
		// Three redirects are enough for /admin/ → /admin/login/?next=...
		p.https = f.follow(ctx, t.httpsBase()+path, nil, 3)
	})
	wg.Go(func() {
		p.http, p.httpErr = f.do(ctx, http.MethodGet, t.httpBase()+path, nil)
	})
	wg.Wait()
	if p.https.final != nil && p.https.final.status == http.StatusOK {
		fin := p.https.final
		p.page = parsePage(fin.body, fin.url)
		body := string(fin.body)
		p.foundDjangoAdmin = strings.Contains(body, "id_username") && strings.Contains(body, "csrfmiddlewaretoken")
		for _, fm := range p.page.forms {
			if fm.hasPassword {
				p.found = true
			}
		}
		p.found = p.found || p.foundDjangoAdmin
	}
	if p.http != nil {
		if p.http.isRedirectStatus() {
			if u, err := resolveLocation(p.http.url, p.http.header.Get("Location")); err == nil && u.Scheme == "https" {
				p.httpRedirectsToTLS = true
			}
		} else if p.http.status == http.StatusOK {
			pg := parsePage(p.http.body, p.http.url)
			for _, fm := range pg.forms {
				if fm.hasPassword {
					p.servedOverHTTP = true
				}
			}
			body := string(p.http.body)
			if strings.Contains(body, "id_username") && strings.Contains(body, "csrfmiddlewaretoken") {
				p.servedOverHTTP = true
			}
		}
	}
	return p
}

// followAuto follows redirects the way the Observatory's follow-up client
// (follow-redirects) does: any 3xx with a Location, at most MaxRedirects,
// 303 turning the method into GET. It returns the final response and every
// response received, the final one included, also when a later request
// failed.
func (f *fetcher) followAuto(ctx context.Context, method, start string, hdr http.Header) (*fetched, []*fetched, error) {
	var hops []*fetched
	next := start
	for i := 0; ; i++ {
		r, err := f.doObservatory(ctx, method, next, hdr, nil)
		if err != nil {
			return nil, hops, err
		}
		hops = append(hops, r)
		loc := r.header.Get("Location")
		if r.status < 300 || r.status > 399 || loc == "" {
			return r, hops, nil
		}
		if i >= f.opts.MaxRedirects {
			return nil, hops, tooManyRedirects(method+" "+start, f.opts.MaxRedirects, false)
		}
		u, err := resolveLocation(r.url, loc)
		if err != nil {
			return nil, hops, badRedirect(fmt.Sprintf("%s %s: redirect from %s", method, start, r.url), err)
		}
		if r.status == http.StatusSeeOther && method != http.MethodHead {
			method = http.MethodGet
		}
		next = u.String()
	}
}

// preflight sends the Observatory's CORS preflight to u.
func (f *fetcher) preflight(ctx context.Context, u string) (*fetched, []*fetched, error) {
	hdr := http.Header{"Access-Control-Request-Method": {"GET"}, "Origin": {observatory.CORSOrigin}}
	return f.followAuto(ctx, http.MethodOptions, u, hdr)
}

// observatoryChain converts the responses of a follow-up request.
func observatoryChain(hops []*fetched) []*observatory.Response {
	out := make([]*observatory.Response, 0, len(hops))
	for _, h := range hops {
		out = append(out, toObservatory(h))
	}
	return out
}

// newJar returns the cookie jar of a page session: the Observatory's, so
// that a site which answers according to its cookies answers as it does to
// the Observatory.
func newJar() *observatory.Jar { return new(observatory.Jar) }

func randomToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ScanAll scans targets, at most Options.Concurrency at a time, and sends
// each Result on the returned channel as soon as it is ready, in completion
// order. The channel is closed after the last Result. Cancelling ctx makes
// the remaining scans finish quickly with an error Result each, so every
// target still gets exactly one Result.
func (s *Scanner) ScanAll(ctx context.Context, targets []string) <-chan *Result {
	out := make(chan *Result, s.opts.Concurrency)
	go func() {
		defer close(out)
		sem := make(chan struct{}, s.opts.Concurrency)
		var wg sync.WaitGroup
		for _, t := range targets {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				out <- s.Scan(ctx, t)
			})
		}
		wg.Wait()
	}()
	return out
}

package scantest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard"
	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/scantest"
)

// app is a plain application that knows nothing about transport security:
// it sets a session cookie without any flags.
func app() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "s", Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>app</title><p>hello</p>")
	})
	return mux
}

// TestGuardedAppGrades is the loop the project exists for: the same
// application, wrapped in httpsguard's middleware, goes from failing to an
// A+ in the full check.
func TestGuardedAppGrades(t *testing.T) {
	bare := scantest.NewSite(t, app(), scantest.Config{}).Scan(t)
	if bare.Score >= 50 {
		t.Errorf("the unguarded app scores %d, want a failing grade", bare.Score)
	}

	guard, err := httpsguard.New(httpsguard.Policy{
		SSLRedirect:             true,
		HSTSSeconds:             63072000,
		HSTSIncludeSubdomains:   true,
		HSTSPreload:             true,
		ContentTypeNosniff:      true,
		FrameOptions:            "DENY",
		ReferrerPolicy:          "same-origin",
		CrossOriginOpenerPolicy: "same-origin",
		ContentSecurityPolicy:   "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		SecureCookies:           []string{"*"},
		HTTPOnlyCookies:         []string{"sessionid"},
		CookieSameSite:          "Lax",
	})
	if err != nil {
		t.Fatal(err)
	}
	res := scantest.Require(t, guard.Handler(app()), scantest.Config{MinScore: 95, MinGrade: "A", NoFail: true})
	for _, c := range res.Checks {
		if c.Status == scan.StatusWarn {
			t.Logf("warning left: %s %s", c.ID, c.Message)
		}
	}
}

func TestConfigNoHTTP(t *testing.T) {
	site := scantest.NewSite(t, app(), scantest.Config{NoHTTP: true})
	if site.HTTP != nil {
		t.Fatal("an HTTP listener was started")
	}
	res := site.Scan(t)
	// Nothing on HTTP is a note with its consequence, not a pass (this
	// test pinned a pass before), and the grade is complete.
	for _, c := range res.Checks {
		if c.ID == "HGS-RED-001" && (c.Status != scan.StatusInfo || c.Result != "http-not-served") {
			t.Errorf("RED-001 without HTTP: %s %s %s", c.Status, c.Result, c.Message)
		}
	}
	if !res.Graded() || res.Incomplete {
		t.Errorf("grade %q incomplete=%v error %+v", res.Grade, res.Incomplete, res.Error)
	}
}

// recorder is a testing.TB that keeps what Assert reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Error(a ...any)            { r.errs = append(r.errs, fmt.Sprint(a...)) }
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }

// TestAssertMinGrade compares grades in scan's order, and a bar that is not
// a grade fails rather than letting every grade through.
func TestAssertMinGrade(t *testing.T) {
	res := &scan.Result{Host: "app.test", Grade: "B", Score: 75, Scoring: scan.ScoringHTTPSGuard}
	for _, tc := range []struct {
		min  string
		want string // "" for a pass
	}{
		{"B", ""},
		{"B-", ""},
		{"F", ""},
		{"B+", "grade B is worse than B+"},
		{"A+", "grade B is worse than A+"},
		{"b", `MinGrade "b" is not a grade`},
		{"E", `MinGrade "E" is not a grade`},
	} {
		r := &recorder{}
		scantest.Assert(r, res, scantest.Config{MinGrade: tc.min})
		got := fmt.Sprint(r.errs)
		if tc.want == "" && len(r.errs) > 0 || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("MinGrade %q on a B: reported %q, want %q", tc.min, got, tc.want)
		}
	}
}

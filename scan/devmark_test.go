package scan_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/scantest"
)

// servedLike answers as a site behind "httpsguard serve" does: no HSTS,
// a 307 from plain HTTP, each marked with mark (none when empty).
func servedLike(httpsMark, httpMark string) http.Handler {
	a := app{hdr: map[string]string{"Strict-Transport-Security": "", "Httpsguard-Serve": httpsMark}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			if httpMark != "" {
				w.Header().Set("Httpsguard-Serve", httpMark)
			}
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		a.ServeHTTP(w, r)
	})
}

// TestServeMarkNoted checks that a finding caused by what httpsguard serve
// does on purpose says so, and only then: the verdicts stay.
func TestServeMarkNoted(t *testing.T) {
	for _, tc := range []struct {
		name                string
		httpsMark, httpMark string
		hstsNote, redNote   bool
	}{
		{"through serve", "dev, hsts-removed", "dev, temporary-redirect", true, true},
		{"through serve with --hsts", "dev", "dev, temporary-redirect", false, true},
		{"not through serve", "", "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := scanApp(t, servedLike(tc.httpsMark, tc.httpMark), scantest.Config{})
			hsts, red := check(t, res, "HGS-HSTS-001"), check(t, res, "HGS-RED-005")
			if hsts.Status != scan.StatusFail || red.Status != scan.StatusWarn {
				t.Fatalf("HSTS %s, redirect %s: want the verdicts on what a browser gets (fail, warn)", hsts.Status, red.Status)
			}
			if got := strings.Contains(hsts.Message, "httpsguard serve") && strings.Contains(hsts.Message, "--hsts"); got != tc.hstsNote {
				t.Errorf("HSTS message %q: note of serve %v, want %v", hsts.Message, got, tc.hstsNote)
			}
			if got := strings.Contains(red.Message, "httpsguard serve"); got != tc.redNote {
				t.Errorf("redirect message %q: note of serve %v, want %v", red.Message, got, tc.redNote)
			}
		})
	}
}

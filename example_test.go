package httpsguard_test

import (
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/httpsguard/httpsguard"
)

func Example() {
	policy, err := httpsguard.PolicyFromEnv() // HTTPSGUARD_* variables, Django's defaults
	if err != nil {
		log.Fatal(err) // names the variable and the value
	}
	guard, err := httpsguard.New(policy)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	})
	srv := &http.Server{Addr: ":8000", Handler: guard.Handler(mux)}
	_ = srv // srv.ListenAndServe()
}

func ExampleNew() {
	guard, err := httpsguard.New(httpsguard.Policy{
		SSLRedirect:           true,
		HSTSSeconds:           63072000,
		HSTSIncludeSubdomains: true,
		HSTSPreload:           true,
		ProxySSLHeader:        "X-Forwarded-Proto",
		ProxySSLValue:         "https",
		TrustedProxies:        []string{"10.0.0.0/8"},
		ContentTypeNosniff:    true,
		FrameOptions:          "DENY",
		ReferrerPolicy:        "same-origin",
		SecureCookies:         []string{"*"},
		HTTPOnlyCookies:       []string{"sessionid"},
		CookieSameSite:        "Lax",
		AllowedHosts:          []string{"example.com", ".example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "abc"})
	}))

	// A plain-HTTP POST is redirected with 308, which keeps the method.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "http://example.com/login?next=/", nil))
	fmt.Println(w.Code, w.Header().Get("Location"))

	// The TLS proxy's request is secure: HSTS and a hardened cookie.
	r := httptest.NewRequest(http.MethodGet, "http://www.example.com/", nil)
	r.RemoteAddr = "10.0.0.5:41234"
	r.Header.Set("X-Forwarded-Proto", "https")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Header().Get("Strict-Transport-Security"))
	fmt.Println(w.Header().Get("Set-Cookie"))
	// Output:
	// 308 https://example.com/login?next=/
	// max-age=63072000; includeSubDomains; preload
	// sessionid=abc; Secure; HttpOnly; SameSite=Lax
}

func ExampleNonce() {
	guard, err := httpsguard.New(httpsguard.Policy{
		ContentSecurityPolicy: "script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'; base-uri 'none'",
	})
	if err != nil {
		log.Fatal(err)
	}
	page := template.Must(template.New("").Parse(`<script nonce="{{.}}">init()</script>`))
	h := guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = page.Execute(w, httpsguard.Nonce(r.Context()))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	nonce, _, _ := strings.Cut(strings.TrimPrefix(w.Body.String(), `<script nonce="`), `"`)
	fmt.Println(w.Header().Get("Content-Security-Policy") ==
		"script-src 'nonce-"+nonce+"' 'strict-dynamic'; object-src 'none'; base-uri 'none'")
	// Output: true
}

func ExampleExemptFrameOptions() {
	guard, _ := httpsguard.New(httpsguard.Policy{FrameOptions: "DENY"})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/embed/", func(w http.ResponseWriter, r *http.Request) {
		httpsguard.ExemptFrameOptions(w) // this widget is meant to be framed
	})
	h := guard.Handler(mux)
	for _, path := range []string{"/", "/embed/map"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Printf("%s: %q\n", path, w.Header().Get("X-Frame-Options"))
	}
	// Output:
	// /: "DENY"
	// /embed/map: ""
}

func ExamplePolicy_Check() {
	p := httpsguard.Policy{
		SSLRedirect:           true,
		HSTSSeconds:           300,
		HSTSIncludeSubdomains: true,
		ProxySSLHeader:        "X-Forwarded-Proto",
		ProxySSLValue:         "https",
		ContentTypeNosniff:    true,
		FrameOptions:          "SAMEORIGIN",
	}
	for _, f := range p.Check() {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%-13s %-5s %-7s %s", f.ID, f.LegacyID, f.Severity, f.Django)))
	}
	// Output:
	// HGP-HSTS-002  HG112 warning
	// HGP-HSTS-004  HG114 warning security.W021
	// HGP-PROXY-001 HG121 warning
	// HGP-HDR-003   HG133 warning security.W019
	// HGP-HDR-005   HG135 warning security.W022
	// HGP-HDR-007   HG137 warning
	// HGP-HDR-010   HG143 info
	// HGP-CSP-001   HG139 info
	// HGP-COOK-001  HG151 warning security.W012, security.W016
	// HGP-COOK-003  HG153 warning security.W015
	// HGP-COOK-004  HG154 info
	// HGP-HOST-001  HG161 warning security.W020
}

func ExampleGuard_Host() {
	// Behind a load balancer on 10.0.0.0/8 that sends the app its internal
	// name as Host and the client's in X-Forwarded-Host.
	guard, err := httpsguard.New(httpsguard.Policy{
		SSLRedirect:       true,
		TrustedProxies:    []string{"10.0.0.0/8"},
		UseXForwardedHost: true,
		AllowedHosts:      []string{"example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, peer := range []string{"10.0.0.5:41234", "203.0.113.9:5555"} {
		r := httptest.NewRequest(http.MethodGet, "http://app.internal:8000/login", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-Host", "example.com")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%s: %s, %d %q\n", peer, guard.Host(r), w.Code, w.Header().Get("Location"))
	}
	// Output:
	// 10.0.0.5:41234: example.com, 301 "https://example.com/login"
	// 203.0.113.9:5555: app.internal:8000, 400 ""
}

func ExamplePolicy_reportOnly() {
	// Enforce the current policy and trial a stricter one: browsers report
	// what the stricter one would block to /csp-reports, and block nothing
	// more. Both get the same nonce.
	guard, err := httpsguard.New(httpsguard.Policy{
		ContentSecurityPolicy:           "script-src 'self' 'nonce-{nonce}'",
		ContentSecurityPolicyReportOnly: "script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'; base-uri 'none'; report-uri /csp-reports",
	})
	if err != nil {
		log.Fatal(err)
	}
	var nonce string
	h := guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce = httpsguard.Nonce(r.Context())
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(strings.ReplaceAll(w.Header().Get("Content-Security-Policy"), nonce, "N"))
	fmt.Println(strings.ReplaceAll(w.Header().Get("Content-Security-Policy-Report-Only"), nonce, "N"))
	// Output:
	// script-src 'self' 'nonce-N'
	// script-src 'nonce-N' 'strict-dynamic'; object-src 'none'; base-uri 'none'; report-uri /csp-reports
}

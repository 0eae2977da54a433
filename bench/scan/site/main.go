// Command site serves the loopback site that bench/scan/run.sh scans: one
// HTTPS and one HTTP listener, a certificate from a throw-away local CA for
// localhost and *.bench.test (so a thousand distinct host names verify on one
// server), and a realistic page: security headers, cookies, a form with a
// CSRF token, scripts with Subresource Integrity. It exits by itself after
// -lifetime.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/httpsguard/httpsguard/localca"
)

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bench site</title>
<meta name="referrer" content="no-referrer">
<link rel="stylesheet" href="/static/site.css">
<script src="/static/app.js"></script>
<script src="https://cdn.bench.test/lib.js" integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC" crossorigin="anonymous"></script>
</head><body><h1>Bench site</h1>
<form method="post" action="/contact"><input type="hidden" name="csrfmiddlewaretoken" value="t0k3n"><input name="msg"><button>Send</button></form>
<img src="/static/logo.png" alt="logo">
</body></html>`

func main() {
	caDir := flag.String("ca-dir", "", "directory of the local CA (created if missing)")
	httpsAddr := flag.String("https", "127.0.0.1:0", "HTTPS listen address (host localhost listens on 127.0.0.1 and ::1)")
	httpAddr := flag.String("http", "127.0.0.1:0", "HTTP listen address")
	lifetime := flag.Duration("lifetime", 10*time.Minute, "exit after this long")
	flag.Parse()
	if err := run(*caDir, *httpsAddr, *httpAddr, *lifetime); err != nil {
		fmt.Fprintln(os.Stderr, "site:", err)
		os.Exit(1)
	}
}

func run(caDir, httpsAddr, httpAddr string, lifetime time.Duration) error {
	if caDir == "" {
		return errors.New("-ca-dir is required")
	}
	ca, _, err := localca.LoadOrCreate(caDir)
	if err != nil {
		return err
	}
	cert, err := ca.Issue("localhost", "*.bench.test", "bench.test", "127.0.0.1", "::1")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, lifetime)
	defer cancel()

	quiet := slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	tlsSrv := &http.Server{Handler: http.HandlerFunc(serveTLS), ErrorLog: quiet, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12, CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,
		}}}
	tlsLns, err := listen(httpsAddr)
	if err != nil {
		return err
	}
	plainSrv := &http.Server{Handler: redirect(port(tlsLns[0])), ErrorLog: quiet, ReadHeaderTimeout: 10 * time.Second}
	httpLns, err := listen(httpAddr)
	if err != nil {
		return err
	}
	for _, l := range tlsLns {
		go tlsSrv.ServeTLS(l, "", "")
	}
	for _, l := range httpLns {
		go plainSrv.Serve(l)
	}
	fmt.Printf("https_port=%d http_port=%d ca_root=%s\n", port(tlsLns[0]), port(httpLns[0]), ca.RootFile())
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer scancel()
	tlsSrv.Shutdown(sctx)
	plainSrv.Shutdown(sctx)
	return nil
}

// listen opens addr; "localhost:PORT" opens 127.0.0.1 and, when the machine
// has it, ::1 on the same port, so clients that try either family connect.
func listen(addr string) ([]net.Listener, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if host != "localhost" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		return []net.Listener{l}, nil
	}
	l4, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", p))
	if err != nil {
		return nil, err
	}
	out := []net.Listener{l4}
	if l6, err := net.Listen("tcp", net.JoinHostPort("::1", fmt.Sprint(port(l4)))); err == nil {
		out = append(out, l6)
	}
	return out, nil
}

func port(l net.Listener) int { return l.Addr().(*net.TCPAddr).Port }

// redirect sends every plain-HTTP request to the same host on the HTTPS
// port, permanently.
func redirect(httpsPort int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		http.Redirect(w, r, fmt.Sprintf("https://%s:%d%s", host, httpsPort, r.URL.RequestURI()), http.StatusMovedPermanently)
	})
}

func serveTLS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' https://cdn.bench.test; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Add("Set-Cookie", "sessionid=abc; Path=/; Secure; HttpOnly; SameSite=Lax")
	h.Add("Set-Cookie", "csrftoken=def; Path=/; Secure; SameSite=Lax")
	switch {
	case r.URL.Path == "/":
		h.Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	case r.URL.Path == "/robots.txt":
		h.Set("Content-Type", "text/plain")
		fmt.Fprint(w, "User-agent: *\nAllow: /\n")
	case strings.HasPrefix(r.URL.Path, "/static/"):
		h.Set("Content-Type", "text/plain")
		fmt.Fprint(w, "/* static */")
	default:
		http.NotFound(w, r)
	}
}

package autotls_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/httpsguard/httpsguard/autotls"
)

// From http.ListenAndServe to HTTPS with certificates from Let's Encrypt,
// renewed automatically, port 80 redirecting to HTTPS, and the production
// policy of httpsguard on every response: one call changes.
func Example() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello over", r.Proto)
	})

	// Stop gracefully on Ctrl-C or on the service manager's SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Before: log.Fatal(http.ListenAndServe(":80", mux))
	err := autotls.ListenAndServe(ctx, mux, autotls.Options{
		Domains: []string{"example.com", "www.example.com"},
		Email:   "ops@example.com", // the CA writes here about expiring certificates
	})
	if err != nil {
		log.Fatal(err)
	}
}

// A multi-tenant service obtains certificates for its customers' names on
// the first visit, and only for them.
func Example_onDemand() {
	isCustomer := func(ctx context.Context, name string) error {
		if strings.HasSuffix(name, ".shops.example") { // a database lookup, in real life
			return nil
		}
		return errors.New("not a customer")
	}
	srv, err := autotls.New(http.NotFoundHandler(), autotls.Options{
		OnDemand: isCustomer,
		CA:       autotls.LetsEncryptStaging, // until it all works
		Storage:  "/var/lib/shops/acme",
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = srv // srv.Serve(ctx)
}

// Review a policy as autotls would serve it: HSTS preload commits the whole
// registrable domain, which has no certificate here.
func ExampleOptions_Check() {
	opts := autotls.Options{Domains: []string{"www.example.com"}}
	p := autotls.DefaultPolicy(opts.Domains)
	p.HSTSIncludeSubdomains, p.HSTSPreload = true, true
	for _, f := range opts.Check(context.Background(), p) {
		fmt.Println(f.ID, f.Severity, f.Title)
	}
	// Output:
	// HGP-HDR-010 info no Permissions-Policy
	// HGP-CSP-001 info no Content-Security-Policy
	// HGP-ACME-001 warning HSTS preload is asked for a name the ACME configuration does not cover
}

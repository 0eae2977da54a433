package localcatest_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/httpsguard/httpsguard/localca/localcatest"
)

func TestNewTLSServerIsTrustedThroughTheCA(t *testing.T) {
	ca := localcatest.New(t)
	srv := localcatest.NewTLSServer(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))

	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatalf("GET through a client trusting the CA: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "HTTP/2.0" {
		t.Errorf("protocol = %q, want HTTP/2.0", body)
	}
	if got := resp.TLS.PeerCertificates[0].Issuer.String(); got != ca.Root().Subject.String() {
		t.Errorf("server certificate issued by %q, want the CA %q", got, ca.Root().Subject)
	}

	// The same server, reached through localhost, verifies as well.
	u, _ := url.Parse(srv.URL)
	resp, err = localcatest.Client(t, ca).Get("https://localhost:" + u.Port())
	if err != nil {
		t.Fatalf("GET https://localhost: %v", err)
	}
	resp.Body.Close()

	// A client trusting another CA must fail: the trust is real.
	other := localcatest.New(t)
	_, err = localcatest.Client(t, other).Get(srv.URL)
	var unknown x509.UnknownAuthorityError
	if err == nil || !errors.As(err, &unknown) {
		t.Fatalf("GET with a client trusting another CA: err = %v, want an unknown-authority error", err)
	}
}

func TestNewUnstartedTLSServerKeepsCallerConfig(t *testing.T) {
	ca := localcatest.New(t)
	srv := localcatest.NewUnstartedTLSServer(t, ca, http.NotFoundHandler(), "127.0.0.1")
	srv.TLS.MinVersion = tls.VersionTLS13
	srv.StartTLS()
	localcatest.TrustCA(srv.Client(), ca)
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("TLS version = %x, want TLS 1.3", resp.TLS.Version)
	}
}

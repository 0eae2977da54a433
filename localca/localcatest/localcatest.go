// Package localcatest gives tests a real local CA and HTTPS servers whose
// certificates chain to it, so a test can check that trust works without
// InsecureSkipVerify. It lives apart from package localca so the library does
// not import "testing".
package localcatest

import (
	"context"
	"crypto/tls"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/localca"
)

// New returns a fresh CA stored in t.TempDir(), so each test gets its own
// root and may look at or damage its files.
func New(t testing.TB) *localca.CA {
	t.Helper()
	ca, created, err := localca.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatalf("localcatest: creating CA: %v", err)
	}
	if !created {
		t.Fatalf("localcatest: a CA already existed in a new temporary directory")
	}
	return ca
}

// Issue returns a leaf for names from ca, failing the test on error.
func Issue(t testing.TB, ca *localca.CA, names ...string) *tls.Certificate {
	t.Helper()
	cert, err := ca.Issue(names...)
	if err != nil {
		t.Fatalf("localcatest: issuing certificate for %q: %v", names, err)
	}
	return cert
}

// DefaultNames are the names a test server's certificate covers when the
// caller gives none: every way a loopback test reaches it.
var DefaultNames = []string{"localhost", "127.0.0.1", "::1"}

// NewTLSServer starts an HTTPS server on loopback serving handler with a
// certificate from ca for names (DefaultNames when empty). HTTP/2 is
// enabled, as in a real deployment. The server's Client() trusts exactly
// ca's root, and the server is closed when the test ends.
func NewTLSServer(t testing.TB, ca *localca.CA, handler http.Handler, names ...string) *httptest.Server {
	t.Helper()
	srv := NewUnstartedTLSServer(t, ca, handler, names...)
	srv.StartTLS()
	TrustCA(srv.Client(), ca)
	return srv
}

// NewUnstartedTLSServer is NewTLSServer without the start, for tests that
// adjust srv.TLS or srv.Config first. Call srv.StartTLS and then TrustCA on
// srv.Client().
func NewUnstartedTLSServer(t testing.TB, ca *localca.CA, handler http.Handler, names ...string) *httptest.Server {
	t.Helper()
	if len(names) == 0 {
		names = DefaultNames
	}
	cert := Issue(t, ca, names...)
	srv := httptest.NewUnstartedServer(handler)
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
	// Handshake errors are expected in tests that check a client refuses a
	// certificate; keep them in the test's log instead of stderr.
	srv.Config.ErrorLog = log.New(testWriter{t}, "httptest server: ", 0)
	t.Cleanup(srv.Close)
	return srv
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TrustCA makes client trust ca's root and nothing else. The client must
// use an *http.Transport, as httptest's clients do.
func TrustCA(client *http.Client, ca *localca.CA) {
	tr, ok := client.Transport.(*http.Transport)
	if !ok {
		panic("localcatest: TrustCA needs a client with an *http.Transport")
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.RootCAs = ca.Pool()
	tr.TLSClientConfig.InsecureSkipVerify = false
}

// Client returns a new HTTP client whose transport trusts exactly ca's
// root, with HTTP/2 enabled. Its idle connections are closed when the test
// ends.
func Client(t testing.TB, ca *localca.CA) *http.Client {
	t.Helper()
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: ca.Pool()},
		ForceAttemptHTTP2: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// ClientTo returns a client that trusts exactly ca's root and connects
// every request to addr (a loopback "host:port", such as the listener of an
// httptest server), whatever host the URL names, as an /etc/hosts entry
// would. The URL's host is still sent in SNI and the Host header and checked
// against the certificate, so tests can use names like "app.test" and
// "*.app.test" without touching DNS or leaving loopback.
func ClientTo(t testing.TB, ca *localca.CA, addr string) *http.Client {
	t.Helper()
	c := Client(t, ca)
	c.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return c
}

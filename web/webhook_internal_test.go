package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestWebhookDialRefusesPrivate: the delivery client checks the address it
// dials, whatever name led there, unless private webhooks are allowed.
func TestWebhookDialRefusesPrivate(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer ts.Close()
	name := strings.Replace(ts.URL, "127.0.0.1", "localhost", 1) // a name, not a literal
	for _, u := range []string{ts.URL, name} {
		_, err := newWebhookClient(false).Post(u, "application/json", strings.NewReader("{}"))
		if err == nil || !strings.Contains(err.Error(), refusedText) {
			t.Errorf("POST %s with private webhooks refused = %v", u, err)
		}
		if strings.Contains(publicText(err.Error()), "127.0.0.1") {
			t.Errorf("the recorded error shows the address: %q", publicText(err.Error()))
		}
	}
	res, err := newWebhookClient(true).Post(ts.URL, "application/json", strings.NewReader("{}"))
	if err != nil || res.StatusCode != 204 {
		t.Errorf("POST with private webhooks allowed = %v, %v", res, err)
	}
	// Redirects are not followed: a receiver cannot bounce a delivery.
	redir := httptest.NewServer(http.RedirectHandler("http://10.0.0.1/", http.StatusTemporaryRedirect))
	defer redir.Close()
	if res, err := newWebhookClient(true).Post(redir.URL, "application/json", strings.NewReader("{}")); err != nil || res.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("redirecting receiver = %v, %v; want the 307 itself", res, err)
	}
}

func TestSignature(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"x"}`)
	h := Sign("whsec_k", now, body)
	if !strings.HasPrefix(h, "t=1800000000,v1=") {
		t.Fatalf("Sign = %q", h)
	}
	for _, tc := range []struct {
		name, secret, header string
		body                 []byte
		at                   time.Time
		ok                   bool
	}{
		{"valid", "whsec_k", h, body, now.Add(time.Minute), true},
		{"wrong secret", "whsec_x", h, body, now, false},
		{"tampered body", "whsec_k", h, []byte(`{"id":"y"}`), now, false},
		{"replayed later", "whsec_k", h, body, now.Add(6 * time.Minute), false},
		{"from the future", "whsec_k", h, body, now.Add(-6 * time.Minute), false},
		{"malformed", "whsec_k", "v1=abc", body, now, false},
		{"second signature", "whsec_k", h + ",v1=00", body, now, true},
	} {
		err := VerifySignature(tc.secret, tc.header, tc.body, tc.at)
		if (err == nil) != tc.ok {
			t.Errorf("%s: VerifySignature = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestPublicText(t *testing.T) {
	for in, want := range map[string]string{
		"GET https://x.test/: dial tcp 127.0.0.1:443: address refused by --deny-private: 127.0.0.1 is not a public address": "GET https://x.test/: refused: not a public address",
		"lookup db.internal on 10.0.0.2:53: no such host":                                                                   "lookup db.internal: no such host",
		"lookup x.test on [fd00::53]:53: server misbehaving":                                                                "lookup x.test: server misbehaving",
		"dial tcp 10.1.2.3:8443: connect: connection refused":                                                               "dial tcp [non-public address]: connect: connection refused",
		"dial tcp [fd12::1]:443: i/o timeout":                                                                               "dial tcp [non-public address]: i/o timeout",
		"dial tcp 8.8.8.8:443: connect: connection refused":                                                                 "dial tcp 8.8.8.8:443: connect: connection refused",
		"dial tcp 192.0.2.1:443: i/o timeout":                                                                               "dial tcp [non-public address]: i/o timeout",
		"x509: certificate is valid for 127.0.0.1, not example.com":                                                         "x509: certificate is valid for [non-public address], not example.com",
	} {
		if got := publicText(in); got != want {
			t.Errorf("publicText(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}

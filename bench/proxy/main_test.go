package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8443", true},
		{"127.0.0.2:1", true},
		{"[::1]:8443", true},
		{"localhost:8443", false}, // a name could resolve anywhere
		{"0.0.0.0:8443", false},
		{"192.0.2.1:443", false},
		{"127.0.0.1", false},
	} {
		if err := loopbackOnly(tc.addr); (err == nil) != tc.ok {
			t.Errorf("loopbackOnly(%q) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
}

func TestBody(t *testing.T) {
	for _, size := range []int{0, 1, 17, 1024, 4096} {
		b := body(size)
		if len(b) != size {
			t.Errorf("body(%d) has %d bytes", size, len(b))
		}
		if size > 0 && b[size-1] != '\n' {
			t.Errorf("body(%d) does not end in a newline", size)
		}
	}
}

// TestFetch checks that wait's probe accepts only the upstream's exact body,
// so a proxy answering by itself is not benchmarked by mistake.
func TestFetch(t *testing.T) {
	want := body(1024)
	for _, tc := range []struct {
		name   string
		status int
		body   []byte
		ok     bool
	}{
		{"upstream body", http.StatusOK, want, true},
		{"empty page", http.StatusOK, nil, false},
		{"other body", http.StatusOK, body(1000), false},
		{"bad gateway", http.StatusBadGateway, want, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				w.Write(tc.body)
			}))
			defer ts.Close()
			req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, ts.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			proto, err := fetch(ts.Client(), req, want)
			if (err == nil) != tc.ok {
				t.Fatalf("fetch: %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && !strings.HasPrefix(proto, "HTTP/1.1") {
				t.Errorf("protocol %q, want HTTP/1.1", proto)
			}
		})
	}
}

package observatory

import (
	"net/http"
	"testing"
)

// siteInput builds the Input of a site on mozilla.org that redirects
// http:// to https:// and answers the HTTPS page with header and body, as
// the Observatory's own test helper (emptyRequests) does.
func siteInput(header http.Header, body string) Input {
	if header == nil {
		header = http.Header{}
	}
	if _, ok := header["Content-Type"]; !ok {
		header.Set("Content-Type", "text/html")
	}
	page := &Response{URL: "https://mozilla.org/", Status: 200, Header: header, Body: []byte(body)}
	return Input{
		Hostname: "mozilla.org",
		HTTP: Session{Start: "http://mozilla.org/", Verified: true, Chain: []*Response{
			{URL: "http://mozilla.org/", Status: 301, Header: http.Header{"Location": {"https://mozilla.org/"}}},
			page,
		}},
		HTTPS: Session{Start: "https://mozilla.org/", Verified: true, Chain: []*Response{page}},
	}
}

// hdr builds a header from name, value pairs; repeated names add fields.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// run analyses in and returns the named test.
func run(t *testing.T, in Input, name string) Test {
	t.Helper()
	rep := Analyze(in)
	if rep.Err != nil {
		t.Fatalf("Analyze: %v", rep.Err)
	}
	for _, tt := range rep.Tests {
		if tt.Name == name {
			return tt
		}
	}
	t.Fatalf("no test %q", name)
	return Test{}
}

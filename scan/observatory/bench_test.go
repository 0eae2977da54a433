package observatory

import "testing"

func BenchmarkAnalyze(b *testing.B) {
	in := siteInput(hdr(
		"Content-Security-Policy", "default-src 'none'; script-src 'self' 'nonce-abc' 'strict-dynamic'; img-src https://a.example.com https://b.example.com; frame-ancestors 'none'",
		"Strict-Transport-Security", "max-age=63072000; includeSubDomains",
		"Set-Cookie", "sessionid=1; Secure; HttpOnly; SameSite=Lax",
		"Set-Cookie", "csrftoken=2; Secure; SameSite=Strict",
		"Referrer-Policy", "no-referrer", "X-Content-Type-Options", "nosniff",
	), `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src https://a.example.com"></head>
<body><script src="/a.js"></script><script src="https://cdn.example.com/b.js" integrity="sha384-x" crossorigin="anonymous"></script></body></html>`)
	b.ReportAllocs()
	for b.Loop() {
		if rep := Analyze(in); rep.Err != nil {
			b.Fatal(rep.Err)
		}
	}
}

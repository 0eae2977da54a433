package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
)

// FuzzRender puts arbitrary strings everywhere a site can put them and
// renders every format: nothing may fail or panic, JSON must stay valid,
// HTML inert, text free of terminal escapes, and the Markdown summary
// table whole.
func FuzzRender(f *testing.F) {
	f.Add("example.com", "max-age=300", "https://example.com/", "Server: nginx")
	f.Add(xssScript, xssAttr, xssJS, termEscape)
	f.Add(bidi, mdBreaker, "data:text/html,<script>alert(1)</script>", "a|b`c")
	f.Add("", "\x00\xff\xfe", "http://[::1]:80/%zz", "\r\n\r\n# x")
	f.Add("``` `", "\\|", "<!-- ", "]]></style></svg><script>")
	f.Fuzz(func(t *testing.T, host, evidence, link, message string) {
		r := fullResult()
		r.Host, r.Target, r.URL = host, host, link
		r.Grade = message
		r.Checks[4].Error = &scan.Error{Kind: scan.ErrorKind(host), Detail: link, Message: evidence, Fix: message}
		r.Checks[0].Evidence = []string{evidence, message}
		r.Checks[3].Message = message
		r.Checks[3].Refs = []string{link}
		r.Checks[3].Fix = evidence
		r.Checks = append(r.Checks, scan.Check{ID: message, Title: evidence, Category: host, Status: scan.Status(message)})
		r.HTTPRedirects = append(r.HTTPRedirects, scan.Hop{URL: link, Location: evidence, HSTS: message, Error: host})
		r.TLS.Chain[0].Subject = evidence
		r.TLS.Versions[message] = true

		down := failedResult()
		down.Host, down.URL = host, link
		down.Error = &scan.Error{Kind: scan.ErrorKind(message), Detail: host, Message: evidence, Fix: link}
		results := []*scan.Result{r, down}
		out := map[Format]string{}
		for _, format := range Formats() {
			var buf bytes.Buffer
			if err := Write(&buf, format, results, Options{Verbose: true}); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			out[format] = buf.String()
		}
		if !json.Valid([]byte(out[JSON])) || !json.Valid([]byte(out[SARIF])) {
			t.Fatal("invalid JSON")
		}
		for _, line := range strings.Split(strings.TrimSpace(out[JSONLines]), "\n") {
			if !json.Valid([]byte(line)) {
				t.Fatalf("invalid JSON line %q", line)
			}
		}
		if strings.ContainsRune(out[Text], 0x1b) {
			t.Fatal("text output contains ESC")
		}
		checkInert(t, out[HTML])
		checkInert(t, "<html><body>"+gfm(t, out[Markdown])+"</body></html>")
		table := gfm(t, out[Markdown][:strings.Index(out[Markdown], "\n\n###")])
		if n := strings.Count(table, "<td"); n != 10 {
			t.Fatalf("the summary table has %d cells, want 10:\n%s", n, table)
		}
	})
}

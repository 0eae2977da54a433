package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/httpsguard/httpsguard/scan"
)

func renderHTML(t *testing.T, results ...*scan.Result) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, results, Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func parseHTML(t *testing.T, doc string) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// checkInert fails when the document could run code or fetch anything: no
// script, no event handler, no element that loads a resource, and every
// hyperlink is an in-page anchor or a plain http(s) link.
func checkInert(t *testing.T, doc string) {
	t.Helper()
	walk(parseHTML(t, doc), func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "script", "img", "iframe", "frame", "object", "embed", "link", "base", "form", "input", "button",
			"audio", "video", "source", "picture", "image", "use", "foreignObject", "foreignobject", "template":
			t.Errorf("document contains a <%s> element", n.Data)
		case "meta":
			if v, _ := attr(n, "http-equiv"); strings.EqualFold(v, "refresh") {
				t.Error("document contains a meta refresh")
			}
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			switch {
			case strings.HasPrefix(key, "on"):
				t.Errorf("<%s> has an event handler %s=%q", n.Data, a.Key, a.Val)
			case key == "src" || key == "srcset" || key == "xlink:href" || key == "action" || key == "formaction" || key == "style":
				t.Errorf("<%s> has %s=%q", n.Data, a.Key, a.Val)
			case key == "href":
				if strings.HasPrefix(a.Val, "#") {
					continue
				}
				u, err := url.Parse(a.Val)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					t.Errorf("<%s> links to %q, which is not a plain http(s) URL", n.Data, a.Val)
				}
			}
		}
	})
	if strings.Contains(strings.ToLower(doc), "<script") {
		t.Error("document contains <script")
	}
	// The stylesheet fetches nothing either.
	css := strings.ToLower(string(CSS()))
	for _, bad := range []string{"url(", "@import", "image-set("} {
		if strings.Contains(css, bad) {
			t.Errorf("stylesheet contains %q", bad)
		}
	}
}

func TestHTMLSelfContained(t *testing.T) {
	for name, doc := range map[string]string{
		"full":  renderHTML(t, fullResult()),
		"multi": renderHTML(t, fullResult(), failedResult(), perfectResult()),
	} {
		t.Run(name, func(t *testing.T) {
			checkInert(t, doc)
			// Only links to the scanned site, its references and the project.
			walk(parseHTML(t, doc), func(n *html.Node) {
				if href, ok := attr(n, "href"); ok && !strings.HasPrefix(href, "#") {
					u, _ := url.Parse(href)
					switch u.Host {
					case "shop.example.com", "down.example.net", "secure.example.org:8443", "developer.mozilla.org", "www.rfc-editor.org", "github.com":
					default:
						t.Errorf("unexpected link to %s", href)
					}
				}
			})
		})
	}
}

// TestHTMLHostile renders a result whose every site-controlled string is an
// attack, and checks that the page stays inert and shows the strings as
// text.
func TestHTMLHostile(t *testing.T) {
	doc := renderHTML(t, hostileResult(), failedResult())
	checkInert(t, doc)

	var text strings.Builder
	walk(parseHTML(t, doc), func(n *html.Node) {
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
			text.WriteByte('\n')
		}
	})
	shown := text.String()
	for _, want := range []string{xssScript, xssAttr, xssJS, "Fix " + xssAttr, `\x1b]0;owned`, `evil\u202egnp.exe`} {
		if !strings.Contains(shown, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
	if strings.ContainsRune(shown, 0x1b) || strings.ContainsRune(shown, 0x202e) {
		t.Error("control or bidi characters reached the page")
	}

	var frag bytes.Buffer
	if err := WriteHTMLFragment(&frag, hostileResult(), Options{}); err != nil {
		t.Fatal(err)
	}
	checkInert(t, frag.String())
}

// TestHTMLContentSecurityPolicy checks that the report's own CSP allows its
// stylesheet (the hash matches the <style> text exactly) and nothing else.
func TestHTMLContentSecurityPolicy(t *testing.T) {
	doc := parseHTML(t, renderHTML(t, fullResult()))
	var csp, style string
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if v, _ := attr(n, "http-equiv"); v == "Content-Security-Policy" {
			csp, _ = attr(n, "content")
		}
		if n.Data == "style" && n.FirstChild != nil {
			style = n.FirstChild.Data
		}
	})
	sum := sha256.Sum256([]byte(style))
	want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.Contains(csp, want) {
		t.Errorf("CSP %q does not allow the page's stylesheet (%s)", csp, want)
	}
	for _, d := range []string{"default-src 'none'", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %s", csp, d)
		}
	}
	if CSSHash() != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Error("CSSHash does not match the stylesheet")
	}
}

// TestHTMLAccessible checks the structure assistive technology relies on.
func TestHTMLAccessible(t *testing.T) {
	doc := parseHTML(t, renderHTML(t, fullResult(), failedResult()))
	var (
		lang       string
		h1         int
		last       = 0
		svgLabeled = true
		ids        = map[string]bool{}
	)
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if n.Data == "html" {
			lang, _ = attr(n, "lang")
		}
		if id, ok := attr(n, "id"); ok {
			if ids[id] {
				t.Errorf("duplicate id %q", id)
			}
			ids[id] = true
		}
		if len(n.Data) == 2 && n.Data[0] == 'h' && n.Data[1] >= '1' && n.Data[1] <= '6' {
			level := int(n.Data[1] - '0')
			if level == 1 {
				h1++
			}
			if level > last+1 {
				t.Errorf("heading <%s> follows <h%d>: levels must not be skipped", n.Data, last)
			}
			last = level
		}
		if n.Data == "svg" {
			role, _ := attr(n, "role")
			label, _ := attr(n, "aria-label")
			if role != "img" || label == "" {
				svgLabeled = false
			}
		}
		if n.Data == "th" {
			if _, ok := attr(n, "scope"); !ok {
				t.Error("<th> without scope")
			}
		}
	})
	if lang != "en" {
		t.Errorf("<html lang> = %q", lang)
	}
	if h1 != 1 {
		t.Errorf("got %d <h1>, want 1", h1)
	}
	if !svgLabeled {
		t.Error("the grade ring is not labelled for screen readers")
	}
	// Every aria-labelledby points at an element that exists.
	walk(doc, func(n *html.Node) {
		if ref, ok := attr(n, "aria-labelledby"); ok && !ids[ref] {
			t.Errorf("aria-labelledby=%q names no element", ref)
		}
	})
}

func TestHTMLContent(t *testing.T) {
	doc := renderHTML(t, fullResult(), failedResult(), perfectResult())
	for _, want := range []string{
		`aria-label="Incomplete grade C&#43;, score 62 out of 100: 1 of the checks could not complete"`,
		"<strong>Incomplete grade:</strong> 1 check could not observe what it judges",
		`No weak TLS 1.2 cipher suites <code>HGS-TLS-006</code>: <code>timeout</code>`,
		`aria-label="Grade A&#43;, score 115 out of 100"`,
		"<h2 id=\"target-1-title\">shop.example.com</h2>",
		"What to fix first",
		"5 more findings are listed with the checks below.",
		"<strong>No grade:</strong> GET https://down.example.net/: connection refused",
		"<strong>Fix:</strong> Start the web server",
		"Cause: <code>refused</code>",
		`<tr><th scope="row">TLS 1.0</th><td><span class="hg-tag hg-fail-c">offered</span></td>`,
		`<span class="hg-tag hg-fail-c">insecure</span> <code>TLS_RSA_WITH_AES_128_GCM_SHA256</code> <span class="hg-suite-detail">RSA · AES-128-GCM · no forward secrecy</span>`,
		"unknown: 127.0.0.1:443: no completed TLS handshake within 5s",
		"<dt>Forward secrecy</dt><dd>some suites, not all</dd>",
		"(12 days left)",
		"Verified</span> by the roots in <code>/etc/httpsguard/private-ca.pem</code>",
		`<a href="#target-2">down.example.net</a>`,
		`<span class="hg-scheme">unencrypted</span>`,
		"Intermediate certificate",
		"−25",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

func TestHTMLFragment(t *testing.T) {
	frag, err := HTMLFragment(fullResult(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(frag)
	if !strings.HasPrefix(s, `<div class="hg-report"><article class="hg-result"`) {
		t.Errorf("fragment starts %.60q", s)
	}
	for _, bad := range []string{"<html", "<head", "<body", "<style", "<h1"} {
		if strings.Contains(s, bad) {
			t.Errorf("fragment contains %s", bad)
		}
	}
	var buf bytes.Buffer
	if err := WriteHTMLFragment(&buf, fullResult(), Options{}); err != nil || buf.String() != s {
		t.Errorf("WriteHTMLFragment and HTMLFragment differ (%v)", err)
	}
	if err := WriteHTMLFragment(&buf, nil, Options{}); err == nil {
		t.Error("WriteHTMLFragment(nil) succeeded")
	}
	if !strings.Contains(string(CSS()), ".hg-report{") {
		t.Error("CSS() does not style .hg-report")
	}
}

func TestWriteHTMLSkipsNil(t *testing.T) {
	doc := renderHTML(t, nil, fullResult(), nil)
	if strings.Contains(doc, "<caption>Summary</caption>") || !strings.Contains(doc, `id="target-1"`) {
		t.Error("nil results should be skipped, leaving a single-target page")
	}
}

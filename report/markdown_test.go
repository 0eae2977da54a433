package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"

	"github.com/httpsguard/httpsguard/scan"
)

// gfm renders Markdown the way GitHub does for a comment: GitHub Flavored
// Markdown with tables, autolinks and strikethrough, raw HTML allowed (GitHub
// sanitizes it afterwards, so anything that survives as a tag here would
// reach that sanitizer).
func gfm(t *testing.T, md string) string {
	t.Helper()
	var out bytes.Buffer
	m := goldmark.New(goldmark.WithExtensions(
		// GitHub aligns cells with attributes its sanitizer allows; the
		// default inline style would trip checkInert's no-style rule.
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		extension.Strikethrough, extension.Linkify, extension.TaskList), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	if err := m.Convert([]byte(md), &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func renderMarkdown(t *testing.T, results ...*scan.Result) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, Markdown, results, Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestMarkdownHostile renders hostile site data, converts the Markdown to
// HTML as GitHub would, and checks that nothing became markup: no tags,
// no links or images but ours, no broken table, no mention.
func TestMarkdownHostile(t *testing.T) {
	md := renderMarkdown(t, hostileResult(), fullResult())
	out := gfm(t, md)
	checkInert(t, "<!DOCTYPE html><html><body>"+out+"</body></html>")

	doc := parseHTML(t, out)
	// The rows of every table, by table: the summary, then a table of
	// versions and suites per target.
	var tables [][]int
	var cells []int
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "table":
			if cells != nil {
				tables = append(tables, cells)
			}
			cells = []int{}
		case "b", "h1":
			t.Errorf("site data became a <%s> element", n.Data)
		case "tr":
			k := 0
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode {
					k++
				}
			}
			cells = append(cells, k)
		case "a":
			href, _ := attr(n, "href")
			if !strings.HasPrefix(href, "https://developer.mozilla.org/") && !strings.HasPrefix(href, "https://www.rfc-editor.org/") &&
				!strings.HasPrefix(href, "https://github.com/httpsguard/") && !strings.HasPrefix(href, "https://ok.example/") &&
				!strings.HasPrefix(href, "http://shop.example.com/") && !strings.HasPrefix(href, "https://shop.example.com/") {
				t.Errorf("unexpected link %q", href)
			}
		}
	})
	tables = append(tables, cells)
	if len(tables) != 3 || len(tables[0]) != 3 {
		t.Fatalf("tables with %v rows, want the summary (a header and two targets) and one of TLS versions per target", tables)
	}
	for i, k := range tables[0] {
		if k != 5 {
			t.Errorf("summary row %d has %d cells, want 5: a pipe from the site split a cell", i, k)
		}
	}
	for _, table := range tables[1:] {
		for i, k := range table {
			if k != 3 {
				t.Errorf("TLS table row %d has %d cells, want 3: a pipe from the site split a cell", i, k)
			}
		}
	}
	if !strings.Contains(out, `&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;`) {
		t.Error("the script tag from the site is not shown as text")
	}
	// "@octocat" may appear only inside code, where GitHub does not link
	// mentions.
	walk(doc, func(n *html.Node) {
		if n.Type == html.TextNode && strings.Contains(n.Data, "@octocat") && (n.Parent == nil || n.Parent.Data != "code") {
			t.Errorf("site data mentions a GitHub user in %q", n.Data)
		}
	})
	if !strings.Contains(out, "@\u200boctocat") {
		t.Error("the mention in a message was not defused")
	}
}

func TestMdCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "`plain`"},
		{"a ` b", "``a ` b``"},
		{"``x", "``` ``x ```"},
		{"line\nbreak", "`line break`"},
		{"", "*(empty)*"},
	}
	for _, tt := range tests {
		if got := mdCode(tt.in); got != tt.want {
			t.Errorf("mdCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// Whatever the input, GFM shows it verbatim (line breaks as spaces).
		if tt.in != "" {
			out := gfm(t, mdCode(tt.in))
			want := "<code>" + htmlEscape(strings.Join(strings.Fields(tt.in), " ")) + "</code>"
			if !strings.Contains(out, want) {
				t.Errorf("GFM renders mdCode(%q) as %q, want %q", tt.in, out, want)
			}
		}
	}
}

func TestMdText(t *testing.T) {
	for _, in := range []string{
		"a | b", "*bold* _it_", "[x](javascript:alert(1))", "![i](http://t.example/p.png)", "<b>x</b>", "# h", "a\\|b", "1. item",
		"&amp; &lt;", "~~strike~~", "`code`",
	} {
		out := gfm(t, "| h |\n|---|\n| "+mdText(in)+" |\n")
		want := "<td>" + htmlEscape(in) + "</td>"
		if !strings.Contains(out, want) {
			t.Errorf("mdText(%q) in a table renders as %q, want %q", in, out, want)
		}
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func TestMarkdownContent(t *testing.T) {
	md := renderMarkdown(t, fullResult(), failedResult(), perfectResult())
	for _, want := range []string{
		"| shop.example.com | **C+** incomplete | 62 | 5 | 5 |",
		"| down.example.net | no grade | – | – | – |",
		"**Incomplete grade:** 1 of the checks could not observe what they judge",
		"**refused** GET https://down.example.net/: connection refused",
		"**Fix:** Start the web server",
		"#### Failures",
		"- ❌ **Content-Security-Policy** (−25) `HGS-HDR-001`",
		"  - **Fix:** Send a Content-Security-Policy",
		"#### Warnings",
		"#### Could not check",
		"### down.example.net: no grade",
		"✅ No check failed or warned.",
		"<details><summary>Other checks",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	// Failures come by score impact.
	if strings.Index(md, "Content-Security-Policy**") > strings.Index(md, "No obsolete protocol versions**") {
		t.Error("failures are not ordered by impact")
	}
}

// TestMarkdownFitsOneComment checks that many targets still make one pull
// request comment: details become compact, then targets are left out with a
// note, and the summary table always lists them all.
func TestMarkdownFitsOneComment(t *testing.T) {
	many := func(n int) []*scan.Result {
		rs := make([]*scan.Result, n)
		for i := range rs {
			rs[i] = fullResult()
		}
		return rs
	}
	tests := []struct {
		n             int
		compact, note bool
	}{
		{1, false, false},
		{20, true, false},
		{300, true, true},
		{3000, true, true},
	}
	for _, tt := range tests {
		md := renderMarkdown(t, many(tt.n)...)
		if len(md) > mdMaxBytes {
			t.Errorf("%d targets: %d bytes, over the %d limit", tt.n, len(md), mdMaxBytes)
		}
		if rows := strings.Count(md, "\n| shop.example.com |"); rows != tt.n && (tt.n < 1000 || !strings.Contains(md, "more targets* |")) {
			t.Errorf("%d targets: the table has %d rows", tt.n, rows)
		}
		if compact := !strings.Contains(md, "  - Seen:"); compact != tt.compact {
			t.Errorf("%d targets: compact = %v, want %v", tt.n, compact, tt.compact)
		}
		if note := strings.Contains(md, "left out to fit in one comment"); note != tt.note {
			t.Errorf("%d targets: note = %v, want %v", tt.n, note, tt.note)
		}
		if !strings.HasSuffix(md, "</sub>\n") {
			t.Errorf("%d targets: the footer is missing", tt.n)
		}
	}
}

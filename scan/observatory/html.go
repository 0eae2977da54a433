package observatory

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// httpEquiv is what the Observatory reads from <meta> elements: the
// contents of every <meta http-equiv="content-security-policy"> and the
// last <meta name="referrer">.
type httpEquiv struct {
	csp      []string
	referrer []string
}

// attr returns the first attribute named key of n (attribute names are
// already lower case in parsed HTML).
func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// walk calls f on every element below n in tree order, not descending
// into <template> contents, which a DOM query does not see.
func walk(n *html.Node, f func(*html.Node)) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			walk(c, f)
			continue
		}
		f(c)
		if c.DataAtom == atom.Template && c.Namespace == "" {
			continue
		}
		walk(c, f)
	}
}

// jsTrim is JavaScript's String.prototype.trim.
func jsTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		switch r {
		case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
			return true
		}
		return r >= 0x2000 && r <= 0x200A
	})
}

// parseHTTPEquiv reproduces the Observatory's parseHttpEquivHeaders: the
// page is parsed as a fragment (as the content of a <template>) and every
// <meta> in it is read. jsdom parses fragments with scripting enabled, so
// a <meta> inside <noscript> is text there, unlike in the whole-document
// parse of the SRI test.
func parseHTTPEquiv(page string) httpEquiv {
	var eq httpEquiv
	ctx := &html.Node{Type: html.ElementNode, Data: "template", DataAtom: atom.Template}
	nodes, err := html.ParseFragmentWithOptions(strings.NewReader(page), ctx, html.ParseOptionEnableScripting(true))
	if err != nil {
		return eq
	}
	root := &html.Node{Type: html.DocumentNode}
	for _, n := range nodes {
		root.AppendChild(n)
	}
	if jsdomThrows(root) {
		return eq
	}
	walk(root, func(n *html.Node) {
		if n.Data != "meta" || n.Namespace != "" {
			return
		}
		he, hasEquiv := attr(n, "http-equiv")
		content, hasContent := attr(n, "content")
		if hasEquiv && hasContent {
			if content != "" && strings.ToLower(jsTrim(he)) == "content-security-policy" {
				eq.csp = append(eq.csp, content)
			}
			return
		}
		if name, ok := attr(n, "name"); ok && strings.ToLower(jsTrim(name)) == "referrer" {
			if content != "" {
				eq.referrer = []string{content}
			}
		}
	})
	return eq
}

// script is one <script> element of the page as the SRI test sees it.
type script struct {
	src         string // the src IDL attribute: resolved URL or raw value; "" when none
	integrity   string
	crossOrigin *string // the crossOrigin IDL attribute; nil when absent
}

// parseScripts returns every element named script in the page, parsed as a
// whole document with scripting disabled, as jsdom does. Elements outside
// the HTML namespace (an SVG script) are returned with an empty src: they
// count as scripts but have no src property.
func parseScripts(page string) ([]script, error) {
	doc, err := html.ParseWithOptions(strings.NewReader(page), html.ParseOptionEnableScripting(false))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotParseable, err)
	}
	if jsdomThrows(doc) {
		return nil, errNotParseable
	}
	base := ""
	walk(doc, func(n *html.Node) {
		if base == "" && n.Namespace == "" && n.DataAtom == atom.Base {
			if h, ok := attr(n, "href"); ok {
				base = h
				if base == "" {
					base = "\x00none"
				}
			}
		}
	})
	var scripts []script
	walk(doc, func(n *html.Node) {
		if n.Data != "script" {
			return
		}
		var s script
		if n.Namespace == "" {
			// An empty src still resolves against a <base href>; only
			// against about:blank does it stay empty (and falsy).
			if raw, ok := attr(n, "src"); ok {
				s.src = reflectURL(raw, base)
			}
			s.integrity, _ = attr(n, "integrity")
			if co, ok := attr(n, "crossorigin"); ok {
				v := "anonymous"
				if strings.ToLower(co) == "use-credentials" {
					v = "use-credentials"
				}
				s.crossOrigin = &v
			}
		}
		scripts = append(scripts, s)
	})
	return scripts, nil
}

// reflectURL is the value of a URL-reflecting IDL attribute in a document
// whose URL is about:blank: the attribute parsed against the document's
// base URL (from the first <base href>, when absolute), serialized; or the
// raw attribute value when it does not parse.
func reflectURL(raw, baseHref string) string {
	if baseHref != "" && baseHref != "\x00none" {
		if b, err := parseAbsolute(baseHref); err == nil && b.Opaque != "" {
			// A base with an opaque path (javascript:x, mailto:a)
			// resolves nothing but a fragment.
			if strings.HasPrefix(raw, "#") {
				nb := *b
				nb.Fragment, nb.RawFragment = "", ""
				return nb.String() + raw
			}
		} else if err == nil {
			if u, err := resolveURL(b, raw); err == nil && u.Scheme != "" {
				return u.String()
			}
			return raw
		}
	}
	if u, err := parseAbsolute(raw); err == nil {
		return u.String()
	}
	return raw
}

// errNotParseable marks a page jsdom, the Observatory's HTML parser, throws
// on.
var errNotParseable = errors.New("observatory: jsdom cannot parse the page")

// jsdomThrows reports whether jsdom would throw while building a DOM from
// the tree under root. The one way known to make it throw is a style
// attribute whose CSS leaves a grouping at-rule (@media, @supports...) open:
// jsdom parses the attribute as the body of a dummy rule, the at-rule
// swallows the closing brace, and the CSS parser fails on the unfinished
// rule. The Observatory reports such a page as html-not-parseable.
func jsdomThrows(root *html.Node) bool {
	var found bool
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		for c := n.FirstChild; c != nil && !found; c = c.NextSibling {
			if c.Type == html.ElementNode {
				for _, a := range c.Attr {
					if a.Namespace == "" && a.Key == "style" && styleBreaksCSSOM(a.Val) {
						found = true
						return
					}
				}
			}
			visit(c)
		}
	}
	visit(root)
	return found
}

// groupingAtRules are the at-rules whose block jsdom's CSS parser treats as
// a group of rules; the match is a case-sensitive prefix, as the parser's.
var groupingAtRules = []string{"@media", "@supports", "@container", "@layer", "@-moz-document", "@starting-style"}

var keyframesAtRule = regexp.MustCompile(`^@(-(?:\w+-)+)?keyframes`)

// styleBreaksCSSOM reports whether a style attribute makes jsdom's CSS
// parser throw (see jsdomThrows).
func styleBreaksCSSOM(style string) bool {
	if !strings.Contains(style, "@") {
		return false
	}
	const (
		bogus = iota
		group
		rule
	)
	stack := []int{bogus}
	lastPopped := -1
	pendingGroup := false
	s := style + "}"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '/':
			if strings.HasPrefix(s[i:], "/*") {
				end := strings.Index(s[i+2:], "*/")
				if end < 0 {
					i = len(s)
				} else {
					i += end + 3
				}
			}
		case '"', '\'':
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '@':
			rest := s[i:]
			for _, p := range groupingAtRules {
				if strings.HasPrefix(rest, p) {
					pendingGroup = true
				}
			}
			if keyframesAtRule.MatchString(rest) {
				pendingGroup = true
			}
		case ';':
			pendingGroup = false
		case '{':
			if pendingGroup {
				stack = append(stack, group)
			} else {
				stack = append(stack, rule)
			}
			pendingGroup = false
		case '}':
			pendingGroup = false
			if len(stack) > 0 {
				lastPopped = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			}
		}
	}
	return len(stack) == 1 && stack[0] == bogus && lastPopped == group
}

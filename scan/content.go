package scan

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// subresource is one URL a page loads.
type subresource struct {
	tag, attr string
	url       string // resolved against the page (and its <base>)
	active    bool   // scripts, styles, frames, objects: blocked as mixed content
}

// form is one <form> of a page.
type form struct {
	action      string // resolved; the page URL when absent
	method      string // lower-case, "get" by default
	hasPassword bool
	hidden      []string // names of hidden inputs
}

// metaTag is one <meta http-equiv> of a page.
type metaTag struct {
	httpEquiv, content string
}

// page is what the content checks read from an HTML document.
type page struct {
	subresources []subresource
	forms        []form
	metas        []metaTag
}

// activeTags maps element → URL attribute for content browsers block when it
// comes over http:// on an https:// page; passiveTags for content they load
// (or upgrade) with a warning.
var (
	activeTags  = map[string]string{"script": "src", "iframe": "src", "frame": "src", "object": "data", "embed": "src"}
	passiveTags = map[string]string{"img": "src", "audio": "src", "video": "src", "source": "src", "track": "src"}
)

// parsePage tokenizes an HTML body (already capped in size) with the
// golang.org/x/net/html tokenizer, which never fails on bad markup.
func parsePage(body []byte, pageURL *url.URL) page {
	var p page
	base := pageURL
	z := html.NewTokenizer(bytes.NewReader(body))
	var cur *form
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt == html.EndTagToken {
			name, _ := z.TagName()
			if string(name) == "form" && cur != nil {
				p.forms = append(p.forms, *cur)
				cur = nil
			}
			continue
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		attrs := map[string]string{}
		for _, a := range tok.Attr {
			if _, dup := attrs[a.Key]; !dup {
				attrs[a.Key] = a.Val
			}
		}
		resolve := func(ref string) string {
			if base == nil {
				return strings.TrimSpace(ref)
			}
			u, err := base.Parse(strings.TrimSpace(ref))
			if err != nil {
				return strings.TrimSpace(ref)
			}
			return u.String()
		}
		switch tok.Data {
		case "base":
			if h, ok := attrs["href"]; ok && base != nil {
				if u, err := base.Parse(strings.TrimSpace(h)); err == nil {
					base = u
				}
			}
		case "link":
			rel := strings.ToLower(attrs["rel"])
			if h, ok := attrs["href"]; ok && h != "" {
				active := strings.Contains(rel, "stylesheet") || strings.Contains(rel, "preload") || strings.Contains(rel, "modulepreload")
				if active || strings.Contains(rel, "icon") {
					p.subresources = append(p.subresources, subresource{tag: "link", attr: "href", url: resolve(h), active: active})
				}
			}
		case "meta":
			if he, ok := attrs["http-equiv"]; ok {
				p.metas = append(p.metas, metaTag{httpEquiv: strings.ToLower(strings.TrimSpace(he)), content: attrs["content"]})
			}
		case "form":
			if cur != nil { // unclosed form: keep it
				p.forms = append(p.forms, *cur)
			}
			cur = &form{method: "get"}
			if pageURL != nil {
				cur.action = pageURL.String()
			}
			if a, ok := attrs["action"]; ok && strings.TrimSpace(a) != "" {
				cur.action = resolve(a)
			}
			if m := strings.ToLower(strings.TrimSpace(attrs["method"])); m != "" {
				cur.method = m
			}
		case "input":
			typ := strings.ToLower(attrs["type"])
			if cur != nil {
				switch typ {
				case "password":
					cur.hasPassword = true
				case "hidden":
					cur.hidden = append(cur.hidden, attrs["name"])
				}
			}
			if typ == "image" && attrs["src"] != "" {
				p.subresources = append(p.subresources, subresource{tag: "input", attr: "src", url: resolve(attrs["src"])})
			}
		case "button":
			if cur != nil && attrs["formaction"] != "" {
				p.forms = append(p.forms, form{action: resolve(attrs["formaction"]), method: cur.method, hasPassword: cur.hasPassword})
			}
		}
		if attr, ok := activeTags[tok.Data]; ok && attrs[attr] != "" {
			p.subresources = append(p.subresources, subresource{tag: tok.Data, attr: attr, url: resolve(attrs[attr]), active: true})
		}
		if attr, ok := passiveTags[tok.Data]; ok && attrs[attr] != "" {
			p.subresources = append(p.subresources, subresource{tag: tok.Data, attr: attr, url: resolve(attrs[attr])})
		}
		if ss, ok := attrs["srcset"]; ok && (tok.Data == "img" || tok.Data == "source") {
			for _, cand := range strings.Split(ss, ",") {
				if f := strings.Fields(cand); len(f) > 0 {
					p.subresources = append(p.subresources, subresource{tag: tok.Data, attr: "srcset", url: resolve(f[0])})
				}
			}
		}
	}
	if cur != nil {
		p.forms = append(p.forms, *cur)
	}
	return p
}

// isInsecureURL reports whether u is an absolute http:// URL.
func isInsecureURL(u string) bool {
	return len(u) >= 7 && strings.EqualFold(u[:7], "http://")
}

package observatory

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// dropDuplicates are the response fields of which Node's HTTP parser keeps
// only the first occurrence; every other repeated field except Set-Cookie
// (kept as a list) and Cookie (joined with "; ") is joined with ", ".
var dropDuplicates = map[string]bool{
	"age": true, "authorization": true, "content-length": true, "content-type": true,
	"etag": true, "expires": true, "from": true, "host": true, "if-modified-since": true,
	"if-unmodified-since": true, "last-modified": true, "location": true,
	"max-forwards": true, "proxy-authorization": true, "referer": true,
	"retry-after": true, "server": true, "user-agent": true,
}

// headerValues returns the values the Observatory sees for the field name
// of r: its getHttpHeaders over the header object Node builds.
func headerValues(r *Response, name string) []string {
	if r == nil || r.Header == nil {
		return nil
	}
	name = strings.ToLower(name)
	var vals []string
	for k, v := range r.Header {
		if strings.ToLower(k) == name {
			vals = append(vals, v...)
		}
	}
	if len(vals) == 0 {
		return nil
	}
	switch {
	case name == "set-cookie":
		return vals
	case name == "cookie":
		return []string{strings.Join(vals, "; ")}
	case dropDuplicates[name]:
		return vals[:1]
	}
	return []string{strings.Join(vals, ", ")}
}

// firstHeader is the Observatory's getFirstHttpHeader; ok is false when
// the field is absent. An empty value is returned with ok true: callers
// test it for emptiness as the JavaScript tests its truthiness.
func firstHeader(r *Response, name string) (string, bool) {
	v := headerValues(r, name)
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// contentTypeIsHTML reproduces headers["content-type"]?.split(";")[0]
// looked up in the Observatory's HTML types: no trimming, no case folding.
func contentTypeIsHTML(r *Response) bool {
	ct, _ := firstHeader(r, "content-type")
	mime, _, _ := strings.Cut(ct, ";")
	return mime == "text/html" || mime == "application/xhtml+xml"
}

// pageText returns the page text the Observatory analyses for body, and
// whether that value is truthy in JavaScript. The Observatory's HTTP client
// decodes the body as UTF-8, strips a byte-order mark, and then parses it
// as JSON when it can; the analysers stringify whatever came out.
func pageText(body []byte) (string, bool) {
	s := string(body)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.TrimPrefix(s, "\uFEFF")
	if s == "" {
		return "", false
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err == nil && !dec.More() {
		if _, err := dec.Token(); err != nil { // only whitespace after the value
			return jsString(v), jsTruthy(v)
		}
	}
	return s, true
}

// jsString is JavaScript's String(v) for a parsed JSON value, as far as it
// matters here: only the markup in strings can change the analysis.
func jsString(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	case json.Number:
		return v.String()
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			if e != nil {
				parts[i] = jsString(e)
			}
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return "[object Object]"
	}
	return ""
}

// jsTruthy is JavaScript's Boolean(v) for a parsed JSON value.
func jsTruthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case bool:
		return v
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0
	}
	return true
}

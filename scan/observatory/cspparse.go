package observatory

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// This file is the Observatory's own reading of Content-Security-Policy
// (src/analyzer/cspParser.js). It is deliberately not the CSP
// specification's (package internal/csp is): the Observatory lowercases
// sources, rejects repeated directives, drops a source that starts with
// another one, and intersects several policies by sorting their sources
// with an English collator. Every one of those choices moves a score, so
// they are reproduced here, quirks included.

// dupWarnings is the pseudo-directive under which the Observatory records
// repeated report-uri and report-to directives.
const dupWarnings = "_observatory_duplicate_key_warnings"

// minPolicyLen is the length below which a policy is invalid: one less
// than len("img-src"), counted in UTF-16 code units as JavaScript does.
const minPolicyLen = len("img-src") - 1

// srcSet is a JavaScript Set of sources: insertion ordered, and shared by
// reference (the Observatory's script-src, style-src and object-src may be
// the very same default-src set, and deleting from one deletes from all).
type srcSet struct{ items []string }

func newSrcSet(items ...string) *srcSet {
	s := &srcSet{}
	for _, it := range items {
		s.add(it)
	}
	return s
}

func (s *srcSet) has(v string) bool { return slices.Contains(s.items, v) }

func (s *srcSet) add(v string) {
	if !s.has(v) {
		s.items = append(s.items, v)
	}
}

func (s *srcSet) remove(v string) {
	if i := slices.Index(s.items, v); i >= 0 {
		s.items = slices.Delete(s.items, i, i+1)
	}
}

// list returns a copy of the items, so callers may delete while ranging.
func (s *srcSet) list() []string { return slices.Clone(s.items) }

// cspMap is the parsed policy: directive to sources, in insertion order.
type cspMap struct {
	keys []string
	m    map[string]*srcSet
}

func (c *cspMap) get(k string) *srcSet {
	if c == nil || c.m == nil {
		return nil
	}
	return c.m[k]
}

func (c *cspMap) set(k string, v *srcSet) {
	if c.m == nil {
		c.m = map[string]*srcSet{}
	}
	if _, ok := c.m[k]; !ok {
		c.keys = append(c.keys, k)
	}
	c.m[k] = v
}

func (c *cspMap) del(k string) {
	if _, ok := c.m[k]; !ok {
		return
	}
	delete(c.m, k)
	c.keys = slices.DeleteFunc(c.keys, func(s string) bool { return s == k })
}

func (c *cspMap) size() int {
	if c == nil {
		return 0
	}
	return len(c.keys)
}

// source is one source of one policy while policies are being merged.
type source struct {
	text  string
	index int
	keep  bool
}

var (
	// collators holds English collators; one is not safe for concurrent
	// use, and scans run concurrently.
	collators = sync.Pool{New: func() any { return collate.New(language.English) }}
	jsSpace   = regexp.MustCompile(`[\s\x{FEFF}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{000B}]+`)
)

// compareEnglish is Intl.Collator("en").compare.
func compareEnglish(a, b string) int {
	c := collators.Get().(*collate.Collator)
	defer collators.Put(c)
	return c.CompareString(a, b)
}

// utf16Len is a JavaScript string's length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// errCSPInvalid is wrapped by every parse error of the Observatory's CSP
// reading.
var errCSPInvalid = errors.New("invalid content security policy")

// parseObservatoryCSP is the Observatory's parseCsp: the policies in list
// (header values first, then meta contents) merged into one map.
func parseObservatoryCSP(list []string) (*cspMap, error) {
	clean := make([]string, len(list))
	for i, p := range list {
		p = strings.NewReplacer("\r", "", "\n", "").Replace(p)
		clean[i] = jsTrim(p)
	}
	csp := &cspMap{}
	if len(clean) == 0 {
		return csp, nil
	}
	for _, p := range clean {
		if p == "" || utf16Len(p) < minPolicyLen {
			return nil, fmt.Errorf("%w: policy %q is too short", errCSPInvalid, p)
		}
	}
	merged := map[string][]*source{}
	var order []string
	dups := newSrcSet()
	for pi, policy := range clean {
		seen := map[string]bool{}
		for _, entry := range strings.Split(policy, ";") {
			fields := jsSpace.Split(jsTrim(entry), -1)
			if fields[0] == "" {
				continue
			}
			directive := strings.ToLower(fields[0])
			values := fields[1:]
			if seen[directive] {
				if directive != "report-uri" && directive != "report-to" {
					return nil, fmt.Errorf("%w: directive %s repeated in policy %d", errCSPInvalid, directive, pi)
				}
				dups.add(directive)
			} else {
				seen[directive] = true
			}
			keep := pi == 0
			var srcs []*source
			for _, v := range values {
				srcs = append(srcs, &source{text: strings.ToLower(jsTrim(v)), index: pi, keep: keep})
			}
			if len(values) == 0 && strings.HasSuffix(directive, "-src") {
				srcs = append(srcs, &source{text: "'none'", index: pi, keep: keep})
			}
			var combined []*source
			if pi == 0 {
				combined = srcs
			} else {
				combined = append(slices.Clone(merged[directive]), srcs...)
			}
			slices.SortStableFunc(combined, func(a, b *source) int { return compareEnglish(a.text, b.text) })
			for i := 1; i < len(combined); i++ {
				cur, prev := combined[i], combined[i-1]
				if cur.index == prev.index && strings.HasPrefix(cur.text, prev.text) {
					cur.keep = false
				}
				if cur.index != prev.index {
					ok, err := pathPartMatch(prev.text, cur.text)
					if err != nil {
						return nil, fmt.Errorf("%w: %w", errCSPInvalid, err)
					}
					if ok {
						cur.keep = true
					}
				}
			}
			var kept []*source
			for _, s := range combined {
				if s.keep {
					kept = append(kept, s)
				}
			}
			if _, ok := merged[directive]; !ok {
				order = append(order, directive)
			}
			merged[directive] = kept
			if pi == 0 && len(list) > 1 {
				for _, s := range kept {
					s.keep = false
				}
			}
		}
	}
	for _, d := range order {
		set := newSrcSet()
		for _, s := range merged[d] {
			set.add(s.text)
		}
		if len(set.items) == 0 {
			set.add("'none'")
		}
		csp.set(d, set)
	}
	if len(dups.items) > 0 {
		csp.set(dupWarnings, dups)
	}
	return csp, nil
}

// parseObservatoryMetaCSP is parseObservatoryCSP without the directives a
// <meta> policy may not carry.
func parseObservatoryMetaCSP(list []string) (*cspMap, error) {
	c, err := parseObservatoryCSP(list)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"frame-ancestors", "report-uri", "sandbox"} {
		c.del(d)
	}
	return c, nil
}

// pathPartMatch is the Observatory's test that source b of a later policy
// is covered by source a of an earlier one.
func pathPartMatch(a, b string) (bool, error) {
	if a == "" {
		return true, nil
	}
	if a == "/" && b == "" {
		return true, nil
	}
	exact := !strings.HasSuffix(a, "/")
	pa, pb := strings.Split(a, "/"), strings.Split(b, "/")
	if len(pa) > len(pb) {
		return false, nil
	}
	if exact && len(pa) != len(pb) {
		return false, nil
	}
	if !exact {
		pa = pa[:len(pa)-1]
	}
	for i := range pa {
		x, err := decodeURIComponent(pa[i])
		if err != nil {
			return false, err
		}
		y, err := decodeURIComponent(pb[i])
		if err != nil {
			return false, err
		}
		if x != y {
			return false, nil
		}
	}
	return true, nil
}

// decodeURIComponent is JavaScript's decodeURIComponent, failing where it
// throws a URIError: a malformed escape or escapes that are not UTF-8.
func decodeURIComponent(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var out []byte
	for i := 0; i < len(s); {
		if s[i] != '%' {
			out = append(out, s[i])
			i++
			continue
		}
		var run []byte
		for i < len(s) && s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", fmt.Errorf("malformed escape in %q", s)
			}
			run = append(run, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 3
			// Stop the run at a complete ASCII byte so that later text
			// is copied as is.
			if run[len(run)-1] < 0x80 && utf8.Valid(run) {
				break
			}
		}
		if !utf8.Valid(run) {
			return "", fmt.Errorf("escapes in %q are not UTF-8", s)
		}
		out = append(out, run...)
	}
	return string(out), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

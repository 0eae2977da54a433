// Package csp parses Content-Security-Policy header values and <meta>
// policies as the CSP Level 3 specification says a browser does, and
// classifies their source expressions (keywords, nonces, hashes, schemes,
// hosts).
//
// The parser never fails: like a browser, it skips what it cannot read and
// records what it skipped (repeated directives, tokens that are not ASCII),
// so a checker can report both what the policy enforces and what is wrong
// with it. It never panics, whatever the input.
//
// It is deliberately not the MDN HTTP Observatory's reading of a policy,
// which differs from browsers in several ways that move its score (see
// package scan/observatory for that one).
package csp

import (
	"slices"
	"strings"

	"github.com/httpsguard/httpsguard/internal/ascii"
)

// Policy is one parsed policy.
type Policy struct {
	// Directives are the policy's directives in order, each name once:
	// a repeated directive is ignored after its first occurrence.
	Directives []Directive
	// Duplicates lists the names of the directives that appeared more than
	// once, in order of their first repetition. Browsers ignore the
	// repetitions and report them to the console.
	Duplicates []string
	// Skipped counts tokens ignored because they were not ASCII.
	Skipped int
}

// Directive is one directive of a policy.
type Directive struct {
	// Name is the directive name in lower case, e.g. "script-src".
	Name string
	// Value holds the directive's value tokens as written.
	Value []string
}

// ParseHeader parses one Content-Security-Policy header field value. A
// field value may carry several policies separated by commas; each is
// enforced on its own. Policies without any directive are dropped, as
// browsers drop them.
func ParseHeader(value string) []Policy {
	var out []Policy
	for _, serialized := range strings.Split(value, ",") {
		if p := Parse(serialized); len(p.Directives) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// ParseHeaders parses every Content-Security-Policy field of a response.
func ParseHeaders(values []string) []Policy {
	var out []Policy
	for _, v := range values {
		out = append(out, ParseHeader(v)...)
	}
	return out
}

// metaIgnored are the directives a <meta http-equiv> policy may not carry;
// browsers ignore them there.
var metaIgnored = []string{"frame-ancestors", "report-uri", "sandbox"}

// ParseMeta parses the content of a <meta http-equiv="Content-Security-Policy">
// element: one policy (commas are not separators there), without the
// directives a meta policy may not carry. ignored lists the ones dropped.
func ParseMeta(content string) (p Policy, ignored []string) {
	p = Parse(content)
	p.Directives = slices.DeleteFunc(p.Directives, func(d Directive) bool {
		if slices.Contains(metaIgnored, d.Name) {
			ignored = append(ignored, d.Name)
			return true
		}
		return false
	})
	return p, ignored
}

// Parse parses one serialized policy (the "parse a serialized CSP"
// algorithm): directives separated by semicolons, names case-insensitive,
// values split on ASCII whitespace, a repeated directive ignored.
func Parse(serialized string) Policy {
	var p Policy
	seen := map[string]bool{}
	for _, token := range strings.Split(serialized, ";") {
		token = strings.Trim(token, asciiSpace)
		if token == "" {
			continue
		}
		if !ascii.Is(token) {
			p.Skipped++
			continue
		}
		fields := splitASCIISpace(token)
		name := strings.ToLower(fields[0])
		if seen[name] {
			if !slices.Contains(p.Duplicates, name) {
				p.Duplicates = append(p.Duplicates, name)
			}
			continue
		}
		seen[name] = true
		p.Directives = append(p.Directives, Directive{Name: name, Value: fields[1:]})
	}
	return p
}

// Get returns the directive named name (any case) and whether the policy
// has it.
func (p Policy) Get(name string) (Directive, bool) {
	name = strings.ToLower(name)
	for _, d := range p.Directives {
		if d.Name == name {
			return d, true
		}
	}
	return Directive{}, false
}

// Has reports whether the policy has the directive name.
func (p Policy) Has(name string) bool {
	_, ok := p.Get(name)
	return ok
}

// fallbacks is the CSP3 fallback list of each fetch directive: the
// directives consulted, in order, when a request of that kind is checked.
var fallbacks = map[string][]string{
	"script-src-elem": {"script-src-elem", "script-src", "default-src"},
	"script-src-attr": {"script-src-attr", "script-src", "default-src"},
	"script-src":      {"script-src", "default-src"},
	"style-src-elem":  {"style-src-elem", "style-src", "default-src"},
	"style-src-attr":  {"style-src-attr", "style-src", "default-src"},
	"style-src":       {"style-src", "default-src"},
	"worker-src":      {"worker-src", "child-src", "script-src", "default-src"},
	"frame-src":       {"frame-src", "child-src", "default-src"},
	"child-src":       {"child-src", "default-src"},
	"connect-src":     {"connect-src", "default-src"},
	"font-src":        {"font-src", "default-src"},
	"img-src":         {"img-src", "default-src"},
	"manifest-src":    {"manifest-src", "default-src"},
	"media-src":       {"media-src", "default-src"},
	"object-src":      {"object-src", "default-src"},
}

// Effective returns the directive that governs the fetch directive name,
// following the CSP3 fallback list (script-src falls back to default-src,
// worker-src to child-src, then script-src, then default-src...). ok is
// false when none is set: the policy does not restrict that kind of load.
func (p Policy) Effective(name string) (d Directive, ok bool) {
	name = strings.ToLower(name)
	list, known := fallbacks[name]
	if !known {
		return p.Get(name)
	}
	for _, n := range list {
		if d, ok := p.Get(n); ok {
			return d, true
		}
	}
	return Directive{}, false
}

// Sources parses the directive's value as a source list.
func (d Directive) Sources() []Source {
	out := make([]Source, 0, len(d.Value))
	for _, v := range d.Value {
		out = append(out, ParseSource(v))
	}
	return out
}

// String serializes the policy: directives joined by "; ".
func (p Policy) String() string {
	parts := make([]string, 0, len(p.Directives))
	for _, d := range p.Directives {
		parts = append(parts, d.String())
	}
	return strings.Join(parts, "; ")
}

// String serializes the directive: its name and value tokens.
func (d Directive) String() string {
	return strings.Join(append([]string{d.Name}, d.Value...), " ")
}

const asciiSpace = "\t\n\f\r "

// splitASCIISpace splits s on runs of ASCII whitespace, as the
// specifications' "split on ASCII whitespace" does (Go's strings.Fields
// would also split on Unicode spaces).
func splitASCIISpace(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(asciiSpace, r) })
}

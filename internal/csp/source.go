package csp

import (
	"strings"
)

// Kind is the grammar production a source expression matches.
type Kind int

// The kinds of source expression of CSP Level 3.
const (
	KindInvalid Kind = iota // matches no production; browsers ignore it
	KindKeyword             // 'self', 'unsafe-inline', 'none', ...
	KindNonce               // 'nonce-<base64>'
	KindHash                // 'sha256-<base64>', 'sha384-…', 'sha512-…'
	KindScheme              // https:, data:, blob: ...
	KindHost                // example.com, *.example.com, https://example.com:443/path, *
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindKeyword:
		return "keyword"
	case KindNonce:
		return "nonce"
	case KindHash:
		return "hash"
	case KindScheme:
		return "scheme"
	case KindHost:
		return "host"
	}
	return "invalid"
}

// Keywords of CSP Level 3 and its extensions, lower case, with quotes.
const (
	Self                  = "'self'"
	None                  = "'none'"
	UnsafeInline          = "'unsafe-inline'"
	UnsafeEval            = "'unsafe-eval'"
	StrictDynamic         = "'strict-dynamic'"
	UnsafeHashes          = "'unsafe-hashes'"
	ReportSample          = "'report-sample'"
	UnsafeAllowRedirects  = "'unsafe-allow-redirects'"
	WasmUnsafeEval        = "'wasm-unsafe-eval'"
	InlineSpeculationRule = "'inline-speculation-rules'"
	ReportSHA256          = "'report-sha256'"
)

var keywords = map[string]bool{
	Self: true, None: true, UnsafeInline: true, UnsafeEval: true, StrictDynamic: true,
	UnsafeHashes: true, ReportSample: true, UnsafeAllowRedirects: true, WasmUnsafeEval: true,
	InlineSpeculationRule: true, ReportSHA256: true,
}

// Source is one parsed source expression.
type Source struct {
	// Raw is the expression as written.
	Raw  string
	Kind Kind
	// Keyword is the keyword in lower case with its quotes, for
	// KindKeyword.
	Keyword string
	// Algorithm is "sha256", "sha384" or "sha512" for KindHash.
	Algorithm string
	// Value is the base64 value of a nonce or hash.
	Value string
	// Scheme is the scheme in lower case without ":" for KindScheme, and
	// for KindHost when the expression names one.
	Scheme string
	// Host is the host part of KindHost, lower case: "*", "*.example.com"
	// or "example.com".
	Host string
	// Port is the port part of KindHost without ":" ("" when absent, "*"
	// for any).
	Port string
	// Path is the path part of KindHost ("" when absent).
	Path string
}

// ParseSource classifies one source expression.
func ParseSource(raw string) Source {
	s := Source{Raw: raw}
	lower := strings.ToLower(raw)
	switch {
	case keywords[lower]:
		s.Kind, s.Keyword = KindKeyword, lower
		return s
	case strings.HasPrefix(lower, "'nonce-") && strings.HasSuffix(raw, "'") && len(raw) > len("'nonce-'"):
		v := raw[len("'nonce-") : len(raw)-1]
		if isBase64Value(v) {
			s.Kind, s.Value = KindNonce, v
		}
		return s
	case strings.HasPrefix(raw, "'") && strings.HasSuffix(raw, "'") && len(raw) >= 2:
		inner := raw[1 : len(raw)-1]
		alg, v, ok := strings.Cut(inner, "-")
		alg = strings.ToLower(alg)
		if ok && (alg == "sha256" || alg == "sha384" || alg == "sha512") && isBase64Value(v) {
			s.Kind, s.Algorithm, s.Value = KindHash, alg, v
		}
		return s
	}
	if scheme, ok := strings.CutSuffix(lower, ":"); ok && isScheme(scheme) {
		s.Kind, s.Scheme = KindScheme, scheme
		return s
	}
	if parseHost(&s, raw) {
		s.Kind = KindHost
	}
	return s
}

// parseHost fills the host-source parts of s from raw and reports whether
// raw is a host-source:
// [scheme "://"] host [":" port] [path].
func parseHost(s *Source, raw string) bool {
	rest := raw
	if i := strings.Index(rest, "://"); i >= 0 {
		scheme := strings.ToLower(rest[:i])
		if !isScheme(scheme) {
			return false
		}
		s.Scheme = scheme
		rest = rest[i+3:]
	}
	end := strings.IndexAny(rest, ":/")
	if end < 0 {
		end = len(rest)
	}
	host := strings.ToLower(rest[:end])
	if !isHostPart(host) {
		s.Scheme = ""
		return false
	}
	s.Host = host
	rest = rest[end:]
	if port, ok := strings.CutPrefix(rest, ":"); ok {
		end := strings.IndexByte(port, '/')
		if end < 0 {
			end = len(port)
		}
		if !isPort(port[:end]) {
			*s = Source{Raw: s.Raw}
			return false
		}
		s.Port = port[:end]
		rest = port[end:]
	}
	if rest != "" {
		if rest[0] != '/' || strings.ContainsAny(rest, ",;") {
			*s = Source{Raw: s.Raw}
			return false
		}
		s.Path = rest
	}
	return true
}

// isScheme reports whether s is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// isHostPart reports whether s is "*" / [ "*." ] 1*host-char *( "." 1*host-char ) [ "." ].
func isHostPart(s string) bool {
	if s == "*" {
		return true
	}
	s = strings.TrimPrefix(s, "*.")
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isAlpha(c) && !isDigit(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

func isPort(s string) bool {
	if s == "*" {
		return true
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isBase64Value reports whether v is 1*( ALPHA / DIGIT / "+" / "/" / "-" / "_" ) *2( "=" ).
func isBase64Value(v string) bool {
	body := strings.TrimRight(v, "=")
	if body == "" || len(v)-len(body) > 2 {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '/' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Broad reports whether the source lets content come from any host over a
// whole scheme, or from anywhere: "*", "http:", "https:", "https://*"...
func (s Source) Broad() bool {
	switch s.Kind {
	case KindScheme:
		switch s.Scheme {
		case "http", "https", "ftp", "ws", "wss":
			return true
		}
	case KindHost:
		return s.Host == "*" && s.Path == ""
	}
	return false
}

// Insecure reports whether the source names a cleartext scheme (http:,
// ws:, ftp:).
func (s Source) Insecure() bool {
	switch s.Scheme {
	case "http", "ws", "ftp":
		return true
	}
	return false
}

// Analysis is what a source list lets a page do, after the CSP Level 3
// rules that neutralise some sources: 'unsafe-inline' is ignored when a
// nonce or hash is present, and with 'strict-dynamic' (script directives)
// host and scheme sources, 'self' and 'unsafe-inline' are ignored too.
type Analysis struct {
	// None is true when the list allows nothing ('none' alone, or empty).
	None bool
	// UnsafeInline is true when inline code runs without a nonce or hash.
	UnsafeInline bool
	// UnsafeEval is true with 'unsafe-eval'.
	UnsafeEval bool
	// StrictDynamic is true with 'strict-dynamic' and a nonce or hash
	// (without one it blocks every script).
	StrictDynamic bool
	// NoncesOrHashes is true when a nonce or hash source is present.
	NoncesOrHashes bool
	// Broad lists the effective sources that allow a whole scheme or any
	// host (see Source.Broad), and data: (which allows inline content).
	Broad []string
	// Insecure lists the effective sources over cleartext schemes.
	Insecure []string
}

// Analyze applies the CSP Level 3 source-list rules to d. script is true
// for script directives, where 'strict-dynamic' applies.
func (d Directive) Analyze(script bool) Analysis {
	var a Analysis
	srcs := d.Sources()
	hasStrict := false
	for _, s := range srcs {
		switch {
		case s.Kind == KindNonce || s.Kind == KindHash:
			a.NoncesOrHashes = true
		case s.Keyword == StrictDynamic:
			hasStrict = true
		case s.Keyword == UnsafeEval:
			a.UnsafeEval = true
		}
	}
	a.StrictDynamic = script && hasStrict && a.NoncesOrHashes
	effective := 0
	for _, s := range srcs {
		if a.StrictDynamic && (s.Kind == KindHost || s.Kind == KindScheme || s.Keyword == Self || s.Keyword == UnsafeInline) {
			continue
		}
		switch {
		case s.Kind == KindInvalid || s.Keyword == None:
			continue
		case s.Keyword == UnsafeInline:
			if !a.NoncesOrHashes {
				a.UnsafeInline = true
			}
		case s.Kind == KindScheme && s.Scheme == "data":
			a.Broad = append(a.Broad, s.Raw)
		case s.Broad():
			a.Broad = append(a.Broad, s.Raw)
		}
		if s.Insecure() {
			a.Insecure = append(a.Insecure, s.Raw)
		}
		if s.Kind != KindKeyword || s.Keyword == Self || s.Keyword == UnsafeInline || s.Keyword == UnsafeEval || s.Keyword == StrictDynamic || s.Keyword == WasmUnsafeEval {
			effective++
		}
	}
	a.None = effective == 0
	return a
}

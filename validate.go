package httpsguard

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// FieldError reports one invalid Policy value. New returns them (joined with
// errors.Join when there are several); PolicyFromEnv fills in Env so the
// message names the variable the value came from.
type FieldError struct {
	Field string // the Policy field, such as "HSTSSeconds"
	Env   string // the environment variable, such as "HTTPSGUARD_HSTS_SECONDS", or ""
	Value string // the offending value, or the offending element of a list
	Err   error  // what is wrong with it
}

func (e *FieldError) Error() string {
	if e.Env != "" {
		return fmt.Sprintf("%s=%q: %v", e.Env, e.Value, e.Err)
	}
	return fmt.Sprintf("Policy.%s %q: %v", e.Field, e.Value, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// joinFieldErrors returns one error holding every field error, under a
// heading.
func joinFieldErrors(heading string, errs []*FieldError) error {
	all := make([]error, 0, len(errs))
	for _, e := range errs {
		all = append(all, e)
	}
	if len(all) == 1 {
		return fmt.Errorf("%s: %w", heading, all[0])
	}
	return fmt.Errorf("%s:\n%w", heading, errors.Join(all...))
}

// Values the policy accepts for enumerated headers.
var (
	// referrerPolicyTokens are the Referrer-Policy values of the W3C
	// Referrer Policy specification (Django's REFERRER_POLICY_VALUES).
	referrerPolicyTokens = []string{
		"no-referrer", "no-referrer-when-downgrade", "origin",
		"origin-when-cross-origin", "same-origin", "strict-origin",
		"strict-origin-when-cross-origin", "unsafe-url",
	}
	// coopTokens are the Cross-Origin-Opener-Policy values of the HTML
	// standard.
	coopTokens = []string{
		"same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none",
	}
)

// validate returns every invalid value in p, worded for a Policy written
// in Go.
func (p Policy) validate() []*FieldError { return p.validateAs(false) }

// validateAs returns every invalid value in p. With env, messages are
// worded for the HTTPSGUARD_* variables: the value that turns something
// off is "off" there, "" in Go.
func (p Policy) validateAs(env bool) []*FieldError {
	none := `""`
	if env {
		none = "off"
	}
	var errs []*FieldError
	bad := func(field, value string, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Value: value, Err: fmt.Errorf(format, args...)})
	}

	if h := strings.TrimSpace(p.SSLHost); h != "" {
		if err := checkSSLHost(h); err != nil {
			errs = append(errs, &FieldError{Field: "SSLHost", Value: p.SSLHost, Err: err})
		}
	}
	for _, e := range p.RedirectExempt {
		if _, err := regexp.Compile(e); err != nil {
			bad("RedirectExempt", e, "not a regular expression: %v", unwrapRegexpError(err))
		}
	}

	name, value := strings.TrimSpace(p.ProxySSLHeader), strings.TrimSpace(p.ProxySSLValue)
	switch {
	case name == "" && value != "":
		bad("ProxySSLValue", p.ProxySSLValue, "set without ProxySSLHeader")
	case name == "":
	case !isToken(name):
		bad("ProxySSLHeader", p.ProxySSLHeader, "not a header name")
	case value == "":
		bad("ProxySSLValue", p.ProxySSLValue, "empty: say which value of %s means HTTPS, such as \"https\"", name)
	case !validHeaderValue(p.ProxySSLValue) || strings.Contains(value, ","):
		bad("ProxySSLValue", p.ProxySSLValue, "must be a single header value without control characters or commas")
	}
	_, _, badProxies := compileTrustedProxies(p.TrustedProxies)
	for _, b := range badProxies {
		errs = append(errs, &FieldError{Field: "TrustedProxies", Value: b.value, Err: b.err})
	}

	if p.HSTSSeconds < 0 {
		bad("HSTSSeconds", fmt.Sprint(p.HSTSSeconds), "must not be negative (0 turns HSTS off)")
	}
	if p.FrameOptions != "" && canonicalFrameOptions(p.FrameOptions) == "" {
		bad("FrameOptions", p.FrameOptions, "must be DENY, SAMEORIGIN or %s for none (ALLOW-FROM is obsolete: use CSP frame-ancestors)", none)
	}
	if v := strings.TrimSpace(p.ReferrerPolicy); v != "" {
		for _, tok := range strings.Split(v, ",") {
			if !slices.Contains(referrerPolicyTokens, strings.TrimSpace(tok)) {
				bad("ReferrerPolicy", p.ReferrerPolicy, "%q is not a referrer policy; valid values: %s", strings.TrimSpace(tok), strings.Join(referrerPolicyTokens, ", "))
				break
			}
		}
	}
	if v := strings.TrimSpace(p.CrossOriginOpenerPolicy); v != "" {
		tok, _, _ := strings.Cut(v, ";") // parameters such as report-to="x" may follow
		if !slices.Contains(coopTokens, strings.TrimSpace(tok)) {
			bad("CrossOriginOpenerPolicy", p.CrossOriginOpenerPolicy, "valid values: %s", strings.Join(coopTokens, ", "))
		} else if !validHeaderValue(v) {
			bad("CrossOriginOpenerPolicy", p.CrossOriginOpenerPolicy, "contains a control character such as CR or LF")
		}
	}
	if !validHeaderValue(p.ContentSecurityPolicy) {
		bad("ContentSecurityPolicy", p.ContentSecurityPolicy, "contains a control character such as CR or LF")
	}
	if !validHeaderValue(p.ContentSecurityPolicyReportOnly) {
		bad("ContentSecurityPolicyReportOnly", p.ContentSecurityPolicyReportOnly, "contains a control character such as CR or LF")
	}
	if !validHeaderValue(p.PermissionsPolicy) {
		bad("PermissionsPolicy", p.PermissionsPolicy, "contains a control character such as CR or LF")
	}

	for _, list := range []struct {
		field string
		names []string
	}{{"SecureCookies", p.SecureCookies}, {"HTTPOnlyCookies", p.HTTPOnlyCookies}} {
		for _, n := range list.names {
			if n = strings.TrimSpace(n); n != "*" && !isToken(n) {
				bad(list.field, n, "not a cookie name (or \"*\" for every cookie)")
			}
		}
	}
	if strings.TrimSpace(p.CookieSameSite) != "" && canonicalSameSite(p.CookieSameSite) == "" {
		bad("CookieSameSite", p.CookieSameSite, "must be Lax, Strict, None or %s to leave cookies alone", none)
	}
	for _, name := range slices.Sorted(maps.Keys(p.SameSiteCookies)) {
		v, n := p.SameSiteCookies[name], strings.TrimSpace(name)
		switch {
		case n != "*" && !isToken(n):
			bad("SameSiteCookies", name, "not a cookie name (or \"*\" for every cookie)")
		case strings.TrimSpace(v) != "" && canonicalSameSite(v) == "":
			bad("SameSiteCookies", name+"="+v, "the value must be Lax, Strict, None or %s to leave the cookie alone", none)
		case n == "*" && strings.TrimSpace(p.CookieSameSite) != "" && canonicalSameSite(v) != canonicalSameSite(p.CookieSameSite):
			bad("SameSiteCookies", name+"="+v, "\"*\" is CookieSameSite, which says %q", p.CookieSameSite)
		}
	}
	_, badHosts := compileHosts(p.AllowedHosts)
	for _, b := range badHosts {
		errs = append(errs, &FieldError{Field: "AllowedHosts", Value: b.value, Err: b.err})
	}
	return errs
}

// checkSSLHost explains why SSLHost is not a bare host[:port].
func checkSSLHost(h string) error {
	switch {
	case strings.Contains(h, "://"):
		return errors.New("a host[:port] without scheme, such as \"example.com\" or \"example.com:8443\"")
	case strings.ContainsAny(h, "/?#"):
		return errors.New("a host[:port] without path")
	case strings.Contains(h, "@"):
		return errors.New("a host[:port] without userinfo")
	}
	if _, ok := splitHost(h); !ok {
		return errors.New("not a valid host[:port]")
	}
	return nil
}

func unwrapRegexpError(err error) error {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Errorf("%s: %q", se.Code, se.Expr)
	}
	return err
}

// canonicalFrameOptions returns "DENY" or "SAMEORIGIN" for any letter case of
// them, and "" for anything else.
func canonicalFrameOptions(v string) string {
	switch v = strings.TrimSpace(v); {
	case strings.EqualFold(v, "DENY"):
		return "DENY"
	case strings.EqualFold(v, "SAMEORIGIN"):
		return "SAMEORIGIN"
	}
	return ""
}

// normalizeReferrerPolicy trims the elements of a comma-separated
// Referrer-Policy and joins them with a bare comma, byte for byte what
// Django's ','.join(v.strip() ...) sends.
func normalizeReferrerPolicy(v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return strings.Join(parts, ",")
}

// validHeaderValue reports whether v can be sent as a header value: no
// control characters other than tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// clone returns a copy of p that shares no slices with it.
func (p Policy) clone() Policy {
	p.RedirectExempt = slices.Clone(p.RedirectExempt)
	p.TrustedProxies = slices.Clone(p.TrustedProxies)
	p.SecureCookies = slices.Clone(p.SecureCookies)
	p.HTTPOnlyCookies = slices.Clone(p.HTTPOnlyCookies)
	p.AllowedHosts = slices.Clone(p.AllowedHosts)
	p.SameSiteCookies = maps.Clone(p.SameSiteCookies)
	return p
}

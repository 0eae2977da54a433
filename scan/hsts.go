package scan

import (
	"fmt"
	"strconv"
	"strings"
)

// HSTS is a parsed Strict-Transport-Security header (RFC 6797 §6.1).
type HSTS struct {
	// MaxAge is the max-age in seconds; HasMaxAge is false when the header
	// has no valid max-age directive.
	MaxAge            uint64
	HasMaxAge         bool
	IncludeSubDomains bool
	Preload           bool
}

// Issue is one finding of the HSTS preload rules, with the stable code
// chromium's hstspreload uses for it (for example
// "header.preloadable.max_age.below_1_year").
type Issue struct {
	Code    string `json:"code"`
	Summary string `json:"summary"`
	Message string `json:"message"`
}

// Issues are the errors (which block preloading) and warnings (which do not)
// of a preload judgement.
type Issues struct {
	Errors   []Issue `json:"errors,omitempty"`
	Warnings []Issue `json:"warnings,omitempty"`
}

func (is *Issues) errorf(code, summary, format string, args ...any) {
	is.Errors = append(is.Errors, Issue{Code: code, Summary: summary, Message: fmt.Sprintf(format, args...)})
}

func (is *Issues) warnf(code, summary, format string, args ...any) {
	is.Warnings = append(is.Warnings, Issue{Code: code, Summary: summary, Message: fmt.Sprintf(format, args...)})
}

// warnOnce adds a warning unless one with the same code is already there.
func (is *Issues) warnOnce(code, summary, format string, args ...any) {
	for _, w := range is.Warnings {
		if w.Code == code {
			return
		}
	}
	is.warnf(code, summary, format, args...)
}

func (is *Issues) add(o Issues) {
	is.Errors = append(is.Errors, o.Errors...)
	is.Warnings = append(is.Warnings, o.Warnings...)
}

// Codes returns every error code then every warning code.
func (is Issues) Codes() []string {
	var out []string
	for _, e := range is.Errors {
		out = append(out, e.Code)
	}
	for _, w := range is.Warnings {
		out = append(out, w.Code)
	}
	return out
}

// Preload thresholds, as hstspreload defines them.
const (
	sixMonths    = 15768000     // the Observatory's minimum max-age
	oneYear      = 86400 * 365  // the preload list's minimum max-age
	tenYears     = 10 * oneYear // above this hstspreload warns
	maxAgePrefix = len("max-age=")
)

// ParseHSTS parses a Strict-Transport-Security value with the rules of
// chromium's hstspreload: directives split on ";", names case-insensitive,
// max-age an unquoted run of digits. Syntax problems are reported as Issues
// with hstspreload's "header.parse.*" codes; ParseHSTS never fails.
func ParseHSTS(value string) (HSTS, Issues) {
	var h HSTS
	var is Issues
	parts := strings.Split(value, ";")
	if len(parts) == 1 && strings.TrimSpace(parts[0]) == "" {
		is.warnf("header.parse.empty", "Empty Header", "The HSTS header is empty.")
		return h, is
	}
	for _, raw := range parts {
		d := strings.TrimSpace(raw)
		lower := strings.ToLower(d)
		switch {
		case lower == "preload":
			if h.Preload {
				is.warnOnce("header.parse.repeated.preload", "Repeated preload directive", "Header contains a repeated directive: `preload`")
			}
			h.Preload = true
		case strings.HasPrefix(lower, "preload"):
			is.warnOnce("header.parse.invalid.preload", "Invalid preload directive", "Header contains a `preload` directive with extra parts.")
		case lower == "includesubdomains":
			if h.IncludeSubDomains {
				is.warnOnce("header.parse.repeated.include_sub_domains", "Repeated includeSubDomains directive", "Header contains a repeated directive: `includeSubDomains`")
			}
			h.IncludeSubDomains = true
		case strings.HasPrefix(lower, "includesubdomains"):
			is.warnOnce("header.parse.invalid.include_sub_domains", "Invalid includeSubDomains directive", "The header contains an `includeSubDomains` directive with extra parts.")
		case strings.HasPrefix(lower, "max-age="):
			secs, ok := parseMaxAge(d, &is)
			if !ok {
				continue
			}
			if h.HasMaxAge {
				is.warnOnce("header.parse.repeated.max_age", "Repeated max-age directive", "The header contains a repeated directive: `max-age`")
				continue
			}
			h.MaxAge, h.HasMaxAge = secs, true
		case strings.HasPrefix(lower, "max-age"):
			// hstspreload reports this once, as an error.
			if !hasCode(is.Errors, "header.parse.invalid.max_age.no_value") {
				is.errorf("header.parse.invalid.max_age.no_value", "Max-age directive without a value",
					"The header contains a max-age directive name without an associated value. Please specify the max-age in seconds.")
			}
		case d == "":
			is.warnOnce("header.parse.empty_directive", "Empty directive or extra semicolon", "The header includes an empty directive or extra semicolon.")
		default:
			is.warnf("header.parse.unknown_directive", "Unknown directive", "The header contains an unknown directive: `%s`", d)
		}
	}
	return h, is
}

func hasCode(list []Issue, code string) bool {
	for _, i := range list {
		if i.Code == code {
			return true
		}
	}
	return false
}

// parseMaxAge reads the digits after "max-age=" in directive d.
func parseMaxAge(d string, is *Issues) (uint64, bool) {
	digits := d[maxAgePrefix:]
	if len(digits) > 1 && digits[0] == '0' {
		is.warnf("header.parse.max_age.leading_zero", "Unexpected max-age syntax", "The header's max-age value contains a leading 0: `%s`", d)
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			is.errorf("header.parse.max_age.non_digit_characters", "Invalid max-age syntax",
				"The header's max-age value contains characters that are not digits: `%s`", d)
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		is.errorf("header.parse.max_age.parse_int_error", "Invalid max-age syntax", "We could not parse the header's max-age value `%s`.", digits)
		return 0, false
	}
	return n, true
}

// browserMaxAge reads max-age as browsers do (RFC 6797 §6.1: whitespace
// around "=", a token or quoted-string value), for a header whose max-age
// hstspreload's stricter syntax rejects. It fails when max-age is absent,
// repeated, or not a run of digits.
func browserMaxAge(value string) (uint64, bool) {
	var secs uint64
	found := false
	for _, d := range strings.Split(value, ";") {
		name, v, hasValue := strings.Cut(d, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "max-age") {
			continue
		}
		if found || !hasValue {
			return 0, false
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if v == "" || strings.Trim(v, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, false
		}
		secs, found = n, true
	}
	return secs, found
}

// PreloadableHeader judges a parsed header against the preload list's
// header requirements: includeSubDomains, preload, and max-age of at least
// one year.
func PreloadableHeader(h HSTS) Issues {
	var is Issues
	if !h.IncludeSubDomains {
		is.errorf("header.preloadable.include_sub_domains.missing", "No includeSubDomains directive", "The header must contain the `includeSubDomains` directive.")
	}
	if !h.Preload {
		is.errorf("header.preloadable.preload.missing", "No preload directive", "The header must contain the `preload` directive.")
	}
	switch {
	case !h.HasMaxAge:
		is.errorf("header.preloadable.max_age.missing", "No max-age directive", "Header must contain a valid `max-age` directive.")
	case h.MaxAge == 0:
		is.errorf("header.preloadable.max_age.zero", "Max-age is 0",
			"The max-age must be at least %d seconds (≈ 1 year), but the header currently only has max-age=0.", oneYear)
	case h.MaxAge < oneYear:
		is.errorf("header.preloadable.max_age.below_1_year", "Max-age too low",
			"The max-age must be at least %d seconds (≈ 1 year), but the header currently only has max-age=%d.", oneYear, h.MaxAge)
	case h.MaxAge > tenYears:
		is.warnf("header.preloadable.max_age.over_10_years", "Max-age > 10 years",
			"The max-age (%d seconds) is longer than 10 years, which is an unusually long value.", h.MaxAge)
	}
	return is
}

// PreloadableHeaderString parses value and judges it: the parse issues and
// the preload issues together.
func PreloadableHeaderString(value string) Issues {
	h, is := ParseHSTS(value)
	is.add(PreloadableHeader(h))
	return is
}

// preloadableResponse judges the HSTS headers of one response: exactly one
// header, and that header preloadable.
func preloadableResponse(values []string) Issues {
	var is Issues
	switch len(values) {
	case 0:
		is.errorf("response.no_header", "No HSTS header", "No HSTS header is present on the response.")
		return is
	case 1:
	default:
		is.errorf("response.multiple_headers", "Multiple HSTS headers", "Multiple HSTS headers (number of HSTS headers: %d).", len(values))
		return is
	}
	return PreloadableHeaderString(values[0])
}

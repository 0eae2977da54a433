package httpsguard

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// envVar ties one HTTPSGUARD_* variable to the Policy field(s) it sets.
type envVar struct {
	name   string
	field  string // the Policy field, as FieldError.Field names it
	fields string // how the settings table names the field(s)
	def    string // the value an unset variable means
	get    func(p *Policy) string
	set    func(p *Policy, v string) error
}

// Words that turn off a header whose variable has a default.
const off = "off"

// envVars lists every variable in the order "httpsguard policy" shows them.
var envVars = []envVar{
	{name: "HTTPSGUARD_SSL_REDIRECT", field: "SSLRedirect", def: "false",
		get: func(p *Policy) string { return strconv.FormatBool(p.SSLRedirect) },
		set: func(p *Policy, v string) (err error) { p.SSLRedirect, err = parseBool(v); return }},
	{name: "HTTPSGUARD_SSL_HOST", field: "SSLHost",
		get: func(p *Policy) string { return p.SSLHost },
		set: func(p *Policy, v string) error { p.SSLHost = v; return nil }},
	{name: "HTTPSGUARD_REDIRECT_EXEMPT", field: "RedirectExempt",
		get: func(p *Policy) string { return strings.Join(p.RedirectExempt, ",") },
		set: func(p *Policy, v string) error { p.RedirectExempt = parseList(v); return nil }},
	{name: "HTTPSGUARD_PROXY_SSL_HEADER", field: "ProxySSLHeader", fields: "ProxySSLHeader, ProxySSLValue",
		get: func(p *Policy) string {
			if p.ProxySSLHeader == "" && p.ProxySSLValue == "" {
				return ""
			}
			return p.ProxySSLHeader + ": " + p.ProxySSLValue
		},
		set: func(p *Policy, v string) error {
			name, value, ok := strings.Cut(v, ":")
			if !ok {
				return errors.New(`must be "Header-Name: value", such as "X-Forwarded-Proto: https"`)
			}
			p.ProxySSLHeader, p.ProxySSLValue = strings.TrimSpace(name), strings.TrimSpace(value)
			return nil
		}},
	{name: "HTTPSGUARD_TRUSTED_PROXIES", field: "TrustedProxies",
		get: func(p *Policy) string { return strings.Join(p.TrustedProxies, ",") },
		set: func(p *Policy, v string) error { p.TrustedProxies = parseList(v); return nil }},
	{name: "HTTPSGUARD_USE_X_FORWARDED_HOST", field: "UseXForwardedHost", def: "false",
		get: func(p *Policy) string { return strconv.FormatBool(p.UseXForwardedHost) },
		set: func(p *Policy, v string) (err error) { p.UseXForwardedHost, err = parseBool(v); return }},
	{name: "HTTPSGUARD_HSTS_SECONDS", field: "HSTSSeconds", def: "0",
		get: func(p *Policy) string { return strconv.Itoa(p.HSTSSeconds) },
		set: func(p *Policy, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return errors.New("not a whole number of seconds (31536000 is one year)")
			}
			p.HSTSSeconds = n
			return nil
		}},
	{name: "HTTPSGUARD_HSTS_INCLUDE_SUBDOMAINS", field: "HSTSIncludeSubdomains", def: "false",
		get: func(p *Policy) string { return strconv.FormatBool(p.HSTSIncludeSubdomains) },
		set: func(p *Policy, v string) (err error) { p.HSTSIncludeSubdomains, err = parseBool(v); return }},
	{name: "HTTPSGUARD_HSTS_PRELOAD", field: "HSTSPreload", def: "false",
		get: func(p *Policy) string { return strconv.FormatBool(p.HSTSPreload) },
		set: func(p *Policy, v string) (err error) { p.HSTSPreload, err = parseBool(v); return }},
	{name: "HTTPSGUARD_CONTENT_TYPE_NOSNIFF", field: "ContentTypeNosniff", def: "true",
		get: func(p *Policy) string { return strconv.FormatBool(p.ContentTypeNosniff) },
		set: func(p *Policy, v string) (err error) { p.ContentTypeNosniff, err = parseBool(v); return }},
	{name: "HTTPSGUARD_FRAME_OPTIONS", field: "FrameOptions", def: "DENY",
		get: func(p *Policy) string { return orOff(p.FrameOptions) },
		set: func(p *Policy, v string) error { p.FrameOptions = offToEmpty(v); return nil }},
	{name: "HTTPSGUARD_REFERRER_POLICY", field: "ReferrerPolicy", def: "same-origin",
		get: func(p *Policy) string { return orOff(p.ReferrerPolicy) },
		set: func(p *Policy, v string) error { p.ReferrerPolicy = offToEmpty(v); return nil }},
	{name: "HTTPSGUARD_CROSS_ORIGIN_OPENER_POLICY", field: "CrossOriginOpenerPolicy", def: "same-origin",
		get: func(p *Policy) string { return orOff(p.CrossOriginOpenerPolicy) },
		set: func(p *Policy, v string) error { p.CrossOriginOpenerPolicy = offToEmpty(v); return nil }},
	{name: "HTTPSGUARD_CSP", field: "ContentSecurityPolicy",
		get: func(p *Policy) string { return p.ContentSecurityPolicy },
		set: func(p *Policy, v string) error { p.ContentSecurityPolicy = offToEmpty(v); return nil }},
	{name: "HTTPSGUARD_CSP_REPORT_ONLY", field: "ContentSecurityPolicyReportOnly",
		get: func(p *Policy) string { return p.ContentSecurityPolicyReportOnly },
		set: func(p *Policy, v string) error { p.ContentSecurityPolicyReportOnly = offToEmpty(v); return nil }},
	{name: "HTTPSGUARD_PERMISSIONS_POLICY", field: "PermissionsPolicy",
		get: func(p *Policy) string { return p.PermissionsPolicy },
		set: func(p *Policy, v string) error { p.PermissionsPolicy = offToEmpty(v); return nil }},
	{name: "HTTPSGUARD_SECURE_COOKIES", field: "SecureCookies",
		get: func(p *Policy) string { return strings.Join(p.SecureCookies, ",") },
		set: func(p *Policy, v string) error { p.SecureCookies = parseList(v); return nil }},
	{name: "HTTPSGUARD_HTTPONLY_COOKIES", field: "HTTPOnlyCookies", def: "sessionid",
		get: func(p *Policy) string { return orOff(strings.Join(p.HTTPOnlyCookies, ",")) },
		set: func(p *Policy, v string) error { p.HTTPOnlyCookies = parseList(v); return nil }},
	{name: "HTTPSGUARD_COOKIE_SAMESITE", field: "CookieSameSite", fields: "CookieSameSite, SameSiteCookies", def: "Lax",
		get: func(p *Policy) string { return orOff(formatSameSite(p)) },
		set: parseSameSite},
	{name: "HTTPSGUARD_ALLOWED_HOSTS", field: "AllowedHosts",
		get: func(p *Policy) string { return strings.Join(p.AllowedHosts, ",") },
		set: func(p *Policy, v string) error { p.AllowedHosts = parseList(v); return nil }},
	{name: "HTTPSGUARD_DEVELOPMENT", field: "Development", def: "false",
		get: func(p *Policy) string { return strconv.FormatBool(p.Development) },
		set: func(p *Policy, v string) (err error) { p.Development, err = parseBool(v); return }},
}

// EnvVars returns the names of the environment variables PolicyFromEnv
// reads, in a stable order.
func EnvVars() []string {
	names := make([]string, len(envVars))
	for i, v := range envVars {
		names[i] = v.name
	}
	return names
}

// PolicyFromEnv reads a Policy from the HTTPSGUARD_* environment variables
// (see EnvVars). Unset or empty variables take Django 3.2's defaults where
// Django has one (nosniff on, X-Frame-Options DENY, Referrer-Policy and
// Cross-Origin-Opener-Policy same-origin, the sessionid cookie HttpOnly,
// SameSite=Lax on every cookie that sets none) and are off otherwise; "off"
// turns a default off. Booleans accept true/false, 1/0, yes/no and on/off;
// lists are comma-separated. The policy is validated as New validates it,
// and every invalid value is reported as a *FieldError naming the variable
// and the value.
//
// Variables that look meant for httpsguard but that it does not read, such
// as HTTPSGUARD_HSTS_SECOND, are logged as warnings on slog.Default, each
// naming the nearest known variable (see CheckEnv): they would otherwise
// leave a setting at its default without a word.
func PolicyFromEnv() (Policy, error) {
	for _, f := range CheckEnv(os.Environ()) {
		slog.Warn("httpsguard: "+f.Message, "id", f.ID)
	}
	return PolicyFromLookup(os.LookupEnv)
}

// PolicyFromLookup is PolicyFromEnv reading variables through lookup, which
// has the signature of os.LookupEnv; tests and configuration layers pass
// their own. A variable that is set but empty counts as unset, so
// "HTTPSGUARD_X=" in a compose file does not silently disable a default.
func PolicyFromLookup(lookup func(string) (string, bool)) (Policy, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	var p Policy
	var errs []*FieldError
	raws := map[string]string{}
	for _, v := range envVars {
		raw, ok := lookup(v.name)
		raws[v.name] = raw
		val := strings.TrimSpace(raw)
		if !ok || val == "" {
			val = v.def
		}
		if val == "" {
			continue
		}
		if err := v.set(&p, val); err != nil {
			errs = append(errs, &FieldError{Field: v.field, Env: v.name, Value: raw, Err: err})
		}
	}
	reported := map[string]bool{}
	for _, e := range errs {
		reported[e.Env] = true
	}
	for _, e := range p.validateAs(true) {
		if e.Env = envNameFor(e.Field); reported[e.Env] {
			continue // the value did not even parse; that error says enough
		}
		// Show what the user wrote; for lists, the offending element is
		// more useful than the whole list.
		if !isListVar(e.Env) {
			e.Value = raws[e.Env]
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return p, joinFieldErrors("httpsguard: invalid environment", errs)
	}
	return p, nil
}

func isListVar(name string) bool {
	switch name {
	case "HTTPSGUARD_REDIRECT_EXEMPT", "HTTPSGUARD_TRUSTED_PROXIES", "HTTPSGUARD_SECURE_COOKIES",
		"HTTPSGUARD_HTTPONLY_COOKIES", "HTTPSGUARD_COOKIE_SAMESITE", "HTTPSGUARD_ALLOWED_HOSTS":
		return true
	}
	return false
}

// envNameFor returns the variable that sets a Policy field, the field it
// is named for or another it sets (envVar.fields).
func envNameFor(field string) string {
	for _, v := range envVars {
		if v.field == field || slices.Contains(strings.Split(v.fields, ", "), field) {
			return v.name
		}
	}
	return ""
}

// Setting is one row of a policy as environment variables: the Policy
// field, the variable that sets it, and the value that reproduces it.
type Setting struct {
	Field string `json:"field"`
	Env   string `json:"env"`
	Value string `json:"value"`
}

// Settings returns p as one Setting per environment variable, in EnvVars
// order. Setting every variable to its Value reproduces p through
// PolicyFromEnv, except for a list element that itself contains a comma.
func (p Policy) Settings() []Setting {
	out := make([]Setting, len(envVars))
	for i, v := range envVars {
		f := v.fields
		if f == "" {
			f = v.field
		}
		out[i] = Setting{Field: f, Env: v.name, Value: v.get(&p)}
	}
	return out
}

// Environ returns p as "NAME=value" lines, the form of os.Environ and of a
// .env file.
func (p Policy) Environ() []string {
	s := p.Settings()
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = v.Env + "=" + v.Value
	}
	return out
}

// String returns p as environment-variable lines (see Environ).
func (p Policy) String() string { return strings.Join(p.Environ(), "\n") }

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: use true or false")
}

// parseList splits a comma-separated list, dropping empty elements; "off"
// is the empty list, the way to override a default.
func parseList(v string) []string {
	if strings.EqualFold(strings.TrimSpace(v), off) {
		return nil
	}
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func offToEmpty(v string) string {
	if strings.EqualFold(strings.TrimSpace(v), off) {
		return ""
	}
	return v
}

func orOff(v string) string {
	if v == "" {
		return off
	}
	return v
}

// parseSameSite reads HTTPSGUARD_COOKIE_SAMESITE: a bare value ("Lax") for
// every cookie, or a list of name=value pairs where "*" stands for every
// cookie not named ("sessionid=Strict,csrftoken=Lax,*=Lax") and "off" leaves
// a cookie alone. Values are checked by validate, which names the bad pair.
func parseSameSite(p *Policy, v string) error {
	p.CookieSameSite, p.SameSiteCookies = "", nil
	bare := 0
	for _, e := range parseList(v) {
		name, val, pair := strings.Cut(e, "=")
		name, val = strings.TrimSpace(name), canonicalOrRaw(offToEmpty(strings.TrimSpace(val)))
		switch {
		case !pair:
			if bare++; bare > 1 {
				return errors.New(`more than one value for every cookie: write "Lax", or pairs such as "sessionid=Strict,csrftoken=Lax,*=Lax"`)
			}
			p.CookieSameSite = canonicalOrRaw(name)
		case name == "*":
			p.CookieSameSite = val
		default:
			if _, dup := p.SameSiteCookies[name]; dup {
				return fmt.Errorf("cookie %q is named twice", name)
			}
			if p.SameSiteCookies == nil {
				p.SameSiteCookies = map[string]string{}
			}
			p.SameSiteCookies[name] = val
		}
	}
	return nil
}

// formatSameSite writes CookieSameSite and SameSiteCookies as
// parseSameSite reads them: the bare value when no cookie is named, else
// the pairs by name with "*" last.
func formatSameSite(p *Policy) string {
	all := p.CookieSameSite
	if v, ok := p.SameSiteCookies["*"]; ok && all == "" {
		all = v
	}
	var pairs []string
	for _, name := range slices.Sorted(maps.Keys(p.SameSiteCookies)) {
		if name != "*" {
			pairs = append(pairs, name+"="+orOff(p.SameSiteCookies[name]))
		}
	}
	if len(pairs) == 0 {
		return all
	}
	if all != "" {
		pairs = append(pairs, "*="+all)
	}
	return strings.Join(pairs, ",")
}

// canonicalOrRaw returns the canonical spelling of a SameSite value, or v
// itself when it is none, for validate to report.
func canonicalOrRaw(v string) string {
	if c := canonicalSameSite(v); c != "" {
		return c
	}
	return v
}

// otherEnvVars are the HTTPSGUARD_* variables other parts of httpsguard read
// (its commands and its test suite), so that CheckEnv does not call them
// unknown. TestEnvNamesKnown fails when the repository uses a name that is
// in neither list.
var otherEnvVars = []string{
	"HTTPSGUARD_CAROOT",             // the local CA's folder (localca, httpsguard ca)
	"HTTPSGUARD_TRUST_STORES",       // the stores httpsguard ca install uses
	"HTTPSGUARD_OBSERVATORY_DIR",    // the MDN Observatory for the cross-check tests
	"HTTPSGUARD_OBSERVATORY_PREFIX", // where .ci/observatory.sh installs it
	"HTTPSGUARD_WEB_SCREENSHOTS",    // the web package's screenshot test
	"HTTPSGUARD_SITE_CASES",         // sizes of generated-site tests
	"HTTPSGUARD_SITE_SEED",
	"HTTPSGUARD_CSP_CASES",
	"HTTPSGUARD_COOKIE_CASES",
	"HTTPSGUARD_OBS_SITES", // the generated sites of the Observatory cross-check
	"HTTPSGUARD_OBS_SEED",
	"HTTPSGUARD_OBS_SEEDS",
	"HTTPSGUARD_LOCALCA_TRUST_CHILD", // tests that re-run themselves as a child process
	"HTTPSGUARD_LOCALCA_CREATE_CHILD",
	"HTTPSGUARD_CA_CLI_CHILD",
}

// otherEnvPrefix is the prefix of the test suite's own switches, such as
// HTTPSGUARD_TEST_STRICT.
const otherEnvPrefix = "HTTPSGUARD_TEST_"

// CheckEnv reviews an environment, in os.Environ's "NAME=value" form, for
// variables that look meant for httpsguard but that nothing reads: every
// HTTPSGUARD_* name it does not know, in any letter case, and any other
// name within two typing mistakes of a policy variable (HTTPGUARD_HSTS_SECONDS).
// A typo there leaves a setting at its default without a word, so each
// such variable is a warning (HGP-ENV-001) that names the nearest known
// variable. PolicyFromEnv logs the same findings; "httpsguard policy" shows
// them with the others.
func CheckEnv(environ []string) []Finding {
	dc, _ := LookupCheck("HGP-ENV-001")
	var out []Finding
	seen := map[string]bool{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if name == "" || seen[name] || knownEnvVar(name) {
			continue
		}
		seen[name] = true
		nearest, dist := nearestEnvVar(name)
		upper := strings.ToUpper(name)
		prefixed := strings.HasPrefix(upper, "HTTPSGUARD_")
		if !prefixed && dist > 2 {
			continue // PATH, HOME and the like
		}
		msg := name + ": unknown"
		switch {
		case strings.EqualFold(name, nearest):
			msg += fmt.Sprintf("; did you mean %s? (variable names are case-sensitive)", nearest)
		case dist <= max(2, len(name)/5):
			msg += fmt.Sprintf("; did you mean %s?", nearest)
		default:
			msg += "; httpsguard reads no such variable (httpsguard policy lists those it reads)"
		}
		f := dc.finding(msg)
		if v, ok := envVarByName(nearest); ok && dist <= max(2, len(name)/5) {
			f.Field = v.field
		}
		out = append(out, f)
	}
	return out
}

func knownEnvVar(name string) bool {
	if _, ok := envVarByName(name); ok {
		return true
	}
	return slices.Contains(otherEnvVars, name) || strings.HasPrefix(name, otherEnvPrefix)
}

func envVarByName(name string) (envVar, bool) {
	for _, v := range envVars {
		if v.name == name {
			return v, true
		}
	}
	return envVar{}, false
}

// nearestEnvVar returns the policy variable closest to name, ignoring
// letter case, and its edit distance.
func nearestEnvVar(name string) (string, int) {
	best, bestDist := "", -1
	upper := strings.ToUpper(name)
	for _, v := range envVars {
		if d := editDistance(upper, v.name); bestDist < 0 || d < bestDist {
			best, bestDist = v.name, d
		}
	}
	return best, bestDist
}

// editDistance is the Damerau–Levenshtein distance (optimal string
// alignment) between two ASCII strings: insertions, deletions,
// substitutions and transpositions of adjacent bytes each cost one.
func editDistance(a, b string) int {
	if len(a) > 256 || len(b) > 256 {
		return max(len(a), len(b)) // not a name anyone typed for us
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

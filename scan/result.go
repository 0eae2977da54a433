package scan

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SchemaVersion is the version of the Result document. It changes only when
// a field is removed or changes meaning; new fields may appear in any version.
//
// Version 2: "error" (of the result and of a check) is an object with a
// kind instead of a string, "score" and "grade" are null when there is no
// grade, and "incomplete" says a grade was computed without some checks.
// Result's UnmarshalJSON reads version 1 documents too.
const SchemaVersion = 2

// Status is the verdict of one check.
type Status string

// The verdicts a check can reach.
const (
	StatusPass  Status = "pass"  // the site does what it should
	StatusInfo  Status = "info"  // worth knowing, no effect on the score
	StatusWarn  Status = "warn"  // weaker than it should be
	StatusFail  Status = "fail"  // a real weakness
	StatusError Status = "error" // the check could not be completed; Error says why
	StatusSkip  Status = "skip"  // not applicable (for example no cookies were set)
)

// Label is the status as a person reads it: "Pass", "Info", "Warning",
// "Fail", "Error" or "Skipped". Renderers show it next to any colour, so a
// verdict never depends on colour alone. A status this version does not
// define (a result from a newer httpsguard) is returned as it is.
func (s Status) Label() string {
	switch s {
	case StatusPass:
		return "Pass"
	case StatusInfo:
		return "Info"
	case StatusWarn:
		return "Warning"
	case StatusFail:
		return "Fail"
	case StatusError:
		return "Error"
	case StatusSkip:
		return "Skipped"
	}
	return string(s)
}

// Known reports whether s is one of the statuses this version defines.
func (s Status) Known() bool {
	switch s {
	case StatusPass, StatusInfo, StatusWarn, StatusFail, StatusError, StatusSkip:
		return true
	}
	return false
}

// Counts is how many checks reached each status.
type Counts struct {
	Pass, Info, Warn, Fail, Error, Skip int
}

// CountChecks tallies checks by status. A check with a status this version
// does not define is not counted.
func CountChecks(checks []Check) Counts {
	var c Counts
	for _, ch := range checks {
		c.add(ch.Status)
	}
	return c
}

func (c *Counts) add(s Status) {
	switch s {
	case StatusPass:
		c.Pass++
	case StatusInfo:
		c.Info++
	case StatusWarn:
		c.Warn++
	case StatusFail:
		c.Fail++
	case StatusError:
		c.Error++
	case StatusSkip:
		c.Skip++
	}
}

// Total is the number of checks counted.
func (c Counts) Total() int { return c.Pass + c.Info + c.Warn + c.Fail + c.Error + c.Skip }

// Result is everything one scan of one target found. It is data first: every
// output format, the web pages and the JSON API render this one value.
type Result struct {
	SchemaVersion int       `json:"schema_version"`
	Tool          Tool      `json:"tool"`
	Target        string    `json:"target"` // as the user gave it
	Host          string    `json:"host"`   // the host name scanned, without port
	URL           string    `json:"url"`    // the HTTPS URL scanned
	StartedAt     time.Time `json:"started_at"`
	DurationMS    int64     `json:"duration_ms"`

	// Scoring names the model that produced Score and Grade: "httpsguard"
	// or "observatory".
	Scoring string `json:"scoring"`
	// Score and Grade are the grade. Grade is "" (and both are null in
	// JSON) when there is none: Error then says why. See Graded.
	Score int    `json:"score"`
	Grade string `json:"grade"`
	// Incomplete is set when the grade was computed although some checks
	// could not observe what they judge (StatusError; each check's Error
	// says why). Such a grade may be better than the site deserves: treat
	// it as failing.
	Incomplete bool `json:"incomplete"`

	// Checks are every check that ran, in report order.
	Checks []Check `json:"checks"`

	// HTTPRedirects is the chain followed from http://host/, every hop
	// recorded; HTTPSRedirects the one from https://host/.
	HTTPRedirects  []Hop `json:"http_redirects,omitempty"`
	HTTPSRedirects []Hop `json:"https_redirects,omitempty"`

	TLS *TLSInfo `json:"tls,omitempty"`

	// Error is set when there is no grade, and says why: the target is
	// invalid, or the HTTPS page could not be fetched as a browser would
	// fetch it (with --scoring observatory: the Observatory would not
	// grade the site). Checks may then be empty, or hold the verdicts that
	// could still be reached.
	Error *Error `json:"error,omitempty"`
}

// Graded reports whether the result has a grade (and a score).
func (r *Result) Graded() bool { return r.Error == nil && r.Grade != "" }

// ErroredChecks returns the checks that could not observe what they judge,
// in report order: what makes a grade Incomplete.
func (r *Result) ErroredChecks() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == StatusError {
			out = append(out, c)
		}
	}
	return out
}

// MarshalJSON writes the result with "score" and "grade" null when it has
// no grade.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	out := struct {
		plain
		Score *int    `json:"score"`
		Grade *string `json:"grade"`
	}{plain: plain(r)}
	if r.Graded() {
		out.Score, out.Grade = &r.Score, &r.Grade
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a result document of this schema version or of
// version 1, where errors were strings and a result with an error still
// carried a grade (now read as none).
func (r *Result) UnmarshalJSON(b []byte) error {
	type plain Result
	var in struct {
		plain
		Score *int    `json:"score"`
		Grade *string `json:"grade"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = Result(in.plain)
	r.Score, r.Grade = 0, ""
	if in.Score != nil && in.Grade != nil && r.Error == nil {
		r.Score, r.Grade = *in.Score, *in.Grade
	}
	return nil
}

// Counts tallies the result's checks by status.
func (r *Result) Counts() Counts { return CountChecks(r.Checks) }

// FixFirst ranks what to change first: the failed checks, the costliest
// (most negative ScoreImpact) first, then the warnings in the same way, each
// in report order on a tie. Every other status is left out. It returns a
// new slice and leaves checks as they are; callers show as many as fit.
func FixFirst(checks []Check) []Check {
	var out []Check
	for _, c := range checks {
		if c.Status == StatusFail || c.Status == StatusWarn {
			out = append(out, c)
		}
	}
	rank := func(s Status) int {
		if s == StatusFail {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(out, func(a, b Check) int {
		return cmp.Or(cmp.Compare(rank(a.Status), rank(b.Status)), cmp.Compare(a.ScoreImpact, b.ScoreImpact))
	})
	return out
}

// categories are the categories scan defines, in report order, with the
// headings reports give them.
var categories = []struct{ id, title string }{
	{CategoryTLS, "TLS and certificate"},
	{CategoryRedirects, "Redirects"},
	{CategoryHSTS, "HSTS"},
	{CategoryCookies, "Cookies"},
	{CategoryHeaders, "Headers"},
	{CategoryContent, "Content"},
	{CategoryLeaks, "Framework leaks"},
}

// Categories returns the check categories this version defines, in report
// order.
func Categories() []string {
	ids := make([]string, len(categories))
	for i, c := range categories {
		ids[i] = c.id
	}
	return ids
}

// CategoryTitle is the heading of a category: "TLS and certificate" for
// "tls" and so on. A category this version does not define is headed by
// its name with the first letter upper-cased, and the empty one "Other".
func CategoryTitle(category string) string {
	for _, c := range categories {
		if c.id == category {
			return c.title
		}
	}
	if category == "" {
		return "Other"
	}
	r, n := utf8.DecodeRuneInString(category)
	return string(unicode.ToUpper(r)) + category[n:]
}

// Group is the checks of one category.
type Group struct {
	// Category is the checks' category, trimmed and lower-cased.
	Category string
	Title    string // as CategoryTitle gives it
	Checks   []Check
	Counts   Counts
}

// GroupChecks groups checks by category, keeping report order within each
// group: the categories scan defines come first, in report order, then any
// others in order of first appearance. Categories compare without case or
// surrounding space, so a result edited by hand or written by another
// version still groups sensibly. Empty groups are left out.
func GroupChecks(checks []Check) []Group {
	groups := make([]Group, 0, len(categories))
	index := make(map[string]int, len(categories))
	for _, c := range categories {
		index[c.id] = len(groups)
		groups = append(groups, Group{Category: c.id, Title: c.title})
	}
	for _, c := range checks {
		cat := strings.ToLower(strings.TrimSpace(c.Category))
		i, ok := index[cat]
		if !ok {
			i = len(groups)
			index[cat] = i
			groups = append(groups, Group{Category: cat, Title: CategoryTitle(cat)})
		}
		groups[i].Checks = append(groups[i].Checks, c)
		groups[i].Counts.add(c.Status)
	}
	return slices.DeleteFunc(groups, func(g Group) bool { return len(g.Checks) == 0 })
}

// Tool identifies the program that produced a Result.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Check is one verdict, with what was seen and what to change.
type Check struct {
	ID       string `json:"id"`       // stable, e.g. "HGS-TLS-001"; never reused
	Title    string `json:"title"`    // short name of what is checked
	Category string `json:"category"` // tls, redirects, hsts, cookies, headers, content, leaks
	Status   Status `json:"status"`
	// Result is the machine-readable outcome, named as the MDN HTTP
	// Observatory names it where it has a name for it
	// (e.g. "hsts-implemented-max-age-at-least-six-months").
	Result string `json:"result,omitempty"`
	// ScoreImpact is this check's effect on Score: negative for a
	// deduction, positive for a bonus, 0 for none.
	ScoreImpact int      `json:"score_impact"`
	Message     string   `json:"message"`            // what was found, in one sentence
	Evidence    []string `json:"evidence,omitempty"` // what was seen: header values, URLs, cookie names
	Fix         string   `json:"fix,omitempty"`      // what to change
	// Error says why a StatusError check could not observe what it
	// judges.
	Error *Error `json:"error,omitempty"`
	// Refs are links to documentation about the check.
	Refs []string `json:"refs,omitempty"`
}

// Hop is one step of a redirect chain.
type Hop struct {
	URL      string `json:"url"`
	Status   int    `json:"status,omitempty"`
	Location string `json:"location,omitempty"`
	// HSTS is the Strict-Transport-Security header this hop sent, if any.
	HSTS  string `json:"hsts,omitempty"`
	Error string `json:"error,omitempty"`
}

// TLSInfo describes the TLS connection and certificate seen on the HTTPS
// port.
type TLSInfo struct {
	Version     string `json:"version"` // negotiated, e.g. "TLS 1.3"
	CipherSuite string `json:"cipher_suite"`
	ALPN        string `json:"alpn,omitempty"`
	// Versions maps each protocol version tried ("TLS 1.0" ... "TLS 1.3")
	// to whether the server accepted it.
	Versions map[string]bool `json:"versions,omitempty"`
	// WeakCiphers lists the TLS 1.2 cipher suites accepted that are weak.
	WeakCiphers []string `json:"weak_ciphers,omitempty"`

	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"`
	// TrustedBy says which roots verified the chain: "system" or the path
	// of the CA file given with --ca-file.
	TrustedBy string `json:"trusted_by,omitempty"`

	Chain []Certificate `json:"chain"`

	// Protocols is what the raw ClientHello probes found for each
	// protocol version, SSL 2.0 to TLS 1.3: whether the server offers
	// it and every cipher suite it accepts with it, Go's or not.
	Protocols []ProtocolSupport `json:"protocols,omitempty"`
	// ForwardSecrecy says how many of the accepted cipher suites have
	// forward secrecy: "all", "some" or "none"; empty when the suite
	// lists are incomplete and do not settle it.
	ForwardSecrecy string `json:"forward_secrecy,omitempty"`
	// ChainFacts judges the served chain on its own: complete or not,
	// and what is wrong with the leaf.
	ChainFacts *ChainFacts `json:"chain_facts,omitempty"`
}

// ProtocolSupport is what was learned about one protocol version.
type ProtocolSupport struct {
	Version string `json:"version"` // "SSL 2.0" ... "TLS 1.3"
	Offered bool   `json:"offered"`
	// Error says why it could not be told whether the version is
	// offered; Offered is then false and means nothing.
	Error string `json:"error,omitempty"`
	// Refusal is how the server declined: "alert protocol_version",
	// "connection closed", "chose TLS 1.2".
	Refusal string `json:"refusal,omitempty"`
	// CipherSuites are every suite the server accepted with this
	// version, ordered by code.
	CipherSuites []CipherSuite `json:"cipher_suites,omitempty"`
	// Incomplete says why CipherSuites may miss some: a probe failed or
	// a limit was reached.
	Incomplete string `json:"incomplete,omitempty"`
}

// CipherSuite is one accepted cipher suite.
type CipherSuite struct {
	ID             string `json:"id"`           // code in hex, e.g. "0xc02f"
	Name           string `json:"name"`         // IANA name
	KeyExchange    string `json:"key_exchange"` // "ECDHE", "DHE", "RSA", ...
	Encryption     string `json:"encryption"`   // e.g. "AES-128-GCM", "3DES-168-CBC"
	ForwardSecrecy bool   `json:"forward_secrecy"`
	// Strength is "strong" (forward secrecy and AEAD), "weak" (forward
	// secrecy, CBC) or "insecure".
	Strength string `json:"strength"`
}

// ChainFacts are the served chain's facts, each one as testssl.sh would
// report it.
type ChainFacts struct {
	// Status is "complete" (the served certificates lead to a trusted
	// root), "incomplete" (the last one's issuer is neither served nor
	// trusted: an intermediate is missing, or the CA is unknown),
	// "self-signed" (the leaf is its own untrusted issuer) or
	// "untrusted-root" (the chain ends at a root that is served but not
	// trusted). Signatures count whatever their algorithm: a SHA-1
	// signature is judged on its own (WeakSignatures).
	Status string `json:"status"`
	// MissingIssuer is the subject of the certificate the server should
	// send, when Status is "incomplete"; MissingIssuerURL is where the
	// certificate before it says it can be fetched (AIA caIssuers).
	MissingIssuer    string `json:"missing_issuer,omitempty"`
	MissingIssuerURL string `json:"missing_issuer_url,omitempty"`
	// Anchor names the trust anchor the chain leads to ("system", a CA
	// file), when Status is "complete".
	Anchor string `json:"anchor,omitempty"`
	// NameMatch reports whether the leaf is valid for the host scanned.
	NameMatch bool `json:"name_match"`
	// Expired and NotYetValid compare the leaf's validity with the scan's
	// time.
	Expired     bool `json:"expired"`
	NotYetValid bool `json:"not_yet_valid"`
	// WeakSignatures lists the served certificates below the root that
	// are signed with SHA-1 or MD5, as "subject: algorithm".
	WeakSignatures []string `json:"weak_signatures,omitempty"`
}

// Certificate describes one certificate of the served chain, leaf first.
type Certificate struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	DNSNames           []string  `json:"dns_names,omitempty"`
	IPAddresses        []string  `json:"ip_addresses,omitempty"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	DaysLeft           int       `json:"days_left"`
	KeyType            string    `json:"key_type"` // "ECDSA", "RSA", "Ed25519"
	KeyBits            int       `json:"key_bits"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
	SHA256             string    `json:"sha256"` // fingerprint, hex
}

package scan

import "time"

// SchemaVersion is the version of the Result document. It changes only when
// a field is removed or changes meaning; new fields may appear in any version.
const SchemaVersion = 1

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
	Score   int    `json:"score"`
	Grade   string `json:"grade"`

	// Checks are every check that ran, in report order.
	Checks []Check `json:"checks"`

	// HTTPRedirects is the chain followed from http://host/, every hop
	// recorded; HTTPSRedirects the one from https://host/.
	HTTPRedirects  []Hop `json:"http_redirects,omitempty"`
	HTTPSRedirects []Hop `json:"https_redirects,omitempty"`

	TLS *TLSInfo `json:"tls,omitempty"`

	// Error is set when the target could not be scanned at all (bad target,
	// refused address); Checks may then be empty.
	Error string `json:"error,omitempty"`
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
	Error       string   `json:"error,omitempty"`    // why a StatusError check could not complete
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

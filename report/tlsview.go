package report

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/httpsguard/httpsguard/scan"
)

// The TLS facts (scan.TLSInfo's Protocols, ForwardSecrecy and ChainFacts)
// as every format shows them: which versions the server accepts, refuses
// or could not be asked about, its suites by strength, and what is wrong
// with the served chain.

// strengths are the suite strengths, worst first, as reports list them.
var strengths = []string{"insecure", "weak", "strong"}

// versionsLine is "TLS 1.2, TLS 1.3 (refuses SSL 2.0, SSL 3.0, TLS 1.0,
// TLS 1.1)", with the versions that could not be told apart as unknown.
// It reads Protocols when the result has them, Versions otherwise.
func versionsLine(info *scan.TLSInfo) string {
	var yes, no, unknown []string
	if len(info.Protocols) > 0 {
		for _, p := range info.Protocols {
			switch {
			case p.Error != "":
				unknown = append(unknown, oneLine(p.Version))
			case p.Offered:
				yes = append(yes, oneLine(p.Version))
			default:
				no = append(no, oneLine(p.Version))
			}
		}
	} else {
		if len(info.Versions) == 0 {
			return ""
		}
		for _, v := range slices.Sorted(maps.Keys(info.Versions)) {
			if info.Versions[v] {
				yes = append(yes, oneLine(v))
			} else {
				no = append(no, oneLine(v))
			}
		}
	}
	s := strings.Join(yes, ", ")
	if s == "" {
		s = "none of the versions tried"
	}
	var more []string
	if len(no) > 0 {
		more = append(more, "refuses "+strings.Join(no, ", "))
	}
	if len(unknown) > 0 {
		more = append(more, "unknown: "+strings.Join(unknown, ", "))
	}
	if len(more) > 0 {
		s += " (" + strings.Join(more, "; ") + ")"
	}
	return s
}

// suiteCounts counts the suites accepted on every version, a suite
// accepted with several versions once, and says how many of each strength
// there are, worst first: "6 insecure, 4 weak, 2 strong".
func suiteCounts(info *scan.TLSInfo) (total int, byStrength string) {
	by := map[string]int{}
	seen := map[string]bool{}
	for _, p := range info.Protocols {
		for _, s := range p.CipherSuites {
			if seen[s.ID] {
				continue
			}
			seen[s.ID] = true
			total++
			by[s.Strength]++
		}
	}
	var parts []string
	for _, st := range strengths {
		if by[st] > 0 {
			parts = append(parts, strconv.Itoa(by[st])+" "+st)
		}
	}
	return total, strings.Join(parts, ", ")
}

// suitesLine is "12 cipher suites: 6 insecure, 4 weak, 2 strong · forward
// secrecy: some suites, not all" (sep between the two), or "" when the
// result lists none.
func suitesLine(info *scan.TLSInfo, sep string) string {
	total, byStrength := suiteCounts(info)
	if total == 0 {
		return ""
	}
	line := plural(total, "cipher suite") + ": " + byStrength
	if fs := forwardSecrecyText(info.ForwardSecrecy); fs != "" {
		line += sep + "forward secrecy: " + fs
	}
	return line
}

// forwardSecrecyText says how many accepted suites have forward secrecy.
func forwardSecrecyText(fs string) string {
	switch fs {
	case "all":
		return "every suite"
	case "some":
		return "some suites, not all"
	case "none":
		return "no suite"
	case "":
		return ""
	}
	return oneLine(fs)
}

// chainText says what the chain facts found: "" for a complete chain with
// nothing wrong that the other lines do not show.
func chainText(cf *scan.ChainFacts) string {
	if cf == nil {
		return ""
	}
	var parts []string
	switch cf.Status {
	case "complete":
	case "incomplete":
		s := "incomplete: the server does not send " + oneLine(cf.MissingIssuer)
		if cf.MissingIssuerURL != "" {
			s += " (the certificate below it names it at " + oneLine(cf.MissingIssuerURL) + ")"
		}
		parts = append(parts, s)
	case "self-signed":
		parts = append(parts, "self-signed, and no trust store here holds it")
	case "untrusted-root":
		parts = append(parts, "ends at a root no trust store here holds")
	default:
		parts = append(parts, oneLine(cf.Status))
	}
	if !cf.NameMatch {
		parts = append(parts, "not valid for the host")
	}
	if len(cf.WeakSignatures) > 0 {
		parts = append(parts, "signed with SHA-1 or MD5: "+oneLine(strings.Join(cf.WeakSignatures, "; ")))
	}
	return strings.Join(parts, "; ")
}

// suiteGroup is a version's suites of one strength, with their names on
// one line each.
type suiteGroup struct {
	strength string
	suites   []scan.CipherSuite
	names    []string
}

// suitesByStrength groups a version's suites, worst first.
func suitesByStrength(p scan.ProtocolSupport) []suiteGroup {
	var out []suiteGroup
	for _, st := range strengths {
		g := suiteGroup{strength: st}
		for _, s := range p.CipherSuites {
			if s.Strength == st {
				g.suites = append(g.suites, s)
				g.names = append(g.names, oneLine(s.Name))
			}
		}
		if len(g.suites) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// strengthStatus is how a suite's strength reads: insecure fails, weak
// warns.
func strengthStatus(s string) scan.Status {
	switch s {
	case "strong":
		return scan.StatusPass
	case "weak":
		return scan.StatusWarn
	case "insecure":
		return scan.StatusFail
	}
	return scan.StatusSkip
}

// suiteDetail is "ECDHE · AES-128-GCM", or with forward secrecy spelt out
// when it is missing.
func suiteDetail(s scan.CipherSuite) string {
	d := oneLine(s.KeyExchange) + " · " + oneLine(s.Encryption)
	if !s.ForwardSecrecy {
		d += " · no forward secrecy"
	}
	return d
}

// protocolState is a version's row label, "offered", "refused (alert
// protocol_version)" or "unknown: no answer within 10s", and how it reads:
// an obsolete version offered fails, a version not asked about is an error.
func protocolState(p scan.ProtocolSupport) (string, scan.Status) {
	switch {
	case p.Error != "":
		return "unknown: " + oneLine(p.Error), scan.StatusError
	case p.Offered:
		if strings.HasPrefix(p.Version, "SSL") || p.Version == "TLS 1.0" || p.Version == "TLS 1.1" {
			return "offered", scan.StatusFail
		}
		return "offered", scan.StatusPass
	case p.Refusal != "":
		return fmt.Sprintf("refused (%s)", oneLine(p.Refusal)), scan.StatusSkip
	}
	return "refused", scan.StatusSkip
}

// TLSFacts are a result's TLS facts worded as the reports word them, for a
// page that lays them out its own way (the web checker's result page). The
// strings may carry what a server sent (its error words, a suite the
// scanner could not name): show them through CleanText and the format's
// own escaping.
type TLSFacts struct {
	// Versions is "TLS 1.2, TLS 1.3 (refuses SSL 2.0, ...; unknown: ...)".
	Versions string
	// Suites counts the suites accepted by strength: "16 cipher suites
	// accepted: 6 insecure, 4 weak, 6 strong"; "" when none are listed.
	Suites string
	// ForwardSecrecy is "every suite", "some suites, not all" or "no suite".
	ForwardSecrecy string
	// Chain says what is wrong with the served chain; "" when nothing is.
	Chain string
	// Protocols has a row per version asked about, oldest first.
	Protocols []ProtocolRow
}

// ProtocolRow is one protocol version: whether it is offered and the
// suites accepted with it.
type ProtocolRow struct {
	Version string
	State   string
	// Status is how the state reads: fail for an obsolete version
	// offered, error for a version that could not be asked about.
	Status scan.Status
	// Suites are the suites accepted with this version, worst first.
	Suites []SuiteRow
	// Incomplete says why the list of suites may be short.
	Incomplete string
}

// SuiteRow is one accepted cipher suite.
type SuiteRow struct {
	Name     string
	Strength string      // insecure, weak or strong
	Status   scan.Status // fail, warn or pass, by strength
	Detail   string      // "ECDHE · AES-128-GCM", "… · no forward secrecy"
}

// NewTLSFacts words info's TLS facts.
func NewTLSFacts(info *scan.TLSInfo) TLSFacts {
	f := TLSFacts{
		Versions:       versionsLine(info),
		ForwardSecrecy: forwardSecrecyText(info.ForwardSecrecy),
		Chain:          chainText(info.ChainFacts),
	}
	if total, byStrength := suiteCounts(info); total > 0 {
		f.Suites = plural(total, "cipher suite") + " accepted: " + byStrength
	}
	for _, p := range info.Protocols {
		row := ProtocolRow{Version: p.Version, Incomplete: p.Incomplete}
		row.State, row.Status = protocolState(p)
		for _, g := range suitesByStrength(p) {
			for _, s := range g.suites {
				row.Suites = append(row.Suites, SuiteRow{Name: s.Name, Strength: s.Strength, Status: strengthStatus(s.Strength), Detail: suiteDetail(s)})
			}
		}
		f.Protocols = append(f.Protocols, row)
	}
	return f
}

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

// suiteCounts counts the suites accepted on every version by strength; a
// suite accepted with several versions counts once.
func suiteCounts(info *scan.TLSInfo) (total int, by map[string]int) {
	by = map[string]int{}
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
	return total, by
}

// suitesLine is "12 cipher suites: 6 insecure, 4 weak, 2 strong · forward
// secrecy: some suites, not all" (sep between the two), or "" when the
// result lists none.
func suitesLine(info *scan.TLSInfo, sep string) string {
	total, by := suiteCounts(info)
	if total == 0 {
		return ""
	}
	var parts []string
	for _, s := range strengths {
		if by[s] > 0 {
			parts = append(parts, strconv.Itoa(by[s])+" "+s)
		}
	}
	line := plural(total, "cipher suite") + ": " + strings.Join(parts, ", ")
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

// suiteGroup is a version's suites of one strength.
type suiteGroup struct {
	strength string
	names    []string
}

// suitesByStrength groups a version's suites, worst first.
func suitesByStrength(p scan.ProtocolSupport) []suiteGroup {
	var out []suiteGroup
	for _, st := range strengths {
		var names []string
		for _, s := range p.CipherSuites {
			if s.Strength == st {
				names = append(names, oneLine(s.Name))
			}
		}
		if len(names) > 0 {
			out = append(out, suiteGroup{st, names})
		}
	}
	return out
}

// strengthClass is the CSS class of a suite's strength.
func strengthClass(s string) string {
	switch s {
	case "strong":
		return "hg-pass-c"
	case "weak":
		return "hg-warn-c"
	case "insecure":
		return "hg-fail-c"
	}
	return "hg-skip-c"
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

// protocolState is a version's row label: "offered", "refused (alert
// protocol_version)", "unknown: no answer within 10s".
func protocolState(p scan.ProtocolSupport) (text, class string) {
	switch {
	case p.Error != "":
		return "unknown: " + oneLine(p.Error), "hg-error-c"
	case p.Offered:
		if strings.HasPrefix(p.Version, "SSL") || p.Version == "TLS 1.0" || p.Version == "TLS 1.1" {
			return "offered", "hg-fail-c"
		}
		return "offered", "hg-pass-c"
	case p.Refusal != "":
		return fmt.Sprintf("refused (%s)", oneLine(p.Refusal)), "hg-skip-c"
	}
	return "refused", "hg-skip-c"
}

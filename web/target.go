package web

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"

	"github.com/httpsguard/httpsguard/internal/publicip"
	"github.com/httpsguard/httpsguard/scan"
)

// maxTargetLen bounds what a user may submit; no real site address is
// longer, and it keeps stored rows and logs small.
const maxTargetLen = 2048

// errPrivateTarget is wrapped by normalizeTarget's error for a target that
// names a non-public address outright. The scanner refuses the address it
// actually dials too (scan.Options.DenyPrivate); this early check only
// gives the user an answer at once instead of a failed scan.
var errPrivateTarget = errors.New("not a public address")

// target is a submitted address, validated and normalised.
type target struct {
	// url is what is scanned: scheme, lower-case ASCII host, the port
	// when not the scheme's default, path and query; no user
	// information, no fragment.
	url string
	// site names the site for its history: host, plus ":port" when the
	// port is not the default.
	site string
	host string
}

// normalizeTarget validates what a user typed ("example.com",
// "https://example.com/path", "http://[2001:db8::1]:8080/") and returns it
// normalised. scan.ParseTarget reads it, so a site is named here exactly as
// the scanner names it (international names in their ASCII form, so one
// site has one history); on top of that this adds the web's policy: a length
// limit, no spaces or control characters, no IPv6 zones, and, with
// allowPrivate false, no IP address outside the public internet as the
// IANA special-purpose registries define it (see internal/publicip; also in
// the numeric forms ParseTarget reads, such as "127.1") and no "localhost"
// name. Its errors are written for the
// person who typed the address.
func normalizeTarget(raw string, allowPrivate bool) (target, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return target{}, errors.New("enter the address of a site, such as example.com")
	}
	if len(s) > maxTargetLen {
		return target{}, fmt.Errorf("the address is longer than %d characters", maxTargetLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return target{}, errors.New("the address contains spaces or control characters")
		}
	}
	pt, err := scan.ParseTarget(s)
	if err != nil {
		return target{}, targetMessage(err)
	}
	host := pt.Host
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return target{}, errors.New("IPv6 zones are not accepted")
		}
		if !allowPrivate && !publicip.IsPublic(ip) {
			return target{}, fmt.Errorf("refused: %w; only sites on the public internet can be checked here", errPrivateTarget)
		}
	} else {
		// ParseTarget has already read a name ending in a number
		// ("127.1", "2130706433") as the IPv4 address browsers see in it.
		if !allowPrivate && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
			return target{}, fmt.Errorf("refused: %w; only sites on the public internet can be checked here", errPrivateTarget)
		}
	}
	return target{url: pt.URL(), site: pt.Authority(), host: host}, nil
}

// targetMessage turns scan.ParseTarget's error into the sentence the user
// reads.
func targetMessage(err error) error {
	var te *scan.TargetError
	if !errors.As(err, &te) {
		return errors.New("that is not a valid web address")
	}
	switch te.Kind {
	case scan.ErrTargetEmpty:
		return errors.New("enter the address of a site, such as example.com")
	case scan.ErrTargetScheme:
		return fmt.Errorf("only http:// and https:// addresses can be checked, not %s://", truncate(te.Part, 20))
	case scan.ErrTargetUserInfo:
		return errors.New("addresses with a user name or password are not accepted")
	case scan.ErrTargetNoHost:
		return errors.New("the address has no host name")
	case scan.ErrTargetHost:
		if len(te.Part) > 253 {
			return errors.New("the host name is longer than 253 characters")
		}
		return fmt.Errorf("%q is not a valid host name", truncate(te.Part, 64))
	case scan.ErrTargetPort:
		return fmt.Errorf("port %q is not between 1 and 65535", truncate(te.Part, 10))
	default:
		return errors.New("that is not a valid web address")
	}
}

// validSite reports whether s has the shape of a target's site, so a
// history request for anything else is answered without a query.
func validSite(s string) bool {
	if s == "" || len(s) > 300 {
		return false
	}
	// A site normalises to itself under one of the schemes: "host:443" is
	// an http:// site, "host:80" an https:// one.
	for _, scheme := range []string{"https://", "http://"} {
		if t, err := normalizeTarget(scheme+s+"/", true); err == nil && t.site == s {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

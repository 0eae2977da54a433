package autotls

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/httpsguard/httpsguard"
)

// The checks Options.Check adds to httpsguard's own (see Checks).
var checks = []httpsguard.DeployCheck{
	{ID: "HGP-ACME-001", Severity: httpsguard.SeverityWarning, Field: "HSTSPreload",
		Title: "HSTS preload is asked for a name the ACME configuration does not cover",
		Fix:   "Add the registrable domain to Options.Domains (and point it at this server), or unset HSTSPreload."},
	{ID: "HGP-ACME-002", Severity: httpsguard.SeverityWarning, Field: "AllowedHosts",
		Title: "an allowed host has no certificate",
		Fix:   "Add the name to Options.Domains, approve it in Options.OnDemand, or remove it from AllowedHosts."},
	{ID: "HGP-ACME-003", Severity: httpsguard.SeverityError, Field: "ProxySSLHeader",
		Title: "the policy trusts a proxy or turns HTTPS off, but TLS ends at the application",
		Fix:   "Remove ProxySSLHeader, TrustedProxies and UseXForwardedHost, and turn Development off: the Server terminates TLS itself."},
	{ID: "HGP-ACME-004", Severity: httpsguard.SeverityError, Field: "Domains",
		Title: "the ACME configuration names nothing that can get a certificate",
		Fix:   "List the site's names in Options.Domains (no wildcards, no IP addresses, no ports), or set Options.OnDemand."},
}

// Checks returns the checks Options.Check adds to the policy's own, for
// documentation and tooling.
func Checks() []httpsguard.DeployCheck { return slices.Clone(checks) }

func finding(id, msg string) httpsguard.Finding {
	for _, c := range checks {
		if c.ID == id {
			return httpsguard.Finding{ID: c.ID, Severity: c.Severity, Field: c.Field, Title: c.Title, Message: msg, Fix: c.Fix}
		}
	}
	panic("autotls: unknown check " + id)
}

// Check reviews p as a Server with these options would serve it: p's own
// findings (httpsguard.Policy.Check) with those that do not apply here left
// out, and the checks of this package (see Checks). "SSL redirect is off"
// (HGP-RED-001) and "an exemption matches every path" (HGP-RED-004) go:
// the HTTP listener redirects every request but the CA's challenges,
// whatever SSLRedirect and RedirectExempt say; with OnDemand, so does
// "AllowedHosts is empty" (HGP-HOST-001). A finding of severity error
// means New refuses the options with p.
//
// OnDemand, when set, is asked about the names the checks need (with ctx),
// as the Server would ask it.
func (o Options) Check(ctx context.Context, p httpsguard.Policy) []httpsguard.Finding {
	var out []httpsguard.Finding
	for _, f := range p.Check() {
		switch {
		case f.ID == "HGP-RED-001", f.ID == "HGP-RED-004":
		case f.ID == "HGP-HOST-001" && o.OnDemand != nil:
			// OnDemand decides which hosts get a certificate, and the
			// Server answers no other name (see New).
		default:
			out = append(out, f)
		}
	}
	if err := transportError(p); err != nil {
		out = append(out, finding("HGP-ACME-003", strings.TrimPrefix(err.Error(), "autotls: ")+"."))
	}
	domains, err := o.domains()
	if err != nil {
		return append(out, finding("HGP-ACME-004", strings.TrimPrefix(err.Error(), "autotls: ")+"."))
	}
	covered := func(name string) bool {
		return slices.Contains(domains, name) || o.OnDemand != nil && o.OnDemand(ctx, name) == nil
	}

	// Exact names the site answers for: the ones the policy allows,
	// otherwise the domains.
	var names []string
	for _, h := range p.AllowedHosts {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		if h != "" && h != "*" && !strings.HasPrefix(h, ".") {
			names = append(names, strings.Trim(h, "[]"))
		}
	}
	var uncovered []string
	for _, n := range names {
		if !covered(n) {
			uncovered = append(uncovered, n)
		}
	}
	if len(uncovered) > 0 {
		out = append(out, finding("HGP-ACME-002", fmt.Sprintf(
			"AllowedHosts allows %s, but the ACME configuration has no certificate for it: visitors get a certificate error.",
			strings.Join(uncovered, ", "))))
	}

	if p.HSTSPreload && p.HSTSSeconds > 0 {
		var apexes []string
		for _, n := range append(slices.Clone(domains), names...) {
			if _, err := netip.ParseAddr(n); err == nil {
				continue
			}
			apex, err := publicsuffix.EffectiveTLDPlusOne(n)
			if err != nil || slices.Contains(apexes, apex) || covered(apex) {
				continue
			}
			apexes = append(apexes, apex)
		}
		if len(apexes) > 0 {
			out = append(out, finding("HGP-ACME-001", fmt.Sprintf(
				"HSTSPreload is set, and the preload list takes whole registrable domains: browsers will refuse plain HTTP for %s and every name under it. But the ACME configuration has no certificate for %s itself, so https://%s fails, and hstspreload.org refuses a domain that does not serve HTTPS.",
				strings.Join(apexes, ", "), strings.Join(apexes, ", "), apexes[0])))
		}
	}
	return out
}

// Package localca is httpsguard's local certificate authority: a private root
// kept in the user's data directory, leaf certificates issued from it for
// development names (DNS names, IP addresses, one-level wildcards and
// internationalised names), and installation of the root into the system,
// NSS and Java trust stores.
//
// The design follows mkcert and Caddy: an ECDSA P-256 root valid for ten
// years that may only sign leaves (MaxPathLenZero), a private key readable by
// its owner alone, and leaves that always carry subjectAltName entries and
// never outlive the 825 days Apple allows for user-installed roots.
//
// A *CA is safe for concurrent use. The user guide is docs/ca.md; the choices
// made where mkcert and Caddy left room are in docs/design/localca.md.
//
// # Invariants
//
// The key is never readable by others, not even while it is written: files
// go to a 0600 temporary file that is then linked into place without
// replacing anything, so processes that create the CA at the same time all
// end up with the same one.
//
// A damaged CA (a corrupt or truncated file, a key of another certificate, a
// missing half) is an error that names the file; a new CA is never created
// over it, because the old root may still be trusted everywhere.
//
// A name is issued only if a browser could match it: wildcards directly
// below a top-level name, names whose last label is numeric (browsers read
// them as IPv4 addresses), URLs and host:port are refused with the reason.
// IDNs are converted with UTS #46 non-transitional processing, as browsers do.
//
// Trust-store changes go through github.com/smallstep/truststore and report
// one StoreResult per store; a store that is missing its tool is Skipped with
// the fix, never silently passed over.
package localca

// Package report renders scan results for people and machines: text for a
// terminal, JSON and JSON Lines with a versioned schema, SARIF 2.1.0 for code
// scanning, a self-contained HTML report and Markdown for a pull request.
//
// Every format renders the same *scan.Result values; nothing is computed
// here that the result does not already say, so a grade in the HTML report
// and in the JSON document always agree. Write renders a finished set of
// results; a Stream renders them as they arrive, for a command that scans
// many targets at once. The formats are described for users in
// docs/reports.md.
//
// # Invariants
//
// Rendering never modifies the result: the web application renders one
// value many times.
//
// Everything that came from a scanned site is hostile. Text output escapes
// control characters and Unicode bidi overrides, so a server cannot clear
// the screen or make evidence read backwards. HTML goes through html/template,
// links only absolute http(s) URLs, and carries its own Content-Security-Policy
// (default-src 'none' and the stylesheet's hash), so even an escaping mistake
// could not run script. Markdown escapes what GitHub would interpret (table
// pipes, code spans, tags, links, images, @mentions) and stays under
// GitHub's comment limit by dropping evidence and passing checks first.
//
// The JSON document is scan.Result itself, described by
// docs/schema/scan-result-v1.json: properties may be added within schema
// version 1; removing, renaming or changing one needs a new version and a new
// schema file. Tests validate real output against the schema and compare the
// schema with the Go types. SARIF results carry a fingerprint of check ID,
// host, URL and result code, so an alert keeps its identity across scans
// when its message changes.
package report

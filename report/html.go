package report

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/scan"
)

var (
	//go:embed assets/report.css
	stylesheet string
	//go:embed assets/report.html.tmpl
	htmlSource string

	htmlTemplates = template.Must(template.New("report").Funcs(template.FuncMap{
		"statusClass": statusClass,
		"statusLabel": StatusLabel,
		"impact":      FormatImpact,
		"refLinks":    refLinks,
	}).Parse(htmlSource))

	// pageCSP is the Content-Security-Policy of the standalone report: no
	// scripts, no fetches, no forms, and only the report's own stylesheet,
	// pinned by its hash. Evidence is escaped anyway; this makes a mistake
	// in that escaping harmless.
	pageCSP = "default-src 'none'; style-src 'sha256-" + cssHash() + "'; img-src data:; base-uri 'none'; form-action 'none'"
)

func cssHash() string {
	sum := sha256.Sum256([]byte(stylesheet))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// CSS returns the stylesheet the HTML report uses. A page that embeds
// results rendered by HTMLFragment or WriteHTMLFragment includes it once,
// in a <style> element or a served file. Every rule is scoped under the
// "hg-" class prefix, so it does not restyle the rest of the page; it
// follows the reader's light or dark preference and has print rules.
func CSS() template.CSS { return template.CSS(stylesheet) }

// CSSHash returns the base64 SHA-256 of CSS(), for a Content-Security-Policy
// that allows the stylesheet inline: style-src 'sha256-<hash>'.
func CSSHash() string { return cssHash() }

// WriteHTML writes a complete, self-contained HTML document for results:
// inline CSS, no scripts and no external resources, so the file can be
// mailed, archived or opened offline. Several results get a summary table
// linking to each; nil results are skipped. Everything that came from the
// scanned site is escaped.
func WriteHTML(w io.Writer, results []*scan.Result, opts Options) error {
	page := htmlPage{
		CSS:     CSS(),
		CSP:     pageCSP,
		Version: toolVersion(results, opts),
	}
	var first time.Time
	for _, r := range results {
		if r == nil {
			continue
		}
		v := newHTMLResult(r, fmt.Sprintf("target-%d", len(page.Results)+1))
		page.Results = append(page.Results, v)
		if !r.StartedAt.IsZero() && (first.IsZero() || r.StartedAt.Before(first)) {
			first = r.StartedAt
		}
	}
	page.Multi = len(page.Results) > 1
	if page.Multi {
		page.Generated = FormatTime(first)
	}
	switch len(page.Results) {
	case 0:
		page.Title = "httpsguard report"
	case 1:
		v := page.Results[0]
		page.Title = v.Name + ": " + v.GradeText + " — httpsguard report"
	default:
		page.Title = fmt.Sprintf("%d targets — httpsguard report", len(page.Results))
	}
	if err := htmlTemplates.ExecuteTemplate(w, "page", page); err != nil {
		return fmt.Errorf("rendering HTML report: %w", err)
	}
	return nil
}

// WriteHTMLFragment writes one result as an HTML fragment: a <div
// class="hg-report"> holding an <article>, with headings from <h2> down, for
// a page that supplies its own <html>, <head> and <h1> and includes CSS().
// Everything that came from the scanned site is escaped.
func WriteHTMLFragment(w io.Writer, r *scan.Result, opts Options) error {
	if r == nil {
		return fmt.Errorf("rendering HTML fragment: nil result")
	}
	if err := htmlTemplates.ExecuteTemplate(w, "fragment", newHTMLResult(r, "hg-result")); err != nil {
		return fmt.Errorf("rendering HTML fragment: %w", err)
	}
	return nil
}

// HTMLFragment returns what WriteHTMLFragment writes, typed as safe HTML so
// that a page template can place it with {{.}} without escaping it again.
func HTMLFragment(r *scan.Result, opts Options) (template.HTML, error) {
	var buf bytes.Buffer
	if err := WriteHTMLFragment(&buf, r, opts); err != nil {
		return "", err
	}
	// html/template produced it and escaped every value from the site.
	return template.HTML(buf.String()), nil
}

// htmlPage is the data of the "page" template.
type htmlPage struct {
	Title     string
	CSS       template.CSS
	CSP       string
	Version   string
	Generated string
	Multi     bool
	Results   []*htmlResult
}

// htmlResult is one result prepared for the templates: sanitized, grouped
// and ranked, with the small computations templates should not do.
type htmlResult struct {
	Anchor     string
	Name       string
	URL        string
	Link       string // URL when it may be a hyperlink, else ""
	Failed     bool   // there is no grade; Error says why
	Error      *scan.Error
	Incomplete bool         // the grade was computed without some checks
	Errored    []scan.Check // the checks that could not complete
	Score      int
	GradeText  string
	GradeClass string
	Verdict    string
	BadgeLabel string
	RingDash   string
	Scoring    string
	When       string
	WhenISO    string
	Duration   string
	Counts     scan.Counts
	Chips      []htmlChip
	FixFirst   []scan.Check
	MoreToFix  int
	Groups     []htmlGroup
	Chains     []htmlChain
	TLS        *htmlTLS
}

type htmlChip struct{ Class, Text string }

type htmlChain struct {
	Title string
	Hops  []htmlHop
}

type htmlHop struct {
	scan.Hop
	Insecure bool
	Class    string
}

type htmlTLS struct {
	Info     *scan.TLSInfo
	Versions []htmlVersion
	// Facts are the TLS facts as every format words them; their table of
	// versions and suites is shown when the result lists them (Versions
	// otherwise).
	Facts TLSFacts
	Certs []htmlCert
}

type htmlVersion struct {
	Name     string
	Accepted bool
	Class    string
}

type htmlCert struct {
	Label     string
	C         scan.Certificate
	Names     []string
	Valid     string
	DaysClass string
	DaysText  string
	Key       string
}

type htmlRef struct{ Href, Text string }

// htmlGroup is the checks of one category, as the report shows them.
type htmlGroup struct{ scan.Group }

// Phrase summarises the group's statuses for its heading.
func (g htmlGroup) Phrase() string { return phrase(g.Counts) }

// ringCircumference is the length of the score ring's circle (r = 52).
var ringCircumference = 2 * math.Pi * 52

func newHTMLResult(r *scan.Result, anchor string) *htmlResult {
	r = sanitized(r)
	v := &htmlResult{
		Anchor:     anchor,
		Name:       displayName(r),
		URL:        displayURL(r),
		Failed:     !r.Graded(),
		Error:      r.Error,
		Incomplete: r.Graded() && r.Incomplete,
		Errored:    r.ErroredChecks(),
		Score:      r.Score,
		GradeText:  r.Grade,
		GradeClass: GradeClass(r.Grade),
		Scoring:    r.Scoring,
		When:       FormatTime(r.StartedAt),
		Counts:     r.Counts(),
	}
	for _, g := range scan.GroupChecks(r.Checks) {
		v.Groups = append(v.Groups, htmlGroup{g})
	}
	if v.URL == v.Name {
		v.URL = "" // a bare host that never resolved to a URL: the heading says it
	}
	if safeLink(v.URL) {
		v.Link = v.URL
	}
	if !r.StartedAt.IsZero() {
		v.WhenISO = r.StartedAt.UTC().Format(time.RFC3339)
	}
	if r.DurationMS > 0 {
		v.Duration = FormatDuration(r.DurationMS)
	}
	if v.GradeText == "" {
		v.GradeText = "?"
	}
	switch {
	case v.Failed:
		v.Error = noGradeError(r)
		v.GradeText, v.GradeClass = "!", "none"
		v.Verdict = "No grade"
		v.BadgeLabel = "No grade: " + v.Error.Message
	case v.Incomplete:
		v.Verdict = "Incomplete"
		v.BadgeLabel = fmt.Sprintf("Incomplete grade %s, score %d out of 100: %d of the checks could not complete", v.GradeText, r.Score, len(v.Errored))
	default:
		v.Verdict = verdict(v.GradeClass)
		v.BadgeLabel = fmt.Sprintf("Grade %s, score %d out of 100", v.GradeText, r.Score)
	}
	// A zero score draws no arc: a round line cap would still paint a dot.
	if filled := float64(min(max(r.Score, 0), 100)) / 100 * ringCircumference; !v.Failed && filled > 0 {
		v.RingDash = strconv.FormatFloat(filled, 'f', 1, 64) + " " + strconv.FormatFloat(ringCircumference, 'f', 1, 64)
	}
	for _, chip := range []struct {
		class string
		n     int
		one   string
		many  string
	}{
		{"fail", v.Counts.Fail, "failed", "failed"},
		{"warn", v.Counts.Warn, "warning", "warnings"},
		{"error", v.Counts.Error, "error", "errors"},
		{"pass", v.Counts.Pass, "passed", "passed"},
		{"info", v.Counts.Info, "note", "notes"},
		{"skip", v.Counts.Skip, "skipped", "skipped"},
	} {
		if chip.n == 0 {
			continue
		}
		word := chip.many
		if chip.n == 1 {
			word = chip.one
		}
		v.Chips = append(v.Chips, htmlChip{Class: chip.class, Text: fmt.Sprintf("%d %s", chip.n, word)})
	}
	todo := scan.FixFirst(r.Checks)
	v.FixFirst = todo[:min(len(todo), maxFixFirst)]
	v.MoreToFix = len(todo) - len(v.FixFirst)

	if len(r.HTTPRedirects) > 0 {
		v.Chains = append(v.Chains, htmlChain{Title: "From http://" + hostOf(r), Hops: htmlHops(r.HTTPRedirects)})
	}
	if len(r.HTTPSRedirects) > 0 {
		v.Chains = append(v.Chains, htmlChain{Title: "From https://" + hostOf(r), Hops: htmlHops(r.HTTPSRedirects)})
	}
	if r.TLS != nil {
		v.TLS = newHTMLTLS(r.TLS)
	}
	return v
}

func verdict(class string) string {
	switch class {
	case "a":
		return "Strong"
	case "b":
		return "Good"
	case "c":
		return "Fair"
	case "d":
		return "Weak"
	case "f":
		return "Failing"
	}
	return "Ungraded"
}

func hostOf(r *scan.Result) string {
	if r.Host != "" {
		return r.Host
	}
	return displayName(r)
}

func htmlHops(hops []scan.Hop) []htmlHop {
	out := make([]htmlHop, 0, len(hops))
	for _, h := range hops {
		v := htmlHop{Hop: h}
		if u, err := url.Parse(h.URL); err == nil && strings.EqualFold(u.Scheme, "http") {
			v.Insecure = true
		}
		switch {
		case h.Error != "" || h.Status >= 400:
			v.Class = "hg-hop-bad"
		case h.Status >= 200 && h.Status < 300:
			v.Class = "hg-hop-ok"
		}
		out = append(out, v)
	}
	return out
}

func newHTMLTLS(info *scan.TLSInfo) *htmlTLS {
	v := &htmlTLS{Info: info}
	for _, name := range slices.Sorted(maps.Keys(info.Versions)) {
		accepted := info.Versions[name]
		legacy := strings.HasPrefix(name, "SSL") || strings.HasSuffix(name, "1.0") || strings.HasSuffix(name, "1.1")
		class := "hg-pass-c"
		switch {
		case accepted && legacy:
			class = "hg-fail-c"
		case !accepted && strings.HasSuffix(name, "1.3"):
			class = "hg-warn-c"
		case !accepted && !legacy:
			class = "hg-skip-c"
		}
		v.Versions = append(v.Versions, htmlVersion{Name: name, Accepted: accepted, Class: class})
	}
	v.Facts = NewTLSFacts(info)
	for i, c := range info.Chain {
		cert := htmlCert{C: c, Names: append(slices.Clone(c.DNSNames), c.IPAddresses...), Key: keyDescription(c)}
		switch {
		case i == 0:
			cert.Label = "Leaf certificate"
		case c.Subject != "" && c.Subject == c.Issuer:
			cert.Label = "Root certificate"
		case len(info.Chain) > 2:
			cert.Label = fmt.Sprintf("Intermediate certificate %d", i)
		default:
			cert.Label = "Intermediate certificate"
		}
		if !c.NotAfter.IsZero() {
			cert.Valid = c.NotBefore.UTC().Format("2006-01-02") + " to " + c.NotAfter.UTC().Format("2006-01-02")
			switch {
			case c.DaysLeft < 0:
				cert.DaysClass, cert.DaysText = "hg-days-bad", "expired "+plural(-c.DaysLeft, "day")+" ago"
			case c.DaysLeft < 7:
				cert.DaysClass, cert.DaysText = "hg-days-bad", plural(c.DaysLeft, "day")+" left"
			case c.DaysLeft < 30:
				cert.DaysClass, cert.DaysText = "hg-days-warn", plural(c.DaysLeft, "day")+" left"
			default:
				cert.DaysClass, cert.DaysText = "hg-days-ok", plural(c.DaysLeft, "day")+" left"
			}
		}
		v.Certs = append(v.Certs, cert)
	}
	return v
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// statusClass is the CSS class of a status.
func statusClass(s scan.Status) string {
	switch s {
	case scan.StatusPass, scan.StatusInfo, scan.StatusWarn, scan.StatusFail, scan.StatusError, scan.StatusSkip:
		return "hg-" + string(s)
	}
	return "hg-skip"
}

// refLinks turns a check's references into links, keeping only http and
// https URLs as hyperlinks; anything else is shown as text.
func refLinks(refs []string) []htmlRef {
	out := make([]htmlRef, 0, len(refs))
	for _, ref := range refs {
		if !safeLink(ref) {
			out = append(out, htmlRef{Text: ref})
			continue
		}
		text := ref
		if u, err := url.Parse(ref); err == nil {
			text = u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
		}
		out = append(out, htmlRef{Href: ref, Text: text})
	}
	return out
}

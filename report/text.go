package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/httpsguard/httpsguard/internal/termcolor"
	"github.com/httpsguard/httpsguard/scan"
)

// Limits of the summary (non-verbose) text output, so that one page of
// debug output or a hundred cookies cannot bury the verdicts.
const (
	textMaxEvidence     = 3   // evidence items per check
	textMaxEvidenceLine = 6   // lines per evidence item
	textMaxLineRunes    = 200 // runes per evidence line
	textMaxSuites       = 4   // insecure suites named per protocol version
)

// textPrinter writes text output, remembering the first write error so the
// layout code can stay free of error checks.
type textPrinter struct {
	w    io.Writer
	p    termcolor.Painter
	opts Options
	err  error
}

func (t *textPrinter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *textPrinter) paint(s string, codes ...string) string { return t.p.Paint(s, codes...) }

// mark is the one-character sign of a status, coloured when colour is on.
func (t *textPrinter) mark(s scan.Status) string {
	uni, ascii, color := "?", "?", termcolor.Cyan
	switch s {
	case scan.StatusPass:
		uni, ascii, color = "✓", "+", termcolor.Green
	case scan.StatusInfo:
		uni, ascii, color = "i", "i", termcolor.Blue
	case scan.StatusWarn:
		uni, ascii, color = "!", "!", termcolor.Yellow
	case scan.StatusFail:
		uni, ascii, color = "✗", "x", termcolor.Red
	case scan.StatusSkip:
		uni, ascii, color = "-", "-", termcolor.Dim
	}
	if t.opts.ASCII {
		uni = ascii
	}
	return t.paint(uni, termcolor.Bold, color)
}

// asciiSymbols replaces the typographic symbols of text output in ASCII
// mode.
var asciiSymbols = map[string]string{" · ": " - ", " → ": " -> ", "…": "...", "›": ">"}

// impact is FormatImpact, with a hyphen for the minus sign in ASCII mode.
func (t *textPrinter) impact(n int) string {
	s := FormatImpact(n)
	if t.opts.ASCII {
		s = strings.Replace(s, "\u2212", "-", 1)
	}
	return s
}

// sym returns s, or its ASCII replacement when ASCII output is asked for.
func (t *textPrinter) sym(s string) string {
	if a, ok := asciiSymbols[s]; ok && t.opts.ASCII {
		return a
	}
	return s
}

func gradeColor(grade string) string {
	switch GradeClass(grade) {
	case "a", "b":
		return termcolor.Green
	case "c", "d":
		return termcolor.Yellow
	}
	return termcolor.Red
}

// writeText renders one result for a person at a terminal. A result without
// a grade says why first, with the fix for that cause, and leaves the
// checks out (verbose output lists them).
func writeText(w io.Writer, r *scan.Result, opts Options) error {
	r = sanitized(r)
	t := &textPrinter{w: w, p: termcolor.Painter{On: opts.Color}, opts: opts}
	if !r.Graded() {
		t.noGrade(r)
		return t.err
	}
	t.header(r)
	for _, g := range scan.GroupChecks(r.Checks) {
		t.group(g)
	}
	t.chain(r.HTTPRedirects, true)
	t.chain(r.HTTPSRedirects, opts.Verbose || len(r.HTTPSRedirects) > 1)
	t.tls(r.TLS)
	t.fixList(r)
	return t.err
}

// noGrade renders a result that has no grade: the cause on the first line,
// its fix, and the redirect chain that led there; with verbose output the
// checks and the connection too.
func (t *textPrinter) noGrade(r *scan.Result) {
	name := t.paint(oneLine(displayName(r)), termcolor.Bold)
	e := noGradeError(r)
	t.printf("%s  %s %s\n", name, t.paint("NO GRADE:", termcolor.Bold, termcolor.Red), oneLine(e.Message))
	kind := string(e.Kind)
	if e.Detail != "" {
		kind += ", " + e.Detail
	}
	if e.Fix != "" {
		t.printf("  %s %s\n", t.paint("fix:", termcolor.Bold), indent(e.Fix, "       "))
	}
	meta := []string{"cause: " + oneLine(kind)}
	if u := displayURL(r); u != displayName(r) || r.URL != "" {
		meta = append(meta, oneLine(u))
	}
	if s := FormatTime(r.StartedAt); s != "" {
		meta = append(meta, s)
	}
	if r.DurationMS > 0 {
		meta = append(meta, FormatDuration(r.DurationMS))
	}
	t.printf("  %s\n", t.paint(strings.Join(meta, t.sym(" · ")), termcolor.Dim))
	t.chain(r.HTTPSRedirects, t.opts.Verbose || len(r.HTTPSRedirects) > 1)
	if t.opts.Verbose {
		for _, g := range scan.GroupChecks(r.Checks) {
			t.group(g)
		}
		t.chain(r.HTTPRedirects, true)
		t.tls(r.TLS)
	}
}

func (t *textPrinter) header(r *scan.Result) {
	name := t.paint(oneLine(displayName(r)), termcolor.Bold)
	scoring := ""
	if r.Scoring != "" {
		scoring = "  " + t.paint("("+oneLine(r.Scoring)+" scoring)", termcolor.Dim)
	}
	incomplete := ""
	if r.Incomplete {
		incomplete = "  " + t.paint("INCOMPLETE", termcolor.Bold, termcolor.Red)
	}
	t.printf("%s  %s  %d/100%s%s\n", name, t.paint(oneLine(r.Grade), termcolor.Bold, gradeColor(r.Grade)), r.Score, incomplete, scoring)
	meta := []string{oneLine(displayURL(r))}
	if s := FormatTime(r.StartedAt); s != "" {
		meta = append(meta, s)
	}
	if r.DurationMS > 0 {
		meta = append(meta, FormatDuration(r.DurationMS))
	}
	t.printf("  %s\n", strings.Join(meta, t.sym(" · ")))
	t.printf("  %s\n", phrase(r.Counts()))
	if errored := r.ErroredChecks(); r.Incomplete && len(errored) > 0 {
		what := "checks"
		if len(errored) == 1 {
			what = "check"
		}
		t.printf("  %s %d %s could not observe what %s, so this grade may be better than the site deserves:\n",
			t.paint("incomplete:", termcolor.Bold, termcolor.Red), len(errored), what, map[bool]string{true: "it judges", false: "they judge"}[len(errored) == 1])
		for _, c := range errored {
			t.printf("    %s %s %s\n", oneLine(c.ID), oneLine(c.Title), t.paint("("+checkErrorLine(c)+")", termcolor.Dim))
		}
	}
}

// checkErrorLine is checkErrorText on one line.
func checkErrorLine(c scan.Check) string {
	return oneLine(checkErrorText(c))
}

func (t *textPrinter) group(g scan.Group) {
	t.printf("\n%s  %s\n", t.paint(oneLine(g.Title), termcolor.Bold), t.paint("("+phrase(g.Counts)+")", termcolor.Dim))
	for _, c := range g.Checks {
		t.check(c)
	}
}

func (t *textPrinter) check(c scan.Check) {
	quiet := !t.opts.Verbose && (c.Status == scan.StatusPass || c.Status == scan.StatusSkip)
	line := "  " + t.mark(c.Status) + " " + oneLine(c.Title)
	if imp := t.impact(c.ScoreImpact); c.ScoreImpact != 0 {
		color := termcolor.Red
		if c.ScoreImpact > 0 {
			color = termcolor.Green
		}
		line += " " + t.paint("("+imp+")", color)
	}
	if c.Message != "" && !quiet {
		line += ": " + oneLine(c.Message)
	}
	if t.opts.Verbose && c.ID != "" {
		line += "  " + t.paint("["+oneLine(c.ID)+"]", termcolor.Dim)
	}
	t.printf("%s\n", line)
	if c.Status == scan.StatusError && c.Error != nil {
		t.printf("      %s %s\n", t.paint("error:", termcolor.Cyan), checkErrorLine(c))
		if t.opts.Verbose && c.Error.Fix != "" {
			t.printf("      %s %s\n", t.paint("fix:", termcolor.Bold), indent(c.Error.Fix, "           "))
		}
	}
	if !quiet {
		t.evidence(c.Evidence)
	}
	if t.opts.Verbose {
		if c.Fix != "" && c.Status != scan.StatusPass {
			t.printf("      %s %s\n", t.paint("fix:", termcolor.Bold), indent(c.Fix, "           "))
		}
		for _, ref := range c.Refs {
			t.printf("      %s %s\n", t.paint("see:", termcolor.Dim), oneLine(ref))
		}
	}
}

// evidence prints what a check saw, indented under it; a multi-line item
// (a stack trace, a header block) keeps its lines.
func (t *textPrinter) evidence(items []string) {
	shown := items
	if !t.opts.Verbose && len(shown) > textMaxEvidence {
		shown = shown[:textMaxEvidence]
	}
	for _, ev := range shown {
		lines := strings.Split(strings.TrimRight(ev, "\n"), "\n")
		more := 0
		if !t.opts.Verbose && len(lines) > textMaxEvidenceLine {
			more = len(lines) - textMaxEvidenceLine
			lines = lines[:textMaxEvidenceLine]
		}
		for i, l := range lines {
			if !t.opts.Verbose {
				l = truncate(l, textMaxLineRunes)
			}
			prefix := "      "
			if i == 0 {
				prefix = "    " + t.paint(t.sym("›"), termcolor.Dim) + " "
			}
			t.printf("%s%s\n", prefix, strings.ReplaceAll(l, "\t", "    "))
		}
		if more > 0 {
			t.printf("      %s\n", t.paint(fmt.Sprintf(t.sym("…")+" %d more lines", more), termcolor.Dim))
		}
	}
	if n := len(items) - len(shown); n > 0 {
		t.printf("    %s\n", t.paint(fmt.Sprintf(t.sym("…")+" and %d more", n), termcolor.Dim))
	}
}

func (t *textPrinter) chain(hops []scan.Hop, show bool) {
	if len(hops) == 0 || !show {
		return
	}
	t.printf("\n%s\n", t.paint("Redirect chain from "+oneLine(hops[0].URL), termcolor.Bold))
	for i, h := range hops {
		status := "   "
		if h.Status != 0 {
			status = strconv.Itoa(h.Status)
		}
		line := fmt.Sprintf("  %2d. %s  %s", i+1, status, oneLine(h.URL))
		if h.Location != "" {
			line += t.sym(" → ") + oneLine(h.Location)
		}
		t.printf("%s\n", line)
		if h.Error != "" {
			t.printf("        %s %s\n", t.paint("error:", termcolor.Red), oneLine(h.Error))
		}
		if h.HSTS != "" && t.opts.Verbose {
			t.printf("        %s %s\n", t.paint("hsts:", termcolor.Dim), oneLine(h.HSTS))
		}
	}
}

func (t *textPrinter) tls(info *scan.TLSInfo) {
	if info == nil {
		return
	}
	t.printf("\n%s\n", t.paint("Connection and certificate", termcolor.Bold))
	conn := []string{}
	for _, s := range []string{info.Version, info.CipherSuite, info.ALPN} {
		if s != "" {
			conn = append(conn, oneLine(s))
		}
	}
	if len(conn) > 0 {
		t.printf("  connection  %s\n", strings.Join(conn, t.sym(" · ")))
	}
	if accepted := versionsLine(info); accepted != "" {
		t.printf("  accepts     %s\n", accepted)
	}
	if line := suitesLine(info, t.sym(" · ")); line != "" {
		t.printf("  suites      %s\n", line)
		t.protocols(info)
	} else if len(info.WeakCiphers) > 0 {
		t.printf("  weak        %s\n", t.paint(oneLine(strings.Join(info.WeakCiphers, ", ")), termcolor.Yellow))
	}
	if chain := chainText(info.ChainFacts); chain != "" {
		t.printf("  chain       %s\n", t.paint(chain, termcolor.Red))
	}
	if info.Verified {
		trusted := "verified"
		if info.TrustedBy != "" {
			trusted += " by " + oneLine(info.TrustedBy) + " roots"
			if info.TrustedBy != "system" {
				trusted = "verified by the roots in " + oneLine(info.TrustedBy)
			}
		}
		t.printf("  trust       %s\n", t.paint(trusted, termcolor.Green))
	} else {
		msg := "not verified"
		if info.VerifyError != "" {
			msg += ": " + oneLine(info.VerifyError)
		}
		t.printf("  trust       %s\n", t.paint(msg, termcolor.Red))
	}
	for i, c := range info.Chain {
		if i > 0 && !t.opts.Verbose {
			break
		}
		label := "certificate"
		if i > 0 {
			label = "issuer " + strconv.Itoa(i)
		}
		t.certificate(label, c)
	}
	if n := len(info.Chain) - 1; n > 0 && !t.opts.Verbose {
		t.printf("  %s\n", t.paint(fmt.Sprintf(t.sym("…")+" %d more in the chain (verbose output lists them)", n), termcolor.Dim))
	}
}

// protocols lists, per version, what could not be asked and, with
// verbose output, every suite accepted by strength; otherwise the
// insecure ones only.
func (t *textPrinter) protocols(info *scan.TLSInfo) {
	colors := map[string]string{"insecure": termcolor.Red, "weak": termcolor.Yellow, "strong": termcolor.Green}
	for _, p := range info.Protocols {
		label := oneLine(p.Version)
		if p.Error != "" {
			t.printf("  %-11s %s\n", label, t.paint("unknown: "+oneLine(p.Error), termcolor.Red))
			continue
		}
		for _, g := range suitesByStrength(p) {
			if !t.opts.Verbose && g.strength != "insecure" {
				continue
			}
			names := g.names
			more := ""
			if !t.opts.Verbose && len(names) > textMaxSuites {
				more = fmt.Sprintf(", "+t.sym("…")+" %d more (verbose output lists them)", len(names)-textMaxSuites)
				names = names[:textMaxSuites]
			}
			t.printf("  %-11s %s %s%s\n", label, t.paint(fmt.Sprintf("%-8s", g.strength), colors[g.strength]), strings.Join(names, ", "), more)
			label = ""
		}
		if p.Incomplete != "" {
			t.printf("  %-11s %s\n", label, t.paint("list incomplete: "+oneLine(p.Incomplete), termcolor.Red))
		}
	}
}

func (t *textPrinter) certificate(label string, c scan.Certificate) {
	t.printf("  %-11s %s\n", label, oneLine(c.Subject))
	if names := append(slices.Clone(c.DNSNames), c.IPAddresses...); len(names) > 0 {
		t.printf("  %-11s %s\n", "names", oneLine(strings.Join(names, ", ")))
	}
	t.printf("  %-11s %s\n", "issued by", oneLine(c.Issuer))
	if !c.NotAfter.IsZero() {
		left := fmt.Sprintf("%d days left", c.DaysLeft)
		color := termcolor.Green
		switch {
		case c.DaysLeft < 0:
			left, color = "expired "+plural(-c.DaysLeft, "day")+" ago", termcolor.Red
		case c.DaysLeft == 1:
			left, color = "1 day left", termcolor.Red
		case c.DaysLeft < 7:
			color = termcolor.Red
		case c.DaysLeft < 30:
			color = termcolor.Yellow
		}
		t.printf("  %-11s %s%s%s (%s)\n", "valid", c.NotBefore.UTC().Format("2006-01-02"), t.sym(" → "),
			c.NotAfter.UTC().Format("2006-01-02"), t.paint(left, color))
	}
	if key := keyDescription(c); key != "" {
		t.printf("  %-11s %s\n", "key", key)
	}
	if t.opts.Verbose && c.SHA256 != "" {
		t.printf("  %-11s %s\n", "sha-256", oneLine(c.SHA256))
	}
}

// keyDescription is "ECDSA 256-bit, signed with ECDSA-SHA256".
func keyDescription(c scan.Certificate) string {
	key := oneLine(c.KeyType)
	if c.KeyBits > 0 {
		key += " " + strconv.Itoa(c.KeyBits) + "-bit"
	}
	key = strings.TrimSpace(key)
	if c.SignatureAlgorithm != "" {
		if key != "" {
			key += ", "
		}
		key += "signed with " + oneLine(c.SignatureAlgorithm)
	}
	return key
}

func (t *textPrinter) fixList(r *scan.Result) {
	todo := scan.FixFirst(r.Checks)
	if len(r.Checks) == 0 {
		return
	}
	t.printf("\n%s\n", t.paint("What to fix first", termcolor.Bold))
	if len(todo) == 0 {
		msg := "Nothing: no check failed or warned."
		if n := r.Counts().Error; n > 0 {
			msg = fmt.Sprintf("No check failed or warned, but %d could not complete; see above.", n)
		}
		t.printf("  %s\n", msg)
		return
	}
	shown := todo
	if len(shown) > maxFixFirst && !t.opts.Verbose {
		shown = shown[:maxFixFirst]
	}
	for i, c := range shown {
		line := fmt.Sprintf("  %d. %s %s", i+1, t.mark(c.Status), oneLine(c.Title))
		if imp := t.impact(c.ScoreImpact); c.ScoreImpact != 0 {
			line += " " + t.paint("("+imp+")", termcolor.Red)
		}
		t.printf("%s\n", line)
		if c.Message != "" {
			t.printf("     %s\n", indent(c.Message, "     "))
		}
		if c.Fix != "" {
			t.printf("     %s %s\n", t.paint("fix:", termcolor.Bold), indent(c.Fix, "          "))
		}
	}
	if n := len(todo) - len(shown); n > 0 {
		t.printf("  %s\n", t.paint(fmt.Sprintf(t.sym("…")+" %d more to fix; verbose output lists every fix.", n), termcolor.Dim))
	}
}

// indent prefixes every line of s after the first with prefix, so that a
// multi-line fix lines up under its label.
func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// writeTextSummary prints one line per target after a multi-target run.
func writeTextSummary(w io.Writer, results []*scan.Result, opts Options) error {
	t := &textPrinter{w: w, p: termcolor.Painter{On: opts.Color}, opts: opts}
	t.printf("\n%s\n", t.paint(fmt.Sprintf("Summary of %d targets", len(results)), termcolor.Bold))
	t.printf("  %s\n", t.paint("GRADE  SCORE  FAILED  WARNINGS  TARGET", termcolor.Dim))
	for _, r := range results {
		r = sanitized(r)
		name := oneLine(displayName(r))
		if !r.Graded() {
			why := "no grade"
			if r.Error != nil {
				why = string(r.Error.Kind) + ": " + r.Error.Message
			}
			t.printf("  %s  %5s  %6s  %8s  %s %s\n", t.paint(fmt.Sprintf("%-5s", "none"), termcolor.Bold, termcolor.Red),
				"-", "-", "-", name, t.paint("("+truncate(oneLine(why), 120)+")", termcolor.Dim))
			continue
		}
		c := r.Counts()
		note := ""
		if r.Incomplete {
			note = " " + t.paint(fmt.Sprintf("(incomplete: %d could not complete)", c.Error), termcolor.Red)
		}
		t.printf("  %s  %5d  %6d  %8d  %s%s\n", t.paint(fmt.Sprintf("%-5s", oneLine(r.Grade)), termcolor.Bold, gradeColor(r.Grade)),
			r.Score, c.Fail, c.Warn, name, note)
	}
	return t.err
}

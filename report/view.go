package report

import (
	"cmp"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/httpsguard/httpsguard/scan"
)

// maxFixFirst is how many findings the "what to fix first" lists show: enough
// to act on today, few enough to read.
const maxFixFirst = 5

// phrase summarises c as "2 failed, 3 warnings, 20 passed", leaving out the
// statuses no check reached.
func phrase(c scan.Counts) string {
	var parts []string
	add := func(n int, one, many string) {
		if n == 1 {
			parts = append(parts, "1 "+one)
		} else if n > 1 {
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	add(c.Fail, "failed", "failed")
	add(c.Warn, "warning", "warnings")
	add(c.Error, "error", "errors")
	add(c.Pass, "passed", "passed")
	add(c.Info, "note", "notes")
	add(c.Skip, "skipped", "skipped")
	if len(parts) == 0 {
		return "no checks ran"
	}
	return strings.Join(parts, ", ")
}

// StatusLabel is a check's status as a person reads it: scan.Status.Label
// ("Pass", "Warning", "Fail"...), and a status this version of scan does not
// define (from a newer result) capitalised like a heading, "Other" when
// empty.
func StatusLabel(s scan.Status) string {
	if s.Known() {
		return s.Label()
	}
	if s == "" {
		return "Other"
	}
	r, n := utf8.DecodeRuneInString(string(s))
	return string(unicode.ToUpper(r)) + string(s)[n:]
}

// GradeClass returns the family of a grade, for colouring it: "a" to "f"
// for the grades scan.LetterGrade gives ("a" for A+, A and A-), and "none"
// for anything else. The empty grade of a result that could not be graded
// is "none" above all: a scan without a grade is not an F, and must never
// look like one (nor like a pass). The HTML report prefixes it with
// "hg-grade-", the web pages with "grade-".
func GradeClass(g string) string {
	if scan.GradeRank(g) < 0 {
		return "none"
	}
	return strings.ToLower(g[:1])
}

// FormatImpact formats a check's effect on the score as people read it:
// "+5", "0", or "−20" with a true minus sign (U+2212), which lines up with
// the plus in proportional fonts and is not read as a hyphen. Text output
// in ASCII mode writes a hyphen instead.
func FormatImpact(n int) string {
	switch {
	case n > 0:
		return "+" + strconv.Itoa(n)
	case n < 0:
		return "\u2212" + strconv.Itoa(-n)
	}
	return "0"
}

// FormatTime formats a scan time for people: "2026-11-25 17:02 UTC", the
// date in ISO order, which no reader takes for another day, and in UTC, so
// that reports made on different machines compare. Seconds are left out;
// the JSON result and the HTML report's <time> element keep the exact time.
// The zero time is "".
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// FormatDuration formats a scan's duration in milliseconds
// (Result.DurationMS) as people read it: "850 ms" or "1.2 s". The web pages
// use it too, so every rendering of a result says the same.
func FormatDuration(ms int64) string {
	if ms < 1000 {
		return fmt.Sprintf("%d ms", ms)
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + " s"
}

// displayURL is the address a result is about: the HTTPS URL scanned, else
// the target as given.
func displayURL(r *scan.Result) string {
	return cmp.Or(r.URL, r.Target, r.Host)
}

// displayName is the short name of a result's target.
func displayName(r *scan.Result) string {
	return cmp.Or(r.Host, r.Target, r.URL, "(unnamed target)")
}

// toolVersion is the version to credit in a report.
func toolVersion(results []*scan.Result, opts Options) string {
	if opts.ToolVersion != "" {
		return opts.ToolVersion
	}
	for _, r := range results {
		if r != nil && r.Tool.Version != "" {
			return r.Tool.Version
		}
	}
	return "devel"
}

// sanitized returns a deep copy of r in which every string is safe to print
// to a terminal or embed in a document: control characters other than
// newline and tab, and the Unicode bidirectional overrides that can make
// text read differently from what it is, are replaced by escapes. Everything
// in a result may come from the scanned site, and a site must not be able to
// move the cursor, retitle the terminal or reorder the report's text.
//
// It walks the value by reflection so that fields scan adds later are
// covered without a change here.
func sanitized(r *scan.Result) *scan.Result {
	v := reflect.ValueOf(r)
	return sanitizeValue(v).Interface().(*scan.Result)
}

func sanitizeValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if clean := CleanText(s); clean != s {
			out := reflect.New(v.Type()).Elem()
			out.SetString(clean)
			return out
		}
		return v
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(sanitizeValue(v.Elem()))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v) // copies unexported fields and time.Time as they are
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(sanitizeValue(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(sanitizeValue(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out.SetMapIndex(sanitizeValue(iter.Key()), sanitizeValue(iter.Value()))
		}
		return out
	}
	return v
}

// CleanText is text from a scanned site made safe to show: the characters
// that could act on a terminal or disguise text are written as escapes
// (\x1b, \u202e), so a reader sees that they were there. Those are the C0
// and C1 controls except newline and tab, DEL, invisible formatting
// characters (bidi embeddings, overrides and isolates, zero-width spaces and
// joiners: Unicode's Cf), and invalid UTF-8. Every format here cleans
// site text with it, and so does the web checker's pages.
func CleanText(s string) string {
	if !needsCleaning(s) {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\r' && strings.HasPrefix(s[i+1:], "\n"):
			// A CRLF line ending is just a line ending.
		case unsafeRune(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsCleaning(s string) bool {
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return true
		}
	}
	return false
}

func unsafeRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case unicode.Is(unicode.Cf, r):
		return true
	}
	return false
}

// oneLine makes s fit on one line by showing its line breaks as "\n", for
// places where a break would change the layout.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\t") {
		return s
	}
	return strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\t", " ").Replace(s)
}

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// checkErrorText says why a check could not complete: "timeout: ...", its
// message when it recorded no error.
func checkErrorText(c scan.Check) string {
	if c.Error == nil {
		return c.Message
	}
	return string(c.Error.Kind) + ": " + c.Error.Message
}

// noGradeError is why a result has no grade: its Error, or for a result
// with neither grade nor error (from a foreign producer) an unclassified
// one that says so.
func noGradeError(r *scan.Result) *scan.Error {
	if r.Error != nil {
		return r.Error
	}
	return &scan.Error{Kind: scan.KindUnclassified, Message: "the result carries no grade"}
}

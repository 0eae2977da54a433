package scan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

// CheckSpec declares one check: everything a report says about it, the
// verdicts it can reach with their effect on the score, and the function
// that decides it from what the scan observed. The catalogue is a list of
// these; adding or changing a check touches its entry and nothing else.
type CheckSpec struct {
	// ID is stable ("HGS-TLS-001") and never reused.
	ID       string `json:"id"`
	Title    string `json:"title"`
	Category string `json:"category"`
	// Description says what the check looks at and when it fails, for
	// the finding catalogue of docs/check.md (Markdown code spans
	// allowed).
	Description string `json:"description"`
	// Fix is what to change when the check warns or fails.
	Fix  string   `json:"fix"`
	Refs []string `json:"refs,omitempty"`
	// Outcomes are the verdicts httpsguard decides for this check, each
	// with its result code, status and score impact. A check that carries
	// an Observatory test (Observatory) may also reach that test's
	// results; see ObservatoryOutcome.
	Outcomes []Outcome `json:"outcomes"`
	// Observatory names the MDN HTTP Observatory 1.4.8 test whose result
	// and modifier the check carries with --scoring observatory; "" for
	// none.
	Observatory string `json:"observatory_test,omitempty"`

	// decide judges the observations. It returns one of Outcomes (by
	// result code), an Observatory test's verdict, "not applicable", or
	// "could not observe" with the reason.
	decide func(*observations) verdict
}

// Outcome is one verdict a check can reach.
type Outcome struct {
	// Result is the machine-readable code, Check.Result.
	Result string `json:"result"`
	Status Status `json:"status"`
	// Impact is the verdict's effect on httpsguard's score: 0 or a
	// deduction.
	Impact int `json:"score_impact"`
	// Fix, when set, is what to change for this verdict in place of the
	// check's Fix: a chain refused for a SHA-1 signature needs a new
	// signature, not a new CA.
	Fix string `json:"fix,omitempty"`
}

// ObservatoryOutcome is the verdict of a check that takes an Observatory
// test's result as its own: httpsguard counts the test's penalties, not its
// bonuses; a penalty of 10 or more, or an invalid header, is a failure, a
// smaller one a warning, and a test the Observatory does not pass without a
// penalty is a warning with no deduction.
func ObservatoryOutcome(result string, pass bool) Outcome {
	m := observatory.Modifier(result)
	o := Outcome{Result: result, Status: StatusPass}
	switch {
	case m <= -10 || m < 0 && strings.Contains(result, "invalid"):
		o.Status, o.Impact = StatusFail, m
	case m < 0:
		o.Status, o.Impact = StatusWarn, m
	case !pass:
		o.Status = StatusWarn
	}
	return o
}

// verdict is what a check's decide function concludes.
type verdict struct {
	result   string // one of the spec's Outcomes
	message  string
	evidence []string
	// obs, when set, is the Observatory test whose result is the verdict.
	obs *observatory.Test
	// skipped: the check does not apply to this site.
	skipped bool
	// errored: the check could not observe what it judges; err says why.
	errored bool
	err     error
}

// decided is a verdict that reached the outcome named result.
func decided(result, msg string, ev ...string) verdict {
	return verdict{result: result, message: msg, evidence: ev}
}

// skip is the verdict of a check that does not apply to the site.
func skip(msg string, ev ...string) verdict {
	return verdict{skipped: true, message: msg, evidence: ev}
}

// errored is the verdict of a check that could not observe what it judges;
// err says why (an *Error, or it is reported as an internal error).
func errored(msg string, err error) verdict {
	return verdict{errored: true, message: msg, err: err}
}

// fromObservatory is the verdict an Observatory test reached.
func fromObservatory(t observatory.Test) verdict {
	msg := stripTags(t.ScoreDescription)
	if msg == "" {
		msg = t.Result
	}
	v := verdict{obs: &t, message: msg}
	if s, ok := t.Data.(string); ok && s != "" {
		v.evidence = []string{s}
	}
	return v
}

// outcome returns the declared outcome named result.
func (s *CheckSpec) outcome(result string) (Outcome, bool) {
	for _, o := range s.Outcomes {
		if o.Result == result {
			return o, true
		}
	}
	return Outcome{}, false
}

// run decides the check on o. It never panics: a decide function that
// panics, or reaches an outcome the spec does not declare, gives an error
// verdict that says so.
func (s *CheckSpec) run(o *observations) (c Check) {
	defer func() {
		if p := recover(); p != nil {
			c = s.internal("internal error in %s: %v", s.ID, p)
		}
	}()
	return s.check(s.decide(o))
}

// internal is the check's verdict when httpsguard itself failed.
func (s *CheckSpec) internal(format string, args ...any) Check {
	return Check{ID: s.ID, Title: s.Title, Category: s.Category, Refs: s.Refs, Status: StatusError,
		Message: "The check could not complete.",
		Error:   &Error{Kind: KindInternal, Message: fmt.Sprintf(format, args...), Fix: fixInternal}}
}

// check turns a verdict into the check a result reports: its status,
// score impact, result code and fix, from the declared outcome (or the
// Observatory test's).
func (s *CheckSpec) check(v verdict) Check {
	c := Check{ID: s.ID, Title: s.Title, Category: s.Category, Refs: s.Refs}
	c.Message, c.Evidence = v.message, v.evidence
	switch {
	case v.errored:
		e := asError(v.err)
		if e == nil {
			return s.internal("internal error: %s could not complete and recorded no cause (%s)", s.ID, v.message)
		}
		c.Status, c.Error = StatusError, e
		return c
	case v.skipped:
		c.Status = StatusSkip
		return c
	case v.obs != nil:
		out := ObservatoryOutcome(v.obs.Result, v.obs.Pass)
		c.Status, c.ScoreImpact, c.Result = out.Status, out.Impact, out.Result
	default:
		out, ok := s.outcome(v.result)
		if !ok {
			return s.internal("internal error: %s reached the undeclared outcome %q", s.ID, v.result)
		}
		c.Status, c.ScoreImpact, c.Result = out.Status, out.Impact, out.Result
		if out.Fix != "" && (c.Status == StatusFail || c.Status == StatusWarn) {
			c.Fix = out.Fix
			return c
		}
	}
	if c.Status == StatusFail || c.Status == StatusWarn {
		c.Fix = s.Fix
	}
	return c
}

// Categories, in report order.
const (
	CategoryTLS       = "tls"
	CategoryRedirects = "redirects"
	CategoryHSTS      = "hsts"
	CategoryCookies   = "cookies"
	CategoryHeaders   = "headers"
	CategoryContent   = "content"
	CategoryLeaks     = "leaks"
)

const (
	mdnGuides = "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/"
)

// catalog is every check, in report order. IDs are never reused.
var catalog = slices.Concat(tlsChecks, redirectChecks, hstsChecks, cookieChecks, headerChecks, contentChecks, leakChecks)

// Catalog returns every check httpsguard runs, in report order. The specs
// are copies: changing them changes nothing in a scan.
func Catalog() []CheckSpec {
	out := make([]CheckSpec, len(catalog))
	for i, c := range catalog {
		c.Refs = slices.Clone(c.Refs)
		c.Outcomes = slices.Clone(c.Outcomes)
		c.decide = nil
		out[i] = c
	}
	return out
}

// runChecks decides every check of the catalogue on o, in report order.
func runChecks(o *observations) []Check {
	out := make([]Check, 0, len(catalog))
	for i := range catalog {
		out = append(out, catalog[i].run(o))
	}
	return out
}

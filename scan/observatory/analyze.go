package observatory

import (
	"fmt"
	"slices"
)

// UnexpectedStatusError is the error of a scan whose analysed response has
// a status the Observatory refuses to grade: below 200, or 400 and above
// except 401 and 403.
type UnexpectedStatusError struct {
	// Status is the status code of the analysed response.
	Status int
}

// Error implements error.
func (e *UnexpectedStatusError) Error() string {
	return fmt.Sprintf("observatory: site responded with an unexpected HTTP status code %d", e.Status)
}

// ExtraCredit reports whether the Observatory counts the bonuses (the
// positive score modifiers) of tests: only when 100 plus the penalties (the
// negative modifiers) is at least MinScoreForExtraCredit. Each test's
// modifier is taken from its Result, so tests may come from a Report or be
// built by hand.
func ExtraCredit(tests []Test) bool {
	uncurved := 100
	for _, t := range tests {
		if m := Modifier(t.Result); m < 0 {
			uncurved += m
		}
	}
	return uncurved >= MinScoreForExtraCredit
}

// Analyze runs the Observatory's ten tests on in, in its order, and scores
// them as it does: 100 plus every modifier, bonuses kept only when the
// score without them is at least MinScoreForExtraCredit.
func Analyze(in Input) Report {
	// A nil response in a chain is a caller's mistake; drop it rather
	// than fail.
	for _, s := range []*Session{&in.HTTP, &in.HTTPS} {
		s.Chain = slices.DeleteFunc(slices.Clone(s.Chain), func(r *Response) bool { return r == nil })
		// The session's cookie agent fails a request to an IPv6
		// literal before it is sent, and with it the session.
		for _, r := range s.Chain {
			if agentRefuses(r.URL) {
				s.Failed = true
			}
		}
	}
	st := newState(&in)
	if st.auto == nil {
		return Report{Err: ErrSiteDown}
	}
	if s := st.auto.Status; s < 200 || (s >= 400 && s != 401 && s != 403) {
		return Report{StatusCode: s, Err: &UnexpectedStatusError{Status: s}}
	}
	csp := st.csp()
	hsts := st.hsts()
	tests := []Test{
		csp,
		st.cookies(hsts.Pass),
		st.cors(),
		st.redirection(),
		st.referrer(),
		hsts,
		st.sri(),
		st.xContentTypeOptions(),
		st.xFrameOptions(csp),
		st.corp(),
	}
	rep := Report{StatusCode: st.auto.Status}
	extra := ExtraCredit(tests)
	score := 100
	for i := range tests {
		t := &tests[i]
		t.ScoreModifier = Modifier(t.Result)
		t.ScoreDescription = Description(t.Result)
		if t.Pass {
			rep.TestsPassed++
		}
		if t.ScoreModifier < 0 || extra {
			score += t.ScoreModifier
		}
	}
	rep.Score, rep.Grade = Grade(score)
	rep.TestsFailed = len(tests) - rep.TestsPassed
	rep.Tests = tests
	return rep
}

package observatory

import "errors"

// ErrSiteDown is the error of a scan whose HTTP and HTTPS sessions both
// failed; the Observatory aborts with "The site seems to be down."
var ErrSiteDown = errors.New("observatory: the site seems to be down")

// Report is the Observatory's verdict on one host.
type Report struct {
	// Score is the final score: 100 plus every modifier when the score
	// without bonuses is at least MinScoreForExtraCredit, else 100 plus the
	// negative modifiers only; never below 0. It may exceed 100.
	Score int
	// Grade is the letter for Score ("A+" ... "F").
	Grade string
	// StatusCode is the status of the analysed session's final response.
	StatusCode int
	// TestsPassed and TestsFailed count the tests by Test.Pass.
	TestsPassed, TestsFailed int
	// Tests are the ten tests, in the Observatory's order (TestNames).
	Tests []Test
	// Err is set when the Observatory would refuse to score the site:
	// ErrSiteDown, or an *UnexpectedStatusError. Score and Tests are then
	// zero.
	Err error
}

// Test is the outcome of one Observatory test.
type Test struct {
	// Name is the test's name, e.g. "content-security-policy".
	Name string
	// Expectation is the result the Observatory expects for a good site.
	Expectation string
	// Result is the result code, e.g. "csp-implemented-with-no-unsafe".
	Result string
	// Pass reports whether the Observatory counts the test as passed.
	Pass bool
	// ScoreModifier is the result's effect on the score.
	ScoreModifier int
	// ScoreDescription explains the result in one sentence.
	ScoreDescription string
	// Data is what the test saw, as the Observatory reports it; its type
	// depends on the test (a string, a map, a *CSPData...). It may be nil.
	Data any
}

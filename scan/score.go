package scan

import (
	"github.com/httpsguard/httpsguard/scan/observatory"
)

// observatoryInput records the fetched sessions in the form the
// Observatory's analysis expects (see observatory.Input).
func (o *observations) observatoryInput() observatory.Input {
	recorded := func(f *fetched) bool { return f.verified }
	in := observatory.Input{Hostname: o.t.host}
	in.HTTP = sessionOf(o.http, o.t.httpURL(), recorded)
	in.HTTPS = sessionOf(o.https, o.t.httpsURL(), recorded)
	verified := true
	if a := in.Analysed(); a != nil {
		verified = a.Verified
	}
	in.Robots = responseOf(o.robots, verified, recorded)
	in.CORS = responseOf(o.cors, verified, recorded)
	in.RobotsChain = observatoryChain(o.robotsHops)
	in.CORSChain = observatoryChain(o.corsHops)
	return in
}

// followUpInput is the part of the Input the follow-up requests depend on,
// built while the scan runs: the analysed session c (the HTTPS one when
// https is set, the other one failed) and the robots.txt response. verified
// judges the chain of each TLS response.
func followUpInput(c *chain, https bool, robots *fetched, verified func(*fetched) bool) observatory.Input {
	var in observatory.Input
	s := sessionOf(c, c.start, verified)
	if https {
		in.HTTPS = s
	} else {
		in.HTTP, in.HTTPS.Failed = s, true
	}
	in.Robots = responseOf(robots, s.Verified, verified)
	return in
}

// sessionOf converts a page session; verified judges the chain of each TLS
// response.
func sessionOf(c *chain, start string, verified func(*fetched) bool) observatory.Session {
	s := observatory.Session{Start: start, Verified: true}
	if c == nil {
		s.Failed = true
		return s
	}
	s.Start = c.start
	for _, h := range c.hops {
		s.Chain = append(s.Chain, toObservatory(h))
		if h.tls != nil && !verified(h) {
			s.Verified = false
		}
	}
	s.Failed = c.failed || len(c.hops) == 0
	return s
}

// responseOf converts a follow-up response; when the analysed session is
// verified (sessionVerified), a response whose chain does not verify is a
// failed request, as it would be for the Observatory's verifying client.
func responseOf(f *fetched, sessionVerified bool, verified func(*fetched) bool) *observatory.Response {
	if f == nil || (sessionVerified && f.tls != nil && !verified(f)) {
		return nil
	}
	return toObservatory(f)
}

func toObservatory(f *fetched) *observatory.Response {
	return &observatory.Response{URL: f.url.String(), Status: f.status, Header: f.header, Body: f.body}
}

// LetterGrade returns the letter grade for a 0–100 score: the Observatory's
// grade chart, used by both scoring models so that grades read the same.
func LetterGrade(score int) string {
	_, g := observatory.Grade(score)
	return g
}

// grades lists every grade LetterGrade gives, from worst to best.
var grades = [...]string{"F", "D-", "D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A-", "A", "A+"}

// GradeRank returns the place of grade g in the order of the grades
// LetterGrade gives, from 0 for F to 12 for A+, so that grades compare as
// numbers. Anything else, such as the empty grade of a result that could
// not be graded, is -1: below every grade, and never equal to one.
func GradeRank(g string) int {
	for i, x := range grades {
		if x == g {
			return i
		}
	}
	return -1
}

// scoreHTTPSGuard scores 100 plus every check's ScoreImpact, floored at 0.
// It is called only for a result whose HTTPS page was fetched.
func scoreHTTPSGuard(res *Result) {
	score := 100
	for _, c := range res.Checks {
		score += c.ScoreImpact
	}
	res.Score = max(0, min(100, score))
	res.Grade = LetterGrade(res.Score)
}

// observatoryCheckIDs maps each Observatory test to the check that carries
// its result and modifier in the observatory scoring model, as the
// catalogue declares it.
var observatoryCheckIDs = func() map[string]string {
	m := map[string]string{}
	for _, c := range catalog {
		if c.Observatory != "" {
			m[c.Observatory] = c.ID
		}
	}
	return m
}()

// scoreObservatory takes the Observatory's score and grade as they are.
// Each check that carries an Observatory test takes that test's result, and
// its modifier as ScoreImpact (bonuses count only when the Observatory's
// bonus rule keeps them); every other check's ScoreImpact is 0, so every
// point is still traceable to a check. The check keeps httpsguard's pass,
// warning or failure, so a problem the Observatory misses (HGS-HDR-007's
// reflected origin) is still shown; where httpsguard's verdict is one the
// Observatory does not have (a note such as "nothing answers on plain
// HTTP", not applicable, or could not observe while the Observatory judged
// the other session), the Observatory's own verdict is shown. It is called
// only when the Observatory grades the site.
func scoreObservatory(res *Result, rep observatory.Report) {
	byID := map[string]observatory.Test{}
	for _, t := range rep.Tests {
		if id, ok := observatoryCheckIDs[t.Name]; ok {
			byID[id] = t
		}
	}
	keepBonus := observatory.ExtraCredit(rep.Tests)
	for i := range res.Checks {
		c := &res.Checks[i]
		t, ok := byID[c.ID]
		if !ok {
			c.ScoreImpact = 0
			continue
		}
		switch c.Status {
		case StatusInfo, StatusSkip, StatusError:
			// The verdict the check would reach had it carried the test.
			oc := specByID(c.ID).check(fromObservatory(t))
			c.Status, c.Error, c.Evidence, c.Message, c.Fix = oc.Status, oc.Error, oc.Evidence, oc.Message, oc.Fix
		}
		c.Result = t.Result
		c.ScoreImpact = t.ScoreModifier
		if t.ScoreModifier > 0 && !keepBonus {
			c.ScoreImpact = 0
		}
	}
	res.Score, res.Grade = rep.Score, rep.Grade
}

// specByID returns the catalogue entry of a check.
func specByID(id string) *CheckSpec {
	for i := range catalog {
		if catalog[i].ID == id {
			return &catalog[i]
		}
	}
	return &CheckSpec{}
}

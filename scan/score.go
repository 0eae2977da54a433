package scan

import (
	"strings"

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

// Grade returns the letter grade for a 0–100 score: the Observatory's grade
// chart, used by both scoring models so that grades read the same.
func Grade(score int) string {
	_, g := observatory.Grade(score)
	return g
}

// scoreHTTPSGuard scores 100 plus every check's ScoreImpact, floored at 0.
// Unreachable HTTPS scores 0 whatever else was found.
func scoreHTTPSGuard(res *Result) {
	score := 100
	for _, c := range res.Checks {
		score += c.ScoreImpact
	}
	if res.Error != "" {
		score = 0
	}
	res.Score = max(0, min(100, score))
	res.Grade = Grade(res.Score)
}

// observatoryCheckIDs maps each Observatory test to the check that carries
// its result and modifier in the observatory scoring model.
var observatoryCheckIDs = map[string]string{
	"content-security-policy":       "HGS-HDR-001",
	"x-frame-options":               "HGS-HDR-002",
	"x-content-type-options":        "HGS-HDR-003",
	"referrer-policy":               "HGS-HDR-004",
	"cross-origin-resource-policy":  "HGS-HDR-006",
	"cross-origin-resource-sharing": "HGS-HDR-007",
	"subresource-integrity":         "HGS-HDR-008",
	"redirection":                   "HGS-RED-001",
	"strict-transport-security":     "HGS-HSTS-001",
	"cookies":                       "HGS-COOK-001",
}

// scoreObservatory takes the Observatory's score and grade as they are, and
// makes each check's ScoreImpact the modifier of the Observatory test it
// carries (bonuses count only when the Observatory's bonus rule keeps
// them), so every point is still traceable to a check.
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
		c.Result = t.Result
		c.ScoreImpact = t.ScoreModifier
		if t.ScoreModifier > 0 && !keepBonus {
			c.ScoreImpact = 0
		}
	}
	if rep.Err != nil {
		res.Score, res.Grade = 0, "F"
		if res.Error == "" {
			res.Error = strings.TrimPrefix(rep.Err.Error(), "observatory: ")
		}
		for i := range res.Checks {
			res.Checks[i].ScoreImpact = 0
		}
		return
	}
	res.Score, res.Grade = rep.Score, rep.Grade
}

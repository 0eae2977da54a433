package web

import (
	"cmp"
	"slices"

	"github.com/httpsguard/httpsguard/scan"
)

// Diff is what changed between a site's previous scan and this one.
type Diff struct {
	ScoreDelta int
	GradeFrom  string
	GradeTo    string
	// Regressed are checks that got worse: a worse status, or the same
	// status with a bigger deduction. Improved are the reverse.
	Regressed []Change
	Improved  []Change
	// Added are checks this scan ran that the previous one did not;
	// Removed the reverse (a newer checker, or a scan that got further).
	Added   []scan.Check
	Removed []scan.Check
}

// Change is one check whose verdict moved.
type Change struct {
	ID, Title  string
	From, To   scan.Status
	ImpactFrom int
	ImpactTo   int
}

// Empty reports whether nothing changed.
func (d *Diff) Empty() bool {
	return d.ScoreDelta == 0 && d.GradeFrom == d.GradeTo && len(d.Regressed) == 0 &&
		len(d.Improved) == 0 && len(d.Added) == 0 && len(d.Removed) == 0
}

// severity orders statuses from good to bad: an error means the check
// could not tell, which is worse than a warning but not a proven failure.
func severity(s scan.Status) int {
	switch s {
	case scan.StatusWarn:
		return 1
	case scan.StatusError:
		return 2
	case scan.StatusFail:
		return 3
	}
	return 0 // pass, info, skip
}

// diffResults compares prev (the older scan) with cur, check by check ID.
func diffResults(prev, cur *scan.Result) *Diff {
	d := &Diff{ScoreDelta: cur.Score - prev.Score, GradeFrom: prev.Grade, GradeTo: cur.Grade}
	before := make(map[string]scan.Check, len(prev.Checks))
	for _, c := range prev.Checks {
		before[c.ID] = c
	}
	seen := make(map[string]bool, len(cur.Checks))
	for _, c := range cur.Checks {
		seen[c.ID] = true
		p, ok := before[c.ID]
		if !ok {
			d.Added = append(d.Added, c)
			continue
		}
		ch := Change{ID: c.ID, Title: c.Title, From: p.Status, To: c.Status, ImpactFrom: p.ScoreImpact, ImpactTo: c.ScoreImpact}
		switch cmp.Or(cmp.Compare(severity(c.Status), severity(p.Status)), cmp.Compare(p.ScoreImpact, c.ScoreImpact)) {
		case 1:
			d.Regressed = append(d.Regressed, ch)
		case -1:
			d.Improved = append(d.Improved, ch)
		}
	}
	for _, c := range prev.Checks {
		if !seen[c.ID] {
			d.Removed = append(d.Removed, c)
		}
	}
	// The worst regressions first.
	slices.SortStableFunc(d.Regressed, func(a, b Change) int {
		return cmp.Or(cmp.Compare(severity(b.To), severity(a.To)), cmp.Compare(a.ImpactTo, b.ImpactTo))
	})
	return d
}

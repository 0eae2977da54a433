package scan

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestStatusLabel(t *testing.T) {
	tests := []struct {
		status Status
		label  string
		known  bool
	}{
		{StatusPass, "Pass", true},
		{StatusInfo, "Info", true},
		{StatusWarn, "Warning", true},
		{StatusFail, "Fail", true},
		{StatusError, "Error", true},
		{StatusSkip, "Skipped", true},
		// A status from a newer version is shown as it is.
		{"pending", "pending", false},
		{"PASS", "PASS", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := tt.status.Label(); got != tt.label {
			t.Errorf("Status(%q).Label() = %q, want %q", tt.status, got, tt.label)
		}
		if got := tt.status.Known(); got != tt.known {
			t.Errorf("Status(%q).Known() = %v, want %v", tt.status, got, tt.known)
		}
	}
}

func TestCountChecks(t *testing.T) {
	checks := func(statuses ...Status) []Check {
		var cs []Check
		for i, s := range statuses {
			cs = append(cs, Check{ID: strings.Repeat("x", i+1), Status: s})
		}
		return cs
	}
	tests := []struct {
		name   string
		checks []Check
		want   Counts
		total  int
	}{
		{"none", nil, Counts{}, 0},
		{"one of each", checks(StatusPass, StatusInfo, StatusWarn, StatusFail, StatusError, StatusSkip),
			Counts{Pass: 1, Info: 1, Warn: 1, Fail: 1, Error: 1, Skip: 1}, 6},
		{"repeats", checks(StatusFail, StatusPass, StatusFail, StatusPass, StatusPass),
			Counts{Pass: 3, Fail: 2}, 5},
		{"unknown statuses are not counted", checks(StatusWarn, "pending", ""), Counts{Warn: 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CountChecks(tt.checks)
			if got != tt.want {
				t.Errorf("CountChecks = %+v, want %+v", got, tt.want)
			}
			if got.Total() != tt.total {
				t.Errorf("Total = %d, want %d", got.Total(), tt.total)
			}
			r := &Result{Checks: tt.checks}
			if rc := r.Counts(); rc != tt.want {
				t.Errorf("Result.Counts = %+v, want %+v", rc, tt.want)
			}
		})
	}
}

func TestFixFirst(t *testing.T) {
	tests := []struct {
		name   string
		checks []Check
		want   string // IDs in order
	}{
		{"nothing to fix", []Check{
			{ID: "p", Status: StatusPass}, {ID: "i", Status: StatusInfo},
			{ID: "e", Status: StatusError}, {ID: "s", Status: StatusSkip},
		}, ""},
		{"failures before warnings, costliest first", []Check{
			{ID: "w-small", Status: StatusWarn, ScoreImpact: -1},
			{ID: "f-small", Status: StatusFail, ScoreImpact: -5},
			{ID: "pass", Status: StatusPass},
			{ID: "w-big", Status: StatusWarn, ScoreImpact: -10},
			{ID: "f-big", Status: StatusFail, ScoreImpact: -25},
			{ID: "error", Status: StatusError, ScoreImpact: -50},
		}, "f-big f-small w-big w-small"},
		{"a cheap failure still beats a costly warning", []Check{
			{ID: "w", Status: StatusWarn, ScoreImpact: -40},
			{ID: "f", Status: StatusFail},
		}, "f w"},
		{"report order on a tie", []Check{
			{ID: "f1", Status: StatusFail, ScoreImpact: -5},
			{ID: "w1", Status: StatusWarn},
			{ID: "f2", Status: StatusFail, ScoreImpact: -5},
			{ID: "w2", Status: StatusWarn},
			{ID: "f3", Status: StatusFail, ScoreImpact: -5},
		}, "f1 f2 f3 w1 w2"},
		{"a bonus sorts after a deduction", []Check{
			{ID: "plus", Status: StatusWarn, ScoreImpact: 5},
			{ID: "zero", Status: StatusWarn},
			{ID: "minus", Status: StatusWarn, ScoreImpact: -5},
		}, "minus zero plus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.checks)
			var got []string
			for _, c := range FixFirst(tt.checks) {
				got = append(got, c.ID)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("FixFirst = %q, want %q", g, tt.want)
			}
			if !slices.EqualFunc(before, tt.checks, func(a, b Check) bool { return a.ID == b.ID }) {
				t.Error("FixFirst reordered its argument")
			}
		})
	}
}

func TestCategoryTitle(t *testing.T) {
	tests := []struct{ category, title string }{
		{CategoryTLS, "TLS and certificate"},
		{CategoryRedirects, "Redirects"},
		{CategoryHSTS, "HSTS"},
		{CategoryCookies, "Cookies"},
		{CategoryHeaders, "Headers"},
		{CategoryContent, "Content"},
		{CategoryLeaks, "Framework leaks"},
		{"future", "Future"},
		{"éclair", "Éclair"},
		{"", "Other"},
	}
	for _, tt := range tests {
		if got := CategoryTitle(tt.category); got != tt.title {
			t.Errorf("CategoryTitle(%q) = %q, want %q", tt.category, got, tt.title)
		}
	}
}

// Every category the catalog uses must have a heading of its own, not the
// fallback, and appear in Categories.
func TestCatalogCategoriesHaveTitles(t *testing.T) {
	defined := Categories()
	for _, c := range catalog {
		if !slices.Contains(defined, c.Category) {
			t.Errorf("%s: category %q is not in Categories()", c.ID, c.Category)
		}
	}
}

func TestGroupChecks(t *testing.T) {
	tests := []struct {
		name   string
		checks []Check
		want   string // "category(title):ids/fail-count" per group
	}{
		{"none", nil, ""},
		{"report order, not input order", []Check{
			{ID: "1", Category: "leaks"}, {ID: "2", Category: "tls", Status: StatusFail},
			{ID: "3", Category: "tls"}, {ID: "4", Category: "hsts", Status: StatusFail},
		}, "tls(TLS and certificate):2,3/1 hsts(HSTS):4/1 leaks(Framework leaks):1/0"},
		{"case and space do not matter", []Check{
			{ID: "1", Category: " TLS "}, {ID: "2", Category: "Tls", Status: StatusFail},
		}, "tls(TLS and certificate):1,2/1"},
		{"unknown categories last, in order of first appearance", []Check{
			{ID: "1", Category: "zeta"}, {ID: "2", Category: ""}, {ID: "3", Category: "cookies"},
			{ID: "4", Category: "Zeta", Status: StatusFail},
		}, "cookies(Cookies):3/0 zeta(Zeta):1,4/1 (Other):2/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, g := range GroupChecks(tt.checks) {
				var ids []string
				for _, c := range g.Checks {
					ids = append(ids, c.ID)
				}
				if g.Counts != CountChecks(g.Checks) {
					t.Errorf("group %q: Counts = %+v, want %+v", g.Category, g.Counts, CountChecks(g.Checks))
				}
				got = append(got, g.Category+"("+g.Title+"):"+strings.Join(ids, ",")+"/"+strconv.Itoa(g.Counts.Fail))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("GroupChecks =\n%s\nwant\n%s", g, tt.want)
			}
		})
	}
}

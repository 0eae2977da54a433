package report

import (
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/scan"
)

// TestGradeClass: every grade scan gives has its letter's class, and a
// missing or unknown grade is "none", never "f": a scan without a grade
// must not look like an F.
func TestGradeClass(t *testing.T) {
	for score := range 101 {
		g := scan.LetterGrade(score)
		if got, want := GradeClass(g), string(g[0]-'A'+'a'); got != want {
			t.Errorf("GradeClass(%q) = %q, want %q", g, got, want)
		}
	}
	for _, g := range []string{"", "!", "?", "E", "a", "Z+", "none"} {
		if got := GradeClass(g); got != "none" {
			t.Errorf("GradeClass(%q) = %q, want none", g, got)
		}
	}
}

func TestFormatImpact(t *testing.T) {
	for n, want := range map[int]string{-20: "−20", -1: "−1", 0: "0", 5: "+5"} {
		if got := FormatImpact(n); got != want {
			t.Errorf("FormatImpact(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	// Any zone in, UTC out.
	at := time.Date(2026, 11, 25, 18, 2, 13, 0, time.FixedZone("CET", 3600))
	if got, want := FormatTime(at), "2026-11-25 17:02 UTC"; got != want {
		t.Errorf("FormatTime = %q, want %q", got, want)
	}
	if got := FormatTime(time.Time{}); got != "" {
		t.Errorf("FormatTime(zero) = %q, want empty", got)
	}
}

func TestFormatForFile(t *testing.T) {
	for name, want := range map[string]Format{"r.html": HTML, "r.HTM": HTML, "r.JSON": JSON, "r.sarif": SARIF, "r.md": Markdown, "r.jsonl": JSONLines, "r.ndjson": JSONLines, "dir.d/r.txt": Text} {
		if got, ok := FormatForFile(name); !ok || got != want {
			t.Errorf("FormatForFile(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"r.out", "report", "r.pdf", ".json/r"} {
		if got, ok := FormatForFile(name); ok {
			t.Errorf("FormatForFile(%q) = %q, want none", name, got)
		}
	}
}

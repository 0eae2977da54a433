package scan

import "testing"

func TestGradeRank(t *testing.T) {
	// Every grade LetterGrade gives is ranked, and a higher score never
	// ranks lower.
	prev := -1
	for score := range 101 {
		g := LetterGrade(score)
		r := GradeRank(g)
		if r < 0 {
			t.Fatalf("LetterGrade(%d) = %q, which GradeRank does not know", score, g)
		}
		if r < prev {
			t.Errorf("score %d: grade %s ranks %d, below the grade of score %d", score, g, r, score-1)
		}
		prev = r
	}
	for g, want := range map[string]int{"F": 0, "D-": 1, "C": 5, "B+": 9, "A": 11, "A+": 12, "": -1, "E": -1, "a+": -1, "A++": -1} {
		if got := GradeRank(g); got != want {
			t.Errorf("GradeRank(%q) = %d, want %d", g, got, want)
		}
	}
}

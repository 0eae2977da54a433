package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestNilBarIsSafe(t *testing.T) {
	var b *Bar
	b.Increment("x")
	b.Clear()
	b.Redraw()
	b.Finish()
	if b.Line() != "" {
		t.Fatal("nil bar drew something")
	}
}

func TestNewIsNilOffTerminal(t *testing.T) {
	if New(&bytes.Buffer{}, 3) != nil {
		t.Fatal("a bar was made for a buffer")
	}
}

func TestBarCounts(t *testing.T) {
	tests := []struct {
		done, total int
		want        string
	}{
		{0, 4, "[..........] 0/4"},
		{2, 4, "[#####.....] 2/4"},
		{4, 4, "[##########] 4/4"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		b := NewForced(&buf, tt.total, 30)
		clock := time.Unix(0, 0)
		b.now = func() time.Time { clock = clock.Add(time.Second); return clock }
		b.start = time.Unix(0, 0)
		for range tt.done {
			b.Increment("example.com")
		}
		if got := b.Line(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("done %d/%d: line %q, want prefix %q", tt.done, tt.total, got, tt.want)
		}
		b.Finish()
		if tt.done > 0 && !strings.HasSuffix(buf.String(), "\r\x1b[2K") {
			t.Errorf("Finish did not erase the line: %q", buf.String())
		}
	}
}

func TestLabelIsCut(t *testing.T) {
	b := NewForced(&bytes.Buffer{}, 1, 40)
	b.Increment(strings.Repeat("x", 100))
	if l := b.Line(); len(l) > 45 {
		t.Fatalf("line longer than the terminal: %d %q", len(l), l)
	}
}

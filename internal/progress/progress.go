// Package progress draws a one-line progress bar on a terminal, for
// commands that work through many items (such as scanning a list of sites)
// while their results stream to standard output.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Bar is a progress bar. A nil *Bar, or one made for a writer that is not a
// terminal, does nothing, so callers need no branches. It is safe for
// concurrent use.
type Bar struct {
	mu      sync.Mutex
	w       io.Writer
	total   int
	done    int
	start   time.Time
	last    time.Time
	label   string
	width   int
	drawn   bool
	minStep time.Duration
	now     func() time.Time
}

// New returns a bar counting to total on w, or nil when w is not a terminal
// (pipes, files and CI logs get no bar).
func New(w io.Writer, total int) *Bar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	width := 80
	if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
		width = cols
	}
	return newBar(w, total, width)
}

// NewForced returns a bar on w whatever w is, width columns wide; tests and
// callers that know better than New use it.
func NewForced(w io.Writer, total, width int) *Bar { return newBar(w, total, width) }

func newBar(w io.Writer, total, width int) *Bar {
	now := time.Now
	return &Bar{w: w, total: total, width: width, start: now(), now: now, minStep: 100 * time.Millisecond}
}

// Increment records one finished item, labelled (for example with the
// target's name), and redraws at most ten times a second (at once after a
// Clear).
func (b *Bar) Increment(label string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done++
	b.label = label
	if t := b.now(); !b.drawn || t.Sub(b.last) >= b.minStep || b.done == b.total {
		b.last = t
		b.draw()
	}
}

// Clear erases the bar so that other output can be written on its line;
// the next Increment or Redraw draws it again.
func (b *Bar) Clear() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\x1b[2K")
		b.drawn = false
	}
}

// Redraw draws the bar again after Clear.
func (b *Bar) Redraw() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw()
}

// Finish erases the bar for good.
func (b *Bar) Finish() { b.Clear() }

// Line returns the bar as text, width columns at most.
func (b *Bar) Line() string {
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.line()
}

func (b *Bar) draw() {
	fmt.Fprint(b.w, "\r\x1b[2K"+b.line())
	b.drawn = true
}

func (b *Bar) line() string {
	elapsed := b.now().Sub(b.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(b.done) / elapsed
	}
	counts := fmt.Sprintf(" %d/%d %.1f/s ", b.done, b.total, rate)
	barWidth := min(30, max(10, b.width/3))
	filled := 0
	if b.total > 0 {
		filled = min(barWidth, b.done*barWidth/b.total)
	}
	s := "[" + strings.Repeat("#", filled) + strings.Repeat(".", barWidth-filled) + "]" + counts
	if room := b.width - len(s) - 1; room > 3 && b.label != "" {
		l := b.label
		if len(l) > room {
			l = l[:room-1] + "…"
		}
		s += l
	}
	return s
}

// Package termcolor decides whether output may be coloured: only on a
// terminal, and never when NO_COLOR is set (https://no-color.org).
package termcolor

import (
	"io"
	"os"

	"golang.org/x/term"
)

// Enabled reports whether w is a terminal that should receive ANSI colour.
// getenv is consulted for NO_COLOR and TERM=dumb; pass os.Getenv.
func Enabled(w io.Writer, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ANSI sequences used across the project's human output.
const (
	Reset  = "\x1b[0m"
	Bold   = "\x1b[1m"
	Dim    = "\x1b[2m"
	Red    = "\x1b[31m"
	Green  = "\x1b[32m"
	Yellow = "\x1b[33m"
	Blue   = "\x1b[34m"
	Cyan   = "\x1b[36m"
)

// Painter wraps strings in colour when enabled, and returns them unchanged
// otherwise, so callers need no branches.
type Painter struct{ On bool }

// Paint returns s wrapped in the given ANSI codes when p is on.
func (p Painter) Paint(s string, codes ...string) string {
	if !p.On || len(codes) == 0 {
		return s
	}
	out := ""
	for _, c := range codes {
		out += c
	}
	return out + s + Reset
}

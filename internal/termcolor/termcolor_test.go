package termcolor

import (
	"bytes"
	"io"
	"os"
	"testing"
)

func TestEnabled(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for _, tc := range []struct {
		name string
		w    io.Writer
		env  map[string]string
	}{
		{"buffer", &bytes.Buffer{}, nil},
		{"file that is not a terminal", devnull, nil},
		{"NO_COLOR", os.Stdout, map[string]string{"NO_COLOR": "1"}},
		{"TERM=dumb", os.Stdout, map[string]string{"TERM": "dumb"}},
	} {
		if Enabled(tc.w, env(tc.env)) {
			t.Errorf("%s: colour enabled", tc.name)
		}
	}
}

func TestPaint(t *testing.T) {
	if got := (Painter{On: false}).Paint("x", Red); got != "x" {
		t.Errorf("off: %q", got)
	}
	if got := (Painter{On: true}).Paint("x"); got != "x" {
		t.Errorf("no codes: %q", got)
	}
	if got, want := (Painter{On: true}).Paint("x", Bold, Red), Bold+Red+"x"+Reset; got != want {
		t.Errorf("on: %q, want %q", got, want)
	}
}

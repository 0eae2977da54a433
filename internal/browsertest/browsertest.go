// Package browsertest finds the headless browser that tests drive.
package browsertest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/internal/testpeer"
)

// Chromium returns the path of a headless-capable Chromium or Chrome, or
// skips the test when there is none; with HTTPSGUARD_TEST_STRICT=1 (as in
// CI, which installs it) a missing browser fails the test instead.
func Chromium(tb testing.TB) string {
	tb.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testpeer.Missing(tb, testpeer.Chromium, "none of "+strings.Join(names, ", ")+" is on PATH")
	return ""
}

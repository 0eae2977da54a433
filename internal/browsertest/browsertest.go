// Package browsertest finds the headless browser that tests drive.
package browsertest

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium returns the path of a headless-capable Chromium or Chrome, or
// skips the test when there is none; with HTTPSGUARD_TEST_STRICT=1 (as in
// CI, which installs it) a missing browser fails the test instead.
func Chromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("HTTPSGUARD_TEST_STRICT") == "1" {
		tb.Fatal("chromium is not installed (apt-get install -y chromium) and HTTPSGUARD_TEST_STRICT=1")
	}
	tb.Skip("chromium is not installed; apt-get install -y chromium to run this test")
	return ""
}

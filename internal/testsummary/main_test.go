package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestSummary runs the real go test on testdata/fixture through run and
// checks what a reader sees: go test's usual lines, the failing test's
// output, the skip list with the package to install, and the exit status.
func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fail   bool
		want   []string
		unwant []string
		code   int
	}{
		{
			name: "passing run",
			want: []string{
				"ok  \tgithub.com/httpsguard/httpsguard/internal/testsummary/testdata/fixture",
				"SKIPPED 3 test(s), 2 for a missing peer (install it, or HTTPSGUARD_TEST_STRICT=1 makes these fail):",
				"  missing chromium: apt-get install -y chromium — internal/testsummary/testdata/fixture: TestNeedsChromium\n",
				"  missing PostgreSQL: apt-get install -y postgresql, then set HTTPSGUARD_TEST_POSTGRES_DSN as .ci/postgres.sh does — internal/testsummary/testdata/fixture: TestNeedsPostgres/postgres\n",
				"  Linux profile locations: internal/testsummary/testdata/fixture: TestPlatform\n",
			},
			unwant: []string{"output of a passing test", "=== RUN", "the failure's own words", "\nPASS\n"},
		},
		{
			name: "failing run",
			fail: true,
			want: []string{
				"--- FAIL: TestFails",
				"the failure's own words",
				"FAIL\tgithub.com/httpsguard/httpsguard/internal/testsummary/testdata/fixture",
				"SKIPPED 3 test(s)",
			},
			unwant: []string{"output of a passing test"},
			code:   1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fail {
				t.Setenv("FIXTURE_FAIL", "1")
			} else {
				t.Setenv("FIXTURE_FAIL", "")
			}
			t.Setenv("HTTPSGUARD_TEST_STRICT", "") // the fixture's peers must skip
			var out, errOut bytes.Buffer
			code := run([]string{"-count=1", "./testdata/fixture"}, &out, &errOut)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, &out, &errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, &out)
				}
			}
			for _, u := range tc.unwant {
				if strings.Contains(out.String(), u) {
					t.Errorf("output has %q:\n%s", u, &out)
				}
			}
		})
	}
}

// TestGoTestError keeps go test's own exit status and error when it cannot
// run at all.
func TestGoTestError(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"./testdata/no-such-package"}, &out, &errOut)
	if code == 0 {
		t.Fatalf("exit status 0 for a missing package\nstdout:\n%s\nstderr:\n%s", &out, &errOut)
	}
	if !strings.Contains(out.String()+errOut.String(), "no-such-package") {
		t.Errorf("go test's error is lost:\nstdout:\n%s\nstderr:\n%s", &out, &errOut)
	}
}

func TestIsTimeoutFlag(t *testing.T) {
	for a, want := range map[string]bool{
		"-timeout": true, "-timeout=5m": true, "--timeout=1h": true, "-test.timeout=2m": true,
		"-race": false, "./...": false, "-timeoutx": false, "-run=timeout": false,
	} {
		if got := isTimeoutFlag(a); got != want {
			t.Errorf("isTimeoutFlag(%q) = %v, want %v", a, got, want)
		}
	}
}

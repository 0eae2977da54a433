package scan_test

import (
	"os"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
)

// TestDocsListEveryCheck keeps docs/readme/check.md in step with the catalog.
func TestDocsListEveryCheck(t *testing.T) {
	doc, err := os.ReadFile("../docs/readme/check.md")
	if err != nil {
		t.Skipf("docs not found: %v", err)
	}
	for _, c := range scan.Catalog() {
		if !strings.Contains(string(doc), "`"+c.ID+"`") {
			t.Errorf("docs/readme/check.md does not document %s", c.ID)
		}
	}
}

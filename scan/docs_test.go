package scan_test

import (
	"os"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
)

// TestDocsListEveryCheck keeps the finding catalogue of docs/check.md in
// step with the catalog.
func TestDocsListEveryCheck(t *testing.T) {
	doc, err := os.ReadFile("../docs/check.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range scan.Catalog() {
		if !strings.Contains(string(doc), "`"+c.ID+"`") {
			t.Errorf("docs/check.md does not document %s", c.ID)
		}
	}
}

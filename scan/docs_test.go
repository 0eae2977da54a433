package scan_test

import (
	"os"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
)

// TestDocsListEveryCheck keeps the README's check table in step with the catalog.
func TestDocsListEveryCheck(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range scan.Catalog() {
		if !strings.Contains(string(doc), "`"+c.ID+"`") {
			t.Errorf("README.md does not document %s", c.ID)
		}
	}
}

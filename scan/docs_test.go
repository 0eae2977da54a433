package scan_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
)

var update = flag.Bool("update", false, "rewrite the finding catalogue in docs/check.md from scan.Catalog()")

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

const (
	catalogBegin = "<!-- catalog:begin -->"
	catalogEnd   = "<!-- catalog:end -->"
)

// TestDocsCatalog checks that the finding catalogue in docs/check.md is the
// one scan.Catalog() declares, word for word: the docs are generated from
// the same entries the scanner runs. go test ./scan -run TestDocsCatalog
// -update rewrites it.
func TestDocsCatalog(t *testing.T) {
	const path = "../docs/check.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, catalogBegin), strings.Index(doc, catalogEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s … %s section", path, catalogBegin, catalogEnd)
	}
	want := catalogMarkdown()
	got := doc[i+len(catalogBegin) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc[:i+len(catalogBegin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the finding catalogue in %s is not scan.Catalog()'s: run go generate ./scan and review the diff", path)
}

// catalogMarkdown renders the catalogue: one table per category, each
// check with its verdicts and their score impacts.
func catalogMarkdown() string {
	var b strings.Builder
	b.WriteString("\n")
	for _, cat := range scan.Categories() {
		fmt.Fprintf(&b, "\n### %s\n\n", scan.CategoryTitle(cat))
		b.WriteString("| ID | check | what it means | verdicts: result code, status, score impact |\n|---|---|---|---|\n")
		for _, c := range scan.Catalog() {
			if c.Category != cat {
				continue
			}
			var verdicts []string
			for _, o := range c.Outcomes {
				v := "`" + o.Result + "` " + string(o.Status)
				if o.Impact != 0 {
					v += " " + strings.Replace(fmt.Sprint(o.Impact), "-", "−", 1)
				}
				verdicts = append(verdicts, v)
			}
			if len(c.Outcomes) == 0 || c.Category == scan.CategoryHeaders && c.Observatory != "" {
				verdicts = append(verdicts, fmt.Sprintf("the Observatory's `%s` results, with its penalty (a fail from −10 or for an invalid header, else a warn; no bonus)", c.Observatory))
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.ID, mdCell(c.Title), mdCell(c.Description), strings.Join(verdicts, " · "))
		}
	}
	b.WriteString("\n")
	return b.String()
}

// mdCell escapes text for a Markdown table cell: pipes, and "<" outside
// code spans (where it would start HTML).
func mdCell(s string) string {
	var b strings.Builder
	inCode := false
	for _, r := range s {
		switch {
		case r == '`':
			inCode = !inCode
			b.WriteRune(r)
		case r == '|':
			b.WriteString(`\|`)
		case r == '<' && !inCode:
			b.WriteString("&lt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

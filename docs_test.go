package httpsguard_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestDocLinks checks every relative link in the repository's Markdown
// files: the file or directory must exist, and a #fragment must name a
// heading (by GitHub's anchor rules) or an explicit anchor of the target.
// Links with a scheme (https:, mailto:) are not followed: tests stay off
// the network.
func TestDocLinks(t *testing.T) {
	files := markdownFiles(t)
	if len(files) < 10 {
		t.Fatalf("found only %d Markdown files: %v", len(files), files)
	}
	anchorsOf := map[string]map[string]bool{}
	anchors := func(path string) map[string]bool {
		if a, ok := anchorsOf[path]; ok {
			return a
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		a := markdownAnchors(string(b))
		anchorsOf[path] = a
		return a
	}
	checked := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range markdownLinks(string(b)) {
			if hasScheme(l.target) {
				continue
			}
			checked++
			path, frag, _ := strings.Cut(l.target, "#")
			target := file
			if path != "" {
				target = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s:%d: link %q: %v", file, l.line, l.target, err)
				continue
			}
			if frag == "" || !strings.HasSuffix(target, ".md") {
				continue
			}
			if !anchors(target)[frag] {
				t.Errorf("%s:%d: link %q: no heading or anchor %q in %s", file, l.line, l.target, frag, target)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative link found: the link parser is broken")
	}
}

// TestMarkdownAnchors pins the anchor rules against headings whose GitHub
// anchors are known.
func TestMarkdownAnchors(t *testing.T) {
	doc := "# Enforce: the middleware\n" +
		"## Review a policy before deploying it: `httpsguard policy`\n" +
		"### Node / Express\n" +
		"## Any app, with httpsguard's policy\n" +
		"## Django (`runserver`)\n" +
		"## Notes\n## Notes\n" +
		"## [Linked](other.md) *heading* <sup>1</sup>\n" +
		"## Bücher_test – ünïcode\n" +
		"```sh\n# not a heading\n```\n" +
		`<a id="explicit-one"></a>` + "\n"
	got := markdownAnchors(doc)
	for _, want := range []string{
		"enforce-the-middleware",
		"review-a-policy-before-deploying-it-httpsguard-policy",
		"node--express",
		"any-app-with-httpsguards-policy",
		"django-runserver",
		"notes", "notes-1",
		"linked-heading-1",
		"bücher_test--ünïcode",
		"explicit-one",
	} {
		if !got[want] {
			t.Errorf("no anchor %q; have %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment in a code block became a heading")
	}
}

// markdownFiles lists the repository's Markdown files, leaving out test
// data, dependencies and the output of benchmarks.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "node_modules", "out":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

type mdLink struct {
	target string
	line   int
}

var (
	inlineLinkRE = regexp.MustCompile(`!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refDefRE     = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s|$)`)
	htmlLinkRE   = regexp.MustCompile(`<(?:a|img)\b[^>]*?\s(?:href|src)="([^"]+)"`)
	codeSpanRE   = regexp.MustCompile("`+[^`]*`+")
)

// markdownLinks returns the link targets of a Markdown document, outside
// code blocks and code spans.
func markdownLinks(doc string) []mdLink {
	var links []mdLink
	for i, line := range proseLines(doc) {
		if line == "" {
			continue
		}
		line = codeSpanRE.ReplaceAllString(line, "")
		for _, re := range []*regexp.Regexp{inlineLinkRE, refDefRE, htmlLinkRE} {
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				links = append(links, mdLink{target: m[1], line: i + 1})
			}
		}
	}
	return links
}

// proseLines returns the document's lines with those inside fenced code
// blocks blanked, so line numbers stay right.
func proseLines(doc string) []string {
	lines := strings.Split(doc, "\n")
	fence := ""
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		switch {
		case fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			fence = trimmed[:3]
			lines[i] = ""
		case fence != "":
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			lines[i] = ""
		}
	}
	return lines
}

var (
	headingRE        = regexp.MustCompile(`^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$`)
	explicitAnchorRE = regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)
	headingLinkRE    = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	htmlTagRE        = regexp.MustCompile(`<[^>]+>`)
)

// markdownAnchors returns the anchors GitHub gives a document: one per
// heading (lower-cased text without punctuation other than '-' and '_',
// spaces turned into '-', "-1", "-2"... added to repeats), plus explicit
// <a id> and <a name> anchors.
func markdownAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, line := range proseLines(doc) {
		for _, m := range explicitAnchorRE.FindAllStringSubmatch(line, -1) {
			anchors[m[1]] = true
		}
		m := headingRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		text := headingLinkRE.ReplaceAllString(m[1], "$1")
		text = htmlTagRE.ReplaceAllString(text, "")
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
				b.WriteRune(r)
			}
		}
		slug := b.String()
		if n := seen[slug]; n > 0 {
			anchors[slug+"-"+strconv.Itoa(n)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return anchors
}

var schemeRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)

func hasScheme(target string) bool { return schemeRE.MatchString(target) }

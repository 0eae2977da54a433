package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with testdata/golden/name, or rewrites the file with
// -update. Review a rewritten file's diff before committing it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test ./report -update and review the diff):\n%s", path, firstDiff(want, got))
	}
}

// firstDiff shows where two outputs part, with a little context.
func firstDiff(want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-80)
	return "want: …" + string(want[lo:min(len(want), i+80)]) + "…\n got: …" + string(got[lo:min(len(got), i+80)]) + "…"
}

func TestGolden(t *testing.T) {
	one := func() []*scan.Result { return []*scan.Result{fullResult()} }
	many := func() []*scan.Result { return []*scan.Result{fullResult(), failedResult(), perfectResult()} }
	tests := []struct {
		file    string
		format  Format
		results []*scan.Result
		opts    Options
	}{
		{"full.txt", Text, one(), Options{}},
		{"full.verbose.txt", Text, one(), Options{Verbose: true}},
		{"full.color.txt", Text, one(), Options{Color: true}},
		{"full.ascii.txt", Text, one(), Options{ASCII: true}},
		{"multi.txt", Text, many(), Options{}},
		{"full.json", JSON, one(), Options{}},
		{"multi.json", JSON, many(), Options{}},
		{"multi.jsonl", JSONLines, many(), Options{}},
		{"full.sarif", SARIF, one(), Options{ToolVersion: "v1.2.3"}},
		{"multi.sarif", SARIF, many(), Options{ToolVersion: "v1.2.3"}},
		{"full.md", Markdown, one(), Options{}},
		{"multi.md", Markdown, many(), Options{}},
		{"full.html", HTML, one(), Options{}},
		{"multi.html", HTML, many(), Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.format, tt.results, tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, buf.Bytes())
		})
	}
}

func TestGoldenFragment(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTMLFragment(&buf, perfectResult(), Options{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "fragment.html", buf.Bytes())
}

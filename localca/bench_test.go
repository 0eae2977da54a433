package localca

import "testing"

// BenchmarkIssue measures what "httpsguard serve" pays for its in-memory
// leaf at start-up and at each renewal.
func BenchmarkIssue(b *testing.B) {
	ca, _, err := LoadOrCreate(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ca.Issue("localhost", "127.0.0.1", "::1", "*.myapp.test"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad measures reading an existing CA from disk, the other part
// of start-up.
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	if _, _, err := LoadOrCreate(dir); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range []string{"localhost", "127.0.0.1", "*.myapp.test", "bücher.test"} {
			if _, err := ParseName(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

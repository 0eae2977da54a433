package scan_test

import (
	"testing"

	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/scantest"
)

// BenchmarkScan measures one full scan of a good loopback site (both
// listeners, every probe), client side and server side together.
func BenchmarkScan(b *testing.B) {
	site := scantest.NewSite(b, app{}, scantest.Config{})
	sc, err := scan.New(site.Options)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if res := sc.Scan(b.Context(), site.Host); res.Score != 100 {
			b.Fatalf("score %d: %s", res.Score, res.Error)
		}
	}
}

// BenchmarkParseHSTS measures the HSTS parser on a typical header.
func BenchmarkParseHSTS(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		scan.ParseHSTS("max-age=63072000; includeSubDomains; preload")
	}
}

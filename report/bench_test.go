package report

import (
	"io"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
)

// BenchmarkWrite renders a batch of 100 full results in each format, the
// size of a large multi-target run's report.
func BenchmarkWrite(b *testing.B) {
	results := make([]*scan.Result, 100)
	for i := range results {
		results[i] = fullResult()
	}
	for _, f := range Formats() {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, f, results, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

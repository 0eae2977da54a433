package scan_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/httpsguard/httpsguard/scan"
)

// Scan one site and print what needs fixing.
func ExampleScanner_Scan() {
	sc, err := scan.New(scan.Options{Timeout: 15 * time.Second, DenyPrivate: true})
	if err != nil {
		log.Fatal(err)
	}
	res := sc.Scan(context.Background(), "example.com")
	if res.Error != nil {
		// No grade: the kind says whose fix it is (dns, refused,
		// timeout, tls...).
		log.Fatalf("%s: %s\nfix: %s", res.Error.Kind, res.Error.Message, res.Error.Fix)
	}
	if res.Incomplete {
		for _, c := range res.ErroredChecks() {
			fmt.Printf("%s could not complete: %s\n", c.ID, c.Error.Message)
		}
	}
	fmt.Println(res.Score, res.Grade)
	for _, c := range res.Checks {
		if c.Status == scan.StatusFail {
			fmt.Printf("%s %s (%d): %s\n", c.ID, c.Title, c.ScoreImpact, c.Fix)
		}
	}
}

// Scan many sites, handling each result as soon as it is ready.
func ExampleScanner_ScanAll() {
	sc, err := scan.New(scan.Options{Concurrency: 16})
	if err != nil {
		log.Fatal(err)
	}
	for res := range sc.ScanAll(context.Background(), []string{"example.com", "example.org"}) {
		if !res.Graded() {
			fmt.Println(res.Target, "no grade:", res.Error.Message)
			continue
		}
		fmt.Println(res.Target, res.Grade)
	}
}

func ExampleParseHSTS() {
	h, issues := scan.ParseHSTS("max-age=15552000; includeSubDomains")
	fmt.Println(h.MaxAge, h.IncludeSubDomains, h.Preload, len(issues.Errors))
	fmt.Println(scan.PreloadableHeader(h).Codes())
	// Output:
	// 15552000 true false 0
	// [header.preloadable.preload.missing header.preloadable.max_age.below_1_year]
}

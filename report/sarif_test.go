package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
)

// sarifDoc is the SARIF a consumer reads, decoded independently of the
// writer's own types so a renamed field cannot pass unnoticed.
type sarifDoc struct {
	Schema  *string `json:"$schema"`
	Version string  `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name           string `json:"name"`
				Version        string `json:"version"`
				InformationURI string `json:"informationUri"`
				Rules          []struct {
					ID               string `json:"id"`
					Name             string `json:"name"`
					ShortDescription struct {
						Text string `json:"text"`
					} `json:"shortDescription"`
					Help *struct {
						Text     string `json:"text"`
						Markdown string `json:"markdown"`
					} `json:"help"`
					HelpURI              string `json:"helpUri"`
					DefaultConfiguration *struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
					Properties struct {
						Tags             []string `json:"tags"`
						Precision        string   `json:"precision"`
						SecuritySeverity string   `json:"security-severity"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful        bool `json:"executionSuccessful"`
			ToolExecutionNotifications []struct {
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID    *string `json:"ruleId"`
			RuleIndex int     `json:"ruleIndex"`
			Level     string  `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
		} `json:"results"`
	} `json:"runs"`
}

func renderSARIF(t *testing.T, results ...*scan.Result) sarifDoc {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, SARIF, results, Options{ToolVersion: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	var doc sarifDoc
	dec := json.NewDecoder(&buf)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("SARIF output is not the expected JSON: %v", err)
	}
	return doc
}

// TestSARIFStructure checks the properties GitHub code scanning requires
// and the ones it uses for display and de-duplication.
func TestSARIFStructure(t *testing.T) {
	results := []*scan.Result{fullResult(), failedResult(), perfectResult()}
	doc := renderSARIF(t, results...)

	if doc.Schema == nil || !strings.Contains(*doc.Schema, "sarif-schema-2.1.0") {
		t.Errorf("$schema = %v", doc.Schema)
	}
	if doc.Version != "2.1.0" {
		t.Errorf("version = %q, want 2.1.0", doc.Version)
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("got %d runs, want 1", len(doc.Runs))
	}
	run := doc.Runs[0]
	d := run.Tool.Driver
	if d.Name != "httpsguard" || d.Version != "v1.2.3" || !strings.HasPrefix(d.InformationURI, "https://") {
		t.Errorf("driver = %q %q %q", d.Name, d.Version, d.InformationURI)
	}

	// One rule per check ID, sorted, each described.
	var ids []string
	ruleAt := map[string]int{}
	for i, r := range d.Rules {
		ids = append(ids, r.ID)
		ruleAt[r.ID] = i
		if r.ShortDescription.Text == "" {
			t.Errorf("rule %s has no shortDescription", r.ID)
		}
		if !slices.Contains(r.Properties.Tags, "security") {
			t.Errorf("rule %s is not tagged security; GitHub ignores security-severity without it", r.ID)
		}
		if r.Properties.SecuritySeverity != "" {
			sev, err := strconv.ParseFloat(r.Properties.SecuritySeverity, 64)
			if err != nil || sev < 0 || sev > 10 {
				t.Errorf("rule %s security-severity = %q", r.ID, r.Properties.SecuritySeverity)
			}
		}
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("rule IDs are not sorted and unique: %v", ids)
	}
	wantIDs := map[string]bool{}
	for _, r := range results {
		for _, c := range r.Checks {
			wantIDs[c.ID] = true
		}
	}
	if len(ids) != len(wantIDs) {
		t.Errorf("got %d rules, want one per check ID (%d)", len(ids), len(wantIDs))
	}
	hsts := d.Rules[ruleAt["HGS-HSTS-003"]]
	if hsts.Help == nil || !strings.Contains(hsts.Help.Text, "31536000") {
		t.Errorf("HSTS rule help = %+v, want the fix", hsts.Help)
	}
	if !strings.HasPrefix(hsts.HelpURI, "https://developer.mozilla.org/") {
		t.Errorf("HSTS rule helpUri = %q, want its first reference", hsts.HelpURI)
	}
	if hsts.DefaultConfiguration == nil || hsts.DefaultConfiguration.Level != "error" || hsts.Properties.SecuritySeverity != "8.0" {
		t.Errorf("HSTS rule (fails at -20) configuration = %+v, severity %q", hsts.DefaultConfiguration, hsts.Properties.SecuritySeverity)
	}
	if sev := d.Rules[ruleAt["HGS-TLS-001"]].Properties.SecuritySeverity; sev != "" {
		t.Errorf("a rule that only passed has security-severity %q", sev)
	}

	// One SARIF result per warning and failure, nothing else.
	var want []string
	for _, r := range results {
		for _, c := range r.Checks {
			switch c.Status {
			case scan.StatusFail:
				want = append(want, c.ID+" error "+r.URL)
			case scan.StatusWarn:
				want = append(want, c.ID+" warning "+r.URL)
			}
		}
	}
	var got []string
	fingerprints := map[string]bool{}
	for _, res := range run.Results {
		if res.RuleID == nil {
			t.Fatal("a result has no ruleId")
		}
		if d.Rules[res.RuleIndex].ID != *res.RuleID {
			t.Errorf("result %s has ruleIndex %d, which is rule %s", *res.RuleID, res.RuleIndex, d.Rules[res.RuleIndex].ID)
		}
		if res.Message.Text == "" {
			t.Errorf("result %s has no message.text", *res.RuleID)
		}
		if len(res.Locations) != 1 {
			t.Fatalf("result %s has %d locations, want 1", *res.RuleID, len(res.Locations))
		}
		uri := res.Locations[0].PhysicalLocation.ArtifactLocation.URI
		got = append(got, *res.RuleID+" "+res.Level+" "+uri)
		fp := res.PartialFingerprints[sarifFingerprintKey]
		if fp == "" {
			t.Errorf("result %s has no partial fingerprint", *res.RuleID)
		}
		if fingerprints[fp] {
			t.Errorf("fingerprint %s is not unique", fp)
		}
		fingerprints[fp] = true
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The failed target and the check that could not complete are tool
	// notifications, not findings.
	if len(run.Invocations) != 1 || run.Invocations[0].ExecutionSuccessful {
		t.Fatalf("invocations = %+v, want one, unsuccessful", run.Invocations)
	}
	var notes []string
	for _, n := range run.Invocations[0].ToolExecutionNotifications {
		notes = append(notes, n.Level+": "+n.Message.Text)
	}
	joined := strings.Join(notes, "\n")
	if !strings.Contains(joined, "error: down.example.net has no grade (refused): GET https://down.example.net/: connection refused") ||
		!strings.Contains(joined, `error: shop.example.com: check "No weak TLS 1.2 cipher suites" could not complete, so the grade is incomplete: timeout:`) {
		t.Errorf("notifications:\n%s", joined)
	}
}

// TestSARIFFingerprintStable checks that an alert keeps its identity when
// only its wording changes, and gets a new one for another target.
func TestSARIFFingerprintStable(t *testing.T) {
	fp := func(r *scan.Result) string {
		doc := renderSARIF(t, r)
		for _, res := range doc.Runs[0].Results {
			if *res.RuleID == "HGS-TLS-003" {
				return res.PartialFingerprints[sarifFingerprintKey]
			}
		}
		t.Fatal("no HGS-TLS-003 result")
		return ""
	}
	a := fullResult()
	b := fullResult()
	b.Checks[2].Message = "The certificate expires in 11 days."
	b.Checks[2].Evidence = []string{"not after 2026-12-06T12:00:00Z"}
	b.StartedAt = b.StartedAt.AddDate(0, 0, 1)
	if fp(a) != fp(b) {
		t.Error("the fingerprint changed with the message")
	}
	c := fullResult()
	c.Host, c.URL = "other.example.com", "https://other.example.com/"
	if fp(a) == fp(c) {
		t.Error("two targets share a fingerprint")
	}
}

func TestSARIFEmpty(t *testing.T) {
	doc := renderSARIF(t)
	if len(doc.Runs) != 1 || doc.Runs[0].Results == nil || doc.Runs[0].Tool.Driver.Rules == nil {
		t.Errorf("an empty run must still have results and rules arrays: %+v", doc.Runs)
	}
	if !doc.Runs[0].Invocations[0].ExecutionSuccessful {
		t.Error("an empty run is not a failed one")
	}
}

func TestRuleName(t *testing.T) {
	tests := map[string]string{
		"HSTS max-age at least six months": "HstsMaxAgeAtLeastSixMonths",
		"<meta http-equiv> policies":       "MetaHttpEquivPolicies",
		"":                                 "",
		"Cross-Origin-Opener-Policy":       "CrossOriginOpenerPolicy",
	}
	for in, want := range tests {
		if got := ruleName(in); got != want {
			t.Errorf("ruleName(%q) = %q, want %q", in, got, want)
		}
	}
}

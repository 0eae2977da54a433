package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/httpsguard/httpsguard/scan"
)

// SARIF 2.1.0 identifiers. The schema address is the one GitHub code
// scanning and the SARIF tooling recognise.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// sarifFingerprintKey names the partial fingerprint that identifies a
	// finding across scans. The "/v1" lets a future change of what is
	// hashed start a new series instead of silently re-keying alerts.
	sarifFingerprintKey = "httpsguardFinding/v1"
	projectURI          = "https://github.com/httpsguard/httpsguard"
)

// The subset of the SARIF 2.1.0 object model httpsguard writes. Field names
// follow the specification (OASIS SARIF 2.1.0, section 3).
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
		// ColumnKind says how columns would be counted; httpsguard's
		// locations are URLs without regions, but SARIF validators warn
		// when a run leaves it unstated.
		ColumnKind string `json:"columnKind"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string              `json:"id"`
		Name                 string              `json:"name,omitempty"`
		ShortDescription     sarifText           `json:"shortDescription"`
		FullDescription      *sarifText          `json:"fullDescription,omitempty"`
		Help                 *sarifMultiformat   `json:"help,omitempty"`
		HelpURI              string              `json:"helpUri,omitempty"`
		DefaultConfiguration *sarifConfiguration `json:"defaultConfiguration,omitempty"`
		Properties           sarifRuleProperties `json:"properties"`
	}
	sarifRuleProperties struct {
		Tags []string `json:"tags"`
		// Precision tells GitHub how much to trust the rule: the checks
		// observe the live site, so their findings are facts, not guesses.
		Precision string `json:"precision"`
		// SecuritySeverity is GitHub's 0.0-10.0 severity, as a string.
		SecuritySeverity string `json:"security-severity,omitempty"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifMultiformat struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          sarifResultProps  `json:"properties"`
	}
	sarifResultProps struct {
		Target      string   `json:"target"`
		Result      string   `json:"result,omitempty"`
		ScoreImpact int      `json:"scoreImpact"`
		Evidence    []string `json:"evidence,omitempty"`
		Fix         string   `json:"fix,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
	}
	sarifPhysicalLocation struct {
		ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	}
	sarifArtifactLocation struct {
		URI string `json:"uri"`
	}
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level     string          `json:"level"`
		Message   sarifText       `json:"message"`
		Locations []sarifLocation `json:"locations,omitempty"`
		// Descriptor names the check that could not complete, when one did.
		Descriptor *sarifDescriptorRef `json:"descriptor,omitempty"`
	}
	sarifDescriptorRef struct {
		ID string `json:"id"`
	}
)

// writeSARIF writes every result as one SARIF run: a rule for each check ID
// seen, a SARIF result for each warning and failure, located at the scanned
// URL. Checks that could not complete, and targets that could not be
// scanned, are tool execution notifications rather than findings: they say
// nothing about the site.
func writeSARIF(w io.Writer, results []*scan.Result, opts Options) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           ToolName,
			Version:        toolVersion(results, opts),
			InformationURI: projectURI,
			Rules:          []sarifRule{},
		}},
		Results:    []sarifResult{},
		ColumnKind: "unicodeCodePoints",
	}
	inv := sarifInvocation{ExecutionSuccessful: true}

	rules := sarifRules(results)
	ruleIndex := make(map[string]int, len(rules))
	for i, r := range rules {
		ruleIndex[r.ID] = i
	}
	run.Tool.Driver.Rules = rules

	for _, r := range results {
		uri := artifactURI(r)
		loc := []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: uri}}}}
		graded := r.Graded()
		if !graded {
			// No grade: the scan did not do its job for this target.
			inv.ExecutionSuccessful = false
			msg := fmt.Sprintf("%s has no grade", displayName(r))
			if e := r.Error; e != nil {
				msg = fmt.Sprintf("%s has no grade (%s): %s", displayName(r), e.Kind, e.Message)
				if e.Fix != "" {
					msg += " Fix: " + e.Fix
				}
			}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level:     "error",
				Message:   sarifText{Text: msg},
				Locations: loc,
			})
		}
		if graded && r.Incomplete {
			// A grade computed without some checks may be better than
			// the site deserves: fail closed.
			inv.ExecutionSuccessful = false
		}
		for _, c := range r.Checks {
			switch c.Status {
			case scan.StatusError:
				if !graded {
					continue // the result's own notification says why
				}
				why := checkErrorText(c)
				level := "warning"
				if r.Incomplete {
					level = "error"
				}
				inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
					Level:      level,
					Message:    sarifText{Text: fmt.Sprintf("%s: check %q could not complete, so the grade is incomplete: %s", displayName(r), c.Title, why)},
					Locations:  loc,
					Descriptor: &sarifDescriptorRef{ID: c.ID},
				})
				continue
			case scan.StatusFail, scan.StatusWarn:
			default:
				continue
			}
			level := "warning"
			if c.Status == scan.StatusFail {
				level = "error"
			}
			msg := cmp.Or(c.Message, c.Title)
			if c.Fix != "" {
				msg += " Fix: " + c.Fix
			}
			run.Results = append(run.Results, sarifResult{
				RuleID:              c.ID,
				RuleIndex:           ruleIndex[c.ID],
				Level:               level,
				Message:             sarifText{Text: msg},
				Locations:           loc,
				PartialFingerprints: map[string]string{sarifFingerprintKey: fingerprint(r, c)},
				Properties: sarifResultProps{
					Target:      r.Target,
					Result:      c.Result,
					ScoreImpact: c.ScoreImpact,
					Evidence:    c.Evidence,
					Fix:         c.Fix,
				},
			})
		}
	}
	run.Invocations = []sarifInvocation{inv}

	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("encoding SARIF: %w", err)
	}
	return nil
}

// sarifRules describes every check ID seen in results, sorted by ID so the
// rule list (and every ruleIndex) is the same from run to run. Each rule's
// default level and severity follow the worst status the check reached.
func sarifRules(results []*scan.Result) []sarifRule {
	byID := map[string]*sarifRule{}
	worst := map[string]float64{}
	for _, r := range results {
		for _, c := range r.Checks {
			if c.ID == "" {
				continue
			}
			rule, ok := byID[c.ID]
			if !ok {
				rule = &sarifRule{
					ID:               c.ID,
					Name:             ruleName(c.Title),
					ShortDescription: sarifText{Text: cmp.Or(c.Title, c.ID)},
					Properties: sarifRuleProperties{
						Tags:      []string{"security", "https", strings.ToLower(cmp.Or(c.Category, "other"))},
						Precision: "very-high",
					},
				}
				if len(c.Refs) > 0 && safeLink(c.Refs[0]) {
					rule.HelpURI = c.Refs[0]
				}
				byID[c.ID] = rule
			}
			// The fix for a failing result is the most useful help; a
			// passing result's fix (if any) is kept only until one arrives.
			if c.Fix != "" && (rule.Help == nil || c.Status == scan.StatusFail || c.Status == scan.StatusWarn) {
				rule.Help = &sarifMultiformat{Text: c.Fix, Markdown: sarifHelpMarkdown(c)}
				rule.FullDescription = &sarifText{Text: cmp.Or(c.Title, c.ID) + ". " + c.Fix}
			}
			if sev := severity(c); sev > worst[c.ID] {
				worst[c.ID] = sev
				rule.DefaultConfiguration = &sarifConfiguration{Level: sarifLevel(c.Status)}
			}
		}
	}
	rules := make([]sarifRule, 0, len(byID))
	for id, rule := range byID {
		if sev := worst[id]; sev > 0 {
			rule.Properties.SecuritySeverity = fmt.Sprintf("%.1f", sev)
		}
		rules = append(rules, *rule)
	}
	slices.SortFunc(rules, func(a, b sarifRule) int { return strings.Compare(a.ID, b.ID) })
	return rules
}

// severity maps a finding to GitHub's security-severity scale (critical
// above 9.0, high from 7.0, medium from 4.0, low below): failures that cost
// 20 points or more are high, other failures medium, warnings low to
// medium. Checks that found nothing wrong have none.
func severity(c scan.Check) float64 {
	switch c.Status {
	case scan.StatusFail:
		switch {
		case c.ScoreImpact <= -20:
			return 8.0
		case c.ScoreImpact <= -10:
			return 6.5
		}
		return 5.0
	case scan.StatusWarn:
		if c.ScoreImpact < 0 {
			return 4.0
		}
		return 3.0
	}
	return 0
}

func sarifLevel(s scan.Status) string {
	switch s {
	case scan.StatusFail:
		return "error"
	case scan.StatusWarn:
		return "warning"
	}
	return "note"
}

func sarifHelpMarkdown(c scan.Check) string {
	var b strings.Builder
	b.WriteString(mdText(c.Fix))
	for _, ref := range c.Refs {
		if safeLink(ref) {
			fmt.Fprintf(&b, "\n\n- <%s>", ref)
		}
	}
	return b.String()
}

// ruleName turns a check title into the PascalCase identifier SARIF
// suggests for rule names ("HSTS max-age" becomes "HstsMaxAge").
func ruleName(title string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(title, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		runes := []rune(strings.ToLower(word))
		runes[0] = unicode.ToUpper(runes[0])
		b.WriteString(string(runes))
	}
	return b.String()
}

// artifactURI is where a result's findings are located: the scanned URL.
func artifactURI(r *scan.Result) string {
	if r.URL != "" {
		return r.URL
	}
	if r.Host != "" {
		return "https://" + r.Host + "/"
	}
	return r.Target
}

// fingerprint identifies a finding across scans: the same check, on the
// same target, with the same machine-readable outcome is the same alert, so
// a message that mentions a changing number (days left) does not open a
// new one.
func fingerprint(r *scan.Result, c scan.Check) string {
	h := sha256.New()
	for _, part := range []string{c.ID, strings.ToLower(cmp.Or(r.Host, r.Target)), artifactURI(r), cmp.Or(c.Result, string(c.Status))} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

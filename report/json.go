package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/httpsguard/httpsguard/scan"
)

// ToolName is the name reports give the program that produced them.
const ToolName = "httpsguard"

// Envelope is the JSON document written for several results: the schema
// version and tool once, and every result in the order they were added. A
// single result is written on its own, without an envelope; a reader tells
// the two apart by the "results" property. Both are described by
// docs/schema/scan-result-v2.json (docs/schema/scan-result-v1.json for
// documents of schema version 1, which scan.Result still reads).
type Envelope struct {
	SchemaVersion int            `json:"schema_version"`
	Tool          scan.Tool      `json:"tool"`
	Results       []*scan.Result `json:"results"`
}

// normalized returns a shallow copy of r that keeps the schema's promises
// whatever the producer left unset: a schema version, a tool, arrays (never
// null) where the schema says array, and an error when there is no grade.
func normalized(r *scan.Result, opts Options) *scan.Result {
	c := *r
	// The document is written in this version's form, whatever version
	// the result was read from.
	c.SchemaVersion = scan.SchemaVersion
	if c.Tool.Name == "" {
		c.Tool.Name = ToolName
	}
	if c.Tool.Version == "" {
		c.Tool.Version = toolVersion([]*scan.Result{r}, opts)
	}
	if c.Checks == nil {
		c.Checks = []scan.Check{}
	}
	if c.Grade == "" && c.Error == nil {
		// No grade must say why; a producer that left both out gets
		// the least it can be told.
		c.Error = &scan.Error{Kind: scan.KindUnclassified, Message: "the result carries no grade and no reason"}
	}
	if c.TLS != nil && c.TLS.Chain == nil {
		info := *c.TLS
		info.Chain = []scan.Certificate{}
		c.TLS = &info
	}
	return &c
}

// writeJSON writes one result as an object, or several in an Envelope,
// indented for reading.
func writeJSON(w io.Writer, results []*scan.Result, opts Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	var doc any
	if len(results) == 1 {
		doc = normalized(results[0], opts)
	} else {
		env := Envelope{
			SchemaVersion: scan.SchemaVersion,
			Tool:          scan.Tool{Name: ToolName, Version: toolVersion(results, opts)},
			Results:       make([]*scan.Result, 0, len(results)),
		}
		for _, r := range results {
			env.Results = append(env.Results, normalized(r, opts))
		}
		doc = env
	}
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	return nil
}

// writeJSONLine writes one result as a single line of JSON (JSON Lines).
func writeJSONLine(w io.Writer, r *scan.Result, opts Options) error {
	if err := json.NewEncoder(w).Encode(normalized(r, opts)); err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	return nil
}

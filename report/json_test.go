package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/httpsguard/httpsguard/scan"
)

// schemaPath is the schema of the documents written now; schemaV1Path the
// previous version's, which readers still accept.
const (
	schemaPath   = "../docs/schema/scan-result-v2.json"
	schemaV1Path = "../docs/schema/scan-result-v1.json"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// compileSchema compiles the published schema with format assertions on,
// so "date-time" values are checked too.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	return compileSchemaFile(t, schemaPath)
}

func compileSchemaFile(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	url := "file:///" + filepath.Base(path)
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, name string, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s does not match the schema: %v", name, err)
	}
}

// TestJSONMatchesSchema validates real output, for every kind of result,
// against docs/schema/scan-result-v2.json.
func TestJSONMatchesSchema(t *testing.T) {
	sch := compileSchema(t)
	sets := map[string][]*scan.Result{
		"full":    {fullResult()},
		"perfect": {perfectResult()},
		"failed":  {failedResult()},
		"hostile": {hostileResult()},
		"zero":    {{}},
		"multi":   {fullResult(), failedResult(), perfectResult(), {}},
		"none":    nil,
	}
	for name, results := range sets {
		var buf bytes.Buffer
		if err := Write(&buf, JSON, results, Options{ToolVersion: "v9"}); err != nil {
			t.Fatal(err)
		}
		validate(t, sch, name+".json", buf.Bytes())

		buf.Reset()
		if err := Write(&buf, JSONLines, results, Options{}); err != nil {
			t.Fatal(err)
		}
		for i, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			if len(line) > 0 {
				validate(t, sch, name+".jsonl line "+string(rune('1'+i)), line)
			}
		}
	}
	// And the committed golden files, which docs/reports.md quotes.
	for _, name := range []string{"full.json", "multi.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		validate(t, sch, name, b)
	}
}

// TestSchemaRejects makes sure the schema is not vacuous: documents that
// break it are refused.
func TestSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	good := mustJSON(t, normalized(fullResult(), Options{}))
	tests := map[string]string{
		"wrong version":    strings.Replace(good, `"schema_version":2`, `"schema_version":1`, 1),
		"error as string":  strings.Replace(good, `"checks":`, `"error":"refused","checks":`, 1),
		"grade and error":  strings.Replace(good, `"checks":`, `"error":{"kind":"dns","message":"x"},"checks":`, 1),
		"no grade no why":  strings.Replace(strings.Replace(good, `"score":62`, `"score":null`, 1), `"grade":"C+"`, `"grade":null`, 1),
		"no incomplete":    strings.Replace(good, `"incomplete":true`, `"incomplete_":true`, 1),
		"error kindless":   strings.Replace(good, `"kind":"timeout"`, `"kin":"timeout"`, 1),
		"score as string":  strings.Replace(good, `"score":62`, `"score":"62"`, 1),
		"unknown status":   strings.Replace(good, `"status":"pass"`, `"status":"great"`, 1),
		"missing checks":   strings.Replace(good, `"checks":`, `"checkz":`, 1),
		"bad time":         strings.Replace(good, `"started_at":"2026-11-25T17:02:13Z"`, `"started_at":"yesterday"`, 1),
		"null chain":       strings.Replace(good, `"chain":[`, `"chain":null,"x":[`, 1),
		"envelope no tool": `{"schema_version":2,"results":[]}`,
	}
	for name, doc := range tests {
		if doc == good {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(inst) == nil {
			t.Errorf("%s: the schema accepted an invalid document", name)
		}
	}
}

// TestSchemaCoversResultType keeps the schema and the Go types in step:
// every JSON property of the result types is described, required exactly
// when it has no omitempty, and the schema describes nothing the types do
// not have. When scan adds a field, this test names it.
func TestSchemaCoversResultType(t *testing.T) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs map[string]struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	defs := map[reflect.Type]string{
		reflect.TypeFor[scan.Result]():          "result",
		reflect.TypeFor[Envelope]():             "envelope",
		reflect.TypeFor[scan.Tool]():            "tool",
		reflect.TypeFor[scan.Check]():           "check",
		reflect.TypeFor[scan.Hop]():             "hop",
		reflect.TypeFor[scan.TLSInfo]():         "tls",
		reflect.TypeFor[scan.Certificate]():     "certificate",
		reflect.TypeFor[scan.Error]():           "error",
		reflect.TypeFor[scan.ProtocolSupport](): "protocol",
		reflect.TypeFor[scan.CipherSuite]():     "cipher_suite",
		reflect.TypeFor[scan.ChainFacts]():      "chain_facts",
	}
	for typ, name := range defs {
		def, ok := schema.Defs[name]
		if !ok {
			t.Errorf("schema has no $defs/%s for %s", name, typ)
			continue
		}
		seen := map[string]bool{}
		for f := range typ.Fields() {
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			prop, opts, _ := strings.Cut(tag, ",")
			if prop == "" {
				prop = f.Name
			}
			seen[prop] = true
			if _, ok := def.Properties[prop]; !ok {
				t.Errorf("%s.%s is written as %q, which $defs/%s does not describe", typ, f.Name, prop, name)
			}
			omitempty := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
			if required := slices.Contains(def.Required, prop); required == omitempty {
				t.Errorf("$defs/%s: %q required = %v, but the field's omitempty = %v", name, prop, required, omitempty)
			}
			// Nested struct types need their own definition.
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft.PkgPath() != "time" {
				if _, ok := defs[ft]; !ok {
					t.Errorf("%s.%s has type %s, which the schema test does not map to a $def", typ, f.Name, ft)
				}
			}
		}
		for prop := range def.Properties {
			if !seen[prop] {
				t.Errorf("$defs/%s describes %q, which %s does not have", name, prop, typ)
			}
		}
	}
}

// TestJSONRoundTrip checks that the JSON document is the result itself:
// decoding it gives back the value that was rendered.
func TestJSONRoundTrip(t *testing.T) {
	for _, r := range []*scan.Result{fullResult(), hostileResult(), failedResult()} {
		var buf bytes.Buffer
		if err := Write(&buf, JSON, []*scan.Result{r}, Options{}); err != nil {
			t.Fatal(err)
		}
		var back scan.Result
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if got, want := mustJSON(t, &back), mustJSON(t, normalized(r, Options{})); got != want {
			t.Errorf("round trip changed the result:\n got %.200s\nwant %.200s", got, want)
		}
	}
	// Several results come in an envelope, in order.
	var buf bytes.Buffer
	if err := Write(&buf, JSON, []*scan.Result{fullResult(), failedResult()}, Options{ToolVersion: "v2"}); err != nil {
		t.Fatal(err)
	}
	var env Envelope
	if err := json.Unmarshal(buf.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	if env.SchemaVersion != scan.SchemaVersion || env.Tool.Version != "v2" || len(env.Results) != 2 ||
		env.Results[0].Host != "shop.example.com" || env.Results[1].Error == nil {
		t.Errorf("envelope = %+v", env)
	}
}

// TestJSONFillsDefaults checks that a result missing its version, tool or
// slices still produces a document that keeps the schema's promises.
func TestJSONFillsDefaults(t *testing.T) {
	r := &scan.Result{Target: "x.example", TLS: &scan.TLSInfo{}}
	var buf bytes.Buffer
	if err := Write(&buf, JSON, []*scan.Result{r}, Options{ToolVersion: "v7"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"schema_version": 2`, `"name": "httpsguard"`, `"version": "v7"`, `"checks": []`, `"chain": []`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if r.SchemaVersion != 0 || r.Checks != nil || r.TLS.Chain != nil {
		t.Error("normalizing changed the caller's result")
	}
}

// TestReadsSchemaVersion1 reads a document version 1 wrote (the golden
// multi-target report before version 2): it still matches its schema,
// decodes, and renders in every format, its failed target without a grade
// and with its error as text.
func TestReadsSchemaVersion1(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "v1", "multi.json"))
	if err != nil {
		t.Fatal(err)
	}
	validate(t, compileSchemaFile(t, schemaV1Path), "v1/multi.json", doc)
	var env Envelope
	if err := json.Unmarshal(doc, &env); err != nil {
		t.Fatal(err)
	}
	if len(env.Results) != 3 {
		t.Fatalf("%d results", len(env.Results))
	}
	full, down := env.Results[0], env.Results[1]
	if !full.Graded() || full.Grade != "C+" || full.Score != 62 {
		t.Errorf("graded v1 result read as %q %d", full.Grade, full.Score)
	}
	var errored *scan.Check
	for i := range full.Checks {
		if full.Checks[i].Status == scan.StatusError {
			errored = &full.Checks[i]
		}
	}
	if errored == nil || errored.Error == nil || errored.Error.Kind != scan.KindUnclassified || !strings.Contains(errored.Error.Message, "i/o timeout") {
		t.Errorf("v1 check error read as %+v", errored)
	}
	if down.Graded() || down.Error == nil || down.Error.Kind != scan.KindUnclassified || !strings.Contains(down.Error.Message, "connection refused") {
		t.Errorf("v1 failed result read as grade %q error %+v", down.Grade, down.Error)
	}
	for _, f := range Formats() {
		var buf bytes.Buffer
		if err := Write(&buf, f, env.Results, Options{}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !strings.Contains(buf.String(), "connection refused") {
			t.Errorf("%s: the v1 error is not shown", f)
		}
		if f == JSON {
			validate(t, compileSchema(t), "v1 rewritten as v2", buf.Bytes())
		}
	}
}

// TestSchemaTLSFacts validates a result carrying the TLS facts (every
// version's suites, forward secrecy, the chain facts) against the schema,
// and makes sure the schema refuses a strength it does not define.
func TestSchemaTLSFacts(t *testing.T) {
	sch := compileSchema(t)
	r := fullResult()
	r.TLS.Protocols = []scan.ProtocolSupport{
		{Version: "SSL 2.0", Refusal: "alert protocol_version"},
		{Version: "SSL 3.0", Error: "no answer within 10s"},
		{Version: "TLS 1.2", Offered: true, Incomplete: "handshake limit reached (400)", CipherSuites: []scan.CipherSuite{
			{ID: "0xc02f", Name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", KeyExchange: "ECDHE", Encryption: "AES-128-GCM", ForwardSecrecy: true, Strength: "strong"},
			{ID: "0x0033", Name: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", KeyExchange: "DHE", Encryption: "AES-128-CBC", ForwardSecrecy: true, Strength: "weak"},
		}},
	}
	r.TLS.ForwardSecrecy = "some"
	r.TLS.ChainFacts = &scan.ChainFacts{Status: "incomplete", MissingIssuer: "CN=R11,O=Let's Encrypt,C=US",
		MissingIssuerURL: "http://r11.i.lencr.org/", NameMatch: true, WeakSignatures: []string{"CN=example.com: SHA1-RSA"}}
	good := mustJSON(t, normalized(r, Options{}))
	validate(t, sch, "tls facts", []byte(good))
	for name, doc := range map[string]string{
		"strength":        strings.Replace(good, `"strength":"weak"`, `"strength":"meh"`, 1),
		"chain status":    strings.Replace(good, `"status":"incomplete"`, `"status":"fine"`, 1),
		"forward secrecy": strings.Replace(good, `"forward_secrecy":"some"`, `"forward_secrecy":"most"`, 1),
	} {
		if doc == good {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(inst) == nil {
			t.Errorf("%s: the schema accepted an invalid document", name)
		}
	}
}

// CSP differential driver: reads a JSON array of cases from stdin, each
// {"header": [policies sent as headers], "meta": [policies in <meta>]},
// runs the MDN HTTP Observatory 1.4.8's own CSP parser and CSP test on an
// HTTPS page carrying them, and prints a JSON array of
// {"result", "policy"} (policy: directive -> sorted sources, or null).
//
// Usage: OBSERVATORY_DIR=... node csp.mjs < cases.json
import path from "node:path";
import { pathToFileURL } from "node:url";
import fs from "node:fs";
import { createRequire } from "node:module";

const dir = process.env.OBSERVATORY_DIR;
const load = (p) => import(pathToFileURL(path.join(dir, p)).href);
const requireFromObservatory = createRequire(path.join(dir, "package.json"));
const { AxiosHeaders } = requireFromObservatory("axios");
const { Requests } = await load("src/types.js");
const { contentSecurityPolicyTest } = await load("src/analyzer/tests/csp.js");
const { parseCsp } = await load("src/analyzer/cspParser.js");

const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const out = [];
for (const c of cases) {
  c.header ??= [];
  c.meta ??= [];
  const req = new Requests("mozilla.org");
  const headers = new AxiosHeaders();
  headers.set("Content-Type", "text/html");
  if (c.header.length) {
    // Node joins repeated fields with ", " before axios sees them.
    headers.set("Content-Security-Policy", c.header.join(", "));
  }
  req.responses.auto = {
    headers,
    status: 200,
    verified: true,
    data: "",
    httpEquiv: new Map([["content-security-policy", c.meta]]),
  };
  req.session = { url: new URL("https://mozilla.org/") };
  const t = contentSecurityPolicyTest(req);
  let policy = null;
  try {
    const all = [];
    if (c.header.length) all.push(c.header.join(", "));
    all.push(...c.meta);
    const m = parseCsp(all);
    policy = {};
    for (const [k, v] of m) policy[k] = [...v].sort();
  } catch (e) {
    policy = null;
  }
  out.push({ result: t.result, policy });
}
console.log(JSON.stringify(out));

// Cookie differential driver: reads a JSON array of cases from stdin, each
// {"url": request URL, "cookies": [Set-Cookie lines], "hsts": bool}, stores
// the lines in a tough-cookie jar the way the Observatory's HTTP agent does,
// runs the MDN HTTP Observatory 1.4.8's cookies test, and prints a JSON
// array of {"result", "keys"} (keys: the jar's cookies as
// "key|domain|path|secure|httpOnly|sameSite", sorted).
//
// Usage: OBSERVATORY_DIR=... node cookies.mjs < cases.json
import path from "node:path";
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const dir = process.env.OBSERVATORY_DIR;
const load = (p) => import(pathToFileURL(path.join(dir, p)).href);
const requireFromObservatory = createRequire(path.join(dir, "package.json"));
const { AxiosHeaders } = requireFromObservatory("axios");
const { CookieJar } = requireFromObservatory("tough-cookie");
const { Requests } = await load("src/types.js");
const { cookiesTest } = await load("src/analyzer/tests/cookies.js");

const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const out = [];
for (const c of cases) {
  const req = new Requests("mozilla.org");
  const jar = new CookieJar();
  for (const line of c.cookies ?? []) {
    jar.setCookieSync(line, c.url, { ignoreError: true });
  }
  const headers = new AxiosHeaders();
  headers.set("Content-Type", "text/html");
  const auto = { headers, status: 200, verified: true, data: "" };
  auto.headers["set-cookie"] = c.cookies ?? [];
  const https = { headers: new AxiosHeaders(), status: 200, verified: true };
  if (c.hsts) https.headers.set("Strict-Transport-Security", "max-age=31536000");
  req.responses.auto = auto;
  req.responses.https = https;
  req.session = { url: new URL(c.url), jar };
  const t = cookiesTest(req);
  const keys = jar
    .serializeSync()
    .cookies.map(
      (k) =>
        `${k.key}|${k.domain}|${k.path}|${!!k.secure}|${!!k.httpOnly}|${k.sameSite ?? ""}`
    )
    .sort();
  out.push({ result: t.result, keys });
}
console.log(JSON.stringify(out));

// Cookie differential driver: reads a JSON array of cases from stdin, each
// {"exchanges": [{"url": request URL, "cookies": [Set-Cookie lines]}...],
// "hsts": bool}. For each exchange it does to a tough-cookie jar what the
// Observatory's HTTP agent (http-cookie-agent) does for one request: read
// the jar for the request (which drops the expired cookies it would send),
// then store the response's cookies, both for the URL the agent rebuilds
// with url.format from the request's host name and path. Then it runs the
// MDN HTTP Observatory 1.4.8's cookies test on the last exchange as the
// final response and prints a JSON array of {"result", "keys", "failed",
// "sent"} (keys: the jar's cookies as "key|domain|path|secure|httpOnly|
// sameSite|expired|expires", sorted; failed: a request the agent fails;
// sent: the Cookie header of each request).
//
// Usage: OBSERVATORY_DIR=... node cookies.mjs < cases.json
import path from "node:path";
import fs from "node:fs";
import url from "node:url";
import { pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const dir = process.env.OBSERVATORY_DIR;
const load = (p) => import(pathToFileURL(path.join(dir, p)).href);
const requireFromObservatory = createRequire(path.join(dir, "package.json"));
const { AxiosHeaders } = requireFromObservatory("axios");
const { Cookie, CookieJar } = requireFromObservatory("tough-cookie");
const { Requests } = await load("src/types.js");
// The agent's own function for the Cookie header (not exported by name).
const agentDir = path.dirname(path.dirname(requireFromObservatory.resolve("http-cookie-agent/http")));
const { createCookieHeaderValue } = createRequire(import.meta.url)(
  path.join(agentDir, "dist/utils/create_cookie_header_value.js")
);
const { cookiesTest } = await load("src/analyzer/tests/cookies.js");

// agentURL is the URL http-cookie-agent hands the jar for a request to u:
// axios requests host name (no brackets, no port) and path plus query.
function agentURL(u) {
  const p = new URL(u);
  const hostname = p.hostname.startsWith("[") ? p.hostname.slice(1, -1) : p.hostname;
  return url.format({ host: hostname, pathname: p.pathname + p.search, protocol: p.protocol });
}

const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const out = [];
for (const c of cases) {
  const req = new Requests("mozilla.org");
  const jar = new CookieJar();
  let last = [];
  let failed = false;
  const sent = [];
  for (const x of c.exchanges) {
    const requestUrl = agentURL(x.url);
    try {
      sent.push(createCookieHeaderValue({ cookieOptions: { jar }, passedValues: [undefined], requestUrl }));
      for (const line of x.cookies ?? []) {
        jar.setCookieSync(line, requestUrl, { ignoreError: true });
      }
    } catch (e) {
      // The agent destroys the request: the session fails here.
      failed = true;
      break;
    }
    last = x.cookies ?? [];
  }
  const headers = new AxiosHeaders();
  headers.set("Content-Type", "text/html");
  const auto = { headers, status: 200, verified: true, data: "" };
  auto.headers["set-cookie"] = last;
  const https = { headers: new AxiosHeaders(), status: 200, verified: true };
  if (c.hsts) https.headers.set("Strict-Transport-Security", "max-age=31536000");
  req.responses.auto = auto;
  req.responses.https = https;
  req.session = { url: new URL(c.exchanges[0].url), jar };
  const t = cookiesTest(req);
  const now = Date.now();
  const keys = jar
    .serializeSync()
    .cookies.map((s) => {
      const cookie = Cookie.fromJSON(s);
      const expired = (cookie.expiryTime(new Date(now)) ?? Infinity) <= now;
      const expires = s.expires && s.expires !== "Infinity" ? s.expires : "";
      return `${s.key}|${s.domain}|${s.path}|${!!s.secure}|${!!s.httpOnly}|${s.sameSite ?? ""}|${expired}|${expires}`;
    })
    .sort();
  out.push({ result: t.result, keys, failed, sent });
}
console.log(JSON.stringify(out));

// observatory-scan.mjs runs one MDN HTTP Observatory 1.4.8 scan exactly as
// its CLI (src/scan.js -> src/scanner/index.js scan()) does, except that the
// retriever is given the HTTP and HTTPS ports: the CLI's scan() drops them,
// and the benchmark site is not on 80/443. The scoring code below is
// scanner/index.js's, unchanged in substance.
//
// usage: node observatory-scan.mjs OBSERVATORY_PKG_DIR HOST HTTP_PORT HTTPS_PORT
import path from "node:path";
import { pathToFileURL } from "node:url";

const t0 = performance.now();
const [pkgDir, host, httpPort, httpsPort] = process.argv.slice(2);
const mod = (p) => import(pathToFileURL(path.join(pkgDir, "src", p)).href);

const { retrieve } = await mod("retriever/retriever.js");
const { MINIMUM_SCORE_FOR_EXTRA_CREDIT } = await mod("grader/charts.js");
const { getGradeForScore, getScoreModifier } = await mod("grader/grader.js");
const { ALL_TESTS } = await mod("constants.js");

const t1 = performance.now();
const r = await retrieve(host, { httpPort: Number(httpPort), httpsPort: Number(httpsPort) });
if (!r.responses.auto) {
  console.log(JSON.stringify({ error: "The site seems to be down." }));
  process.exit(1);
}
const results = ALL_TESTS.map((test) => test(r));
const t2 = performance.now();
let withExtra = 100;
let uncurved = 100;
for (const res of results) {
  if (res.result) {
    const m = getScoreModifier(res.result);
    withExtra += m;
    if (m < 0) uncurved += m;
  }
}
const score = uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withExtra : uncurved;
const final = getGradeForScore(score);
console.log(JSON.stringify({ score: final.score, grade: final.grade, load_ms: Math.round(t1 - t0), scan_ms: Math.round(t2 - t1), tests: Object.fromEntries(results.map((t) => [t.constructor.name, t.result])) }));

// Cross-check driver: runs the real MDN HTTP Observatory (npm package
// @mdn/mdn-http-observatory 1.4.8) against one host on non-standard ports and
// prints its verdict as JSON on stdout.
//
// The Observatory's scan() ignores ports, so this calls its retriever with
// {httpPort, httpsPort} and rebuilds the score as src/scanner/index.js does.
//
// Usage: OBSERVATORY_DIR=/path/to/node_modules/@mdn/mdn-http-observatory \
//          node driver.mjs HOSTNAME:HTTP_PORT:HTTPS_PORT...
//
// It prints one JSON array with one verdict per site, in argument order;
// the sites are scanned one after the other so the Observatory's modules
// load only once.
import path from "node:path";
import { pathToFileURL } from "node:url";

const dir = process.env.OBSERVATORY_DIR;
if (!dir) {
  console.error("OBSERVATORY_DIR is not set");
  process.exit(2);
}
const load = (p) => import(pathToFileURL(path.join(dir, p)).href);

const { retrieve } = await load("src/retriever/retriever.js");
const { ALL_TESTS } = await load("src/constants.js");
const { MINIMUM_SCORE_FOR_EXTRA_CREDIT } = await load("src/grader/charts.js");
const { getGradeForScore, getScoreModifier } = await load(
  "src/grader/grader.js"
);

async function run(hostname, httpPort, httpsPort) {
  const r = await retrieve(hostname, { httpPort, httpsPort });
  if (!r.responses.auto) {
    return { error: "site-down" };
  }
  const { status } = r.responses.auto;
  if (status < 200 || (status >= 400 && ![401, 403].includes(status))) {
    return { error: "unexpected-status", statusCode: status };
  }
  const results = ALL_TESTS.map((test) => test(r));
  let withBonus = 100;
  let uncurved = 100;
  let passed = 0;
  const tests = [];
  for (const result of results) {
    const modifier = result.result ? getScoreModifier(result.result) : 0;
    withBonus += modifier;
    if (modifier < 0) uncurved += modifier;
    if (result.pass) passed++;
    tests.push({
      name: result.constructor.name,
      result: result.result,
      pass: !!result.pass,
      scoreModifier: modifier,
    });
  }
  const score = uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withBonus : uncurved;
  const final = getGradeForScore(score);
  // The analysed session's cookie jar, for failure messages.
  const jar = (r.session?.jar?.serializeSync()?.cookies ?? []).map(
    (c) =>
      `${c.key}=${c.value}|${c.domain}|${c.path}|${c.secure ? "secure" : ""}|${c.httpOnly ? "httponly" : ""}|${c.sameSite ?? ""}|${c.expires ?? ""}|${c.maxAge ?? ""}`
  );
  return {
    jar,
    score: final.score,
    grade: final.grade,
    statusCode: status,
    testsPassed: passed,
    tests,
  };
}

const verdicts = [];
for (const site of process.argv.slice(2)) {
  const [hostname, httpPort, httpsPort] = site.split(":");
  try {
    verdicts.push(await run(hostname, httpPort, httpsPort));
  } catch (e) {
    verdicts.push({ error: "exception", message: String(e) });
  }
}
console.log(JSON.stringify(verdicts));

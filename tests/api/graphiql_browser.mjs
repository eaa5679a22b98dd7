// Drives headless Chromium (playwright-core, the machine's own Chromium) through GraphiQL at <base>/graphql:
// waits for the editors, runs the default query with Ctrl-Enter, opens the explorer, and reports on
// stdout, as one JSON object, what the page showed and every request it made. tests/api/test_graphiql_browser.py asserts.
//   node tests/api/graphiql_browser.mjs <base url> <chromium executable> [screenshot.png]
import { chromium } from "playwright-core";

const [base, executablePath, screenshot] = process.argv.slice(2);
const origin = new URL(base).origin;
const started = Date.now();
const timings = {};
const mark = (name) => { timings[name] = Date.now() - started; };

const browser = await chromium.launch({
  executablePath,
  headless: true,
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start. The resolver rule keeps
  // every other host unreachable, so the page works only if it needs nothing but the local server.
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
         `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${new URL(base).hostname}`],
});
const report = { requests: [], external: [], failed: [], console: [], errors: [], timings };
try {
  const context = await browser.newContext();
  // Every request of the page and its workers passes here: recorded, and refused unless it is local.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    report.requests.push(url);
    if (new URL(url).origin !== origin && !url.startsWith("data:") && !url.startsWith("blob:")) {
      report.external.push(url);
      return route.abort("blockedbyclient");
    }
    return route.continue();
  });
  context.on("requestfailed", (r) => report.failed.push(`${r.url()} ${r.failure()?.errorText}`));
  const page = await context.newPage();
  page.on("console", (m) => report.console.push({ type: m.type(), text: m.text() }));
  page.on("pageerror", (e) => report.errors.push(String(e)));
  page.on("worker", (w) => w.on("console", (m) => report.console.push({ type: m.type(), text: m.text(),
                                                                        worker: w.url() })));

  const response = await page.goto(`${base}/graphql`, { waitUntil: "load", timeout: 20000 });
  report.status = response.status();
  report.csp = response.headers()["content-security-policy"] || null;
  mark("loaded");

  const text = (locator) => locator.evaluate((el) => el.innerText.replace(/\u00a0/g, " "));
  const queryEditor = page.locator(".graphiql-query-editor .monaco-editor .view-lines");
  await queryEditor.filter({ hasText: "me" }).waitFor({ timeout: 20000 });
  report.queryText = await text(queryEditor);
  const headersEditor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .view-lines");
  await headersEditor.filter({ hasText: "Bearer" }).waitFor({ timeout: 10000 });
  report.headersText = await text(headersEditor);
  mark("editorsShown");

  await page.locator(".graphiql-query-editor .monaco-editor textarea").focus();
  await page.keyboard.press("Control+Enter");
  const result = page.locator(".graphiql-response .result-window .view-lines");
  await result.filter({ hasText: '"data"' }).waitFor({ timeout: 15000 });
  report.resultText = await text(result);
  mark("resultShown");

  // The explorer plugin builds its tree from the schema the page introspected.
  await page.locator('button[aria-label="Show GraphiQL Explorer"]').click();
  const explorer = page.locator(".graphiql-plugin");
  await explorer.filter({ hasText: "members" }).waitFor({ timeout: 10000 });
  report.explorerText = await text(explorer);
  mark("explorerShown");
  if (screenshot) await page.screenshot({ path: screenshot });
  // Let late worker loads and console messages arrive before judging the run.
  await page.waitForTimeout(300);
  await context.close();
} catch (e) {
  report.failure = String(e && e.stack || e);
  const page = browser.contexts()[0]?.pages()[0];
  if (page && screenshot) await page.screenshot({ path: screenshot }).catch(() => {});
  if (page) report.html = await page.locator(".graphiql-editor-tool").first().innerHTML().catch(() => null);
} finally {
  await browser.close();
  mark("total");
  process.stdout.write(JSON.stringify(report));
}

// The console's acceptance scenario in headless chromium, run by
// console_test.go (go test ./test/console). Inputs come from HS_* variables;
// steps that need the Go side (ingest as a sender, make the receiver fail or
// heal, read the API) are asked for on stdout ("HS-STEP {json}") and
// answered on stdin; the last line is "HS-RESULT {json}". Every wait is
// bounded, and the browser is closed on every exit path.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import path from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env("HS_BASE_URL");
const TENANT = env("HS_TENANT_ID");
const OTHER_URL = env("HS_OTHER_URL");
const RECEIVER_URL = env("HS_RECEIVER_URL");
const MAX_ATTEMPTS = Number(env("HS_MAX_ATTEMPTS"));
const SHOTS = env("HS_SCREENSHOTS");
// playwright-core is installed in tools/browser, not next to this script.
const require = createRequire(path.join(env("HS_PLAYWRIGHT_DIR"), "package.json"));
const { chromium } = require("playwright-core");

const TOTAL_MS = 4 * 60 * 1000; // the whole scenario
const WAIT_MS = 15000; // one expectation

const result = { ok: false, error: "", consoleErrors: [], signedOutRequests: [], screenshots: [], checks: [] };
let browser = null;

// ---- talking to the Go side

const lines = createInterface({ input: process.stdin });
const answers = [];
const waiting = [];
lines.on("line", (l) => (waiting.length ? waiting.shift()(l) : answers.push(l)));
async function ask(action, args = {}) {
  process.stdout.write("HS-STEP " + JSON.stringify({ action, args }) + "\n");
  const line = answers.length ? answers.shift() : await withTimeout(new Promise((r) => waiting.push(r)), 30000, `step ${action}`);
  return JSON.parse(line);
}

function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([p, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out: ${what}`)), ms)))])
    .finally(() => clearTimeout(timer));
}

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  result.checks.push(what);
}

async function finish(code) {
  try {
    if (browser) await withTimeout(browser.close(), 10000, "browser close");
  } catch (err) {
    process.stderr.write(`closing the browser: ${err.message}\n`);
  }
  process.stdout.write("HS-RESULT " + JSON.stringify(result) + "\n");
  process.exit(code);
}

const overall = setTimeout(() => {
  result.error = result.error || `the scenario took longer than ${TOTAL_MS / 1000}s`;
  finish(1);
}, TOTAL_MS);

// ---- the scenario

// HTTP error statuses the current step expects: Chrome logs a console error
// for every failed fetch, and only these are not counted as failures.
let allowedStatuses = new Set();

async function main() {
  browser = await chromium.launch({
    executablePath: env("HS_CHROMIUM"),
    headless: true,
    timeout: 30000,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
      "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(BASE).origin });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.setDefaultNavigationTimeout(WAIT_MS);

  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const m = /status of (\d{3})/.exec(msg.text());
    if (m && allowedStatuses.has(Number(m[1]))) return;
    // A page without an icon link (the issuer's) makes chromium ask for
    // /favicon.ico; its 404 says nothing about the console
    // (a strict page policy may also refuse it: same story).
    if (msg.text().includes("/favicon.ico") || new URL(msg.location().url || BASE, BASE).pathname === "/favicon.ico") return;
    result.consoleErrors.push(`${msg.text()} (${page.url()})`);
  });
  page.on("pageerror", (err) => result.consoleErrors.push(`page error: ${err.message}`));

  const shot = async (name) => {
    const file = path.join(SHOTS, name + ".png");
    await page.screenshot({ path: file, fullPage: true });
    result.screenshots.push(file);
  };
  const heading = (name) => page.getByRole("heading", { level: 1, name });
  const button = (name) => page.getByRole("button", { name, exact: true });
  const link = (name) => page.getByRole("link", { name, exact: true });
  // Clicks Refresh until the row of eventId shows status (events list).
  const waitForEventStatus = async (eventId, status) => {
    const row = page.locator(`tr[data-event-id="${eventId}"]`);
    const deadline = Date.now() + 30000;
    for (;;) {
      if ((await row.count()) && (await row.locator(".badge").textContent()) === status) return row;
      if (Date.now() > deadline) throw new Error(`event ${eventId} not ${status} in the list within 30s`);
      await page.waitForTimeout(400);
      await button("Refresh").click();
      await page.locator("table.events, .results .empty").first().waitFor();
    }
  };

  // 1. Signed out: the console loads its assets and config.json, and no API.
  const requests = [];
  const recordRequest = (req) => requests.push(new URL(req.url()).pathname);
  page.on("request", recordRequest);
  await page.goto(BASE + "/console/");
  await button("Sign in").waitFor();
  await page.waitForLoadState("networkidle");
  page.off("request", recordRequest);
  result.signedOutRequests = requests;
  check(requests.some((p) => p === "/console/config.json"), "signed out, the console fetched /console/config.json");
  check(requests.every((p) => p.startsWith("/console")), "signed out, the console requested only /console/*: " + requests.join(" "));
  await shot("01-signed-out");

  // 2. Sign in through the local issuer with the tenant's id. The
  // configured authorize URL's own parameters are kept (an Auth0 audience
  // travels in it): here one added to the real configuration.
  await page.route("**/console/config.json", async (route) => {
    const resp = await route.fetch();
    const cfg = await resp.json();
    const u = new URL(cfg.authorizeUrl);
    u.searchParams.set("audience", "https://api.example");
    cfg.authorizeUrl = u.toString();
    await route.fulfill({ response: resp, json: cfg });
  });
  await page.reload();
  await button("Sign in").click();
  await page.waitForURL((u) => u.pathname.startsWith("/oauth/"));
  check(new URL(page.url()).searchParams.get("audience") === "https://api.example", "sign-in keeps the authorize URL's own parameters");
  await page.unroute("**/console/config.json");
  await page.getByLabel("Tenant ID").fill(TENANT);
  await shot("02-issuer-sign-in");
  await button("Sign in").click();
  await heading("Destinations").waitFor();
  check(!new URL(page.url()).search, "after sign-in the URL has no code or state: " + page.url());
  const stored = await page.evaluate(() => ({ session: Object.keys(sessionStorage), cookies: document.cookie }));
  check(stored.session.includes("hooksentry.token") && !stored.cookies.includes("eyJ"), "the token is in sessionStorage, not a cookie");

  // 3. Another tenant's destination never shows.
  await page.locator(".results table, .results .empty").first().waitFor();
  check(!(await page.content()).includes(OTHER_URL), "tenant B's destination is not listed");
  await page.getByLabel("URL contains").fill("tenant-b-");
  await button("Apply").click();
  await page.getByText("No destinations match.").waitFor();
  check(true, "filtering on tenant B's URL finds nothing");

  // 4. New destination: server-side validation errors are shown inline.
  await link("New destination").click();
  await heading("New destination").waitFor();
  await page.getByLabel("URL", { exact: true }).fill("http://not-https.example/hook");
  allowedStatuses = new Set([400]);
  await button("Create").click();
  const urlError = page.locator("#e-url");
  await urlError.filter({ hasText: /\S/ }).waitFor();
  check((await page.getByLabel("URL", { exact: true }).getAttribute("aria-invalid")) === "true", "a 400 marks the URL field invalid: " + (await urlError.textContent()));
  check(((await page.locator(".form-error").textContent()) || "").trim() !== "", "a 400 shows the problem's detail on the form");
  allowedStatuses = new Set();

  // 5. Create it for real, with an API key.
  await page.getByLabel("URL", { exact: true }).fill(RECEIVER_URL);
  await page.getByLabel(/Rate limit/).fill("3");
  await page.getByLabel("Auth type").selectOption("ApiKey");
  await page.getByLabel("Header name").fill("X-Api-Key");
  await page.getByLabel("Value", { exact: true }).fill("console-secret");
  await page.getByLabel("event.failed").check();
  await shot("03-new-destination");
  await button("Create").click();
  await heading("Destination created").waitFor();
  const token = await page.getByLabel("Ingest token", { exact: true }).inputValue();
  const secret = await page.getByLabel("Signing secret", { exact: true }).inputValue();
  check(/^dst_[0-9a-f]{32}$/.test(token), "the ingest token is shown once");
  check(/^whsec_[A-Za-z0-9+/]{43}=$/.test(secret), "the signing secret is shown once");
  result.ingestToken = token;
  await page.getByRole("button", { name: "Copy ingest token" }).click();
  await page.getByText("Copied.").waitFor();
  check((await page.evaluate(() => navigator.clipboard.readText())) === token, "Copy puts the ingest token on the clipboard");
  await shot("04-created-secrets");
  await link("Open destination").click();
  await page.getByRole("heading", { name: "Edit" }).waitFor();
  const destId = new URL(page.url()).hash.split("/")[2];
  result.destinationId = destId;
  const api1 = await ask("destination", { id: destId });
  check(api1.status === 200 && api1.destination.authType === "ApiKey" && api1.destination.serverRateLimit === 3 &&
    api1.destination.alerts.join() === "event.failed", "the API has what the form sent: " + JSON.stringify(api1.destination));

  // The list shows it with its status, rate limit and auth type.
  await link("Destinations").click();
  await heading("Destinations").waitFor();
  const listRow = page.locator("tbody tr", { has: page.getByRole("link", { name: RECEIVER_URL, exact: true }) });
  await listRow.waitFor();
  const cells = await listRow.locator("td").allTextContents();
  check(cells[1] === "Active" && cells[2] === "3" && cells[3] === "ApiKey", "the list shows status, rate limit and auth type: " + cells.join(" | "));
  check(!(await page.content()).includes(OTHER_URL), "tenant B's destination is still not listed");
  await shot("05-destinations");

  // 6. An event ingested with the token shown is Delivered, with its attempt.
  const { eventId: ev1 } = await ask("ingest", { token, body: JSON.stringify({ order: 1, item: "console" }) });
  await listRow.getByRole("link", { name: "Events", exact: true }).click();
  await heading("Events").waitFor();
  const row1 = await waitForEventStatus(ev1, "Delivered");
  check((await row1.locator("td.num").textContent()) === "1", "the delivered event has 1 attempt");
  await page.locator("svg.chart").waitFor();
  check((await page.locator("svg.chart rect.bar-delivered").count()) >= 1, "the chart has a Delivered bar");
  await shot("06-events");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("07-events-phone");
  await page.setViewportSize({ width: 1280, height: 860 });

  await row1.getByRole("link").click();
  await page.getByRole("heading", { name: "Attempts" }).waitFor();
  check((await page.locator(".payload").first().textContent()).includes('"order": 1'), "the JSON payload is pretty-printed");
  check(await page.getByText("Attempt 1", { exact: true }).isVisible(), "the detail shows attempt 1");
  check((await page.locator(".attempt .badge").first().textContent()) === "Delivered", "attempt 1 Delivered");
  check(await page.getByRole("cell", { name: "X-Sender", exact: true }).isVisible(), "the headers table shows the sender's headers");
  await shot("08-event-detail");

  // 7. The receiver fails: the next event is Failed after its attempts.
  await ask("fail");
  const { eventId: ev2 } = await ask("ingest", { token, body: "plain text, not JSON" });
  await page.goBack();
  await heading("Events").waitFor();
  const row2 = await waitForEventStatus(ev2, "Failed");
  check((await row2.locator("td.num").textContent()) === String(MAX_ATTEMPTS), `the failed event has ${MAX_ATTEMPTS} attempts`);
  await shot("09-events-failed");

  // 8. Healed, "Replay failed" delivers it.
  await ask("heal");
  await button("Replay failed").click();
  await page.getByText("Replayed 1, remaining 0.").waitFor();
  check(true, "Replay failed answered: replayed 1, remaining 0");
  await waitForEventStatus(ev2, "Delivered");
  await page.locator(`tr[data-event-id="${ev2}"]`).getByRole("link").click();
  await page.getByRole("heading", { name: "Attempts" }).waitFor();
  check((await page.locator(".payload").first().textContent()) === "plain text, not JSON", "a text payload is shown as is");
  check(await page.getByText("Manual", { exact: true }).isVisible(), "the replayed attempt is Manual");
  check(await page.getByText("receiver down for the test").first().isVisible(), "a failed attempt shows the response body");

  // 9. Replay one event; while it is in flight (Pending) a second replay is 409.
  await ask("slow");
  await button("Replay").click();
  await page.getByText(/Replay queued/).waitFor();
  allowedStatuses = new Set([409]);
  await button("Replay").click();
  await page.getByText(/already pending/).waitFor();
  check(true, "replaying a Pending event shows the 409 message");
  allowedStatuses = new Set();
  await ask("heal");
  await shot("10-event-replayed");

  // 10. Edit the rate limit: only that field changes.
  await page.goto(`${BASE}/console/#/destinations/${destId}`);
  await page.getByRole("heading", { name: "Edit" }).waitFor();
  await page.getByLabel(/Rate limit/).fill("7");
  await button("Save").click();
  await page.getByText("Saved.").waitFor();
  const api2 = await ask("destination", { id: destId });
  check(api2.destination.serverRateLimit === 7 && api2.destination.authType === "ApiKey" &&
    api2.destination.alerts.join() === "event.failed", "Save changed the rate limit and nothing else");
  check((await page.getByLabel(/Rate limit/).inputValue()) === "7", "the form shows the saved rate limit");
  await shot("11-destination-edit");

  // 11. Delete, confirmed in the dialog.
  await page.locator("section.danger").getByRole("button", { name: "Delete", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  await shot("12-delete-confirm");
  await dialog.getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByText("Destination deleted.").waitFor();
  await heading("Destinations").waitFor();
  await page.locator(".results table, .results .empty").first().waitFor();
  check(!(await page.content()).includes(RECEIVER_URL), "the deleted destination is gone from the list");
  const api3 = await ask("destination", { id: destId });
  check(api3.status === 404, "the API no longer has the destination");
  await shot("13-destinations-after-delete");

  // A malformed address is a "Not found" page, not a page error (the run
  // fails on any), and the page's title and focus follow the heading.
  await page.goto(`${BASE}/console/#/destinations/%E0`);
  await page.getByRole("heading", { name: "Not found" }).waitFor();
  check((await page.title()).startsWith("Not found"), "a malformed address shows Not found, titled so");
  check(await page.evaluate(() => document.activeElement && document.activeElement.tagName === "H1"), "focus moves to the page's heading");
  await page.goto(`${BASE}/console/#/destinations`); // back where the next steps start
  await link("New destination").waitFor();

  // 12. Sign out forgets the token.
  await button("Sign out").click();
  await button("Sign in").waitFor();
  check(!(await page.evaluate(() => sessionStorage.getItem("hooksentry.token"))), "sign-out clears the token");

  // 13. A token the API refuses (401) brings the console back to signed out.
  await page.evaluate(() => sessionStorage.setItem("hooksentry.token", JSON.stringify({ accessToken: "not-a-jwt", expiresAt: null })));
  allowedStatuses = new Set([401]);
  await page.goto(`${BASE}/console/#/destinations`);
  await page.reload(); // the same URL may not reload by itself
  await page.getByText("Your session has ended. Sign in again.").waitFor();
  await button("Sign in").waitFor();
  check(!(await page.evaluate(() => sessionStorage.getItem("hooksentry.token"))), "a 401 signs the console out");
  allowedStatuses = new Set();

  result.ok = result.consoleErrors.length === 0;
  if (!result.ok) result.error = "the browser logged errors";
}

main().then(
  () => finish(result.ok ? 0 : 1),
  async (err) => {
    result.error = err && err.stack ? err.stack : String(err);
    clearTimeout(overall);
    try {
      const pages = browser ? browser.contexts().flatMap((c) => c.pages()) : [];
      if (pages[0]) {
        const file = path.join(SHOTS, "failure.png");
        await withTimeout(pages[0].screenshot({ path: file, fullPage: true }), 10000, "failure screenshot");
        result.screenshots.push(file);
        result.error += `\n(at ${pages[0].url()})`;
      }
    } catch {
      /* the failure itself is what matters */
    }
    finish(1);
  });

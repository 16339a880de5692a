// What every browser test needs: a fresh orderflow server (its own SQLite file, seeded with
// the demo data, on a free port) and a headless Chromium page pointed at its /admin console.
//
// Environment:
//   ORDERFLOW_BIN  the server binary (default: $CARGO_TARGET_DIR or <repo>/target, debug build)
//   CHROMIUM       the browser (default /usr/bin/chromium, Debian's package)
//   ORDERFLOW_SCREENSHOTS_DIR  where screenshots go (default e2e/output/screenshots)
//   ORDERFLOW_CONSOLE_DIST  serve the console from this directory (e.g. dist) instead of the
//                  copy embedded in the binary: a fast edit loop, with no server rebuild per
//                  console change. CI does not set it; the final run must not either.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../..");
// Screenshots go to e2e/output/screenshots (not committed) unless told otherwise; the
// committed set in e2e/screenshots (shown in the READMEs) is refreshed with
// ORDERFLOW_SCREENSHOTS_DIR=e2e/screenshots npm run e2e.
export const SCREENSHOTS = resolve(process.env.ORDERFLOW_SCREENSHOTS_DIR ?? join(here, "output", "screenshots"));
export const ADMIN_KEY = "e2e-admin-key-0123456789abcdef";

function serverBinary() {
  if (process.env.ORDERFLOW_BIN) return process.env.ORDERFLOW_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(repo, "target");
  return join(target, "debug", "orderflow");
}

function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

/** Starts a seeded server on a fresh database; `stop()` kills it and removes the database.
 * `env` adds to (or overrides) the server's environment, e.g.
 * `{ ORDERFLOW_WEBHOOK_ALLOW_PRIVATE: "true" }` for a test's own local webhook receiver. */
export async function startServer({ env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "orderflow-e2e-"));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const log = [];
  const child = spawn(serverBinary(), ["serve"], {
    env: {
      ...process.env,
      ORDERFLOW_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: `sqlite://${join(dir, "orderflow.db")}?mode=rwc`,
      ORDERFLOW_ADMIN_KEY: ADMIN_KEY,
      ORDERFLOW_SQLITE_SYNC: "normal",
      RUST_LOG: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => log.push(String(d)));
  child.stderr.on("data", (d) => log.push(String(d)));
  const exited = new Promise((ok) => child.once("exit", (code) => ok(code)));

  const deadline = Date.now() + 30_000;
  for (;;) {
    const code = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok(undefined), 100))]);
    if (code !== undefined) throw new Error(`orderflow exited with ${code}:\n${log.join("")}`);
    try {
      if ((await fetch(`${baseUrl}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`orderflow did not become ready:\n${log.join("")}`);
  }

  const front = process.env.ORDERFLOW_CONSOLE_DIST ? await consoleFromDisk(baseUrl, resolve(process.env.ORDERFLOW_CONSOLE_DIST)) : null;

  return {
    baseUrl: front?.url ?? baseUrl,
    adminKey: ADMIN_KEY,
    log,
    /** Calls the API with the admin key (or `key`); resolves to { status, body }. */
    async api(method, path, body, key = ADMIN_KEY) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    async stop() {
      await front?.close();
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const TYPES = { html: "text/html; charset=utf-8", js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", svg: "image/svg+xml", png: "image/png", json: "application/json", woff2: "font/woff2" };

/**
 * A front for the server that answers /admin/... from `dist` the way the server answers from
 * its embedded copy (app/src/http/console.rs: the file, else index.html; a missing hashed
 * asset is a 404; the server's own Content-Security-Policy) and passes every other request
 * to the server.
 */
async function consoleFromDisk(serverUrl, dist) {
  const csp = (await fetch(`${serverUrl}/admin/`)).headers.get("content-security-policy");
  const target = new URL(serverUrl);
  const front = createHttpServer((req, res) => {
    const path = new URL(req.url, serverUrl).pathname;
    if (path === "/admin" || path.startsWith("/admin/")) {
      const rel = decodeURIComponent(path.slice("/admin/".length));
      let file = rel && !rel.includes("..") ? join(dist, rel) : null;
      if (!file || !existsSync(file) || !statSync(file).isFile()) {
        if (rel.startsWith("assets/")) {
          res.writeHead(404, { "content-type": "application/problem+json" }).end('{"title":"Not Found","status":404}');
          return;
        }
        file = join(dist, "index.html");
      }
      const ext = file.split(".").pop();
      res.writeHead(200, { "content-type": TYPES[ext] ?? "application/octet-stream", "cache-control": "no-cache", ...(csp ? { "content-security-policy": csp } : {}) });
      res.end(readFileSync(file));
      return;
    }
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", (e) => res.destroy(e));
    req.pipe(upstream);
  });
  await new Promise((ok) => front.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${front.address().port}`,
    close: () => new Promise((ok) => { front.closeAllConnections(); front.close(ok); }),
  };
}

/** A headless Chromium with one page at the given viewport (1280x800 unless told). */
export async function openBrowser(viewport = { width: 1280, height: 800 }) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  return { browser, context, page, consoleErrors };
}

/** Signs in through the console's sign-in form. */
export async function signIn(page, baseUrl, key = ADMIN_KEY) {
  await page.goto(`${baseUrl}/admin/`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** Saves a full-page screenshot as <SCREENSHOTS>/<name>.png, after checking the screen
 * with axe (every screen worth a screenshot is worth an accessibility check). */
export async function screenshot(page, name) {
  await assertAccessible(page, name);
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * Runs axe-core (WCAG 2.x A and AA rules) on the page as it is and fails on any serious or
 * critical violation, listing each with the elements it concerns. axe is evaluated through
 * the DevTools protocol, which the console's Content-Security-Policy (no inline scripts)
 * does not apply to.
 */
export async function assertAccessible(page, where = page.url()) {
  const loaded = await page.evaluate(() => typeof window.axe === "object");
  if (!loaded) await page.evaluate(`${AXE_SOURCE}\n;void 0`);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
      resultTypes: ["violations"],
    });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes
        .slice(0, 5)
        .map((n) => `    ${n.target.join(" ")} ${n.failureSummary?.split("\n").slice(1, 2).join("") ?? ""}`)
        .join("\n")}`);
  });
  if (violations.length) throw new Error(`accessibility violations on ${where}:\n  ${violations.join("\n  ")}`);
}

/** The WCAG contrast ratio of two CSS rgb()/rgba() colours (the second must be opaque). */
export function contrastRatio(foreground, background) {
  const parse = (c) => (c.match(/[\d.]+/g) ?? []).map(Number);
  const [br, bg, bb] = parse(background);
  const [fr, fg, fb, fa = 1] = parse(foreground);
  const mix = (f, b) => f * fa + b * (1 - fa);
  const lum = ([r, g, b]) => {
    const ch = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
  };
  const l1 = lum([mix(fr, br), mix(fg, bg), mix(fb, bb)]);
  const l2 = lum([br, bg, bb]);
  return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
}

/** Fails on script errors the page logged (failed resource loads are the tests' own 404s). */
export function assertNoScriptErrors(consoleErrors) {
  const bad = consoleErrors.filter((e) => !/Failed to load resource/.test(e));
  assert.deepEqual(bad, [], `console errors: ${bad.join("\n")}`);
}

/**
 * One seeded server for a test file, started before its tests and stopped after them with
 * every browser `open()` launched. `server()` is the running server.
 */
export function sharedServer(options) {
  let server;
  const browsers = [];
  before(async () => {
    server = await startServer(options);
  });
  after(async () => {
    for (const b of browsers) await b.close();
    await server?.stop();
  });
  return {
    server: () => server,
    async open() {
      const opened = await openBrowser();
      browsers.push(opened.browser);
      return opened;
    },
  };
}

// What every browser test needs: a fresh orderflow server (its own SQLite file, seeded with
// the demo data, on a free port) and a headless Chromium page pointed at its /admin console.
//
// Environment:
//   ORDERFLOW_BIN  the server binary (default: $CARGO_TARGET_DIR or <repo>/target, debug build)
//   CHROMIUM       the browser (default /usr/bin/chromium, Debian's package)
//   ORDERFLOW_SCREENSHOTS_DIR  where screenshots go (default e2e/output/screenshots)
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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

/** Starts a seeded server on a fresh database; `stop()` kills it and removes the database. */
export async function startServer() {
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

  return {
    baseUrl,
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
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
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

/** Saves a full-page screenshot as <SCREENSHOTS>/<name>.png. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// The console's frame: what its first load costs, and the small things every page shows
// (the header's Sign out button, the Retry of an error), in Chromium against a real server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { assertAccessible, contrastRatio, openBrowser, signIn, startServer } from "./harness.mjs";

const FIRST_LOAD_LIMIT = 300 * 1024;

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** Records every response of the console (its page, scripts and styles) from now on, with
 * its gzipped size while the page that fetched it is still there (null after that). */
function recordConsoleResponses(page) {
  const fetched = [];
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (!url.pathname.startsWith("/admin")) return;
    fetched.push(
      response
        .body()
        .then((body) => ({ path: url.pathname, gzipped: gzipSync(body, { level: 9 }).length }))
        .catch(() => ({ path: url.pathname, gzipped: null })),
    );
  });
  return async () => Promise.all(fetched);
}

test("the first load fetches at most 300 KB gzipped; editors load when opened", async () => {
  const { browser, page } = await openBrowser();
  try {
    const responses = recordConsoleResponses(page);
    await page.goto(`${server.baseUrl}/admin/`);
    await page.getByLabel("API key").waitFor();
    await page.waitForLoadState("networkidle");
    const first = await responses();
    assert.ok(first.every((r) => r.gzipped !== null), JSON.stringify(first));
    const total = first.reduce((sum, r) => sum + r.gzipped, 0);
    const listing = first.map((r) => `${r.path} ${(r.gzipped / 1024).toFixed(1)} KB`).join("\n");
    assert.ok(total <= FIRST_LOAD_LIMIT, `first load ${(total / 1024).toFixed(1)} KB gzipped:\n${listing}`);
    assert.ok(first.some((r) => r.path.endsWith(".js")), listing);
    // The editors (form library, code editor) are not part of it.
    assert.ok(!first.some((r) => /DocumentEditor|FunctionEditor/.test(r.path)), listing);
    await assertAccessible(page, "sign-in");

    // Opening a document brings its editor.
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/payment-combination/default`);
    await page.locator("#root_methods_0_method").waitFor();
    const all = await responses();
    assert.ok(all.some((r) => /DocumentEditor/.test(r.path)), all.map((r) => r.path).join("\n"));
  } finally {
    await browser.close();
  }
});

test("the Sign out button stays readable when hovered", async () => {
  const { browser, page } = await openBrowser();
  try {
    await signIn(page, server.baseUrl);
    const button = page.getByRole("button", { name: "Sign out" });
    const colours = () =>
      button.evaluate((el) => {
        const style = getComputedStyle(el);
        // The header's own colour shows through a transparent button.
        const header = getComputedStyle(el.closest("header"));
        const bg = style.backgroundColor === "rgba(0, 0, 0, 0)" ? header.backgroundColor : style.backgroundColor;
        return { fg: style.color, bg };
      });
    const idle = await colours();
    assert.ok(contrastRatio(idle.fg, idle.bg) >= 4.5, `idle ${JSON.stringify(idle)}`);
    await button.hover();
    await page.waitForTimeout(200); // any transition
    const hovered = await colours();
    const ratio = contrastRatio(hovered.fg, hovered.bg);
    assert.ok(ratio >= 4.5, `hovered text contrast ${ratio.toFixed(2)}:1 ${JSON.stringify(hovered)}`);
  } finally {
    await browser.close();
  }
});

test("an error's Retry is a styled button that retries", async () => {
  const created = await server.api("POST", "/v1/merchants/haidilao/api-keys", { scope: "merchant_admin" });
  const { browser, page } = await openBrowser();
  try {
    await signIn(page, server.baseUrl, created.body.key);
    // Another merchant's page: the API answers 404 and the page offers a retry.
    await page.goto(`${server.baseUrl}/admin/merchants/xibei`);
    const retry = page.getByRole("button", { name: "Retry" }).first();
    await retry.waitFor();
    assert.match(await retry.getAttribute("class"), /\bbtn\b/);
    const style = await retry.evaluate((el) => {
      const s = getComputedStyle(el);
      return { radius: s.borderTopLeftRadius, cursor: s.cursor, minHeight: s.minHeight, font: s.fontFamily };
    });
    const body = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
    assert.deepEqual(style, { radius: "6px", cursor: "pointer", minHeight: "28px", font: body });
    const requests = [];
    page.on("request", (r) => r.url().includes("/v1/merchants/xibei") && requests.push(r.url()));
    await retry.click();
    await page.getByRole("button", { name: "Retry" }).first().waitFor();
    assert.ok(requests.length >= 1, "Retry asked the API again");
    await assertAccessible(page, "error with retry");
  } finally {
    await browser.close();
  }
});

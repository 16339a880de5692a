// How long a click in the console's main navigation takes to show the page it opens: not a
// pass/fail test, a measurement. Against a fresh server with the demo data (plus 30 orders
// and a webhook endpoint for haidilao, so its lists are not empty), signed in as a platform
// admin, it clicks each navigation link 5 times (cycling through the pages, so every click
// leaves another page) and prints, per page, the first click (it may fetch the page's chunk)
// and the median and p95 of the 5.
//
// A click is timed in the page itself: from the click event's timeStamp (when the input
// happened) to the animation frame in which the page's main content is in the DOM, visible,
// about to be painted — the content, not its loading state: e.g. the orders table's rows,
// the merchant home's live methods (each route evaluated) and its order counts. Everything the
// page fetches from the API (the server's debug build, SQLite) is inside that time.
//
//   ORDERFLOW_BIN=/path/to/orderflow node e2e/measure-clicks.mjs [clicks per page]
import assert from "node:assert/strict";
import { openBrowser, signIn, startServer } from "./harness.mjs";

const CLICKS = Number(process.argv[2] ?? 5);

/** The main navigation, in the order clicked: the link (in the sidebar) and the content that
 * means the page is there. */
const PAGES = [
  { page: "Merchants", link: { name: "Merchants", exact: true }, ready: ["main table tbody tr"] },
  { page: "Platform scope (documents)", link: { name: "Platform scope", exact: true }, ready: ["main .kind-grid a"] },
  { page: "Platform audit log", link: { name: "Audit log", exact: true }, ready: ['[data-testid="audit-table"] tbody tr'] },
  {
    page: "Merchant home (haidilao)",
    link: { name: "Haidilao Hot Pot (haidilao)", exact: true },
    ready: ['[data-testid="live-methods"] tbody tr', '[data-testid="order-counts"] tbody tr'],
  },
  { page: "Merchant documents", link: { name: "Documents", exact: true }, ready: ["main .kind-grid a"] },
  { page: "Orders", link: { name: "Orders", exact: true }, ready: [".orders-table tbody tr"] },
  { page: "Webhooks", link: { name: "Webhooks", exact: true }, ready: [".wh-table tbody tr"] },
  { page: "Merchant audit log", link: { name: "Audit log", exact: true }, ready: ['[data-testid="audit-table"] tbody tr'] },
];

function quantile(sorted, q) {
  // Nearest rank: the p95 of 5 samples is the slowest.
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const server = await startServer();
const { browser, page } = await openBrowser();
try {
  for (let i = 0; i < 30; i++) {
    const created = await server.api("POST", "/v1/storefront/orders", {
      merchant_id: "haidilao",
      order_num: `measure-${String(i).padStart(3, "0")}`,
      currency: "CNY",
      items: [{ sku: "beef", name: "Beef slices", quantity: 1 + (i % 3), unit_price_minor: 5000 }],
      address: { recipient: "Li Lei", phone: "13800000000", street: "1 Chang'an Ave" },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    if (i % 3 === 0) await server.api("POST", `/v1/storefront/orders/${created.body.order_id}/payment`, { payment_method: "alipay" });
  }
  const endpoint = await server.api("POST", "/v1/merchants/haidilao/webhook-endpoints", {
    url: "https://93.184.216.34/orderflow",
    event_types: ["order.paid"],
    description: "Kitchen display",
  });
  assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));

  await signIn(page, server.baseUrl);
  // Start where each round ends, so the first click on Merchants leaves another page too.
  await page.goto(`${server.baseUrl}/admin/merchants/haidilao/audit-log`);
  await page.locator('[data-testid="audit-table"] tbody tr').first().waitFor();
  const nav = page.getByRole("navigation", { name: "Main" });
  const samples = new Map(PAGES.map((p) => [p.page, []]));

  for (let round = 0; round < CLICKS; round++) {
    for (const target of PAGES) {
      // Mark what is on screen now, so the previous page's content never counts.
      await page.evaluate((selectors) => {
        for (const s of selectors) for (const el of document.querySelectorAll(s)) el.setAttribute("data-measure-stale", "");
        window.__measured = new Promise((resolve) => {
          document.addEventListener(
            "click",
            (event) => {
              const start = event.timeStamp;
              const fresh = (s) =>
                [...document.querySelectorAll(s)].some((el) => !el.hasAttribute("data-measure-stale") && el.getClientRects().length > 0);
              const check = () => {
                if (selectors.every(fresh)) {
                  const end = performance.now();
                  // The API requests of this navigation: how many, and how long the page
                  // waited on them (from the first one's start to the last one's end).
                  const api = performance
                    .getEntriesByType("resource")
                    .filter((r) => r.startTime >= start && r.responseEnd <= end && new URL(r.name).pathname.startsWith("/v1/"));
                  const chunks = performance
                    .getEntriesByType("resource")
                    .filter((r) => r.startTime >= start && r.responseEnd <= end && new URL(r.name).pathname.startsWith("/admin/assets/"));
                  const span = api.length ? Math.max(...api.map((r) => r.responseEnd)) - Math.min(...api.map((r) => r.startTime)) : 0;
                  resolve({ total: end - start, requests: api.length, apiSpan: span, chunks: chunks.length });
                } else requestAnimationFrame(check);
              };
              requestAnimationFrame(check);
            },
            { capture: true, once: true },
          );
        });
      }, target.ready);
      await nav.getByRole("link", target.link).click();
      samples.get(target.page).push(await page.evaluate(() => window.__measured));
    }
  }

  const median = (values) => quantile([...values].sort((a, b) => a - b), 0.5);
  const rows = PAGES.map(({ page: name }) => {
    const all = samples.get(name);
    const totals = all.map((s) => s.total).sort((a, b) => a - b);
    return {
      name,
      first: all[0].total,
      median: quantile(totals, 0.5),
      p95: quantile(totals, 0.95),
      requests: median(all.map((s) => s.requests)),
      apiSpan: median(all.map((s) => s.apiSpan)),
      firstChunks: all[0].chunks,
    };
  });
  const width = Math.max(...rows.map((r) => r.name.length), 4);
  const ms = (v) => `${v.toFixed(0)} ms`;
  console.log(`Click → main content visible, ${CLICKS} clicks per page (${new Date().toISOString()})`);
  console.log("");
  console.log(`| ${"Page".padEnd(width)} | Median | p95 | First click | API requests | Waiting on the API (median) |`);
  console.log(`|${"-".repeat(width + 2)}|-------:|----:|------------:|-------------:|----------------------------:|`);
  for (const r of rows)
    console.log(
      `| ${r.name.padEnd(width)} | ${ms(r.median)} | ${ms(r.p95)} | ${ms(r.first)}${r.firstChunks ? ` (+${r.firstChunks} chunk${r.firstChunks > 1 ? "s" : ""})` : ""} | ${r.requests} | ${ms(r.apiSpan)} |`,
    );
} finally {
  await browser.close();
  await server.stop();
}

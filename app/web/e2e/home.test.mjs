// The merchant home (issue #14): a merchant admin signs in and lands on what is live (the
// methods accepted, the discount each earns, the checkout page, the payment timeout), what is
// risky (unpublished drafts, an accepted method no rule routes while the default cancels) and
// its recent orders counted by status — each checked against what the API holds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoScriptErrors, screenshot, sharedServer, signIn } from "./harness.mjs";

const shared = sharedServer();
const open = shared.open;

async function createOrder(merchant, orderNum) {
  const created = await shared.server().api("POST", "/v1/storefront/orders", {
    merchant_id: merchant,
    order_num: orderNum,
    currency: "CNY",
    items: [{ sku: "beef", name: "Beef slices", quantity: 1, unit_price_minor: 10000 }],
    address: { recipient: "Li Lei", phone: "13800000000", street: "1 Chang'an Ave" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.order_id;
}

async function cellTexts(row) {
  return (await row.locator("th, td").allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
}

test("a merchant admin lands on its home: live, risky, recent orders", async () => {
  // haidilao starts accepting loyalty points, which no routing rule names (the default
  // route cancels), and leaves a checkout page change unpublished.
  const combination = "/v1/merchants/haidilao/metadata/payment-combination/default";
  const saved = await shared.server().api("PUT", `${combination}/draft`, {
    methods: [{ method: "alipay" }, { method: "wechat_pay" }, { method: "points" }],
  });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  const published = await shared.server().api("POST", `${combination}/publish`);
  assert.equal(published.status, 201, JSON.stringify(published.body));
  const checkout = await shared.server().api("GET", "/v1/merchants/haidilao/metadata/checkout-page/default");
  const draft = structuredClone(checkout.body.published);
  draft.title = "Checkout · Haidilao (new)";
  assert.equal((await shared.server().api("PUT", "/v1/merchants/haidilao/metadata/checkout-page/default/draft", draft)).status, 200);

  // Orders: two waiting, one paid, one canceled for haidilao; one for xibei (not counted).
  await createOrder("haidilao", "home-1");
  await createOrder("haidilao", "home-2");
  const paid = await createOrder("haidilao", "home-3");
  assert.equal((await shared.server().api("POST", `/v1/storefront/orders/${paid}/payment`, { payment_method: "alipay" })).status, 200);
  const canceled = await createOrder("haidilao", "home-4");
  assert.equal((await shared.server().api("POST", `/v1/storefront/orders/${canceled}/cancel`)).status, 200);
  await createOrder("xibei", "home-xibei");

  const key = await shared.server().api("POST", "/v1/merchants/haidilao/api-keys", { scope: "merchant_admin" });
  assert.equal(key.status, 201);
  const { page, consoleErrors } = await open();
  const homeRequests = [];
  page.on("request", (r) => /\/v1\/(merchants\/haidilao|platform|storefront)\b/.test(r.url()) && homeRequests.push(new URL(r.url()).pathname + new URL(r.url()).search));
  await signIn(page, shared.server().baseUrl, key.body.key);
  await page.getByRole("heading", { name: "Haidilao Hot Pot", exact: true }).waitFor();
  assert.match(page.url(), /\/admin\/merchants\/haidilao$/);

  // Live: each accepted method with its route and what a ¥100.00 order costs.
  const methods = page.getByTestId("live-methods");
  await methods.waitFor();
  assert.deepEqual(await cellTexts(methods.locator('tr[data-method="alipay"]')), [
    "Alipay alipay",
    "alipay-discount v1 (rule #1)Alipay promotion: the customer pays 80% of the order.",
    "CN¥80.00 (Alipay: 20% off)",
  ]);
  assert.match((await cellTexts(methods.locator('tr[data-method="wechat_pay"]')))[2], /^CN¥50\.00/);
  assert.match((await cellTexts(methods.locator('tr[data-method="points"]')))[1], /orders are canceled \(no route\)/);
  assert.match(await page.getByTestId("payment-timeout").textContent(), /5 min to pay \(the platform flow v1; the whole flow times out after 1 h\)/);
  await page.getByTestId("checkout-preview").waitFor();

  // Risky: the unrouted method and the unpublished draft.
  const risky = page.getByTestId("risky");
  const unrouted = risky.locator('[data-risk="unrouted"]');
  assert.equal(await unrouted.count(), 1);
  assert.match(await unrouted.textContent(), /Loyalty points is accepted but no routing rule names it/);
  const drafts = await risky.locator('[data-risk="draft"]').allTextContents();
  assert.equal(drafts.length, 1);
  assert.match(drafts[0], /checkout-page default has changes not yet published \(live: v1\)/);

  // Recent orders by status (xibei's not among them).
  const counts = page.getByTestId("order-counts");
  await counts.waitFor();
  const row = async (status) => (await cellTexts(counts.locator(`tr[data-status="${status}"]`))).slice(1);
  assert.deepEqual(await row("awaiting_payment"), ["2", "2"]);
  assert.deepEqual(await row("completed"), ["1", "1"]);
  assert.deepEqual(await row("canceled"), ["1", "1"]);
  assert.deepEqual(await row("processing"), ["0", "0"]);
  assert.deepEqual(await row("all"), ["4", "4"]);
  // From the order statistics: the merchant's cancel (an admin key's), the discount the
  // Alipay payment got (10000 − 8000), the orders per hour — and no paging through the order list.
  assert.deepEqual(await cellTexts(counts.locator('tr[data-reason="merchant_canceled"]')), ["Canceled: Canceled by the merchant", "1", "1"]);
  assert.deepEqual(await row("discount"), ["CN¥20.00", "CN¥20.00"]);
  const hours = page.getByTestId("orders-per-hour").locator("li");
  assert.equal(await hours.count(), 24);
  assert.equal(await hours.last().getAttribute("data-orders"), "4");
  assert.match(await hours.last().textContent(), /: 4 orders$/);
  // All of it from one request: the merchant's overview.
  assert.deepEqual(homeRequests, ["/v1/merchants/haidilao/overview"]);
  await screenshot(page, "merchant-home");

  // A status links to the filtered order list.
  await counts.locator('tr[data-status="canceled"] a').click();
  await page.waitForURL(/\/orders\?status=canceled$/);
  await page.locator(".orders-table").waitFor();
  assert.deepEqual(await page.locator(".orders-table tbody tr td:first-child a").allTextContents(), ["home-4"]);

  // Publishing the draft and routing points clears both risks.
  assert.equal((await shared.server().api("POST", "/v1/merchants/haidilao/metadata/checkout-page/default/publish")).status, 201);
  const table = (await shared.server().api("GET", "/v1/merchants/haidilao/metadata/routing-table/default")).body.published;
  table.rules.push({ when: { method: "points" }, function: "alipay-discount" });
  assert.equal((await shared.server().api("PUT", "/v1/merchants/haidilao/metadata/routing-table/default/draft", table)).status, 200);
  assert.equal((await shared.server().api("POST", "/v1/merchants/haidilao/metadata/routing-table/default/publish")).status, 201);
  await page.goto(`${shared.server().baseUrl}/admin/merchants/haidilao`);
  await risky.getByText(/^Nothing: every draft is published/).waitFor();
  assert.match((await cellTexts(methods.locator('tr[data-method="points"]')))[2], /^CN¥80\.00/);
  assertNoScriptErrors(consoleErrors);
});

// Orders, end to end: publish a 75% Alipay discount through the API, check out and pay one
// order, cancel another, then in the console filter the list by status and read each order's
// execution timeline (pinned versions, the route, the function's input and output, the
// cancel reason).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, assertNoScriptErrors, openBrowser, screenshot, signIn, startServer } from "./harness.mjs";

const FN = "/v1/merchants/haidilao/metadata/discount-function/alipay-discount";
const ORDERS = "/admin/merchants/haidilao/orders";

let server;
let paidId;
let canceledId;
let waitingId;

async function createOrder(orderNum) {
  const created = await server.api("POST", "/v1/storefront/orders", {
    merchant_id: "haidilao",
    order_num: orderNum,
    currency: "CNY",
    items: [{ sku: "beef", name: "Beef slices", quantity: 2, unit_price_minor: 5000 }],
    address: { recipient: "Li Lei", phone: "13800000000", street: "1 Chang'an Ave" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.order_id;
}

before(async () => {
  server = await startServer();

  // Publish alipay-discount v2: the customer pays 75%.
  const current = await server.api("GET", FN);
  assert.equal(current.status, 200);
  const body = structuredClone(current.body.published);
  body.script = body.script
    .replace("percent_of(order.amount_minor, 80)", "percent_of(order.amount_minor, 75)")
    .replace("Alipay: 20% off", "Alipay: 25% off");
  body.tests = [
    { name: "75% of 100.00", input: { amount_minor: 10000, currency: "CNY" }, expect: 7500 },
  ];
  const saved = await server.api("PUT", `${FN}/draft`, body);
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  const published = await server.api("POST", `${FN}/publish`);
  assert.equal(published.status, 201, JSON.stringify(published.body));
  assert.equal(published.body.version, 2);

  // One paid order, one canceled by the customer, one still waiting.
  paidId = await createOrder("hd-paid-0001");
  const paid = await server.api("POST", `/v1/storefront/orders/${paidId}/payment`, { payment_method: "alipay" });
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal(paid.body.final_amount_minor, 7500);

  // Canceled by the customer: through the storefront, with a storefront key (an admin key's
  // cancel is the merchant's, below).
  canceledId = await createOrder("hd-canceled-0002");
  const storefront = await server.api("POST", "/v1/merchants/haidilao/api-keys", { scope: "storefront" });
  assert.equal(storefront.status, 201, JSON.stringify(storefront.body));
  const canceled = await server.api("POST", `/v1/storefront/orders/${canceledId}/cancel`, undefined, storefront.body.key);
  assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
  assert.equal(canceled.body.cancel_reason, "customer_canceled");

  waitingId = await createOrder("hd-waiting-0003");
});

after(async () => {
  await server?.stop();
});

/** The order numbers the list shows, top to bottom. */
async function listedOrders(page) {
  const links = page.locator(".orders-table tbody tr td:first-child a");
  return links.allTextContents();
}

test("the list filters by status; the paid order's timeline shows the route, the pins and 7500", async () => {
  const { browser, page, consoleErrors } = await openBrowser();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}${ORDERS}`);
    await page.getByRole("heading", { name: "Orders" }).waitFor();
    await page.locator(".orders-table").waitFor();
    assert.deepEqual(await listedOrders(page), ["hd-waiting-0003", "hd-canceled-0002", "hd-paid-0001"]);
    const paidRow = page.locator("tr", { has: page.getByRole("link", { name: "hd-paid-0001" }) });
    assert.match(await paidRow.textContent(), /Completed/);
    assert.match(await paidRow.textContent(), /CN¥100\.00/);
    assert.match(await paidRow.textContent(), /CN¥75\.00/);
    await screenshot(page, "orders-list");

    // Filter by status (the filter is in the URL).
    const filter = page.getByLabel("Status");
    await filter.selectOption("completed");
    await page.waitForURL(/status=completed/);
    await page.locator(".orders-table").filter({ hasNotText: "hd-waiting-0003" }).waitFor();
    assert.deepEqual(await listedOrders(page), ["hd-paid-0001"]);
    await filter.selectOption("canceled");
    await page.locator(".orders-table").filter({ hasText: "hd-canceled-0002" }).waitFor();
    assert.deepEqual(await listedOrders(page), ["hd-canceled-0002"]);
    assert.match(await page.locator(".orders-table").textContent(), /Canceled by the customer/);
    await filter.selectOption("awaiting_payment");
    await page.locator(".orders-table").filter({ hasText: "hd-waiting-0003" }).waitFor();
    assert.deepEqual(await listedOrders(page), ["hd-waiting-0003"]);
    await filter.selectOption("processing");
    await page.getByText("No processing orders.").waitFor();
    await filter.selectOption("");
    await page.locator(".orders-table").filter({ hasText: "hd-paid-0001" }).waitFor();
    assert.equal((await listedOrders(page)).length, 3);

    // Open the paid order.
    await page.getByRole("link", { name: "hd-paid-0001" }).click();
    await page.waitForURL(new RegExp(`/orders/${paidId}$`));
    await page.getByRole("heading", { name: "Execution timeline" }).waitFor();
    assert.match(await page.getByTestId("final-amount").textContent(), /CN¥75\.00.*7500 minor units/);

    // The pinned versions: the new function version, the routing table, the flow.
    const pins = page.getByRole("region", { name: "Pinned versions" });
    const pinRow = (name) => pins.locator("tr", { has: page.getByRole("link", { name, exact: true }) });
    assert.match(await pinRow("alipay-discount").textContent(), /Discount function.*v2/);
    assert.match(await pinRow("wechat-pay-discount").textContent(), /v1/);
    assert.match(await pins.textContent(), /Routing table.*default.*v1/);
    assert.match(await pins.textContent(), /Order flow.*\(platform\).*default.*v1/);

    // The route taken and the function's input and output.
    const route = page.getByRole("region", { name: "Route and discount" });
    const routeText = await route.textContent();
    assert.match(routeText, /Routing table\s*default v1/);
    assert.match(routeText, /Rule\s*#0/);
    assert.match(routeText, /alipay-discount\s*v2/);
    assert.match(routeText, /Input\s*10000/);
    assert.match(await page.getByTestId("function-output").textContent(), /7500.*CN¥75\.00.*Alipay: 25% off/);
    await route.getByText('when {"method":"alipay"}').waitFor();
    await route.getByText("Function input (the order map)").click();
    assert.match(await route.locator("pre").first().textContent(), /"amount_minor": 10000/);

    // The timeline: every event in order, with the function step among them.
    const timeline = page.getByRole("list", { name: "Execution events, in order" });
    const types = await timeline.locator("> li").evaluateAll((items) => items.map((li) => li.dataset.type));
    assert.equal(types[0], "ExecutionStarted");
    assert.equal(types[types.length - 1], "ExecutionSucceeded");
    assert.ok(types.indexOf("FunctionEvaluated") > types.indexOf("TaskSucceeded"), types.join());
    const evaluated = timeline.locator("li[data-type=FunctionEvaluated]");
    assert.match(await evaluated.textContent(), /Discount function evaluated/);
    assert.match(await evaluated.textContent(), /paymentCombination/);
    assert.match(await evaluated.textContent(), /Rule #0 of routing table v1 → alipay-discount v2: 10000 → 7500/);
    assert.match(await timeline.locator("li[data-type=TaskSucceeded]").last().textContent(), /final amount 7500/);
    // Collapsible detail: the raw event.
    await evaluated.getByText("Detail").click();
    assert.match(await evaluated.locator("pre").textContent(), /"routing_table_version": 1/);
    await screenshot(page, "order-timeline");

    assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test("a canceled order shows its cancel reason in the summary and the timeline", async () => {
  const { browser, page } = await openBrowser();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}${ORDERS}?status=canceled`);
    await page.getByRole("link", { name: "hd-canceled-0002" }).click();
    await page.getByRole("heading", { name: "Execution timeline" }).waitFor();
    assert.match(await page.getByRole("note").textContent(), /Canceled:\s*Canceled by the customer\s*\(customer_canceled\)/);
    const last = page.locator(".tl > li").last();
    assert.equal(await last.getAttribute("data-type"), "ExecutionCanceled");
    assert.match(await last.textContent(), /Reason: Canceled by the customer \(customer_canceled\)/);
    assert.equal(await page.getByRole("region", { name: "Route and discount" }).count(), 0);
    assert.match(await page.getByTestId("final-amount").textContent(), /not priced/);
  } finally {
    await browser.close();
  }
});

test("the order page lists the events the order caused, next to the timeline, each payload on demand", async () => {
  const feed = await server.api("GET", `/v1/merchants/haidilao/events?order_id=${paidId}&limit=200`);
  assert.equal(feed.status, 200, JSON.stringify(feed.body));
  const expected = feed.body.data.map((e) => e.type);
  assert.ok(expected.includes("order.created") && expected.includes("order.paid"), expected.join());
  const { browser, page, consoleErrors } = await openBrowser({ width: 1280, height: 900 });
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}${ORDERS}/${paidId}`);
    const events = page.getByRole("region", { name: "Events sent" });
    const list = events.getByRole("list", { name: "Events of this order, in order" });
    await list.waitFor();
    // Exactly the API's events of this order, in its order, each with its time.
    assert.deepEqual(await list.locator("> li").evaluateAll((items) => items.map((li) => li.dataset.type)), expected);
    const paid = list.locator('li[data-type="order.paid"]');
    assert.match(await paid.textContent(), /Order paid\s*order\.paid/);
    const at = feed.body.data.find((e) => e.type === "order.paid").created_at;
    assert.equal(await paid.locator("time").getAttribute("datetime"), at);
    // Next to the execution timeline on a wide screen: side by side, not below it.
    const timelineBox = await page.getByRole("region", { name: "Execution timeline" }).boundingBox();
    const eventsBox = await events.boundingBox();
    assert.ok(eventsBox.x > timelineBox.x + timelineBox.width - 1, "the events are right of the timeline");
    assert.ok(Math.abs(eventsBox.y - timelineBox.y) < 2, "at the same height");

    // The payload, on demand.
    const toggle = paid.getByRole("button", { name: "Show payload of order.paid" });
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    assert.equal(await paid.locator("pre").count(), 0);
    await toggle.click();
    const payload = paid.getByLabel("Payload of order.paid");
    await payload.waitFor();
    const shown = JSON.parse(await payload.textContent());
    assert.deepEqual(shown, feed.body.data.find((e) => e.type === "order.paid"));
    assert.equal(shown.order_id, paidId);
    assert.equal(await paid.getByRole("button", { name: "Hide payload of order.paid" }).getAttribute("aria-expanded"), "true");
    await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header would cover the shot
    await screenshot(page, "order-events");
    await paid.getByRole("button", { name: "Hide payload of order.paid" }).click();
    await payload.waitFor({ state: "detached" });

    // A canceled order's event says why.
    await page.goto(`${server.baseUrl}${ORDERS}/${canceledId}`);
    const canceled = page.getByRole("region", { name: "Events sent" }).locator('li[data-type="order.canceled"]');
    await canceled.waitFor();
    const reason = (await server.api("GET", `/v1/orders/${canceledId}`)).body.cancel_reason;
    assert.match(await canceled.textContent(), new RegExp(`cancel_reason:\\s*${reason}`));
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("an unknown order is an error, not a blank page", async () => {
  const { browser, page } = await openBrowser();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}${ORDERS}/00000000-0000-0000-0000-000000000000`);
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.textContent(), /Not Found/i);
    await page.getByRole("link", { name: "← All orders" }).waitFor();
  } finally {
    await browser.close();
  }
});

test("pages through the list with the API's cursor, and fits a phone", async () => {
  // 20 more waiting orders: 23 in all, so page 2 holds the oldest three.
  for (let i = 0; i < 20; i++) await createOrder(`hd-more-${String(i).padStart(4, "0")}`);
  const { browser, page } = await openBrowser({ width: 375, height: 800 });
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}${ORDERS}`);
    await page.locator(".orders-table").waitFor();
    assert.equal((await listedOrders(page)).length, 20);
    assert.equal(await page.getByRole("button", { name: "Previous page" }).isDisabled(), true);
    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByText("Page 2", { exact: true }).waitFor();
    await page.locator(".orders-table").filter({ hasText: "hd-paid-0001" }).waitFor();
    assert.deepEqual(await listedOrders(page), ["hd-waiting-0003", "hd-canceled-0002", "hd-paid-0001"]);
    assert.equal(await page.getByRole("button", { name: "Next page" }).isDisabled(), true);
    await page.getByRole("button", { name: "Previous page" }).click();
    await page.locator(".orders-table").filter({ hasText: "hd-more-0019" }).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `the list does not scroll sideways (${width}px)`);

    await page.goto(`${server.baseUrl}${ORDERS}/${paidId}`);
    await page.getByRole("heading", { name: "Execution timeline" }).waitFor();
    const timelineWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(timelineWidth <= 375, `the timeline does not scroll sideways (${timelineWidth}px)`);
    await screenshot(page, "order-timeline-phone");
  } finally {
    await browser.close();
  }
});

test("a payment that times out shows the timeout in the summary and the timeline", async () => {
  // xibei gets its own flow whose payment step waits one second, so its order times out
  // without touching haidilao's orders above.
  const flow = structuredClone((await server.api("GET", "/v1/platform/metadata/order-flow/default")).body.published);
  flow.steps.find((s) => s.name === "payment").timeoutSeconds = 1;
  const doc = "/v1/merchants/xibei/metadata/order-flow/default";
  assert.equal((await server.api("PUT", `${doc}/draft`, flow)).status, 200);
  assert.equal((await server.api("POST", `${doc}/publish`)).status, 201);
  const created = await server.api("POST", "/v1/storefront/orders", {
    merchant_id: "xibei",
    order_num: "xb-timeout-0001",
    currency: "CNY",
    items: [{ sku: "noodles", name: "Noodles", quantity: 1, unit_price_minor: 3800 }],
    address: { recipient: "Han Meimei", phone: "13900000000", street: "2 Nanjing Rd" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.order_id;
  let order;
  for (let i = 0; i < 100; i++) {
    order = (await server.api("GET", `/v1/orders/${id}`)).body;
    if (order.status !== "awaiting_payment") break;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.equal(order.cancel_reason, "payment_timeout", JSON.stringify(order));

  const { browser, page } = await openBrowser();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/xibei/orders?status=canceled`);
    await page.getByRole("link", { name: "xb-timeout-0001" }).click();
    await page.getByRole("heading", { name: "Execution timeline" }).waitFor();
    assert.match(await page.getByRole("note").textContent(), /Payment timed out\s*\(payment_timeout\)/);
    const timedOut = page.locator('.tl > li[data-type="TaskTimedOut"]');
    assert.equal(await timedOut.count(), 1);
    assert.match(await timedOut.textContent(), /payment/);
    assert.match(await timedOut.textContent(), /timeout passed before its callback/);
    // The flow caught the timeout and canceled the order.
    assert.equal(await page.locator('.tl > li[data-type="ErrorCaught"]').count(), 1);
    await screenshot(page, "order-timeline-timeout");
  } finally {
    await browser.close();
  }
});

test("find an order by id; cancel one awaiting payment from the list and from its page", async () => {
  const listCancel = await createOrder("hd-cancel-0004");
  const pageCancel = await createOrder("hd-cancel-0005");
  const other = await server.api("POST", "/v1/storefront/orders", {
    merchant_id: "xibei",
    currency: "CNY",
    items: [{ sku: "noodles", name: "Noodles", quantity: 1, unit_price_minor: 3000 }],
    address: { recipient: "Han Meimei", phone: "13900000000", street: "2 Chang'an Ave" },
  });
  assert.equal(other.status, 201);
  const { browser, page, consoleErrors } = await openBrowser();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}${ORDERS}`);
    await page.locator(".orders-table").waitFor();

    // Find by id: the one order, in the URL.
    const search = page.getByRole("search", { name: "Find an order" });
    await search.getByLabel("Order id").fill(paidId);
    await search.getByRole("button", { name: "Find" }).click();
    await page.waitForURL(new RegExp(`order=${paidId}`));
    await page.locator(".orders-table").filter({ hasNotText: "hd-waiting-0003" }).waitFor();
    assert.deepEqual(await listedOrders(page), ["hd-paid-0001"]);
    assert.equal(await page.getByRole("navigation", { name: "Pages" }).count(), 0);
    // Another merchant's order, or no order at all: not found here.
    await search.getByLabel("Order id").fill(other.body.order_id);
    await search.getByRole("button", { name: "Find" }).click();
    await page.getByText(`No order ${other.body.order_id} for merchant haidilao.`, { exact: false }).waitFor();
    await search.getByLabel("Order id").fill("no-such-order");
    await search.getByRole("button", { name: "Find" }).click();
    await page.getByText("No order no-such-order for merchant haidilao.", { exact: false }).waitFor();
    // The start of an id, an order number, a payment method, a time range: the list API's
    // filters, each kept in the URL.
    const find = async (label, value) => {
      await search.getByLabel(label).fill(value);
      await search.getByRole("button", { name: "Find" }).click();
    };
    const clear = async () => {
      for (const label of ["Order id", "Order number", "Payment method", "Created from", "Created before"]) await search.getByLabel(label).fill("");
    };
    await find("Order id", paidId.slice(0, 30).toUpperCase());
    await page.locator(".orders-table").waitFor();
    assert.deepEqual(await listedOrders(page), ["hd-paid-0001"]);
    await clear();
    await find("Order number", "hd-cancel-0004");
    await page.waitForURL(/order_num=hd-cancel-0004/);
    await page.locator(".orders-table").filter({ hasNotText: "hd-paid-0001" }).waitFor();
    assert.deepEqual(await listedOrders(page), ["hd-cancel-0004"]);
    await clear();
    await find("Payment method", "alipay");
    await page.waitForURL(/method=alipay/);
    await page.locator(".orders-table").filter({ hasNotText: "hd-cancel-0004" }).waitFor();
    const paidWithAlipay = await server.api("GET", "/v1/merchants/haidilao/orders?payment_method=alipay&limit=200");
    assert.deepEqual(await listedOrders(page), paidWithAlipay.body.data.slice(0, 20).map((o) => o.order_num ?? `${o.order_id.slice(0, 8)}…${o.order_id.slice(-4)}`));
    assert.ok((await listedOrders(page)).includes("hd-paid-0001"));
    await clear();
    // Created in the future: nothing yet.
    await find("Created from", "2999-01-01T00:00");
    await page.getByText("No orders of merchant haidilao match the search.").waitFor();
    await assertAccessible(page, "orders search");
    await search.getByRole("button", { name: "Show all orders" }).click();
    await page.locator(".orders-table").filter({ hasText: "hd-cancel-0005" }).waitFor();
    const all = await server.api("GET", "/v1/merchants/haidilao/orders?limit=200");
    assert.equal((await listedOrders(page)).length, Math.min(all.body.data.length, 20), "the list again");

    // Only orders awaiting payment can be canceled.
    const row = (num) => page.locator("tr", { has: page.getByRole("link", { name: num, exact: true }) });
    const filter = page.getByLabel("Status");
    await filter.selectOption("completed");
    await page.locator(".orders-table").filter({ hasNotText: "hd-cancel-0005" }).waitFor();
    assert.deepEqual(await listedOrders(page), ["hd-paid-0001"]);
    assert.equal(await page.getByRole("button", { name: /Cancel order/ }).count(), 0);
    await filter.selectOption("awaiting_payment");
    await page.locator(".orders-table").filter({ hasText: "hd-cancel-0004" }).waitFor();
    await row("hd-cancel-0004").getByRole("button", { name: "Cancel order hd-cancel-0004" }).click();
    const dialog = page.getByRole("alertdialog");
    assert.match(await dialog.textContent(), /Cancel order hd-cancel-0004\?/);
    await screenshot(page, "orders-cancel");
    await dialog.getByRole("button", { name: "Yes, cancel it" }).click();
    await page.getByText("Order hd-cancel-0004 was canceled.").waitFor();
    await row("hd-cancel-0004").waitFor({ state: "detached" });
    assert.ok((await listedOrders(page)).includes("hd-cancel-0005"), "the other orders are still listed");
    // Canceled from the console: by the merchant, and labelled so.
    const canceled = await server.api("GET", `/v1/orders/${listCancel}`);
    assert.equal(canceled.body.status, "canceled");
    assert.equal(canceled.body.cancel_reason, "merchant_canceled");
    await filter.selectOption("canceled");
    await row("hd-cancel-0004").waitFor();
    assert.match(await row("hd-cancel-0004").textContent(), /Canceled by the merchant/);
    assert.match(await row("hd-canceled-0002").textContent(), /Canceled by the customer/);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }

  // A merchant admin cancels from the order's page; the diagram shows where it ended.
  const key = await server.api("POST", "/v1/merchants/haidilao/api-keys", { scope: "merchant_admin" });
  assert.equal(key.status, 201);
  const second = await openBrowser();
  try {
    await signIn(second.page, server.baseUrl, key.body.key);
    await second.page.goto(`${server.baseUrl}${ORDERS}/${pageCancel}`);
    await second.page.getByTestId("flow-diagram").waitFor();
    await second.page.getByRole("button", { name: "Cancel order hd-cancel-0005" }).click();
    await second.page.getByRole("alertdialog").getByRole("button", { name: "Yes, cancel it" }).click();
    await second.page.locator(".order-title .order-status", { hasText: "Canceled" }).waitFor();
    // Canceled while it waited for payment: it ended at the payment step.
    await second.page.locator('[data-step="payment"][aria-current="step"]', { hasText: "canceled here" }).waitFor();
    assert.equal(await second.page.getByRole("button", { name: /Cancel order/ }).count(), 0);
    assert.equal((await server.api("GET", `/v1/orders/${pageCancel}`)).body.status, "canceled");
    assert.equal((await server.api("GET", `/v1/orders/${pageCancel}`)).body.cancel_reason, "merchant_canceled");
    await second.page.getByRole("note").filter({ hasText: "Canceled by the merchant (merchant_canceled)" }).waitFor();
    const last = second.page.locator(".tl > li").last();
    assert.match(await last.textContent(), /Reason: Canceled by the merchant \(merchant_canceled\)/);
    assertNoScriptErrors(second.consoleErrors);
  } finally {
    await second.browser.close();
  }
});


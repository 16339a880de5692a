// Webhook deliveries in the console, against a real receiver: the test runs a tiny HTTP server
// on 127.0.0.1 (the orderflow server here allows private addresses:
// ORDERFLOW_WEBHOOK_ALLOW_PRIVATE=true) and points an endpoint created in the console at it.
// An order placed through the API is delivered, signed with the secret the console showed;
// the endpoint's page lists the deliveries with their status and attempts, filters them,
// redelivers one, sends test events (answered 200, then 500), and follows a failing delivery
// until its retry succeeds.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { assertNoScriptErrors, screenshot, sharedServer, signIn } from "./harness.mjs";

const shared = sharedServer({ env: { ORDERFLOW_WEBHOOK_ALLOW_PRIVATE: "true" } });

/** The receiver: answers `answer.status` with `answer.body`, and keeps every request. */
const received = [];
const answer = { status: 200, body: "ok" };
let receiver;
let receiverUrl;
before(async () => {
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(answer.status, { "content-type": "text/plain" }).end(answer.body);
    });
  });
  await new Promise((ok) => receiver.listen(0, "127.0.0.1", ok));
  receiverUrl = `http://127.0.0.1:${receiver.address().port}/hooks/orderflow`;
});
after(async () => {
  receiver.closeAllConnections();
  await new Promise((ok) => receiver.close(ok));
});

/** Waits (polling) for `check` to return something truthy. */
async function until(what, check, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

/** Standard Webhooks: v1 = base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), key = the secret after whsec_. */
function signs(secret, request) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key)
    .update(`${request.headers["webhook-id"]}.${request.headers["webhook-timestamp"]}.${request.body}`)
    .digest("base64");
  return request.headers["webhook-signature"].split(" ").includes(`v1,${expected}`);
}

async function placeOrder(orderNum, pay) {
  const api = shared.server().api;
  const created = await api("POST", "/v1/storefront/orders", {
    merchant_id: "haidilao",
    order_num: orderNum,
    currency: "CNY",
    items: [{ sku: "beef", name: "Beef slices", quantity: 1, unit_price_minor: 10000 }],
    address: { recipient: "Li Lei", phone: "13800000000", street: "1 Chang'an Ave" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  if (pay) {
    const paid = await api("POST", `/v1/storefront/orders/${created.body.order_id}/payment`, { payment_method: "alipay" });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
  }
  return created.body.order_id;
}

test("an order's events reach a local receiver, signed; the console lists, filters, expands, redelivers and tests", async () => {
  const { page, context, consoleErrors } = await shared.open();
  const api = shared.server().api;
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: shared.server().baseUrl });
  await signIn(page, shared.server().baseUrl);
  await page.goto(`${shared.server().baseUrl}/admin/merchants/haidilao/webhooks`);

  // Create the endpoint in the console and keep the secret it shows once.
  const add = page.getByRole("region", { name: "Add an endpoint" });
  await add.getByLabel("Endpoint URL").fill(receiverUrl);
  await add.getByLabel("Description (optional)").fill("Local receiver");
  const types = add.getByRole("group", { name: "Event types" });
  for (const t of ["order.created", "order.paid", "order.completed"]) await types.getByRole("checkbox", { name: new RegExp(t.replace(".", "\\.")) }).check();
  await add.getByRole("button", { name: "Add endpoint" }).click();
  const secret = (await page.getByTestId("signing-secret-value").textContent()).trim();
  const [endpoint] = (await api("GET", "/v1/merchants/haidilao/webhook-endpoints")).body.data;
  assert.equal(endpoint.url, receiverUrl);

  // An order, paid: order.created, order.paid, order.completed go to the receiver, signed.
  const orderId = await placeOrder("wh-0001", true);
  await until("three deliveries", () => received.filter((r) => r.body.includes(orderId)).length >= 3);
  const mine = received.filter((r) => r.body.includes(orderId));
  for (const r of mine) assert.ok(signs(secret, r), `signed with the secret the console showed: ${r.headers["webhook-signature"]}`);
  assert.deepEqual(mine.map((r) => JSON.parse(r.body).type).sort(), ["order.completed", "order.created", "order.paid"]);

  // The endpoint's page: the deliveries, newest first, succeeded, as the API lists them.
  await page.getByTestId("signing-secret").getByRole("button", { name: "Done", exact: true }).click();
  await page.getByRole("link", { name: receiverUrl }).click();
  const deliveries = page.getByRole("region", { name: "Deliveries" });
  const rows = deliveries.locator("tbody tr[data-delivery]");
  await until("three succeeded rows", async () => (await deliveries.locator('tr[data-status="succeeded"]').count()) === 3);
  const listed = (await api("GET", `/v1/merchants/haidilao/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.delivery)), listed.map((d) => d.id));
  const paidRow = deliveries.locator('tr[data-event-type="order.paid"]');
  assert.match(await paidRow.textContent(), /Order paid\s*order\.paid/);
  assert.match(await paidRow.textContent(), /Succeeded/);
  assert.match(await paidRow.textContent(), /HTTP 200/);
  const paidDelivery = listed.find((d) => d.event_type === "order.paid");
  assert.equal(mine.find((r) => JSON.parse(r.body).type === "order.paid").headers["webhook-id"], paidDelivery.event_id);

  // Its attempts, on demand.
  await paidRow.getByRole("button", { name: `Attempts of ${paidDelivery.id}` }).click();
  const attempts = deliveries.getByRole("list", { name: `Attempts at ${paidDelivery.id}` });
  await attempts.waitFor();
  assert.equal(await attempts.locator("li").count(), 1);
  assert.match(await attempts.textContent(), /Attempt 1.*HTTP 200.*\d+ ms/);
  assert.match(await attempts.getByLabel("Answer to attempt 1").textContent(), /^ok$/);
  assert.equal(await paidRow.getByRole("button", { name: `Attempts of ${paidDelivery.id}` }).getAttribute("aria-expanded"), "true");

  // The status filter.
  const filter = deliveries.getByLabel("Status");
  await filter.selectOption("failed");
  await deliveries.getByText("No failed deliveries.").waitFor();
  await filter.selectOption("succeeded");
  await until("succeeded only", async () => (await rows.count()) === 3);
  await filter.selectOption("");
  await paidRow.waitFor();

  // Redeliver order.paid: a new delivery of the same event, received again.
  await paidRow.getByRole("button", { name: `Redeliver ${paidDelivery.id}` }).click();
  await deliveries.getByText(new RegExp(`order\\.paid \\(${paidDelivery.event_id}\\) is being delivered again as dlv_`)).waitFor();
  await until("the redelivery received", () => received.filter((r) => r.headers["webhook-id"] === paidDelivery.event_id).length === 2);
  await until("four succeeded rows", async () => (await deliveries.locator('tr[data-status="succeeded"]').count()) === 4);
  assert.equal(await deliveries.locator('tr[data-event-type="order.paid"]').count(), 2);

  // Send test event: delivered (200), then not (500), each with what the receiver said.
  await page.getByRole("button", { name: "Send test event" }).click();
  const outcome = page.getByTestId("test-outcome");
  await outcome.getByRole("heading", { name: "Test event delivered" }).waitFor();
  assert.match(await outcome.textContent(), /answered HTTP 200 in \d+ ms/);
  const testRequest = received.at(-1);
  assert.equal(JSON.parse(testRequest.body).type, "webhook.test");
  assert.ok(signs(secret, testRequest), "the test event is signed too");
  answer.status = 500;
  answer.body = "kitchen display offline";
  await page.getByRole("button", { name: "Send test event" }).click();
  await outcome.getByRole("heading", { name: "Test event not delivered" }).waitFor();
  assert.match(await outcome.textContent(), /answered HTTP 500.*Only a 2xx answer counts as delivered/);
  assert.equal(await outcome.getByLabel("The receiver's answer").textContent(), "kitchen display offline");
  await screenshot(page, "webhook-test-event");

  // A delivery the receiver refuses: pending, with the answer, until a retry succeeds.
  const second = await placeOrder("wh-0002", false);
  await until("the refused attempt", () => received.some((r) => r.body.includes(second)));
  await deliveries.getByRole("button", { name: "Refresh" }).click();
  const failing = deliveries.locator('tr[data-status="pending"][data-event-type="order.created"]');
  await until("a failed attempt shown", async () => (await failing.count()) === 1 && /HTTP 500/.test(await failing.textContent()));
  assert.match(await failing.textContent(), /Pending\s*next/);
  const pendingId = await failing.getAttribute("data-delivery");
  assert.equal((await api("GET", `/v1/merchants/haidilao/webhook-endpoints/${endpoint.id}/deliveries/${pendingId}`)).body.order_id, second);
  assert.equal(await failing.getByRole("button", { name: /Redeliver/ }).count(), 0, "nothing to redeliver while it is pending");
  await filter.selectOption("pending");
  await until("pending only", async () => (await rows.count()) === 1);
  await failing.getByRole("button", { name: `Attempts of ${pendingId}` }).click();
  const failedAttempts = deliveries.getByRole("list", { name: `Attempts at ${pendingId}` });
  await failedAttempts.waitFor();
  assert.match(await failedAttempts.textContent(), /Attempt 1.*HTTP 500/);
  assert.equal(await failedAttempts.getByLabel("Answer to attempt 1").textContent(), "kitchen display offline");
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, "webhook-deliveries");
  // The receiver recovers; the retry succeeds and the page shows it by itself.
  answer.status = 200;
  answer.body = "ok";
  await filter.selectOption("");
  const recovered = deliveries.locator(`tr[data-delivery="${pendingId}"][data-status="succeeded"]`);
  await recovered.waitFor({ timeout: 60_000 });
  assert.match(await recovered.textContent(), /HTTP 200/);
  assert.ok(Number(await recovered.locator('td[data-label="Attempts"]').textContent()) >= 2);
  assertNoScriptErrors(consoleErrors);
});

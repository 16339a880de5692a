// The order flow as a picture and as settings (issue #14): the diagram drawn from the flow
// document, steps that open in the form when clicked, the payment and flow timeouts as plain
// controls, "Customize for <merchant>" copying the platform flow into the merchant's scope, and
// the step an order is at highlighted on its timeline page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoScriptErrors, screenshot, sharedServer, signIn } from "./harness.mjs";

const shared = sharedServer();
const open = shared.open;

/** The diagram's arrows: "from→to kind: label". */
async function edges(diagram) {
  return diagram.locator("g.flow-edge").evaluateAll((gs) =>
    gs.map((g) => `${g.dataset.from}→${g.dataset.to} ${g.dataset.kind}: ${g.querySelector("text").textContent}`).sort(),
  );
}

async function createOrder(orderNum) {
  const created = await shared.server().api("POST", "/v1/storefront/orders", {
    merchant_id: "haidilao",
    order_num: orderNum,
    currency: "CNY",
    items: [{ sku: "beef", name: "Beef slices", quantity: 1, unit_price_minor: 8800 }],
    address: { recipient: "Li Lei", phone: "13800000000", street: "1 Chang'an Ave" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.order_id;
}

test("the platform flow as a diagram; settings on top; a clicked step opens in the form", async () => {
  const { page, consoleErrors } = await open();
  await signIn(page, shared.server().baseUrl);
  await page.goto(`${shared.server().baseUrl}/admin/platform/documents/order-flow/default`);
  const diagram = page.getByTestId("flow-diagram");
  await diagram.waitFor();
  assert.deepEqual(await diagram.locator(".flow-node-name").allTextContents(), [
    "generateInfo",
    "payment",
    "paymentCombination",
    "orderCompleted",
    "orderCanceled",
  ]);
  assert.deepEqual(await edges(diagram), [
    "generateInfo→payment next: then",
    "payment→orderCanceled timeout: timeout 5 min",
    "payment→paymentCombination next: then",
    "paymentCombination→orderCanceled catch: on Route.NotFound, Function.Error",
    "paymentCombination→orderCompleted next: then",
  ].sort());
  assert.match(await diagram.locator("figcaption").textContent(), /The whole flow times out after 1 h\./);

  // The common settings, in minutes.
  const paymentTimeout = page.getByLabel("Payment timeout (minutes)");
  const flowTimeout = page.getByLabel("Flow timeout (minutes)");
  assert.equal(await paymentTimeout.inputValue(), "5");
  assert.equal(await flowTimeout.inputValue(), "60");
  await paymentTimeout.fill("2");
  await flowTimeout.fill("30");
  await page.getByText("unsaved changes").waitFor();
  assert.ok((await edges(diagram)).includes("payment→orderCanceled timeout: timeout 2 min"), "the diagram follows the edit");
  assert.equal(await page.locator("#root_steps_1_timeoutSeconds").inputValue(), "120", "the form shows the same value");
  await page.getByRole("tab", { name: "JSON" }).click();
  const doc = JSON.parse(await page.getByLabel("Document JSON").inputValue());
  assert.equal(doc.steps[1].timeoutSeconds, 120);
  assert.equal(doc.timeoutSeconds, 1800);

  // A step clicked in the diagram opens in the form (from the JSON tab too), focused.
  await diagram.getByRole("button", { name: /^Step 5: orderCanceled/ }).click();
  const name = page.locator("#root_steps_4_name");
  await name.waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "root_steps_4_name");
  assert.equal(await name.inputValue(), "orderCanceled");

  // A choice step adds labelled branches.
  await page.getByRole("tab", { name: "JSON" }).click();
  const json = page.getByLabel("Document JSON");
  const edited = JSON.parse(await json.inputValue());
  edited.steps.splice(2, 0, {
    type: "choice",
    name: "bigOrder",
    choices: [{ condition: "order.amount_minor > 100000", goto: "orderCanceled" }],
    default: "paymentCombination",
  });
  await json.fill(JSON.stringify(edited, null, 2));
  await page.getByRole("tab", { name: "Form" }).click();
  const after = await edges(diagram);
  assert.ok(after.includes("bigOrder→orderCanceled choice: if order.amount_minor > 100000"), after.join("\n"));
  assert.ok(after.includes("bigOrder→paymentCombination default: otherwise"), after.join("\n"));
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, "order-flow-diagram");
  assertNoScriptErrors(consoleErrors);
});

test("a merchant admin customizes the platform flow in one click, then changes and publishes it", async () => {
  const created = await shared.server().api("POST", "/v1/merchants/haidilao/api-keys", { scope: "merchant_admin" });
  assert.equal(created.status, 201);
  const { page, consoleErrors } = await open();
  await signIn(page, shared.server().baseUrl, created.body.key);
  const before = await shared.server().api("GET", "/v1/merchants/haidilao/metadata/order-flow/default");
  assert.equal(before.status, 404, "haidilao runs the platform flow to begin with");

  await page.goto(`${shared.server().baseUrl}/admin/platform/documents/order-flow/default`);
  await page.getByTestId("read-only").waitFor();
  // The settings are shown, but read-only.
  assert.equal(await page.getByLabel("Payment timeout (minutes)").getAttribute("readonly"), "");
  await page.getByRole("button", { name: "Customize for haidilao" }).click();
  await page.waitForURL(/\/admin\/merchants\/haidilao\/documents\/order-flow\/default$/);
  await page.getByText(/The platform flow was copied here as a draft/).waitFor();
  const platform = await shared.server().api("GET", "/v1/platform/metadata/order-flow/default");
  const copied = await shared.server().api("GET", "/v1/merchants/haidilao/metadata/order-flow/default");
  assert.equal(copied.status, 200);
  assert.deepEqual(copied.body.draft, platform.body.published);
  assert.equal(copied.body.published_version, null);

  // Ten minutes to pay, for haidilao only.
  await page.getByLabel("Payment timeout (minutes)").fill("10");
  await page.getByRole("button", { name: "Publish", exact: true }).click();
  await page.getByText("Published version 1.").waitFor();
  const published = await shared.server().api("GET", "/v1/merchants/haidilao/metadata/order-flow/default");
  assert.equal(published.body.published.steps[1].timeoutSeconds, 600);
  assert.equal((await shared.server().api("GET", "/v1/platform/metadata/order-flow/default")).body.published.steps[1].timeoutSeconds, 300);

  // A second click opens the merchant's flow; it does not overwrite it.
  await page.goto(`${shared.server().baseUrl}/admin/platform/documents/order-flow/default`);
  await page.getByRole("button", { name: "Customize for haidilao" }).click();
  await page.getByText("You already have your own flow: here it is.").waitFor();
  assert.equal(await page.getByLabel("Payment timeout (minutes)").inputValue(), "10");
  const still = await shared.server().api("GET", "/v1/merchants/haidilao/metadata/order-flow/default");
  assert.equal(still.body.draft, null);
  assertNoScriptErrors(consoleErrors);
});

test("an order's timeline highlights the step it is at, or ended in, on the flow diagram", async () => {
  const waiting = await createOrder("flow-waiting");
  const paid = await createOrder("flow-paid");
  const pay = await shared.server().api("POST", `/v1/storefront/orders/${paid}/payment`, { payment_method: "alipay" });
  assert.equal(pay.status, 200, JSON.stringify(pay.body));
  assert.equal(pay.body.status, "completed");

  const { page, consoleErrors } = await open();
  await signIn(page, shared.server().baseUrl);
  await page.goto(`${shared.server().baseUrl}/admin/merchants/haidilao/orders/${waiting}`);
  const diagram = page.getByTestId("flow-diagram");
  await diagram.waitFor();
  const current = diagram.locator('[aria-current="step"]');
  assert.equal(await current.count(), 1);
  assert.equal(await current.getAttribute("data-step"), "payment");
  assert.match(await current.textContent(), /now here/);
  assert.deepEqual(await diagram.locator(".flow-node-visited").evaluateAll((n) => n.map((e) => e.dataset.step)), [
    "generateInfo",
    "payment",
  ]);
  // The flow drawn is the version the order pinned (haidilao's own, once it published one).
  assert.match(await diagram.locator("figcaption").textContent(), /flow default v\d+, as this order runs it\. The order is at step payment\./);
  await screenshot(page, "order-flow-position");

  await page.goto(`${shared.server().baseUrl}/admin/merchants/haidilao/orders/${paid}`);
  await diagram.waitFor();
  await diagram.locator(".flow-node-completed").waitFor();
  assert.equal(await diagram.locator('[aria-current="step"]').getAttribute("data-step"), "orderCompleted");
  assert.match(await diagram.locator('[aria-current="step"]').textContent(), /ended here/);
  assert.equal(await diagram.locator('[data-step="orderCanceled"].flow-node-visited').count(), 0);
  assertNoScriptErrors(consoleErrors);
});

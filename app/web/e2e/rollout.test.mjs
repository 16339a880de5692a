// Impact preview and staged rollout of a discount function, end to end: haidilao has paid
// Alipay orders at ¥100.00 and one at ¥200.00 (all priced at 80% by alipay-discount v1). A
// draft that charges 75% and refuses orders over ¥150.00 is previewed in the console, and
// every number the Impact panel shows is checked against the API's answer to the same
// request. Then the draft is rolled out to 50% of new orders, ramped to 80%, its outcomes
// compared with the API's, and promoted; a second draft is rolled out and aborted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoScriptErrors, screenshot, sharedServer, signIn } from "./harness.mjs";

const FN = "/v1/merchants/haidilao/metadata/discount-function/alipay-discount";
const EDITOR_PATH = "/admin/merchants/haidilao/documents/discount-function/alipay-discount";
const shared = sharedServer();

let orderCount = 0;
/** Starts an order of `units` × ¥50.00 and, when `pay`, pays it with Alipay. */
async function order(units, pay = true) {
  const server = shared.server();
  const created = await server.api("POST", "/v1/storefront/orders", {
    merchant_id: "haidilao",
    order_num: `hd-impact-${String(++orderCount).padStart(4, "0")}`,
    currency: "CNY",
    items: [{ sku: "beef", name: "Beef slices", quantity: units, unit_price_minor: 5000 }],
    address: { recipient: "Li Lei", phone: "13800000000", street: "1 Chang'an Ave" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  if (pay) {
    const paid = await server.api("POST", `/v1/storefront/orders/${created.body.order_id}/payment`, { payment_method: "alipay" });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
  }
  return created.body.order_id;
}

/** Saves a draft of alipay-discount charging `percent`%, optionally refusing orders over ¥150.00. */
async function saveDraft(percent, { refuseLarge = false } = {}) {
  const server = shared.server();
  const current = await server.api("GET", FN);
  assert.equal(current.status, 200);
  const body = structuredClone(current.body.published);
  body.script =
    (refuseLarge ? 'if order.amount_minor > 15000 { throw "orders over 150.00 are not discounted"; }\n' : "") +
    `#{ amount_minor: percent_of(order.amount_minor, ${percent}), label: "Alipay: ${100 - percent}% off" }`;
  body.tests = [{ name: `${percent}% of 100.00`, input: { amount_minor: 10000, currency: "CNY" }, expect: percent * 100 }];
  const saved = await server.api("PUT", `${FN}/draft`, body);
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
}

/** Opens alipay-discount's editor in a new browser, signed in. */
async function openEditor() {
  const opened = await shared.open();
  await signIn(opened.page, shared.server().baseUrl);
  await opened.page.goto(`${shared.server().baseUrl}${EDITOR_PATH}`);
  return opened;
}

/** Formats minor units the way the console does (the browser's Intl, its locale). */
function money(page, minor) {
  return page.evaluate(
    (m) => new Intl.NumberFormat(undefined, { style: "currency", currency: "CNY" }).format(Math.abs(m) / 100),
    minor,
  );
}

test("preview the impact of a draft: the panel shows what the API answers", async () => {
  for (let i = 0; i < 5; i++) await order(2); // ¥100.00 → ¥80.00 now, ¥75.00 under the draft
  await order(4); // ¥200.00 → ¥160.00 now; the draft's script refuses it
  await saveDraft(75, { refuseLarge: true });

  const { page, consoleErrors } = await openEditor();
  const panel = page.getByTestId("impact-panel");
  await panel.getByRole("button", { name: "Preview impact" }).click();
  const summary = page.getByTestId("impact-summary");
  await summary.waitFor();

  const api = await shared.server().api("POST", `${FN}/impact`, {});
  assert.equal(api.status, 200, JSON.stringify(api.body));
  const impact = api.body;
  // The demo data's own paid orders are in the sample too; ours are the ones we know.
  assert.ok(impact.orders.evaluated >= 6, JSON.stringify(impact.orders));
  assert.ok(impact.orders.changed >= 5);
  assert.equal(impact.orders.now_failing, 1);

  const { evaluated, unchanged, changed, now_failing } = impact.orders;
  assert.match(await summary.textContent(), new RegExp(`^Changes ${changed} of the last ${evaluated} orders`));
  const cny = impact.by_currency.find((c) => c.currency === "CNY");
  const difference = `${cny.discount_difference_minor < 0 ? "−" : "+"}${await money(page, cny.discount_difference_minor)}`;
  assert.ok((await summary.textContent()).includes(`discount ${difference}`), await summary.textContent());
  assert.match(await summary.textContent(), /1 would fail: 1 × the discount function fails/);
  assert.equal(await page.getByTestId("impact-replayed").textContent(), String(evaluated));
  assert.equal(await page.getByTestId("impact-unchanged").textContent(), String(unchanged));
  assert.equal(await page.getByTestId("impact-changed").textContent(), String(changed));
  assert.equal(await page.getByTestId("impact-would-fail").textContent(), String(now_failing));
  assert.equal(
    await page.getByTestId("impact-discount-CNY").textContent(),
    `${await money(page, cny.discount_before_minor)} → ${await money(page, cny.discount_after_minor)}`,
  );

  // The histogram has a bar per bucket, each with its count; the largest changes a row each.
  const buckets = page.getByTestId("histogram-bucket");
  assert.equal(await buckets.count(), impact.histogram.length);
  for (let i = 0; i < impact.histogram.length; i++)
    assert.match(await buckets.nth(i).textContent(), new RegExp(`${impact.histogram[i].orders}$`));
  const rows = page.getByTestId("largest-changes").locator("tbody tr");
  assert.equal(await rows.count(), impact.largest_changes.length);
  const first = impact.largest_changes[0];
  assert.match(await rows.first().textContent(), new RegExp(first.order_id));
  assert.ok((await rows.first().textContent()).includes(await money(page, first.after.final_amount_minor)));

  // The failure: its reason and the order, with the script's message.
  const failures = page.getByTestId("impact-failures");
  assert.match(await failures.textContent(), /1 × the discount function fails \(script_error\)/);
  await failures.getByText(/with what would go wrong/).click();
  assert.match(await page.getByTestId("failing-orders").textContent(), new RegExp(`${impact.failing[0].order_id}.*over 150\\.00`));
  await screenshot(page, "impact-preview");
  assertNoScriptErrors(consoleErrors);
});

test("roll the draft out to 50%, ramp to 80%, compare the outcomes, promote", async () => {
  const server = shared.server();
  await saveDraft(75);
  const { page, consoleErrors } = await openEditor();
  const panel = page.getByTestId("rollout-panel");
  await panel.getByText("This document was never rolled out.").waitFor();

  await panel.getByLabel("Share of new orders (%)").fill("50");
  await panel.getByRole("button", { name: "Start rollout" }).click();
  await page.getByText(/Rollout started: v2 goes to 50% of new orders\./).waitFor();
  await page.getByTestId("rollout-state").filter({ hasText: "active · 50%" }).waitFor();
  // While it runs, publish is refused by the API.
  const publish = await server.api("POST", `${FN}/publish`);
  assert.equal(publish.status, 409);

  // New orders: two of every three paid (they complete), the others left waiting.
  for (let i = 0; i < 24; i++) await order(2, i % 3 !== 2);
  const rollout = (await server.api("GET", `${FN}/rollout`)).body;
  const { stable, candidate, comparison } = rollout.outcomes;
  assert.equal(stable.started + candidate.started, 24);
  await panel.getByRole("button", { name: "Refresh outcomes" }).click();
  await page
    .getByTestId("outcome-orders-started")
    .filter({ hasText: new RegExp(`^Orders started${stable.started}${candidate.started}$`) })
    .waitFor();
  const cells = async (row) => (await page.getByTestId(`outcome-${row}`).locator("td").allTextContents()).map((t) => t.trim());
  assert.deepEqual(await cells("orders-started"), [String(stable.started), String(candidate.started)]);
  assert.deepEqual(await cells("completed"), [String(stable.by_status.completed), String(candidate.by_status.completed)]);
  assert.deepEqual(await cells("discount-given"), [await money(page, stable.discount_total_minor), await money(page, candidate.discount_total_minor)]);
  const significance = await page.getByTestId("significance").textContent();
  if (comparison) {
    assert.ok(significance.includes(`p = ${comparison.p_value.toFixed(3)}`), significance);
    assert.ok(significance.includes(`${comparison.sample_sizes[0]} orders on the stable version, ${comparison.sample_sizes[1]} on the candidate`), significance);
    assert.match(significance, comparison.significant ? /is significant/ : /not significant/);
  } else {
    assert.match(significance, /Not enough orders to compare yet/);
  }

  await panel.getByLabel("New share of orders (%)").fill("80");
  await panel.getByRole("button", { name: "Ramp" }).click();
  await page.getByTestId("rollout-state").filter({ hasText: "active · 80%" }).waitFor();
  assert.equal((await server.api("GET", `${FN}/rollout`)).body.percent, 80);
  await screenshot(page, "rollout-outcomes");

  // A new draft cannot be published while the rollout runs: Publish waits and says why.
  await saveDraft(60);
  await page.reload();
  await page.getByTestId("rollout-state").filter({ hasText: "active · 80%" }).waitFor();
  await page.getByTestId("publish-reason").filter({ hasText: "A rollout is in progress (v2 to 80% of new orders)" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Publish", exact: true }).isDisabled(), true);

  await panel.getByRole("button", { name: "Promote to 100%" }).click();
  await page.getByText("Promoted: v2 goes to every new order.").waitFor();
  await page.getByTestId("rollout-state").filter({ hasText: "promoted · 100%" }).waitFor();
  const after = (await server.api("GET", FN)).body;
  assert.equal(after.published_version, 2);
  assertNoScriptErrors(consoleErrors);
});

test("roll a draft out and abort it: new orders get the stable version again", async () => {
  const server = shared.server();
  await saveDraft(70);
  const { page, consoleErrors } = await openEditor();
  const panel = page.getByTestId("rollout-panel");
  await page.getByTestId("rollout-state").filter({ hasText: "promoted · 100%" }).waitFor();
  await panel.getByLabel("Share of new orders (%)").fill("10");
  await panel.getByRole("button", { name: "Start rollout" }).click();
  await page.getByTestId("rollout-state").filter({ hasText: "active · 10%" }).waitFor();
  await panel.getByRole("button", { name: "Abort" }).click();
  await page.getByText("Rollout aborted: every new order gets v2 again.").waitFor();
  await page.getByTestId("rollout-state").filter({ hasText: "aborted · 0%" }).waitFor();
  // Aborting again is the API's 409, shown as the problem it is.
  const again = await server.api("POST", `${FN}/rollout/abort`);
  assert.equal(again.status, 409);
  assert.match(JSON.stringify(again.body), /no-active-rollout/);
  assertNoScriptErrors(consoleErrors);
});

test("a routing table draft's impact: orders its rules no longer route would fail", async () => {
  const server = shared.server();
  const TABLE = "/v1/merchants/haidilao/metadata/routing-table/default";
  const table = (await server.api("GET", TABLE)).body.published;
  table.rules = table.rules.filter((rule) => rule.when?.method !== "alipay");
  const saved = await server.api("PUT", `${TABLE}/draft`, table);
  assert.equal(saved.status, 200, JSON.stringify(saved.body));

  const { page, consoleErrors } = await shared.open();
  await signIn(page, server.baseUrl);
  await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/routing-table/default`);
  await page.getByTestId("impact-panel").getByRole("button", { name: "Preview impact" }).click();
  const summary = page.getByTestId("impact-summary");
  await summary.waitFor();
  const impact = (await server.api("POST", `${TABLE}/impact`, {})).body;
  const noRoute = impact.failing_by_reason.find((r) => r.reason === "no_route");
  assert.ok(noRoute && noRoute.orders > 0, JSON.stringify(impact.failing_by_reason));
  assert.match(await summary.textContent(), new RegExp(`${impact.orders.now_failing} would fail: ${noRoute.orders} × no route`));
  assert.equal(await page.getByTestId("impact-would-fail").textContent(), String(impact.orders.now_failing));
  assert.equal(await page.getByTestId("failing-orders").locator("li").count(), impact.failing.length);
  // The rollout panel is there too; this table was never rolled out.
  await page.getByTestId("rollout-panel").getByText("This document was never rolled out.").waitFor();
  await screenshot(page, "routing-impact");
  assertNoScriptErrors(consoleErrors);
});

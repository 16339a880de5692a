// Pickers, not codes (issue #14): a merchant chooses payment methods from the platform
// catalog by their names, routing rules from the methods it accepts and the functions it has
// published, types amounts as money, and never sees a field that has only one possible value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoScriptErrors, screenshot, sharedServer, signIn } from "./harness.mjs";

const shared = sharedServer();
const open = shared.open;

async function optionTexts(select) {
  return (await select.locator("option").allTextContents()).map((t) => t.trim());
}

async function documentJson(page) {
  await page.getByRole("tab", { name: "JSON" }).click();
  const doc = JSON.parse(await page.getByLabel("Document JSON").inputValue());
  await page.getByRole("tab", { name: "Form" }).click();
  return doc;
}

test("payment combination: methods from the catalog by name, amounts in yuan stored in fen", async () => {
  const { page, consoleErrors } = await open();
  // The catalog names what a merchant may pick: a method the platform has not published yet
  // is not offered.
  const draftOnly = await shared.server().api("PUT", "/v1/platform/metadata/payment-method/apple_pay/draft", {
    code: "apple_pay",
    names: { en: "Apple Pay" },
    online: true,
  });
  assert.equal(draftOnly.status, 200, JSON.stringify(draftOnly.body));

  await signIn(page, shared.server().baseUrl);
  await page.goto(`${shared.server().baseUrl}/admin/merchants/xibei/documents/payment-combination/default`);
  const method = page.getByLabel("Method").first();
  await method.waitFor();
  assert.equal(await method.evaluate((el) => el.tagName), "SELECT");
  assert.equal(await method.inputValue(), "alipay");
  const options = await optionTexts(method);
  assert.deepEqual(
    [...options].sort(),
    ["Alipay (alipay)", "Cash on delivery (cash_on_delivery)", "Loyalty points (points)", "UnionPay (unionpay)", "WeChat Pay (wechat_pay)"].sort(),
  );
  assert.ok(!options.some((o) => /apple_pay/.test(o)), "an unpublished method is not offered");

  // Add cash on delivery, limited to orders of ¥20.00 to ¥300.50.
  await page.getByRole("button", { name: "Add item" }).last().click();
  const added = page.locator("#root_methods_3_method");
  await added.waitFor();
  assert.match(await added.locator("option:checked").textContent(), /Choose a payment method/);
  await added.selectOption({ label: "Cash on delivery (cash_on_delivery)" });
  const min = page.locator("#root_methods_3_min_amount_minor");
  const max = page.locator("#root_methods_3_max_amount_minor");
  await min.fill("20");
  await max.fill("300.5");
  assert.equal(await page.getByTestId("root_methods_3_min_amount_minor__money").textContent(), "In CNY: stored as 2000 minor units.");
  await max.blur();
  assert.equal(await max.inputValue(), "300.50", "the amount is shown with the currency's two decimals");
  // Three decimals are not an amount of yuan: said so, and nothing is stored.
  await min.fill("20.005");
  assert.match(await page.getByTestId("root_methods_3_min_amount_minor__money").textContent(), /Not an amount/);
  assert.equal(await min.getAttribute("aria-invalid"), "true");
  await min.fill("20.00");
  const doc = await documentJson(page);
  assert.deepEqual(doc.methods[3], { method: "cash_on_delivery", min_amount_minor: 2000, max_amount_minor: 30050 });

  await page.getByRole("button", { name: "Save draft" }).click();
  await page.getByText(/^Draft saved at/).waitFor();
  const saved = await shared.server().api("GET", "/v1/merchants/xibei/metadata/payment-combination/default");
  assert.deepEqual(saved.body.draft.methods[3], { method: "cash_on_delivery", min_amount_minor: 2000, max_amount_minor: 30050 });
  await page.reload();
  // Four methods: the list starts folded; open the new one.
  await page.getByRole("button", { name: /#3 cash_on_delivery/ }).click();
  await page.locator("#root_methods_3_max_amount_minor").waitFor();
  assert.equal(await page.locator("#root_methods_3_max_amount_minor").inputValue(), "300.50");
  assert.match(await page.locator(".money-symbol").first().textContent(), /¥/);
  await screenshot(page, "payment-combination-pickers");
  assertNoScriptErrors(consoleErrors);
});

test("routing table: methods the merchant accepts, functions it has published", async () => {
  const { page, consoleErrors } = await open();
  // A function saved as a draft only is not offered; a published one is.
  const fn = (name) => `/v1/merchants/haidilao/metadata/discount-function/${name}`;
  const body = { script: "order.amount_minor", description: "No discount", tests: [] };
  assert.equal((await shared.server().api("PUT", `${fn("no-discount")}/draft`, body)).status, 200);
  assert.equal((await shared.server().api("POST", `${fn("no-discount")}/publish`)).status, 201);
  assert.equal((await shared.server().api("PUT", `${fn("draft-only")}/draft`, body)).status, 200);

  await signIn(page, shared.server().baseUrl);
  await page.goto(`${shared.server().baseUrl}/admin/merchants/haidilao/documents/routing-table/default`);
  const method0 = page.locator("#root_rules_0_when_method");
  await method0.waitFor();
  // haidilao accepts Alipay and WeChat Pay (its payment combination): only those are offered.
  assert.deepEqual(await optionTexts(method0), ["Alipay (alipay)", "WeChat Pay (wechat_pay)"]);
  // The seeded unionpay rule names a method haidilao does not accept: shown, and said so.
  const method2 = page.locator("#root_rules_2_when_method");
  await page.getByRole("button", { name: /#2 unionpay/ }).click();
  assert.match(await method2.locator("option:checked").textContent(), /unionpay \(not accepted by this merchant\)/);

  const function0 = page.locator("#root_rules_0_function");
  const functions = await optionTexts(function0);
  assert.deepEqual(functions.sort(), ["alipay-discount", "no-discount", "unionpay-discount", "wechat-pay-discount"]);
  await function0.selectOption("no-discount");
  await page.getByLabel("Default route").selectOption("function");
  const defaultFn = page.locator("#root_default_function");
  assert.ok(!(await optionTexts(defaultFn)).includes("draft-only"));
  await defaultFn.selectOption("no-discount");
  const doc = await documentJson(page);
  assert.equal(doc.rules[0].function, "no-discount");
  assert.deepEqual(doc.default, { function: "no-discount" });

  // A rule's amount bounds are money too.
  await page.getByRole("button", { name: "Add item" }).last().click();
  await page.locator("#root_rules_3_when_method").selectOption("alipay");
  await page.locator("#root_rules_3_function").selectOption("alipay-discount");
  await page.locator("#root_rules_3_when_min_amount_minor").fill("1,000");
  const added = (await documentJson(page)).rules[3];
  assert.deepEqual(added, { when: { method: "alipay", min_amount_minor: 100000 }, function: "alipay-discount" });
  await screenshot(page, "routing-pickers");
  assertNoScriptErrors(consoleErrors);
});

test("order flow: fields with a single allowed value are filled in and hidden", async () => {
  const { page, consoleErrors } = await open();
  await signIn(page, shared.server().baseUrl);
  await page.goto(`${shared.server().baseUrl}/admin/merchants/xibei/documents/order-flow/express`);
  await page.getByTestId("new-document").waitFor();
  // `version` (always v1) and `type` (always flow) are not asked for …
  await page.getByRole("button", { name: "Add item" }).click();
  await page.locator("#root_steps_0_name").waitFor();
  assert.equal(await page.locator("#root_version").count(), 0);
  assert.equal(await page.locator("#root_type").count(), 0);
  // … nor a step's `type`: the step-kind chooser says it.
  assert.equal(await page.locator("#root_steps_0_type").count(), 0);
  await page.locator("#root_steps_0_name").fill("done");
  // … but they are in the document.
  const doc = await documentJson(page);
  assert.equal(doc.version, "v1");
  assert.equal(doc.type, "flow");
  assert.equal(doc.steps[0].type, "task");
  assertNoScriptErrors(consoleErrors);
});

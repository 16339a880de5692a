// The discount function editor, end to end: sign in, change haidilao's Alipay discount to 75%
// in the code editor, see the dry-run price a 10000 order at 7500, see a syntax error marked
// at its line and column, fix the embedded tests, publish, and check that a real checkout
// through the API now pays 7500.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertNoScriptErrors, openBrowser, screenshot, signIn, startServer } from "./harness.mjs";

const EDITOR_PATH = "/admin/merchants/haidilao/documents/discount-function/alipay-discount";
const SCRIPT_75 =
  '// Alipay promotion: the customer pays 75% of the order.\n#{ amount_minor: percent_of(order.amount_minor, 75), label: "Alipay: 25% off" }';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** Replaces the whole text of the CodeMirror editor labelled "Script", as a person would. */
async function replaceScript(page, text) {
  const editor = page.getByRole("textbox", { name: "Script", exact: true });
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.press("Delete");
  // insertText types the text in one input event (auto-closing brackets would double it).
  await page.keyboard.insertText(text);
}

test("change the Alipay discount to 75%, dry-run, fix the tests, publish, check out at 7500", async () => {
  const { browser, page, consoleErrors } = await openBrowser();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}${EDITOR_PATH}`);

    // The published script (80%) is loaded and dry-run against the 10000 sample order.
    await page.getByRole("heading", { name: /alipay-discount/ }).waitFor();
    const output = page.locator("output[aria-label='Final amount']");
    await output.filter({ hasText: /^8000$/ }).waitFor();
    assert.match(await page.getByRole("textbox", { name: "Script", exact: true }).textContent(), /percent_of\(order\.amount_minor, 80\)/);
    // The seed's four tests pass against the published script.
    await page.getByText("4 of 4 passing").waitFor();

    // Type the 75% script: the dry-run follows.
    await replaceScript(page, SCRIPT_75);
    await output.filter({ hasText: /^7500$/ }).waitFor();
    const result = page.getByTestId("dry-run-result");
    assert.match(await result.textContent(), /Alipay: 25% off/);
    assert.match(await result.textContent(), /Operations/);
    assert.match(await result.textContent(), /µs/);
    await page.getByText("unsaved changes").waitFor();

    // The tests that expected 80% and the old label now fail.
    await page.getByText("0 of 4 passing").waitFor();
    assert.equal(await page.getByLabel("Test 1: fail").count(), 1);
    await screenshot(page, "function-editor");

    // A syntax error: the error's kind, line and column, and a marker in the editor.
    await replaceScript(page, "let discount = ;\npercent_of(order.amount_minor, 75)");
    const error = page.getByRole("group", { name: "Script error" });
    await error.waitFor();
    assert.match(await error.textContent(), /Function\.CompileError/);
    assert.match(await error.textContent(), /Line 1, column 16/);
    await page.locator(".cm-lintRange-error").first().waitFor();
    assert.ok((await page.locator(".cm-lint-marker-error").count()) >= 1, "a gutter marker at the error line");
    await screenshot(page, "function-editor-error");

    // The error's position is a button that moves the cursor there (keyboard reachable).
    await error.getByRole("button", { name: /Line 1, column 16/ }).click();

    // Back to the 75% script; change the sample order and see the dry-run follow.
    await replaceScript(page, SCRIPT_75);
    await output.filter({ hasText: /^7500$/ }).waitFor();
    await page.getByLabel("Order amount (minor units)").fill("9999");
    await output.filter({ hasText: /^7499$/ }).waitFor();
    await page.getByLabel("Order amount (minor units)").fill("10000");
    await output.filter({ hasText: /^7500$/ }).waitFor();

    // Publishing with failing tests is rejected: the server's problems are listed.
    await page.getByRole("button", { name: "Publish" }).click();
    const problems = page.getByRole("alert").filter({ hasText: "Publishing was rejected" });
    await problems.waitFor();
    // Test cases are numbered from 1, as in the table (and in the API's messages).
    assert.match(await problems.textContent(), /Test case 1 .*failed: expected \{"amount_minor":8000/);
    assert.match(await problems.textContent(), /Test case 4 .*failed/);
    assert.doesNotMatch(await problems.textContent(), /test 0/i);
    // ...and also in the failing rows.
    assert.match(await page.getByTestId("test-row-1").textContent(), /Test case 1 .* failed/);

    // Update the embedded expectations (amount and label) so every case passes.
    const expectations = [
      ["7500", "Alipay: 25% off"], // 75% of 100.00
      ["7499", "Alipay: 25% off"], // 75% of 99.99 = 74.9925
      ["1", "Alipay: 25% off"], // 75% of 0.01 rounds half up to 0.01
      ["0", "Alipay: 25% off"],
    ];
    for (const [i, [amount, label]] of expectations.entries()) {
      await page.getByLabel(`Test ${i + 1} expected amount`).fill(amount);
      await page.getByLabel(`Test ${i + 1} expected label`).fill(label);
    }
    await page.getByLabel("Test 1 name").fill("75% of 100.00 is 75.00");
    await page.getByText("4 of 4 passing").waitFor();
    assert.equal(await page.getByLabel(/Test \d: fail/).count(), 0);

    // Publish: the draft is saved and published as version 2.
    await page.getByRole("button", { name: "Publish" }).click();
    await page.getByText("Published version 2.").waitFor();
    await page.getByText("v2 published").waitFor();
    assert.equal(await page.getByText("unsaved changes").count(), 0);

    // The API agrees.
    const doc = await server.api("GET", "/v1/merchants/haidilao/metadata/discount-function/alipay-discount");
    assert.equal(doc.status, 200);
    assert.equal(doc.body.published_version, 2);
    assert.match(doc.body.published.script, /percent_of\(order\.amount_minor, 75\)/);
    assert.equal(doc.body.published.tests[0].expect.amount_minor, 7500);
    assert.equal(doc.body.published.tests[0].name, "75% of 100.00 is 75.00");

    // A checkout through the API is priced by the new version.
    const created = await server.api("POST", "/v1/storefront/orders", {
      merchant_id: "haidilao",
      currency: "CNY",
      items: [{ sku: "beef", name: "Beef slices", quantity: 2, unit_price_minor: 5000 }],
      address: { recipient: "Li Lei", phone: "13800000000", street: "1 Chang'an Ave" },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.amount_minor, 10000);
    const paid = await server.api("POST", `/v1/storefront/orders/${created.body.order_id}/payment`, {
      payment_method: "alipay",
    });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.status, "completed");
    assert.equal(paid.body.final_amount_minor, 7500);
    assert.deepEqual(paid.body.discount, { function: "alipay-discount", version: 2, label: "Alipay: 25% off" });

    assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test("a stale draft save offers a reload; Save draft keeps a draft without publishing", async () => {
  const { browser, page } = await openBrowser();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/discount-function/wechat-pay-discount`);
    const output = page.locator("output[aria-label='Final amount']");
    await output.filter({ hasText: /^5000$/ }).waitFor();

    // Someone else saves a draft meanwhile.
    const current = await server.api("GET", "/v1/merchants/haidilao/metadata/discount-function/wechat-pay-discount");
    const changed = await server.api(
      "PUT",
      "/v1/merchants/haidilao/metadata/discount-function/wechat-pay-discount/draft",
      { ...current.body.published, description: "Changed elsewhere." },
    );
    assert.equal(changed.status, 200);

    await page.getByLabel("Description").fill("Changed here.");
    await page.getByRole("button", { name: "Save draft" }).click();
    const conflict = page.getByRole("alert").filter({ hasText: "Someone else changed this function" });
    await conflict.waitFor();
    await conflict.getByRole("button", { name: "Reload" }).click();
    await page.getByText("draft saved").waitFor();
    assert.equal(await page.getByLabel("Description").inputValue(), "Changed elsewhere.");

    // Now a save goes through, and nothing is published.
    await page.getByLabel("Description").fill("Changed here.");
    await page.getByRole("button", { name: "Save draft" }).click();
    await page.getByText("Draft saved.").waitFor();
    const after = await server.api("GET", "/v1/merchants/haidilao/metadata/discount-function/wechat-pay-discount");
    assert.equal(after.body.draft.description, "Changed here.");
    assert.equal(after.body.published_version, 1);
  } finally {
    await browser.close();
  }
});

test("the editor at phone width stacks code and result", async () => {
  const { browser, page } = await openBrowser({ width: 375, height: 800 });
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/discount-function/unionpay-discount`);
    const output = page.locator("output[aria-label='Final amount']");
    await output.filter({ hasText: /^7000$/ }).waitFor();
    await page.getByText("4 of 4 passing").waitFor();
    const code = await page.locator(".fn-code").boundingBox();
    const result = await page.getByTestId("dry-run-result").boundingBox();
    assert.ok(result.y > code.y + code.height - 1, "the result is below the code");
    assert.ok(code.width <= 375 && result.width <= 375, "nothing wider than the phone");
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `the page does not scroll sideways (${width}px)`);
    await screenshot(page, "function-editor-phone");
  } finally {
    await browser.close();
  }
});

test("a new function starts from a template; the keyboard moves through the editor", async () => {
  const { browser, page } = await openBrowser();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/discount-function/new-promo`);
    await page.getByText("never published").waitFor();
    await page.locator("output[aria-label='Final amount']").filter({ hasText: /^9000$/ }).waitFor();
    await page.getByText("No test cases yet.").waitFor();

    // Tab leaves the code editor (it does not trap focus) and reaches the sample order.
    await page.getByRole("textbox", { name: "Script", exact: true }).click();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.closest("label")?.textContent), "Order amount (minor units)");

    // Add a test case from the keyboard and save the draft: the function now exists.
    await page.getByRole("button", { name: "Add test case" }).focus();
    await page.keyboard.press("Enter");
    await page.getByLabel("Test 1 expected amount").fill("9000");
    await page.getByText("1 of 1 passing").waitFor();
    await page.getByRole("button", { name: "Save draft" }).click();
    await page.getByText("Draft saved.").waitFor();
    const doc = await server.api("GET", "/v1/merchants/haidilao/metadata/discount-function/new-promo");
    assert.equal(doc.status, 200);
    assert.equal(doc.body.published_version, null);
    assert.deepEqual(doc.body.draft.tests, [{ input: { amount_minor: 10000, currency: "CNY" }, expect: 9000 }]);
  } finally {
    await browser.close();
  }
});

test("a failing test case shows expected against got, whitespace made visible", async () => {
  const { browser, page } = await openBrowser();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/discount-function/unionpay-discount`);
    await page.getByText("4 of 4 passing").waitFor();

    // An expected label with two spaces where the script prints one.
    await page.getByLabel("Test 2 expected label").fill("UnionPay:  30% off");
    await page.getByText("3 of 4 passing").waitFor();
    assert.equal(await page.getByLabel("Test 2: fail").count(), 1);
    const row = page.getByTestId("test-row-2");
    const mismatch = row.getByTestId("test-2-mismatch");
    assert.match(await mismatch.textContent(), /Expected4 · UnionPay: {2}30% off/);
    assert.match(await mismatch.textContent(), /Got4 · UnionPay: 30% off/);
    const difference = row.getByRole("group", { name: "Test 2 label difference" });
    assert.match(await difference.textContent(), /differ only in whitespace/);
    // The spaces are visible, and the extra one is marked as what the script did not print.
    assert.equal(await row.getByTestId("test-2-expected-label").textContent(), "UnionPay:··30%·off");
    assert.equal(await row.getByTestId("test-2-got-label").textContent(), "UnionPay:·30%·off");
    assert.equal(await row.getByTestId("test-2-expected-label").locator("del").textContent(), "·");
    await screenshot(page, "function-test-whitespace");

    // A wrong amount says so in words.
    await page.getByLabel("Test 3 expected amount").fill("7000");
    const amount = page.getByTestId("test-3-mismatch");
    await amount.waitFor();
    assert.match(await amount.textContent(), /The amount differs: expected 7000, got 6999\./);

    // Publishing: the server's problems name the cases as the table does.
    await page.getByRole("button", { name: "Publish" }).click();
    const problems = page.getByRole("alert").filter({ hasText: "Publishing was rejected" });
    await problems.waitFor();
    const text = await problems.textContent();
    assert.match(text, /Test case 2 "70% of 0\.05[^"]*" failed/);
    assert.match(text, /Test case 3 "70% of 99\.99[^"]*" failed/);
    assert.match(await page.getByTestId("test-row-2").textContent(), /Test case 2 .* failed/);
  } finally {
    await browser.close();
  }
});

test("Discard draft deletes the function's saved draft (and unsaved edits) after a confirmation", async () => {
  const doc = "/v1/merchants/xibei/metadata/discount-function/alipay-discount";
  const current = await server.api("GET", doc);
  assert.equal(current.status, 200);
  const draft = {
    ...current.body.published,
    script: current.body.published.script.replace("percent_of(order.amount_minor, 80)", "percent_of(order.amount_minor, 60)"),
  };
  assert.equal((await server.api("PUT", `${doc}/draft`, draft)).status, 200);
  // A function that only ever was a draft.
  const fresh = "/v1/merchants/xibei/metadata/discount-function/draft-only";
  assert.equal((await server.api("PUT", `${fresh}/draft`, { ...draft, tests: [] })).status, 200);

  const { browser, page, consoleErrors } = await openBrowser();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/xibei/documents/discount-function/alipay-discount`);
    const output = page.locator("output[aria-label='Final amount']");
    // The draft (60%) is what the editor opens.
    await output.filter({ hasText: /^6000$/ }).waitFor();
    await page.getByText("draft saved", { exact: true }).waitFor();
    // An unsaved edit on top of the draft.
    await page.getByLabel("Description").fill("Edited, not saved.");
    await page.getByText("unsaved changes", { exact: true }).waitFor();

    // Keep it: nothing happens.
    await page.getByRole("button", { name: "Discard draft" }).click();
    const dialog = page.getByRole("alertdialog");
    assert.match(await dialog.textContent(), /Discard the saved draft and your unsaved changes\? The function goes back to the published v1\./);
    await screenshot(page, "function-discard-draft");
    await dialog.getByRole("button", { name: "Keep it" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.notEqual((await server.api("GET", doc)).body.draft, null, "Keep it discards nothing");
    assert.equal(await page.getByLabel("Description").inputValue(), "Edited, not saved.");

    // Discard draft: the server's draft is gone, the editor shows v1 with nothing unsaved.
    await page.getByRole("button", { name: "Discard draft" }).click();
    await dialog.getByRole("button", { name: "Discard draft" }).click();
    await page.getByText("Draft discarded: back to the published v1.").waitFor();
    await output.filter({ hasText: /^8000$/ }).waitFor();
    const after = await server.api("GET", doc);
    assert.equal(after.body.draft, null);
    assert.equal(after.body.published_version, 1);
    assert.equal((await server.api("GET", "/v1/merchants/xibei/audit-log")).body.data[0].action, "draft_discarded");
    assert.equal(await page.getByLabel("Description").inputValue(), current.body.published.description);
    assert.equal(await page.getByText("unsaved changes", { exact: true }).count(), 0);
    assert.equal(await page.getByText("draft saved", { exact: true }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Discard draft" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Publish", exact: true }).isDisabled(), true);
    // Nothing unsaved is left, so leaving does not ask.
    await page.getByRole("link", { name: "Orders", exact: true }).click();
    await page.getByRole("heading", { name: "Orders" }).waitFor();

    // A function that was never published is deleted with its draft.
    await page.goto(`${server.baseUrl}/admin/merchants/xibei/documents/discount-function/draft-only`);
    await page.getByText("draft saved", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Discard draft" }).click();
    assert.match(await dialog.textContent(), /It was never published, so the function is deleted\./);
    await dialog.getByRole("button", { name: "Discard draft" }).click();
    await page.getByText("Draft discarded: the function was never published, so it is gone.").waitFor();
    await page.getByText("never published", { exact: true }).waitFor();
    assert.equal((await server.api("GET", fresh)).status, 404);
    assert.equal(await page.getByRole("button", { name: "Discard draft" }).count(), 0);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

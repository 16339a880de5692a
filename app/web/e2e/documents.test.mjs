// The console's sign-in, navigation and metadata documents, in Chromium, against a real
// seeded server: schema forms with the API's 422s at their fields, the checkout page preview,
// the routing evaluate panel, versions (diff, rollback) and the audit log.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertNoScriptErrors, assertAccessible, openBrowser, screenshot as save, signIn, startServer } from "./harness.mjs";


/** Changes the document in the editor's JSON tab, then returns to the form. */
async function editJson(page, change) {
  await page.getByRole("tab", { name: "JSON" }).click();
  const json = page.getByLabel("Document JSON");
  const doc = JSON.parse(await json.inputValue());
  change(doc);
  await json.fill(JSON.stringify(doc, null, 2));
  await page.getByRole("tab", { name: "Form" }).click();
}
let server;
const browsers = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const b of browsers) await b.close();
  await server?.stop();
});

/** A fresh browser page; CSP violations and uncaught errors fail the test at the end. */
async function open(viewport) {
  const opened = await openBrowser(viewport);
  browsers.push(opened.browser);
  return opened;
}

/** A full-page screenshot taken from the top (so the sticky header is where it belongs). */
async function screenshot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await save(page, name);
}

/** Every form control on the page has a label (or an aria-label). */
async function assertLabelled(page) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")]
      .filter((el) => el.type !== "hidden" && !el.labels?.length && !el.getAttribute("aria-label"))
      .map((el) => el.id || el.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unlabelled, []);
}

async function merchantAdminKey(merchantId) {
  const created = await server.api("POST", `/v1/merchants/${merchantId}/api-keys`, { scope: "merchant_admin" });
  assert.equal(created.status, 201);
  return created.body.key;
}

test("sign-in shows the API's 401 for a wrong key, then signs in", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/audit-log`);
    // Not signed in: sent to the sign-in page.
    await page.getByLabel("API key").waitFor();
    assert.match(page.url(), /\/admin\/sign-in$/);
    await page.getByLabel("API key").fill("not-a-real-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.textContent(), /not accepted/);
    assert.equal(await page.getByLabel("API key").getAttribute("aria-invalid"), "true");
    await screenshot(page, "sign-in");

    await page.getByLabel("API key").fill(server.adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    // Back where the user was going.
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    assert.match(page.url(), /\/admin\/merchants\/haidilao\/audit-log$/);
    assert.match(await page.locator(".whoami").textContent(), /env-admin-key.*Platform admin/);

    // The key lives in sessionStorage; signing out forgets it.
    assert.equal(await page.evaluate(() => sessionStorage.getItem("orderflow.apiKey")), server.adminKey);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("orderflow.apiKey")), null);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("a merchant admin sees only their own merchant", async () => {
  const key = await merchantAdminKey("haidilao");
  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl, key);
    await page.getByRole("heading", { name: "Haidilao Hot Pot", exact: true }).waitFor();
    assert.match(page.url(), /\/admin\/merchants\/haidilao$/);
    const nav = page.getByRole("navigation", { name: "Main" });
    const navText = await nav.textContent();
    assert.match(navText, /haidilao/);
    assert.doesNotMatch(navText, /xibei/);
    assert.doesNotMatch(navText, /Platform scope/);
    assert.deepEqual(await nav.getByRole("link").allTextContents(), ["haidilao", "Documents", "Orders", "Webhooks", "Audit log"]);
    assert.match(await page.locator(".whoami").textContent(), /Merchant admin · haidilao/);

    // The landing page is the merchant's home; its documents are one click away.
    await page.getByTestId("live").waitFor();
    await nav.getByRole("link", { name: "Documents" }).click();
    await page.waitForURL(/\/admin\/merchants\/haidilao\/documents$/);
    // The merchant's kinds, each listing its documents (counted once the page is drawn:
    // it loads on demand, and the home, which also links alipay-discount, may still show).
    await page
      .locator('.kind-grid > section[aria-labelledby="kind-discount-function"]')
      .getByRole("link", { name: "alipay-discount", exact: true })
      .waitFor();
    const cards = page.locator(".kind-grid > section");
    assert.equal(await cards.count(), 5);
    assert.equal(await page.locator("#kind-payment-combination").isVisible(), true);
    assert.equal(await page.locator("#kind-payment-method").count(), 0);
    await page.getByRole("link", { name: "default", exact: true }).first().waitFor();
    await screenshot(page, "merchant-overview");

    // Another merchant's page: the API answers 404 and the console says so.
    await page.goto(`${server.baseUrl}/admin/merchants/xibei`);
    await page.getByRole("alert").first().waitFor();
    assert.match(await page.getByRole("alert").first().textContent(), /Not Found/);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("at phone width the navigation collapses behind a Menu button", async () => {
  const { browser, page, consoleErrors } = await open({ width: 375, height: 800 });
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents`);
    await page.getByRole("heading", { name: "Haidilao Hot Pot", exact: true }).waitFor();
    await page.getByRole("link", { name: "alipay-discount", exact: true }).waitFor();
    const menu = page.getByRole("button", { name: "Menu" });
    assert.equal(await menu.getAttribute("aria-expanded"), "false");
    assert.equal(await page.getByRole("navigation", { name: "Main" }).isVisible(), false);
    // Nothing wider than the screen.
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 375);
    await screenshot(page, "merchant-overview-phone");
    await menu.click();
    assert.equal(await menu.getAttribute("aria-expanded"), "true");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /xibei/ }).click();
    await page.getByRole("heading", { name: /Xibei/i }).waitFor();
    assert.equal(await page.getByRole("navigation", { name: "Main" }).isVisible(), false);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("the skip link and the controls are reachable from the keyboard", async () => {
  const { browser, page } = await open();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents`);
    await page.getByRole("heading", { name: "Haidilao Hot Pot", exact: true }).waitFor();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => location.hash), "#main");
    // Every input and select on the overview has a label.
    await assertLabelled(page);
  } finally {
    await browser.close();
  }
});

test("the API's 422 problems are shown at the fields their pointers name", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/payment-combination/default`);
    const method = page.locator("#root_methods_0_method");
    await method.waitFor();
    assert.equal(await method.inputValue(), "alipay");
    assert.equal(await page.locator("#root_methods_1_method").inputValue(), "wechat_pay");

    // A value the schema forbids: the draft save is refused with a pointer to the field.
    // (Amounts are typed in the currency: -5 is -500 minor units.)
    await page.locator("#root_methods_1_min_amount_minor").fill("-5");
    await page.getByRole("button", { name: "Save draft" }).click();
    const problems = page.getByTestId("problems");
    await problems.waitFor();
    assert.match(await problems.textContent(), /The draft was not saved/);
    assert.match(await problems.textContent(), /\/methods\/1\/min_amount_minor/);
    const minErrors = page.locator("#root_methods_1_min_amount_minor__error");
    assert.match(await minErrors.textContent(), /-500 is less than the minimum of 0/);

    // Fixing the value clears its problem.
    await page.locator("#root_methods_1_min_amount_minor").fill("100");
    await problems.waitFor({ state: "detached" });

    // A method the catalog does not have passes the schema but not the publish checks.
    // (Typed in the JSON tab: the form picks methods from the catalog.)
    await editJson(page, (doc) => {
      doc.methods[0].method = "bitcoin";
    });
    assert.match(await method.locator("option:checked").textContent(), /bitcoin \(not in the platform catalog\)/);
    await page.getByRole("button", { name: "Publish" }).click();
    await problems.waitFor();
    assert.match(await problems.textContent(), /Not published/);
    const methodErrors = page.locator("#root_methods_0_method__error");
    await methodErrors.waitFor();
    assert.match(await methodErrors.textContent(), /payment method 'bitcoin' is not in the platform catalog/);
    // The draft was saved (with If-Match) before the publish was attempted.
    const doc = await server.api("GET", "/v1/merchants/haidilao/metadata/payment-combination/default");
    assert.equal(doc.body.draft.methods[0].method, "bitcoin");
    assert.equal(doc.body.published_version, 1);
    await screenshot(page, "document-form-422");

    // Someone else saves meanwhile: the next save is a 412 and the console offers a reload.
    const other = await server.api("PUT", "/v1/merchants/haidilao/metadata/payment-combination/default/draft", {
      methods: [{ method: "alipay" }, { method: "wechat_pay" }],
    });
    assert.equal(other.status, 200);
    await method.selectOption("alipay");
    await page.getByRole("button", { name: "Save draft" }).click();
    await page.getByText("Someone else changed this document").waitFor();
    await page.getByRole("button", { name: /Reload the latest/ }).click();
    await page.locator("#root_methods_0_method").waitFor();
    assert.equal(await page.locator("#root_methods_0_method").inputValue(), "alipay");
    assert.equal(await page.locator("#root_methods_1_min_amount_minor").inputValue(), "");
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("the raw JSON tab edits the same document", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/platform/documents/order-flow/default`);
    await page.locator("#root_steps_0_name").waitFor();
    await assertLabelled(page);
    await assertAccessible(page, "order flow form");
    await page.getByRole("tab", { name: "JSON" }).click();
    const json = page.getByLabel("Document JSON");
    await assertAccessible(page, "order flow JSON");
    const flow = JSON.parse(await json.inputValue());
    assert.equal(flow.steps[0].name, "generateInfo");
    flow.timeoutSeconds = 7200;
    await json.fill(JSON.stringify(flow, null, 2));
    await page.getByRole("tab", { name: "Form" }).click();
    assert.equal(await page.locator("#root_timeoutSeconds").inputValue(), "7200");
    await page.getByRole("tab", { name: "JSON" }).click();
    await json.fill("{ not json");
    assert.match(await page.locator("#json-editor-status").textContent(), /Not valid JSON/);
    assert.equal(await page.getByRole("button", { name: "Save draft" }).isDisabled(), true);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("the checkout page preview follows the unsaved form", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/checkout-page/default`);
    const preview = page.getByTestId("checkout-preview");
    await page.locator("#root_title").waitFor();
    await preview.getByRole("heading", { name: "Checkout · Haidilao Hot Pot" }).waitFor();
    // The merchant's enabled methods, in the payment combination's order.
    const methods = preview.getByRole("list", { name: "Payment methods in display order" }).locator("li");
    await methods.first().waitFor();
    assert.equal(await methods.count(), 2);
    assert.match(await methods.nth(0).textContent(), /Alipay/);
    assert.match(await methods.nth(1).textContent(), /WeChat Pay/);
    assert.match(await preview.textContent(), /Recipient \*/);
    assert.equal(await preview.locator(".preview-section").count(), 5);
    await assertLabelled(page);

    await page.locator("#root_title").fill("Checkout · Haidilao (new)");
    await preview.getByRole("heading", { name: "Checkout · Haidilao (new)" }).waitFor();
    await page.locator("#root_sections_0_title").fill("Where should we deliver?");
    await preview.getByRole("heading", { name: /Where should we deliver\?/ }).waitFor();
    await page.locator("#root_sections_0_fields_0_label").fill("Your name");
    assert.match(await preview.textContent(), /Your name \*/);
    assert.doesNotMatch(await preview.textContent(), /Recipient/);
    await screenshot(page, "checkout-page-preview");
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("the routing evaluate panel shows the matched rule, function and price", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/routing-table/default`);
    await page.locator("#root_rules_0_function").waitFor();
    await assertLabelled(page);
    const panel = page.getByTestId("evaluate-panel");
    await panel.getByLabel("Payment method").selectOption("wechat_pay");
    await panel.getByLabel("Amount (minor units)").fill("12345");
    await panel.getByRole("button", { name: "Evaluate" }).click();
    await panel.getByTestId("matched-rule").waitFor();
    assert.match(await panel.getByTestId("matched-rule").textContent(), /^#1/);
    assert.equal(await panel.getByTestId("matched-function").textContent(), "wechat-pay-discount v1");
    assert.equal(await panel.getByTestId("final-amount").textContent(), "CN¥61.73");

    // The unsaved table is what runs: point the WeChat rule at the Alipay function. Until
    // it is evaluated again, the old result says it is stale.
    await page.locator("#root_rules_1_function").selectOption("alipay-discount");
    await panel.getByTestId("evaluate-stale").waitFor();
    await panel.getByRole("button", { name: "Evaluate" }).click();
    await panel.getByText("alipay-discount v1").waitFor();
    assert.equal(await panel.getByTestId("final-amount").textContent(), "CN¥98.76");
    await screenshot(page, "routing-evaluate");

    // A method no rule routes takes the default (cancel).
    await panel.getByLabel("Payment method").selectOption("points");
    await panel.getByRole("button", { name: "Evaluate" }).click();
    await panel.getByText(/the default cancels the order/).waitFor();

    // A function that is not published: the API's problem appears at the rule's field.
    await editJson(page, (doc) => {
      doc.rules[1].function = "no-such-function";
    });
    await panel.getByLabel("Payment method").selectOption("wechat_pay");
    await panel.getByRole("button", { name: "Evaluate" }).click();
    const fieldErrors = page.locator("#root_rules_1_function__error");
    await fieldErrors.waitFor();
    assert.match(await fieldErrors.textContent(), /'no-such-function' is not published/);
    assert.match(await panel.getByTestId("evaluate-result").textContent(), /rejected with 1 problem/);

    // Check runs the static check on the unsaved table: a shadowed rule at its pointer.
    await page.locator("#root_rules_1_function").selectOption("wechat-pay-discount");
    await fieldErrors.waitFor({ state: "detached" });
    await page.locator("#root_rules_1_when_method").selectOption("alipay");
    await page.getByRole("button", { name: "Check", exact: true }).click();
    const problems = page.getByTestId("problems");
    await problems.waitFor();
    assert.match(await problems.textContent(), /Publishing would fail/);
    assert.match(await problems.textContent(), /\/rules\/1/);
    assert.match(await page.locator("#root_rules_1__error").textContent(), /can never match/);
    const checked = await server.api("GET", "/v1/merchants/haidilao/metadata/routing-table/default");
    assert.equal(checked.body.draft, null, "a check saves nothing");
    await screenshot(page, "routing-check");

    // Publishing runs the same check and is rejected.
    await page.getByRole("button", { name: "Publish" }).click();
    await problems.getByText("Not published").waitFor();
    assert.match(await problems.textContent(), /\/rules\/1/);
    assert.match(await problems.textContent(), /can never match/);
    assert.match(await page.locator("#root_rules_1__error").textContent(), /can never match/);
    // Nothing was published.
    const doc = await server.api("GET", "/v1/merchants/haidilao/metadata/routing-table/default");
    assert.equal(doc.body.published_version, 1);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("a rollback publishes a new version and the diff shows the change", async () => {
  // Version 2 of xibei's payment combination drops UnionPay.
  const saved = await server.api("PUT", "/v1/merchants/xibei/metadata/payment-combination/default/draft", {
    methods: [{ method: "alipay" }, { method: "wechat_pay", label: "WeChat" }],
  });
  assert.equal(saved.status, 200);
  assert.equal((await server.api("POST", "/v1/merchants/xibei/metadata/payment-combination/default/publish")).status, 201);

  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/xibei/documents/payment-combination/default/versions`);
    const rows = page.getByTestId("versions-table").locator("tbody tr");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 2);

    // The two newest versions are compared: v1 → v2.
    const diff = page.getByTestId("diff");
    await diff.waitFor();
    assert.match(await page.getByTestId("diff-summary").textContent(), /\+2 added, −4 removed/);
    const removed = await diff.locator("[data-side=left] .diff-line.removed").allTextContents();
    const added = await diff.locator("[data-side=right] .diff-line.added").allTextContents();
    assert.ok(removed.some((l) => l.includes('"method": "unionpay"')), removed.join("\n"));
    assert.ok(added.some((l) => l.includes('"label": "WeChat"')), added.join("\n"));

    // View one version's body.
    await page.getByRole("button", { name: "View version 1" }).click();
    assert.match(await page.getByTestId("version-body").textContent(), /"unionpay"/);

    // Roll back to v1 (confirm first): a new version 3 with v1's body.
    await page.getByRole("button", { name: "Roll back to v1" }).click();
    await page.getByRole("button", { name: "Confirm rollback" }).click();
    await page.getByText("now published as version 3").waitFor();
    await rows.nth(2).waitFor();
    assert.equal(await rows.count(), 3);
    assert.match(await rows.first().textContent(), /v3.*current.*rollback to v1/);
    // The diff now shows v2 → v3: UnionPay back.
    await page.getByRole("region", { name: "v3" }).waitFor();
    const back = await diff.locator("[data-side=right] .diff-line.added").allTextContents();
    assert.ok(back.some((l) => l.includes('"method": "unionpay"')), back.join("\n"));
    const v3 = await server.api("GET", "/v1/merchants/xibei/metadata/payment-combination/default/versions/3");
    assert.equal(v3.body.rolled_back_from, 1);
    assert.equal(v3.body.body.methods.length, 3);

    // Any two versions: v1 and v3 are identical.
    await page.getByLabel("Old version").selectOption("1");
    await page.getByLabel("New version").selectOption("3");
    await page.getByText("The two versions are identical.").waitFor();
    await page.getByLabel("Old version").selectOption("1");
    await page.getByLabel("New version").selectOption("2");
    await page.getByRole("region", { name: "v2" }).waitFor();
    await screenshot(page, "versions-diff");
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("the audit log lists who changed what and when", async () => {
  // The newest change: a draft of xibei's checkout page, saved by the admin key.
  const page0 = await server.api("GET", "/v1/merchants/xibei/metadata/checkout-page/default");
  const saved = await server.api("PUT", "/v1/merchants/xibei/metadata/checkout-page/default/draft", {
    ...page0.body.published,
    title: "Checkout · Xibei (draft)",
  });
  assert.equal(saved.status, 200);

  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/xibei/audit-log`);
    const rows = page.getByTestId("audit-table").locator("tbody tr");
    await rows.first().waitFor();
    const log = await server.api("GET", "/v1/merchants/xibei/audit-log?limit=50");
    assert.equal(await rows.count(), log.body.data.length);
    const first = await rows.first().textContent();
    assert.match(first, /env-admin-key/);
    assert.match(first, /Draft saved/);
    assert.match(first, /checkout-page/);
    assert.match(first, /draft on v1/);
    // The seed published every document.
    const text = await page.getByTestId("audit-table").textContent();
    assert.match(text, /seed/);
    assert.match(text, /routing-table/);
    await screenshot(page, "audit-log");
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("the merchants page creates merchants (422 at the field) and API keys", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants`);
    await page.getByRole("heading", { name: "All merchants" }).waitFor();
    await page.getByRole("main").getByRole("link", { name: "Haidilao Hot Pot" }).waitFor();
    await assertAccessible(page, "merchants");

    await page.getByLabel("Merchant id").fill("Bad Id");
    await page.getByLabel("Display name").fill("Bad");
    await page.getByRole("button", { name: "Create merchant" }).click();
    await page.locator("#merchant-id-error").getByText(/./).waitFor();
    assert.equal(await page.getByLabel("Merchant id").getAttribute("aria-invalid"), "true");

    await page.getByLabel("Merchant id").fill("dintaifung");
    await page.getByLabel("Display name").fill("Din Tai Fung");
    await page.getByRole("button", { name: "Create merchant" }).click();
    await page.getByText("Created merchant dintaifung.").waitFor();
    await page.getByRole("main").getByRole("link", { name: "Din Tai Fung" }).waitFor();
    // The navigation lists it too.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /Din Tai Fung/ }).waitFor();

    await page.getByRole("button", { name: "Create API key for dintaifung" }).click();
    const secret = page.getByTestId("api-key-secret");
    await secret.waitFor();
    const key = (await secret.textContent()).trim();
    const me = await server.api("GET", "/v1/me", undefined, key);
    assert.equal(me.status, 200);
    assert.deepEqual([me.body.scope, me.body.merchant_id], ["merchant_admin", "dintaifung"]);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

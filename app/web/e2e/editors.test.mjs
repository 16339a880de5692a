// The schema-form editors as a merchant uses them, in Chromium against a real seeded server:
// after a publish the editor starts afresh from what was published; Publish is offered only
// when there is something to publish; the routing table's default route shows what is saved;
// errors appear only on touched fields (every field on Check), in plain words, once; a
// read-only key gets a read-only page; unsaved edits are never lost without a prompt.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertNoScriptErrors, assertAccessible, openBrowser, screenshot as save, signIn, startServer } from "./harness.mjs";

let server;
const browsers = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const b of browsers) await b.close();
  await server?.stop();
});

async function open(viewport) {
  const opened = await openBrowser(viewport);
  browsers.push(opened.browser);
  return opened;
}

async function screenshot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await save(page, name);
}

async function merchantAdminKey(merchantId) {
  const created = await server.api("POST", `/v1/merchants/${merchantId}/api-keys`, { scope: "merchant_admin" });
  assert.equal(created.status, 201);
  return created.body.key;
}

/** The form's field error messages, as shown. */
async function fieldErrors(page, scope = page.locator(".rjsf")) {
  return scope.locator(".error-detail li").allTextContents();
}

const VALIDATOR_WORDS = /oneOf|anyOf|must match|must be equal to constant|additional properties|must have required property|must NOT/;

test("after a publish the editor shows what was published: no unsaved changes, no new-document banner", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);

    // An existing document: haidilao's payment combination (v1 published, no draft).
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/payment-combination/default`);
    const label = page.locator("#root_methods_0_label");
    await label.waitFor();
    const publishButton = page.getByRole("button", { name: "Publish", exact: true });
    assert.equal(await page.getByText("unsaved changes").count(), 0);
    await label.fill("Alipay (spring promotion)");
    await page.getByText("unsaved changes").waitFor();
    await publishButton.click();
    await page.getByText("Published version 2.").waitFor();
    await page.getByText("v2 published").waitFor();
    assert.equal(await page.getByText("unsaved changes").count(), 0, "the published body is not an unsaved change");
    assert.equal(await label.inputValue(), "Alipay (spring promotion)");
    const published = await server.api("GET", "/v1/merchants/haidilao/metadata/payment-combination/default");
    assert.equal(published.body.published_version, 2);
    assert.equal(published.body.published.methods[0].label, "Alipay (spring promotion)");
    // Editing on from here compares with v2, and a second publish makes v3.
    await label.fill("Alipay");
    await page.getByText("unsaved changes").waitFor();
    await publishButton.click();
    await page.getByText("Published version 3.").waitFor();
    assert.equal(await page.getByText("unsaved changes").count(), 0);

    // A new document: the banner says it does not exist until its first save.
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/payment-combination/weekend`);
    const banner = page.getByTestId("new-document");
    await banner.waitFor();
    assert.match(await banner.textContent(), /weekend does not exist yet/);
    await page.getByRole("button", { name: "Add item" }).click();
    await page.locator("#root_methods_0_method").selectOption("alipay");
    await page.getByRole("button", { name: "Save draft" }).click();
    await page.getByText(/^Draft saved at/).waitFor();
    await banner.waitFor({ state: "detached" });
    await page.getByText("draft saved", { exact: true }).waitFor();
    assert.equal(await page.getByText("unsaved changes").count(), 0);
    await publishButton.click();
    await page.getByText("Published version 1.").waitFor();
    await page.getByText("v1 published").waitFor();
    assert.equal(await page.getByText("unsaved changes").count(), 0);
    assert.equal(await page.getByText("does not exist yet").count(), 0);
    assert.equal(await page.getByText("never published").count(), 0);
    await assertAccessible(page, "payment combination editor");

    // The platform's order flow editor behaves the same.
    await page.goto(`${server.baseUrl}/admin/platform/documents/order-flow/default`);
    const timeout = page.locator("#root_timeoutSeconds");
    await timeout.waitFor();
    await timeout.fill("5400");
    await page.getByText("unsaved changes").waitFor();
    await publishButton.click();
    await page.getByText("Published version 2.").waitFor();
    assert.equal(await page.getByText("unsaved changes").count(), 0);
    assert.equal(await timeout.inputValue(), "5400");
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("Publish is disabled, with the reason shown, when there is nothing to publish", async () => {
  const { browser, page, consoleErrors } = await open();
  const requests = [];
  page.on("request", (r) => r.method() === "POST" && r.url().endsWith("/publish") && requests.push(r.url()));
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/xibei/documents/checkout-page/default`);
    const title = page.locator("#root_title");
    await title.waitFor();
    const publishButton = page.getByRole("button", { name: "Publish", exact: true });
    const reason = page.getByTestId("publish-reason");

    // No draft: nothing to publish, and the page says why.
    assert.equal(await publishButton.isDisabled(), true);
    assert.match(await reason.textContent(), /Nothing to publish: there is no draft, and v1 is what is published/);
    assert.equal(await publishButton.getAttribute("aria-describedby"), "publish-reason");

    // An edit is something to publish.
    const original = await title.inputValue();
    await title.fill(`${original} (new)`);
    assert.equal(await publishButton.isDisabled(), false);
    assert.equal(await reason.count(), 0);

    // A saved draft that equals the published version is not.
    await title.fill(original);
    await page.getByRole("button", { name: "Save draft" }).click();
    await page.getByText(/^Draft saved at/).waitFor();
    const doc = await server.api("GET", "/v1/merchants/xibei/metadata/checkout-page/default");
    assert.notEqual(doc.body.draft, null);
    assert.equal(await publishButton.isDisabled(), true);
    assert.match(await reason.textContent(), /the draft equals the published v1/);

    // Neither is an edit undone by hand.
    await title.fill(`${original}!`);
    assert.equal(await publishButton.isDisabled(), false);
    await title.fill(original);
    assert.equal(await publishButton.isDisabled(), true);
    assert.deepEqual(requests, [], "no publish request was sent");

    // The discount function editor applies the same rule.
    await page.goto(`${server.baseUrl}/admin/merchants/xibei/documents/discount-function/${await firstFunction("xibei")}`);
    await page.getByRole("heading", { name: /discount function/ }).waitFor();
    assert.equal(await publishButton.isDisabled(), true);
    assert.match(await reason.textContent(), /Nothing to publish: there is no draft/);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

async function firstFunction(merchantId) {
  const list = await server.api("GET", `/v1/merchants/${merchantId}/metadata/discount-function`);
  return list.body.data[0].name;
}

test("the routing table's default route shows what is saved; errors are plain words", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);
    // A table without a default: the form says so (it used to show "Cancel the order").
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/routing-table/weekend`);
    const route = page.getByLabel("Default route");
    await route.waitFor();
    assert.equal(await route.inputValue(), "none");
    assert.match(await route.locator("option:checked").textContent(), /No default/);
    await page.getByRole("tab", { name: "JSON" }).click();
    assert.equal("default" in JSON.parse(await page.getByLabel("Document JSON").inputValue()), false);
    await page.getByRole("tab", { name: "Form" }).click();

    // The seeded table cancels by default, and shows it.
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/routing-table/default`);
    await route.waitFor();
    assert.equal(await route.inputValue(), "cancel");

    // Choosing "no default" removes it from the document; choosing a function asks for one.
    await route.selectOption("none");
    await page.getByRole("tab", { name: "JSON" }).click();
    assert.equal("default" in JSON.parse(await page.getByLabel("Document JSON").inputValue()), false);
    await page.getByRole("tab", { name: "Form" }).click();
    await route.selectOption("function");
    // The function is picked from those the merchant has published.
    const fn = page.locator("#root_default_function");
    assert.equal(await fn.evaluate((el) => el.tagName), "SELECT");
    await fn.selectOption("alipay-discount");
    await page.getByRole("tab", { name: "JSON" }).click();
    assert.deepEqual(JSON.parse(await page.getByLabel("Document JSON").inputValue()).default, { function: "alipay-discount" });
    await page.getByRole("tab", { name: "Form" }).click();

    // A value typed wrong (a step name, in the order flow editor): a plain message, at that
    // field only.
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/order-flow/express`);
    await page.getByRole("button", { name: "Add item" }).click();
    const stepName = page.locator("#root_steps_0_name");
    await stepName.fill("1 bad");
    await page.locator("#root_steps_0_name__error").waitFor();
    const messages = await fieldErrors(page);
    assert.equal(messages.length, 1, messages.join("\n"));
    assert.match(messages[0], /^Name is not valid\./);
    assert.doesNotMatch(await page.locator(".rjsf").textContent(), VALIDATOR_WORDS);
    await assertAccessible(page, "routing table editor");
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("errors show on touched fields only (all on Check), at their field, by label, once", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/platform/documents/order-flow/default`);
    await page.locator("#root_steps_0_name").waitFor();

    // A new step: nothing typed yet, so nothing is wrong yet.
    await page.locator(".rjsf-array-item-add button, button:has-text('Add item')").last().click();
    await page.locator("#root_steps_5_name").waitFor();
    assert.deepEqual(await fieldErrors(page), []);
    assert.equal(await page.locator(".rjsf .has-error").count(), 0);

    // A wrong value in one field of a step: one message, at that field, in words; only that
    // control is marked.
    await page.getByRole("button", { name: /#1 payment/ }).click();
    const stepTimeout = page.locator("#root_steps_1_timeoutSeconds");
    await stepTimeout.fill("0");
    const timeoutError = page.locator("#root_steps_1_timeoutSeconds__error");
    await timeoutError.waitFor();
    assert.deepEqual(await fieldErrors(page), ["Timeout (seconds) must be at least 1."]);
    const marked = await page.evaluate(() =>
      [...document.querySelectorAll(".rjsf input, .rjsf select, .rjsf textarea")]
        .filter((el) => getComputedStyle(el).borderTopColor === "rgb(180, 35, 24)")
        .map((el) => el.id),
    );
    assert.deepEqual(marked, ["root_steps_1_timeoutSeconds"]);
    await screenshot(page, "order-flow-field-error");

    // The new step's name, typed wrong and then emptied: its own message, named by its label.
    const newName = page.locator("#root_steps_5_name");
    await newName.fill("9 lives");
    await page.locator("#root_steps_5_name__error").waitFor();
    assert.match(await page.locator("#root_steps_5_name__error").textContent(), /^Name is not valid\. Expected a step name/);
    await newName.fill("");
    await newName.blur();
    assert.deepEqual(await page.locator("#root_steps_5_name__error li").allTextContents(), ["Name is required."]);

    // Check shows every field's errors, touched or not, each once.
    await page.getByRole("button", { name: "Check", exact: true }).click();
    await page.getByTestId("problems").waitFor();
    const errors = await fieldErrors(page);
    assert.ok(errors.includes("Timeout (seconds) must be at least 1."), errors.join("\n"));
    assert.ok(errors.includes("Action is required."), errors.join("\n"));
    assert.equal(errors.filter((e) => e === "Name is required.").length, 1, errors.join("\n"));
    const formText = await page.locator(".rjsf").textContent();
    assert.doesNotMatch(formText, VALIDATOR_WORDS);
    for (const list of await page.locator(".rjsf .error-detail").all()) {
      const items = await list.locator("li").allTextContents();
      assert.equal(new Set(items).size, items.length, `shown twice: ${items.join(" | ")}`);
    }
    await assertAccessible(page, "order flow editor after Check");
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("a merchant admin sees platform documents read-only, with a note why", async () => {
  const key = await merchantAdminKey("haidilao");
  const { browser, page, consoleErrors } = await open();
  const writes = [];
  page.on("request", (r) => ["PUT", "POST"].includes(r.method()) && r.url().includes("/metadata/") && writes.push(r.url()));
  try {
    await signIn(page, server.baseUrl, key);
    await page.goto(`${server.baseUrl}/admin/platform/documents/order-flow/default`);
    const timeout = page.locator("#root_timeoutSeconds");
    await timeout.waitFor();
    const note = page.getByTestId("read-only");
    await note.waitFor();
    assert.match(await note.textContent(), /Platform documents are managed by platform admins/);
    for (const name of ["Save draft", "Check", "Publish", "Discard changes"])
      assert.equal(await page.getByRole("button", { name, exact: true }).count(), 0, `${name} is not offered`);
    assert.equal(await timeout.evaluate((el) => el.readOnly || el.disabled), true);
    assert.equal(await page.locator(".rjsf button", { hasText: /Add item|Remove/ }).filter({ visible: true }).evaluateAll((els) => els.filter((e) => !e.disabled).length), 0);
    await page.keyboard.press("ControlOrMeta+s");
    await assertAccessible(page, "read-only order flow");
    await screenshot(page, "order-flow-read-only");

    // Its versions: no rollback either.
    await page.getByRole("link", { name: "Versions" }).click();
    await page.getByTestId("versions-table").waitFor();
    assert.equal(await page.getByRole("button", { name: /Roll back/ }).count(), 0);
    await page.getByRole("note").filter({ hasText: "Read-only" }).waitFor();
    await assertAccessible(page, "read-only versions");

    // Their own merchant's documents stay editable.
    await page.goto(`${server.baseUrl}/admin/merchants/haidilao/documents/payment-combination/default`);
    await page.locator("#root_methods_0_method").waitFor();
    assert.equal(await page.getByRole("button", { name: "Save draft" }).count(), 1);
    assert.equal(await page.getByTestId("read-only").count(), 0);
    assert.deepEqual(writes, [], "nothing was written");
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("leaving with unsaved edits asks first: in the app and when the tab reloads", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/xibei/documents/checkout-page/default`);
    const title = page.locator("#root_title");
    await title.waitFor();
    await title.fill("Checkout · Xibei (unsaved)");

    // In-app navigation: a dialog; staying keeps the edit.
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Orders" }).click();
    const dialog = page.getByRole("dialog", { name: "Leave without saving?" });
    await dialog.waitFor();
    await assertAccessible(page, "leave dialog");
    await dialog.getByRole("button", { name: "Stay and keep editing" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.match(page.url(), /checkout-page\/default$/);
    assert.equal(await title.inputValue(), "Checkout · Xibei (unsaved)");

    // Signing out leaves the page too.
    await page.getByRole("button", { name: "Sign out" }).click();
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Stay and keep editing" }).click();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("orderflow.apiKey")), server.adminKey);
    assert.equal(await title.inputValue(), "Checkout · Xibei (unsaved)");

    // Closing or reloading the tab: the browser's own prompt.
    const prompted = new Promise((ok) =>
      page.once("dialog", async (d) => {
        const type = d.type();
        await d.dismiss();
        ok(type);
      }),
    );
    void page.reload().catch(() => {});
    assert.equal(await prompted, "beforeunload");
    assert.equal(await title.inputValue(), "Checkout · Xibei (unsaved)");

    // Saving lifts the prompt.
    await page.getByRole("button", { name: "Save draft" }).click();
    await page.getByText(/^Draft saved at/).waitFor();
    await nav.getByRole("link", { name: "Orders" }).click();
    await page.getByRole("heading", { name: "Orders" }).waitFor();
    assert.equal(await dialog.count(), 0);

    // Leaving anyway discards the edit.
    await page.goBack();
    await title.waitFor();
    await title.fill("Checkout · Xibei (discarded)");
    await nav.getByRole("link", { name: "Audit log" }).click();
    await dialog.getByRole("button", { name: "Leave and discard changes" }).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    const doc = await server.api("GET", "/v1/merchants/xibei/metadata/checkout-page/default");
    assert.equal(doc.body.draft.title, "Checkout · Xibei (unsaved)");

    // The discount function editor asks too.
    await page.goto(`${server.baseUrl}/admin/merchants/xibei/documents/discount-function/${await firstFunction("xibei")}`);
    await page.getByLabel("Description").fill("Edited, not saved.");
    await nav.getByRole("link", { name: "Orders" }).click();
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Stay and keep editing" }).click();
    assert.equal(await page.getByLabel("Description").inputValue(), "Edited, not saved.");
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("Ctrl+S saves and Discard changes goes back to what is saved", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/xibei/documents/payment-combination/default`);
    const label = page.locator("#root_methods_0_label");
    await label.waitFor();
    const before = await label.inputValue();
    await label.fill("Alipay (Ctrl+S)");
    await page.keyboard.press("ControlOrMeta+s");
    await page.getByText(/^Draft saved at/).waitFor();
    const doc = await server.api("GET", "/v1/merchants/xibei/metadata/payment-combination/default");
    assert.equal(doc.body.draft.methods[0].label, "Alipay (Ctrl+S)");

    await label.fill("Not wanted");
    await page.getByRole("button", { name: "Discard changes" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Discard changes" }).click();
    assert.equal(await label.inputValue(), "Alipay (Ctrl+S)");
    assert.equal(await page.getByText("unsaved changes").count(), 0);
    assert.notEqual(before, "Alipay (Ctrl+S)");

    // The action bar stays in view while the form scrolls.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const bar = await page.getByRole("button", { name: "Save draft" }).boundingBox();
    assert.ok(bar && bar.y >= 0 && bar.y < 800, `Save draft is on screen (y=${bar?.y})`);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("Check and Publish show their warnings next to Publish: a method the default cancels", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    // A merchant offering Alipay and WeChat Pay whose routing table (a draft) routes only
    // Alipay and cancels the rest.
    const m = "/v1/merchants/warned";
    assert.equal((await server.api("POST", "/v1/merchants", { id: "warned", name: "Warned" })).status, 201);
    const put = async (kind, name, body) => assert.equal((await server.api("PUT", `${m}/metadata/${kind}/${name}/draft`, body)).status, 200);
    const publish = async (kind, name) => assert.equal((await server.api("POST", `${m}/metadata/${kind}/${name}/publish`)).status, 201);
    await put("payment-combination", "default", { methods: [{ method: "alipay" }, { method: "wechat_pay" }] });
    await publish("payment-combination", "default");
    const fn = await server.api("GET", "/v1/merchants/haidilao/metadata/discount-function/alipay-discount");
    await put("discount-function", "alipay-discount", fn.body.published);
    await publish("discount-function", "alipay-discount");
    await put("routing-table", "default", {
      rules: [{ when: { method: "alipay" }, function: "alipay-discount" }],
      default: { action: "cancel" },
    });

    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/warned/documents/routing-table/default`);
    const publishButton = page.getByRole("button", { name: "Publish", exact: true });
    await publishButton.waitFor();
    const warnings = page.getByRole("region", { name: /warn/ });
    assert.equal(await warnings.count(), 0);

    // Check: publishable, with the warning listed by the Publish button.
    await page.getByRole("button", { name: "Check" }).click();
    await warnings.waitFor();
    assert.match(await warnings.getByRole("heading").textContent(), /Publishing this would warn \(1\)/);
    assert.match(await warnings.textContent(), /\/default.*'wechat_pay'.*no_route/);
    await page.getByText(/pass every check, with the warnings below/).waitFor();
    await assertAccessible(page, "routing table with publish warnings");
    await screenshot(page, "routing-publish-warnings");

    // Publish: it goes through, and says what it warned of.
    await publishButton.click();
    await page.getByText(/^Published version 1\./).waitFor();
    assert.match(await warnings.getByRole("heading").textContent(), /Published, with warnings \(1\)/);
    assert.match(await warnings.textContent(), /'wechat_pay'/);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

test("Discard draft deletes the saved draft on the server and goes back to what is published", async () => {
  const { browser, page, consoleErrors } = await open();
  try {
    const m = "/v1/merchants/drafty";
    assert.equal((await server.api("POST", "/v1/merchants", { id: "drafty", name: "Drafty" })).status, 201);
    const doc = `${m}/metadata/payment-combination/default`;
    assert.equal((await server.api("PUT", `${doc}/draft`, { methods: [{ method: "alipay" }] })).status, 200);
    assert.equal((await server.api("POST", `${doc}/publish`)).status, 201);
    assert.equal((await server.api("PUT", `${doc}/draft`, { methods: [{ method: "alipay" }, { method: "unionpay" }] })).status, 200);

    await signIn(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/admin/merchants/drafty/documents/payment-combination/default`);
    await page.getByText("draft saved", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Discard draft" }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /back to the published v1/);
    await assertAccessible(page, "discard draft confirmation");
    await dialog.getByRole("button", { name: "Discard draft" }).click();
    await page.getByText("Draft discarded: back to the published v1.").waitFor();

    // The server no longer holds a draft, and the audit log says who discarded it.
    const after = await server.api("GET", doc);
    assert.equal(after.body.draft, null);
    assert.deepEqual(after.body.published, { methods: [{ method: "alipay" }] });
    const log = await server.api("GET", `${m}/audit-log`);
    assert.equal(log.body.data[0].action, "draft_discarded");
    // The editor shows the published version, with nothing to publish and no draft to discard.
    assert.equal(await page.getByRole("button", { name: "Discard draft" }).count(), 0);
    assert.equal(await page.getByText("draft saved", { exact: true }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Publish", exact: true }).isDisabled(), true);
    assert.match(await page.getByTestId("publish-reason").textContent(), /there is no draft, and v1 is what is published/);
    assertNoScriptErrors(consoleErrors);
  } finally {
    await browser.close();
  }
});

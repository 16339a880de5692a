// Webhook endpoints in the console, for a platform admin and for the merchant's own admin:
// add one (the console's own checks, then the API's SSRF refusal at the URL field, in plain
// words), see its signing secret once and copy it, find it in the list, edit it, disable and
// enable it, rotate its secret (the new one shown once, the previous one signing for 24 h)
// and delete it. Another merchant's admin sees none of it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, assertNoScriptErrors, screenshot, sharedServer, signIn } from "./harness.mjs";

// The server refuses private addresses here (no ORDERFLOW_WEBHOOK_ALLOW_PRIVATE), so the
// endpoints point at a public address literal: nothing needs to resolve, nothing is delivered
// in these tests.
const shared = sharedServer();
const PUBLIC_URL = "https://93.184.216.34/orderflow";

async function merchantAdminKey(merchant) {
  const key = await shared.server().api("POST", `/v1/merchants/${merchant}/api-keys`, { scope: "merchant_admin" });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  return key.body.key;
}

async function openSignedIn(key) {
  const opened = await shared.open();
  await opened.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: shared.server().baseUrl });
  await signIn(opened.page, shared.server().baseUrl, key);
  return opened;
}

/** A screenshot scrolled to the top (the header is sticky: scrolled, it would cover the page). */
async function topShot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name);
}

/** The endpoints the API holds for a merchant. */
async function endpointsOf(merchant) {
  const list = await shared.server().api("GET", `/v1/merchants/${merchant}/webhook-endpoints`);
  assert.equal(list.status, 200, JSON.stringify(list.body));
  return list.body.data;
}

/**
 * Create → secret shown once → list → edit → disable/enable → rotate → delete, through the
 * console, checking each step against the API. `shots` names screenshots to take.
 */
async function manageEndpoint(page, { url, description, shots = false }) {
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Webhooks", exact: true }).click();
  await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
  const before = await endpointsOf("haidilao");

  // Create: the URL, a description, two event types from the checkboxes.
  const add = page.getByRole("region", { name: "Add an endpoint" });
  await add.getByLabel("Endpoint URL").fill(url);
  await add.getByLabel("Description (optional)").fill(description);
  const types = add.getByRole("group", { name: "Event types" });
  await types.getByRole("checkbox", { name: /order\.paid/ }).check();
  await types.getByRole("checkbox", { name: /order\.canceled/ }).check();
  await add.getByRole("button", { name: "Add endpoint" }).click();

  // The secret, once, with a copy button that copies exactly it.
  const secretPanel = page.getByTestId("signing-secret");
  await secretPanel.waitFor();
  const secret = (await page.getByTestId("signing-secret-value").textContent()).trim();
  assert.match(secret, /^whsec_[A-Za-z0-9+/=]{20,}$/);
  assert.match(await secretPanel.textContent(), /it is not shown again/);
  await secretPanel.getByRole("button", { name: "Copy secret" }).click();
  await secretPanel.getByRole("button", { name: "Copied", exact: true }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);

  // The API holds it, without the secret.
  const after = await endpointsOf("haidilao");
  assert.equal(after.length, before.length + 1);
  const created = after.find((e) => !before.some((b) => b.id === e.id));
  assert.equal(created.url, url);
  assert.equal(created.description, description);
  assert.deepEqual([...created.event_types].sort(), ["order.canceled", "order.paid"]);
  assert.equal(created.enabled, true);
  assert.equal(created.secret ?? null, null);

  // Listed.
  const row = page.locator(`tr[data-endpoint="${created.id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(`${url.replace(/[.?/]/g, "\\$&")}.*${description}`));
  assert.match(await row.textContent(), /Enabled/);
  assert.match(await row.textContent(), /order\.paid, order\.canceled/);
  if (shots) await topShot(page, "webhooks");

  // Done with the secret: gone, and not shown again after a reload.
  await secretPanel.getByRole("button", { name: "Done", exact: true }).click();
  await secretPanel.waitFor({ state: "detached" });
  await page.reload();
  await row.waitFor();
  assert.equal(await page.getByTestId("signing-secret").count(), 0);
  assert.doesNotMatch(await page.locator("main").textContent(), new RegExp(secret.slice(6, 20).replace(/[+/]/g, "\\$&")));

  // Edit: drop order.canceled, add order.completed, change the description.
  await row.getByRole("link", { name: url }).click();
  await page.getByRole("heading", { name: "Webhook endpoint", level: 1 }).waitFor();
  const edit = page.getByRole("region", { name: /^Edit/ });
  const editTypes = edit.getByRole("group", { name: "Event types" });
  assert.equal(await editTypes.getByRole("checkbox", { name: /order\.paid/ }).isChecked(), true);
  assert.equal(await edit.getByRole("button", { name: "Save changes" }).isDisabled(), true, "nothing to save yet");
  await editTypes.getByRole("checkbox", { name: /order\.canceled/ }).uncheck();
  await editTypes.getByRole("checkbox", { name: /order\.completed/ }).check();
  await edit.getByLabel("Description (optional)").fill(`${description} (edited)`);
  await edit.getByText("unsaved changes").waitFor();
  await edit.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("Changes saved.").waitFor();
  assert.equal(await edit.getByText("unsaved changes").count(), 0);
  let held = (await shared.server().api("GET", `/v1/merchants/haidilao/webhook-endpoints/${created.id}`)).body;
  assert.deepEqual([...held.event_types].sort(), ["order.completed", "order.paid"]);
  assert.equal(held.description, `${description} (edited)`);
  const details = page.getByRole("region", { name: "Details" });
  assert.match(await details.textContent(), /order\.paid\s*order\.completed/);

  // Disable and enable.
  await page.getByRole("button", { name: "Disable", exact: true }).click();
  await page.getByText("Endpoint disabled: it receives nothing until enabled.").waitFor();
  assert.equal((await shared.server().api("GET", `/v1/merchants/haidilao/webhook-endpoints/${created.id}`)).body.enabled, false);
  assert.match(await page.locator(".wh-subtitle").textContent(), /Disabled/);
  await page.getByRole("button", { name: "Enable", exact: true }).click();
  await page.getByText("Endpoint enabled: it receives events again.").waitFor();
  assert.equal((await shared.server().api("GET", `/v1/merchants/haidilao/webhook-endpoints/${created.id}`)).body.enabled, true);

  // Rotate: confirm, then the new secret once, and until when the old one still signs.
  await page.getByRole("button", { name: "Rotate secret" }).click();
  const dialog = page.getByRole("alertdialog");
  assert.match(await dialog.textContent(), /keeps signing alongside it for 24 hours/);
  await dialog.getByRole("button", { name: "Rotate secret" }).click();
  await secretPanel.waitFor();
  const rotated = (await page.getByTestId("signing-secret-value").textContent()).trim();
  assert.match(rotated, /^whsec_/);
  assert.notEqual(rotated, secret);
  held = (await shared.server().api("GET", `/v1/merchants/haidilao/webhook-endpoints/${created.id}`)).body;
  const expires = new Date(held.previous_secret_expires_at).getTime();
  assert.ok(Math.abs(expires - (Date.now() + 24 * 3600_000)) < 5 * 60_000, held.previous_secret_expires_at);
  const note = page.getByTestId("previous-secret-note");
  assert.match(await note.textContent(), /previous secret keeps signing too.*until.*\(24 hours\)/);
  assert.equal(await note.locator("time").getAttribute("datetime"), held.previous_secret_expires_at);
  if (shots) await topShot(page, "webhook-endpoint-rotated");
  await secretPanel.getByRole("button", { name: "Done", exact: true }).click();
  assert.match(await details.textContent(), /The previous secret still signs too, until/);

  // Delete: confirm, back to the list, gone from the API.
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  assert.match(await dialog.textContent(), new RegExp(`Delete the endpoint ${url.replace(/[.?/]/g, "\\$&")}\\?.*cannot be undone`));
  await dialog.getByRole("button", { name: "Delete endpoint" }).click();
  await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
  await page.getByText(`Endpoint ${url} was deleted.`).waitFor();
  assert.equal(await page.locator(`tr[data-endpoint="${created.id}"]`).count(), 0);
  assert.equal((await shared.server().api("GET", `/v1/merchants/haidilao/webhook-endpoints/${created.id}`)).status, 404);
}

test("a platform admin adds an endpoint (problems at their fields), and manages it to its deletion", async () => {
  const { page, consoleErrors } = await openSignedIn();
  await page.goto(`${shared.server().baseUrl}/admin/merchants/haidilao`);
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Webhooks", exact: true }).click();
  await page.getByText("No webhook endpoints yet.", { exact: false }).waitFor();

  // The event types are the API's, each a checkbox.
  const add = page.getByRole("region", { name: "Add an endpoint" });
  const types = add.getByRole("group", { name: "Event types" });
  const labels = (await types.getByRole("checkbox").evaluateAll((boxes) => boxes.map((b) => b.closest("label").querySelector("code").textContent)));
  for (const t of ["order.created", "order.paid", "order.completed", "order.canceled", "task.timed_out", "metadata.published"])
    assert.ok(labels.includes(t), `${t} in ${labels}`);

  // Nothing filled in: the console's own checks, at the fields.
  await add.getByRole("button", { name: "Add endpoint" }).click();
  assert.match(await add.getByTestId("url-error").textContent(), /Enter the URL/);
  assert.match(await add.getByTestId("event_types-error").textContent(), /Choose at least one event type/);
  assert.equal(await add.getByLabel("Endpoint URL").getAttribute("aria-invalid"), "true");

  // A private address: the API's refusal, at the URL, in plain words.
  await add.getByLabel("Endpoint URL").fill("http://127.0.0.1:9/hook");
  await types.getByRole("checkbox", { name: /order\.paid/ }).check();
  assert.equal(await add.getByTestId("event_types-error").textContent(), "");
  await add.getByRole("button", { name: "Add endpoint" }).click();
  const urlError = add.getByTestId("url-error");
  await urlError.filter({ hasText: "private network" }).waitFor();
  assert.match(await urlError.textContent(), /only delivers to public addresses/);
  assert.match(await add.getByRole("alert").textContent(), /The endpoint was not added/);
  assert.equal(await add.getByLabel("Endpoint URL").getAttribute("aria-invalid"), "true");
  // The field's description names its error, so a screen reader reads it with the field.
  const describedBy = await add.getByLabel("Endpoint URL").getAttribute("aria-describedby");
  assert.ok(describedBy.split(" ").includes(await urlError.getAttribute("id")));
  await topShot(page, "webhooks-ssrf");
  // Another scheme: another plain message.
  await add.getByLabel("Endpoint URL").fill("ftp://93.184.216.34/hook");
  assert.equal(await urlError.textContent(), "", "the refusal goes when the URL changes");
  await add.getByRole("button", { name: "Add endpoint" }).click();
  await urlError.filter({ hasText: "must start with https://" }).waitFor();
  await types.getByRole("checkbox", { name: /order\.paid/ }).uncheck();
  assert.equal(await endpointsOf("haidilao").then((l) => l.length), 0, "nothing was created");

  await manageEndpoint(page, { url: PUBLIC_URL, description: "Kitchen display", shots: true });
  assertNoScriptErrors(consoleErrors);
});

test("a merchant admin manages its own endpoints; another merchant's admin sees none of them", async () => {
  const { page, consoleErrors } = await openSignedIn(await merchantAdminKey("haidilao"));
  await manageEndpoint(page, { url: "https://93.184.216.34/hooks?merchant=haidilao", description: "Loyalty system" });

  // An endpoint that stays, and a refused edit on its page.
  const kept = await shared.server().api("POST", "/v1/merchants/haidilao/webhook-endpoints", {
    url: "https://93.184.216.34/kept",
    event_types: ["order.paid"],
  });
  assert.equal(kept.status, 201, JSON.stringify(kept.body));
  await page.goto(`${shared.server().baseUrl}/admin/merchants/haidilao/webhooks/${kept.body.id}`);
  const edit = page.getByRole("region", { name: /^Edit/ });
  await edit.getByLabel("Endpoint URL").fill("http://10.1.2.3/internal");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await edit.getByTestId("url-error").filter({ hasText: "private network" }).waitFor();
  assert.match(await edit.getByRole("alert").textContent(), /The changes were not saved/);
  await assertAccessible(page, "endpoint edit refused");
  await edit.getByRole("button", { name: "Discard changes" }).click();
  assert.equal(await edit.getByLabel("Endpoint URL").inputValue(), "https://93.184.216.34/kept");
  assert.equal(await edit.getByTestId("url-error").textContent(), "");
  assert.equal((await shared.server().api("GET", `/v1/merchants/haidilao/webhook-endpoints/${kept.body.id}`)).body.url, "https://93.184.216.34/kept");
  // On a phone: nothing scrolls sideways, even a long URL.
  const long = await shared.server().api("POST", "/v1/merchants/haidilao/webhook-endpoints", {
    url: "https://93.184.216.34/orderflow/a/rather/long/path/to/the/kitchen/display/of/the/first/floor",
    event_types: ["order.paid", "order.canceled"],
    description: "First floor kitchen",
  });
  assert.equal(long.status, 201, JSON.stringify(long.body));
  await page.setViewportSize({ width: 375, height: 800 });
  for (const path of ["", `/${long.body.id}`]) {
    await page.goto(`${shared.server().baseUrl}/admin/merchants/haidilao/webhooks${path}`);
    await page.getByText("First floor kitchen").first().waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `${path || "the list"} does not scroll sideways (${width}px)`);
  }
  await screenshot(page, "webhook-endpoint-phone");
  assertNoScriptErrors(consoleErrors);

  // xibei's admin: its own (empty) list; haidilao's list and endpoint are not found.
  const other = await openSignedIn(await merchantAdminKey("xibei"));
  const base = shared.server().baseUrl;
  await other.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks", exact: true }).click();
  await other.page.getByText("No webhook endpoints yet.", { exact: false }).waitFor();
  assert.match(other.page.url(), /\/admin\/merchants\/xibei\/webhooks$/);
  await other.page.goto(`${base}/admin/merchants/haidilao/webhooks`);
  await other.page.getByRole("alert").first().waitFor();
  assert.match(await other.page.getByRole("alert").first().textContent(), /Not Found|Forbidden/);
  assert.doesNotMatch(await other.page.locator("main").textContent(), /93\.184\.216\.34/);
  await other.page.goto(`${base}/admin/merchants/haidilao/webhooks/${kept.body.id}`);
  await other.page.getByRole("alert").first().waitFor();
  assert.doesNotMatch(await other.page.locator("main").textContent(), /93\.184\.216\.34/);
  // The API agrees.
  const xibeiKey = await merchantAdminKey("xibei");
  const refused = await shared.server().api("GET", "/v1/merchants/haidilao/webhook-endpoints", undefined, xibeiKey);
  assert.ok([403, 404].includes(refused.status), String(refused.status));
});

// Pickers instead of codes: what the schema form offers in place of free text for the fields
// that name something else in the system, and money typed as money.
//
// - payment-combination `methods[].method`: the platform's published payment-method catalog,
//   by label;
// - routing-table `when.method`: the methods the merchant accepts (its published payment
//   combination), by label; a rule's `function` and the default route's function: the
//   discount functions the merchant has published;
// - any `*_minor` field: an amount in the currency ("100.00"), stored in integer minor units.
//
// The options are loaded with the document (DocumentPage), so the form never switches from a
// text box to a list under the user's hands. A value that is not among the options (a method
// the catalog dropped, say) stays selectable and says so, so nothing is changed silently.
import { createContext, useContext, useEffect, useState } from "react";
import type { FieldProps } from "@rjsf/utils";
import { api, unwrap } from "../../api/client";
import { getDocument, listDocuments } from "../../api/documents";
import type { Scope } from "../../scope";

export interface Option {
  value: string;
  label: string;
}

export interface PickerData {
  /** The currency amounts are typed in (ISO 4217). */
  currency: string;
  /** Where the currency came from, for the fields' hint. */
  currencySource: string;
  /** The platform catalog's published payment methods. */
  catalog?: Option[];
  /** The methods the merchant's published payment combination accepts. */
  accepted?: Option[];
  /** The merchant's published discount functions. */
  functions?: Option[];
}

export const PickerContext = createContext<PickerData | null>(null);

/** Every page of a listing (documents lists are paged by cursor). */
async function allNames(scope: Scope, kind: string) {
  const all = [];
  let cursor: string | undefined;
  for (let i = 0; i < 20; i++) {
    const page = await listDocuments(scope, kind, cursor);
    all.push(...page.data);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return all;
}

/** The platform catalog's published methods, with their display names (in the browser's
 * language when the catalog has it, else English). */
export async function loadCatalog(): Promise<Option[]> {
  const platform: Scope = { type: "platform" };
  const names = (await allNames(platform, "payment-method")).filter((d) => d.published_version != null);
  const docs = await Promise.all(names.map((d) => getDocument(platform, "payment-method", d.name)));
  const lang = typeof navigator !== "undefined" ? navigator.language : "en";
  return docs
    .filter((d) => d.published)
    .map((d) => {
      const body = d.published as { code?: string; names?: Record<string, string> };
      const label = body.names?.[lang] ?? body.names?.[lang.split("-")[0]] ?? body.names?.en ?? d.name;
      return { value: body.code ?? d.name, label };
    });
}

/** The merchant's published discount functions. */
export async function loadFunctions(merchantId: string): Promise<Option[]> {
  const docs = await allNames({ type: "merchant", merchantId }, "discount-function");
  return docs.filter((d) => d.published_version != null).map((d) => ({ value: d.name, label: d.name }));
}

/** The methods of the merchant's published payment combination `default` (the one orders
 * use), labelled from the catalog; null when it has none published. */
export async function loadAccepted(merchantId: string, catalog: Option[]): Promise<Option[] | null> {
  const doc = await getDocument({ type: "merchant", merchantId }, "payment-combination", "default").catch(() => null);
  const methods = (doc?.published as { methods?: { method: string; label?: string }[] } | null)?.methods;
  if (!methods) return null;
  return methods.map((m) => ({ value: m.method, label: m.label ?? catalog.find((c) => c.value === m.method)?.label ?? m.method }));
}

/** The merchant's currency. The API has no currency per merchant, so this is the currency of
 * its newest order, or CNY (the demo data's) when it has none yet. */
export async function loadCurrency(merchantId: string): Promise<{ currency: string; source: string }> {
  const page = await unwrap(
    api.GET("/v1/merchants/{merchant_id}/orders", { params: { path: { merchant_id: merchantId }, query: { limit: 1 } } }),
  ).catch(() => null);
  const newest = page?.data[0];
  return newest
    ? { currency: newest.currency, source: "the currency of this merchant's orders" }
    : { currency: "CNY", source: "no orders yet, so CNY is assumed" };
}

/** What the form of `kind` in `scope` picks from. */
export async function loadPickerData(scope: Scope, kind: string): Promise<PickerData | null> {
  if (scope.type !== "merchant") return null;
  const { merchantId } = scope;
  if (kind === "payment-combination") {
    const [catalog, money] = await Promise.all([loadCatalog(), loadCurrency(merchantId)]);
    return { currency: money.currency, currencySource: money.source, catalog };
  }
  if (kind === "routing-table") {
    const [catalog, functions, money] = await Promise.all([loadCatalog(), loadFunctions(merchantId), loadCurrency(merchantId)]);
    const accepted = (await loadAccepted(merchantId, catalog)) ?? catalog;
    return { currency: money.currency, currencySource: money.source, catalog, accepted, functions };
  }
  if (kind === "checkout-page") {
    const money = await loadCurrency(merchantId);
    return { currency: money.currency, currencySource: money.source };
  }
  return null;
}

// ---- money ----

/** How many minor digits the currency has (2 for CNY, 0 for JPY). */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** The currency's symbol ("¥" for CNY), or its code. */
export function currencySymbol(currency: string): string {
  try {
    const parts = new Intl.NumberFormat("zh-CN", { style: "currency", currency, currencyDisplay: "narrowSymbol" }).formatToParts(0);
    return parts.find((p) => p.type === "currency")?.value ?? currency;
  } catch {
    return currency;
  }
}

/** Minor units as the amount typed: 10000 → "100.00". */
export function minorToText(minor: number, digits: number): string {
  const negative = minor < 0;
  const s = String(Math.abs(minor)).padStart(digits + 1, "0");
  const whole = digits ? s.slice(0, -digits) : s;
  const frac = digits ? `.${s.slice(-digits)}` : "";
  return `${negative ? "-" : ""}${whole}${frac}`;
}

/** A typed amount as minor units, exactly (no floating point): "100" / "100.5" / "1,000.00" →
 * 10000 / 10050 / 100000; null when it is not an amount with at most `digits` decimals. */
export function textToMinor(text: string, digits: number): number | null {
  const t = text.replace(/[,\s]/g, "");
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(t);
  if (!m) return null;
  const frac = m[3] ?? "";
  if (frac.length > digits) return null;
  const minor = Number(m[2] + frac.padEnd(digits, "0"));
  if (!Number.isSafeInteger(minor)) return null;
  return m[1] ? -minor : minor;
}

/** A `*_minor` field: typed as an amount in the currency, kept as integer minor units. */
export function MoneyInput({ formData, onChange, onBlur, fieldPathId, disabled, readonly, rawErrors }: FieldProps) {
  const picker = useContext(PickerContext);
  const currency = picker?.currency ?? "CNY";
  const digits = minorDigits(currency);
  const id = fieldPathId.$id;
  const value = typeof formData === "number" ? formData : undefined;
  const [text, setText] = useState(() => (value === undefined ? "" : minorToText(value, digits)));
  const parsed = text.trim() === "" ? undefined : textToMinor(text, digits);
  // The value changed from outside (discard, the JSON tab): show it.
  useEffect(() => {
    if (parsed !== value) setText(value === undefined ? "" : minorToText(value, digits));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value, digits]);
  const unreadable = parsed === null;
  const hintId = `${id}__money`;
  return (
    <div className="money-input">
      <span className="money-symbol" aria-hidden="true">
        {currencySymbol(currency)}
      </span>
      <input
        id={id}
        type="text"
        inputMode="decimal"
        autoComplete="off"
        value={text}
        disabled={disabled}
        readOnly={readonly}
        placeholder={digits ? `0.${"0".repeat(digits)}` : "0"}
        aria-describedby={hintId}
        aria-invalid={unreadable || rawErrors?.length ? true : undefined}
        onChange={(e) => {
          setText(e.target.value);
          const next = e.target.value.trim() === "" ? undefined : textToMinor(e.target.value, digits);
          if (next !== null) onChange(next, fieldPathId.path, undefined, id);
        }}
        onBlur={() => {
          if (parsed != null) setText(minorToText(parsed, digits));
          onBlur(id, value);
        }}
      />
      <span id={hintId} className={unreadable ? "money-hint error" : "money-hint"} data-testid={`${id}__money`}>
        {unreadable
          ? `Not an amount: type it in ${currency}, e.g. ${minorToText(10000, digits)} (at most ${digits} decimals).`
          : value === undefined
            ? `In ${currency} (${picker?.currencySource ?? "assumed"}).`
            : `In ${currency}: stored as ${value} minor units.`}
      </span>
    </div>
  );
}

// ---- pickers ----

/** A select over `options`; a value not among them stays, marked `missing`. */
export function PickerSelect({
  formData,
  onChange,
  onBlur,
  fieldPathId,
  disabled,
  readonly,
  rawErrors,
  options,
  missing,
  placeholder,
}: FieldProps & { options: Option[]; missing: string; placeholder: string }) {
  const id = fieldPathId.$id;
  const value = typeof formData === "string" ? formData : "";
  const known = options.some((o) => o.value === value);
  return (
    <select
      id={id}
      value={value}
      disabled={disabled || readonly}
      aria-invalid={rawErrors?.length ? true : undefined}
      aria-describedby={rawErrors?.length ? `${id}__error` : undefined}
      onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value, fieldPathId.path, undefined, id)}
      onBlur={() => onBlur(id, value)}
    >
      {value === "" && <option value="">{placeholder}</option>}
      {value !== "" && !known && (
        <option value={value}>
          {value} ({missing})
        </option>
      )}
      {options.map((o) => (
        <option key={o.value} value={o.value}>
          {o.label === o.value ? o.value : `${o.label} (${o.value})`}
        </option>
      ))}
    </select>
  );
}

/** Which list a string field picks from, by document kind and field name; null for text. */
export function pickerFor(
  kind: string,
  name: string | undefined,
  data: PickerData | null,
): { options: Option[]; missing: string; placeholder: string } | null {
  if (!data) return null;
  if (kind === "payment-combination" && name === "method" && data.catalog)
    return { options: data.catalog, missing: "not in the platform catalog", placeholder: "Choose a payment method…" };
  if (kind === "routing-table" && name === "method" && data.accepted)
    return { options: data.accepted, missing: "not accepted by this merchant", placeholder: "Choose a payment method…" };
  if (kind === "routing-table" && name === "function" && data.functions)
    return { options: data.functions, missing: "not published", placeholder: "Choose a discount function…" };
  return null;
}

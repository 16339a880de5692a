// The discount-function document as the editor holds it, and the rules the server applies to
// it (domain/schemas/discount-function.schema.json, domain/src/function/document.rs).
import { api, ApiProblem, unwrap, type Schemas, type Violation } from "../../api/client";

export type EvaluationResult = Schemas["EvaluationResult"];
export type FunctionOutput = Schemas["FunctionOutput"];
export type ScriptError = Schemas["ScriptError"];
export type { Violation };

/** `expect`: the final amount only, or `{amount_minor, label?}` (label compared when given). */
export type Expectation = number | { amount_minor: number; label?: string };

export interface TestCase {
  name?: string;
  input: Record<string, unknown>;
  expect: Expectation;
}

export interface FunctionDocument {
  description: string;
  script: string;
  tests?: TestCase[];
}

/** One editable row of the test-case table (text as typed; parsed when saved). */
export interface TestRow {
  key: number;
  name: string;
  inputText: string;
  amount: string;
  label: string;
}

let nextKey = 1;
export const newKey = () => nextKey++;

export const TEMPLATE: FunctionDocument = {
  description: "A discount for one payment method.",
  script:
    "// `order` is the order map (amount_minor, currency, method, merchant_id, items, fields).\n" +
    "// Return the final amount in minor units, or #{ amount_minor, label }.\n" +
    '#{ amount_minor: percent_of(order.amount_minor, 90), label: "10% off" }',
  tests: [],
};

export function sampleOrder(merchantId: string, like?: Record<string, unknown>): Record<string, unknown> {
  return {
    amount_minor: 10000,
    currency: typeof like?.currency === "string" ? like.currency : "CNY",
    method: typeof like?.method === "string" ? like.method : "alipay",
    merchant_id: merchantId,
    items: [{ sku: "beef", name: "Beef slices", quantity: 2, unit_price_minor: 5000 }],
    fields: {},
  };
}

export const pretty = (value: unknown) => JSON.stringify(value, null, 2);

export function rowFromTest(test: TestCase): TestRow {
  const expect = test.expect;
  return {
    key: newKey(),
    name: test.name ?? "",
    inputText: pretty(test.input ?? {}),
    amount:
      typeof expect === "number"
        ? String(expect)
        : expect && typeof expect === "object"
          ? String(expect.amount_minor ?? "")
          : "",
    label: expect && typeof expect === "object" && typeof expect.label === "string" ? expect.label : "",
  };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses a JSON object, or says why it is not one. */
export function parseObject(text: string): { value: Record<string, unknown> } | { error: string } {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? { value } : { error: "must be a JSON object, e.g. {\"amount_minor\": 10000}" };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** A non-negative integer from a text field, or null. */
export function parseAmount(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

export function expectationOf(row: TestRow): Expectation | null {
  const amount = parseAmount(row.amount);
  if (amount === null) return null;
  return row.label === "" ? amount : { amount_minor: amount, label: row.label };
}

/**
 * The document to save, or the problems (pointer + message, like the server's) that keep the
 * rows from being one.
 */
export function buildDocument(
  description: string,
  script: string,
  rows: TestRow[],
): { doc: FunctionDocument; problems: Violation[] } {
  const problems: Violation[] = [];
  const tests: TestCase[] = rows.map((row, i) => {
    const input = parseObject(row.inputText);
    if ("error" in input) problems.push({ pointer: `/tests/${i}/input`, message: `test ${i + 1}: the input ${input.error}` });
    const expect = expectationOf(row);
    if (expect === null)
      problems.push({ pointer: `/tests/${i}/expect`, message: `test ${i + 1}: the expected amount must be a whole number of minor units (0 or more)` });
    const test: TestCase = { input: "value" in input ? input.value : {}, expect: expect ?? 0 };
    return row.name.trim() ? { name: row.name, ...test } : test;
  });
  return { doc: { description, script, tests }, problems };
}

/** Whether a result meets an expectation, exactly as the server compares them on publish. */
export function meets(expect: Expectation, output: FunctionOutput): boolean {
  if (typeof expect === "number") return output.amount_minor === expect;
  return output.amount_minor === expect.amount_minor && (expect.label === undefined || output.label === expect.label);
}

/** Where in the script a problem is, when the server gave its position. */
export function positionOf(v: Violation): { line: number; column: number } | null {
  return v.line != null && v.column != null ? { line: v.line, column: v.column } : null;
}

/** The test row a problem's pointer names (`/tests/2/expect` → 2), if any. */
export function testIndexOf(pointer: string): number | null {
  const m = /^\/tests\/(\d+)(\/|$)/.exec(pointer);
  return m ? Number(m[1]) : null;
}

/** Runs a script on an order: POST /v1/merchants/{id}/functions/dry-run. */
export function dryRun(merchantId: string, script: string, input: Record<string, unknown>): Promise<EvaluationResult> {
  return unwrap(
    api.POST("/v1/merchants/{merchant_id}/functions/dry-run", {
      params: { path: { merchant_id: merchantId } },
      // The sample order is the user's JSON: the server checks it has an amount_minor.
      body: { script, input: input as Schemas["ScriptOrder"] },
    }),
  );
}

/** What a dry-run came to: the script's result, or why the server refused to run it. */
export type Outcome = { result: EvaluationResult } | { problem: string };

export async function outcomeOf(merchantId: string, script: string, input: Record<string, unknown>): Promise<Outcome> {
  try {
    return { result: await dryRun(merchantId, script, input) };
  } catch (e) {
    if (e instanceof ApiProblem && e.violations.length > 0)
      return { problem: e.violations.map((v) => `${v.pointer.replace(/^\/input/, "") || "/"}: ${v.message}`).join("; ") };
    return { problem: e instanceof Error ? e.message : String(e) };
  }
}

export function describeOutput(output: FunctionOutput): string {
  return output.label ? `${output.amount_minor} · ${output.label}` : String(output.amount_minor);
}

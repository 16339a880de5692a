// Try the routing table being edited (unsaved) on an order: pick a payment method from the
// platform catalog and an amount, POST /v1/merchants/{id}/routing/evaluate with the table,
// and see which rule matched, which function and version ran, and what the customer pays.
// A table the check rejects comes back as a 422; its problems go to the form's fields.
import { useState, type FormEvent } from "react";
import { api, ApiProblem, unwrap, type Schemas } from "../../api/client";
import { listDocuments } from "../../api/documents";
import { ErrorNotice } from "../../components/States";
import { formatMoney } from "../../components/format";
import { useLoad } from "../../components/useLoad";
import type { Problems } from "./DocumentEditor";
import { stripPrefix } from "./pointers";

const ROUTE_TEXT: Record<string, string> = {
  rule: "A rule matched",
  default: "No rule matched: the default function ran",
  cancel: "No rule matched: the default cancels the order (no_route)",
  not_found: "No rule matched and there is no default",
  condition_failed: "A rule's condition failed to evaluate",
};

export function RoutingEvaluatePanel({
  merchantId,
  table,
  onProblems,
}: {
  merchantId: string;
  table: unknown;
  onProblems: (problems: Problems | null) => void;
}) {
  const catalog = useLoad(() => listDocuments({ type: "platform" }, "payment-method"), []);
  const [method, setMethod] = useState("");
  const [amount, setAmount] = useState("10000");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ request: { method: string; amount: number }; response: Schemas["EvaluateResponse"] } | null>(null);
  // The table (as JSON) the shown result or rejection is about: an edit makes it stale.
  const [evaluatedTable, setEvaluatedTable] = useState<string | null>(null);
  const stale = evaluatedTable !== null && evaluatedTable !== JSON.stringify(table);
  const [error, setError] = useState<unknown>();
  const [rejected, setRejected] = useState<number | null>(null);
  const methods = catalog.data?.data.filter((d) => d.published_version != null).map((d) => d.name) ?? [];
  const chosen = method || (methods.includes("alipay") ? "alipay" : (methods[0] ?? ""));
  const amountValue = Number(amount);
  const amountValid = amount.trim() !== "" && Number.isInteger(amountValue) && amountValue >= 0;

  async function evaluate(event: FormEvent) {
    event.preventDefault();
    if (!amountValid || !chosen) return;
    setBusy(true);
    setError(undefined);
    setRejected(null);
    setEvaluatedTable(JSON.stringify(table));
    try {
      const response = await unwrap(
        api.POST("/v1/merchants/{merchant_id}/routing/evaluate", {
          params: { path: { merchant_id: merchantId } },
          body: {
            payment_method: chosen,
            order: { amount_minor: amountValue, currency: "CNY", items: [], fields: {} },
            // The unsaved table as edited, which may not be a valid RoutingTable yet: the
            // server validates it (422 with pointers).
            routing_table: table as Schemas["RoutingTable"],
          },
        }),
      );
      setResult({ request: { method: chosen, amount: amountValue }, response });
      onProblems(null);
    } catch (e) {
      setResult(null);
      if (e instanceof ApiProblem && e.status === 422) {
        const violations = stripPrefix(e.violations, "/routing_table");
        setRejected(violations.length);
        onProblems({ source: "evaluate", title: e.problem.title ?? "Unprocessable", detail: e.problem.detail, violations });
      } else {
        setError(e);
      }
    } finally {
      setBusy(false);
    }
  }

  const response = result?.response;
  const rules = ((table as { rules?: unknown[] } | null)?.rules ?? []) as { when?: Record<string, unknown>; function?: string }[];
  const matchedRule = response?.rule_index != null ? rules[response.rule_index] : undefined;

  return (
    <section className="card" aria-labelledby="evaluate-heading" data-testid="evaluate-panel">
      <h2 id="evaluate-heading">Evaluate</h2>
      <p className="muted" style={{ fontSize: "0.85rem" }}>
        Runs this routing table, unsaved changes included, for an order: the same code path as checkout.
      </p>
      <form onSubmit={evaluate} noValidate>
        <div className="field-row">
          <div className="field">
            <label htmlFor="evaluate-method">Payment method</label>
            <select id="evaluate-method" value={chosen} onChange={(e) => setMethod(e.target.value)} disabled={!methods.length}>
              {methods.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="evaluate-amount">Amount (minor units)</label>
            <input
              id="evaluate-amount"
              type="number"
              inputMode="numeric"
              min={0}
              step={1}
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              aria-invalid={!amountValid || undefined}
              aria-describedby="evaluate-amount-hint"
              style={{ width: "10em" }}
            />
          </div>
          <div className="field">
            <button type="submit" className="btn btn-primary" disabled={busy || !amountValid || !chosen}>
              {busy ? "Evaluating…" : "Evaluate"}
            </button>
          </div>
        </div>
        <p className={amountValid ? "hint muted" : "error fail"} id="evaluate-amount-hint" style={{ fontSize: "0.85rem" }}>
          {amountValid ? `= ${formatMoney(amountValue, "CNY")}` : "Enter a whole number of minor units (fen), 0 or more."}
        </p>
      </form>
      {catalog.error != null && <ErrorNotice error={catalog.error} onRetry={catalog.reload} />}
      {error != null && <ErrorNotice error={error} />}
      <div aria-live="polite" data-testid="evaluate-result">
        {stale && (response || rejected !== null) && (
          <p className="hint muted" data-testid="evaluate-stale">
            The table changed since this result; evaluate again to see where payments go now.
          </p>
        )}
        {rejected !== null && (
          <p className="state state-error">
            The table was rejected with {rejected} problem{rejected === 1 ? "" : "s"}; they are shown above and at their
            fields.
          </p>
        )}
        {response && result && (
          <div className={`state ${response.route === "rule" || response.route === "default" ? "state-success" : "state-warn"}`}>
            <strong>{ROUTE_TEXT[response.route] ?? response.route}</strong>
            <dl className="result-grid">
              <dt>Order</dt>
              <dd>
                {result.request.method}, {formatMoney(result.request.amount, "CNY")}
              </dd>
              {response.rule_index != null && (
                <>
                  <dt>Matched rule</dt>
                  <dd data-testid="matched-rule">
                    #{response.rule_index}
                    {matchedRule?.when && (
                      <span className="muted" style={{ fontWeight: 400 }}>
                        {" "}
                        (when {Object.entries(matchedRule.when).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")})
                      </span>
                    )}
                  </dd>
                </>
              )}
              {response.function && (
                <>
                  <dt>Function</dt>
                  <dd data-testid="matched-function">
                    {response.function.name} v{response.function.version}
                  </dd>
                </>
              )}
              {response.result?.ok && response.result.output && (
                <>
                  <dt>Customer pays</dt>
                  <dd data-testid="final-amount">{formatMoney(response.result.output.amount_minor, "CNY")}</dd>
                  {response.result.output.label && (
                    <>
                      <dt>Label</dt>
                      <dd>{response.result.output.label}</dd>
                    </>
                  )}
                  <dt>Operations</dt>
                  <dd>{response.result.operations}</dd>
                </>
              )}
              {response.result && !response.result.ok && response.result.error && (
                <>
                  <dt>Function error</dt>
                  <dd className="fail">
                    {response.result.error.kind}: {response.result.error.message}
                  </dd>
                </>
              )}
              {response.condition_error && (
                <>
                  <dt>Condition error</dt>
                  <dd className="fail">{response.condition_error.message}</dd>
                </>
              )}
            </dl>
            {(response.routing_logs.length > 0 || (response.result?.logs.length ?? 0) > 0) && (
              <pre className="json-view" style={{ marginTop: 8 }}>
                {[...response.routing_logs, ...(response.result?.logs ?? [])].join("\n")}
              </pre>
            )}
          </div>
        )}
      </div>
    </section>
  );
}

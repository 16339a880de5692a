// "Preview impact": replays the saved draft over the merchant's recent orders (POST
// .../impact) and shows what it would change: a summary sentence, the discount before and
// after per currency and per payment method, the failures, the histogram of price changes
// and the largest changes.
import { useState } from "react";
import { previewImpact, type DocRef, type Impact } from "../../api/release";
import { ErrorNotice } from "../../components/States";
import { formatMoney } from "../../components/format";
import { ScrollRegion } from "./ScrollRegion";
import { ImpactFailures, reasonText } from "./ImpactFailures";
import { ImpactHistogram } from "./ImpactHistogram";
import { LargestChanges, signed } from "./LargestChanges";

const count = new Intl.NumberFormat();

/** "changes 312 of the last 1,000 orders; discount −¥1,234.00; 3 would fail: 2 × …". */
export function impactSummary(impact: Impact): string {
  const { evaluated, changed, now_failing } = impact.orders;
  if (evaluated === 0) return "No orders to replay: none reached pricing yet.";
  const parts = [`Changes ${count.format(changed)} of the last ${count.format(evaluated)} order${evaluated === 1 ? "" : "s"}`];
  for (const c of impact.by_currency) parts.push(`discount ${signed(c.discount_difference_minor, c.currency)}`);
  if (now_failing > 0)
    parts.push(
      `${count.format(now_failing)} would fail: ${impact.failing_by_reason.map((r) => `${r.orders} × ${reasonText(r.reason)}`).join(", ")}`,
    );
  return `${parts.join("; ")}.`;
}

export function ImpactPanel({ doc, hasDraft, dirty }: { doc: DocRef; hasDraft: boolean; dirty: boolean }) {
  const [impact, setImpact] = useState<Impact | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  async function preview() {
    setBusy(true);
    setError(undefined);
    try {
      setImpact(await previewImpact(doc));
    } catch (e) {
      setImpact(null);
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const blocked = !hasDraft ? "Save a draft first: the preview replays the saved draft." : null;
  return (
    <section className="card release-card" aria-labelledby="impact-heading" data-testid="impact-panel">
      <div className="card-header">
        <h2 id="impact-heading">Impact</h2>
        <div className="actions">
          <button type="button" className="btn" onClick={preview} disabled={busy || blocked !== null}>
            {busy ? "Replaying orders…" : "Preview impact"}
          </button>
        </div>
      </div>
      <p className="hint muted">
        {blocked ??
          `Replays the saved draft over the newest 1,000 orders that reached pricing, each with everything else it pinned.${
            dirty ? " Your unsaved changes are not in it: save the draft first." : ""
          }`}
      </p>
      {error != null && <ErrorNotice error={error} />}
      <div aria-live="polite">
        {impact && (
          <>
            <p className={`state ${impact.orders.now_failing > 0 ? "state-warn" : "state-info"}`} data-testid="impact-summary">
              {impactSummary(impact)}
            </p>
            <ImpactCounts impact={impact} />
            <ImpactFailures impact={impact} />
            {impact.orders.evaluated > 0 && (
              <>
                <h3>Price changes</h3>
                <ImpactHistogram buckets={impact.histogram} />
                <h3>Discount per payment method</h3>
                <DiscountTable rows={impact.by_payment_method} testId="impact-by-method" />
              </>
            )}
            {impact.largest_changes.length > 0 && (
              <>
                <h3>Largest changes</h3>
                <LargestChanges merchantId={doc.merchantId} changes={impact.largest_changes} />
              </>
            )}
          </>
        )}
      </div>
    </section>
  );
}

function ImpactCounts({ impact }: { impact: Impact }) {
  const o = impact.orders;
  return (
    <dl className="stat-row" data-testid="impact-counts">
      {(
        [
          ["Replayed", o.evaluated],
          ["Unchanged", o.unchanged],
          ["Changed", o.changed],
          ["Would fail", o.now_failing],
        ] as const
      ).map(([label, value]) => (
        <div key={label} className="stat">
          <dt>{label}</dt>
          <dd data-testid={`impact-${label.toLowerCase().replace(" ", "-")}`}>{count.format(value)}</dd>
        </div>
      ))}
      {impact.by_currency.map((c) => (
        <div key={c.currency} className="stat">
          <dt>Discount ({c.currency})</dt>
          <dd data-testid={`impact-discount-${c.currency}`}>
            {formatMoney(c.discount_before_minor, c.currency)} → {formatMoney(c.discount_after_minor, c.currency)}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function DiscountTable({ rows, testId }: { rows: Impact["by_payment_method"]; testId: string }) {
  return (
    <ScrollRegion label="Discount per payment method">
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">Method</th>
            <th scope="col" className="num">Orders</th>
            <th scope="col" className="num">Changed</th>
            <th scope="col" className="num">Discount before</th>
            <th scope="col" className="num">After</th>
            <th scope="col" className="num">Difference</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.payment_method}:${r.currency}`}>
              <td>{r.payment_method}</td>
              <td className="num">{r.evaluated}</td>
              <td className="num">{r.changed}</td>
              <td className="num">{formatMoney(r.discount_before_minor, r.currency)}</td>
              <td className="num">{formatMoney(r.discount_after_minor, r.currency)}</td>
              <td className="num">{signed(r.discount_difference_minor, r.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

// The orders the candidate would make fail: counts by reason, then each listed order.
import type { Impact } from "../../api/release";

const REASON_TEXT: Record<string, string> = {
  script_error: "the discount function fails",
  no_route: "no route: the routing table would cancel it",
  method_not_offered: "the payment method would not be offered",
  checkout_rejected: "the checkout page would reject it",
};

export function reasonText(reason: string): string {
  return REASON_TEXT[reason] ?? reason;
}

export function ImpactFailures({ impact }: { impact: Impact }) {
  if (impact.orders.now_failing === 0) return null;
  const listed = impact.failing.length;
  return (
    <div className="state state-error impact-failures" data-testid="impact-failures">
      <strong>
        {impact.orders.now_failing} order{impact.orders.now_failing === 1 ? "" : "s"} would fail
      </strong>
      <ul>
        {impact.failing_by_reason.map((r) => (
          <li key={r.reason}>
            {r.orders} × {reasonText(r.reason)} (<code>{r.reason}</code>)
          </li>
        ))}
      </ul>
      <details>
        <summary>
          {listed < impact.orders.now_failing ? `The first ${listed}` : listed === 1 ? "The order" : `All ${listed}`}, with what would go wrong
        </summary>
        <ul data-testid="failing-orders">
          {impact.failing.map((f) => (
            <li key={f.order_id}>
              <code>{f.order_id}</code> ({f.payment_method}): {f.message}
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}

// Cancel an order that awaits payment, from the console: the storefront's
// POST /v1/storefront/orders/{id}/cancel, which a merchant's admin key (and a platform admin
// key) may call for the merchant's orders. The API tells the callers apart: an admin key's
// cancel is recorded as `merchant_canceled` ("Canceled by the merchant"), a storefront key's as
// `customer_canceled`. (Servers from before that distinction record `customer_canceled` for
// both.)
import { useState } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { ErrorNotice } from "../../components/States";

type Order = Schemas["OrderView"];

export function CancelOrderButton({ order, label, onCanceled }: { order: Order; label: string; onCanceled: (o: Order) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  if (order.status !== "awaiting_payment") return null;
  const titleId = `cancel-title-${order.order_id}`;
  async function cancel() {
    setBusy(true);
    setError(undefined);
    try {
      const canceled = await unwrap(
        api.POST("/v1/storefront/orders/{order_id}/cancel", {
          params: { path: { order_id: order.order_id }, header: { "Idempotency-Key": `console-cancel-${order.order_id}` } },
        }),
      );
      setConfirming(false);
      onCanceled(canceled);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  if (!confirming)
    return (
      <button type="button" className="btn btn-small btn-danger" onClick={() => setConfirming(true)}>
        Cancel order<span className="visually-hidden"> {label}</span>
      </button>
    );
  return (
    <div className="confirm cancel-confirm" role="alertdialog" aria-labelledby={titleId}>
      <p id={titleId}>Cancel order {label}? The customer will not be able to pay for it any more.</p>
      <div className="toolbar">
        <button type="button" className="btn btn-small btn-danger" onClick={cancel} disabled={busy}>
          {busy ? "Canceling…" : "Yes, cancel it"}
        </button>
        <button type="button" className="btn btn-small" onClick={() => setConfirming(false)} disabled={busy}>
          Keep it
        </button>
      </div>
      {error != null && <ErrorNotice error={error} />}
    </div>
  );
}

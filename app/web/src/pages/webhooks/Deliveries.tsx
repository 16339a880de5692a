// An endpoint's deliveries, newest first (GET .../deliveries): status badges, a status filter,
// each delivery's attempts on demand (GET .../deliveries/{id}), and Redeliver (POST
// .../deliveries {event_id}: the same event again, as a new delivery). While a delivery on the
// page is pending the list refreshes itself every few seconds, so a success shows up unasked.
import { Fragment, useEffect, useId, useState } from "react";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { Empty, ErrorNotice, Loading } from "../../components/States";
import { useLoad } from "../../components/useLoad";
import { Pager, usePaged } from "../../components/usePaged";
import { eventTypeLabel, formatTime } from "../../components/format";

type Delivery = Schemas["WebhookDelivery"];
type Status = Schemas["WebhookDeliveryStatus"];

const PAGE_SIZE = 20;
const POLL_MS = 2000;

const STATUSES: { value: Status; label: string; tone: string }[] = [
  { value: "pending", label: "Pending", tone: "warn" },
  { value: "succeeded", label: "Succeeded", tone: "ok" },
  { value: "failed", label: "Failed", tone: "fail" },
];

export function DeliveryStatusBadge({ status }: { status: Status }) {
  const s = STATUSES.find((x) => x.value === status);
  return <span className={`badge ${s?.tone ?? ""} wh-delivery-status`}>{s?.label ?? status}</span>;
}

/** An error worth showing next to an HTTP status: not one that only restates it. */
function beyondStatus(error: string | null | undefined, status: number | null | undefined): string | null {
  if (!error) return null;
  if (status != null && /^the receiver answered \d+$/i.test(error.trim())) return null;
  return error;
}

/** What the receiver answered last, or why no answer came. */
function lastAnswer(d: Delivery): string {
  const error = beyondStatus(d.last_error, d.last_response_status);
  if (d.last_response_status != null) return `HTTP ${d.last_response_status}${error ? ` · ${error}` : ""}`;
  if (d.last_error) return d.last_error;
  return d.attempt_count === 0 ? "not attempted yet" : "—";
}

export function Deliveries({ merchantId, endpointId, refresh }: { merchantId: string; endpointId: string; refresh: number }) {
  const [status, setStatus] = useState<Status | "">("");
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const path = { merchant_id: merchantId, endpoint_id: endpointId };
  const paged = usePaged(
    (cursor) =>
      unwrap(
        api.GET("/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/deliveries", {
          params: { path, query: { status: status || undefined, limit: PAGE_SIZE, cursor } },
        }),
      ),
    [merchantId, endpointId, status, refresh, tick],
  );
  const deliveries = paged.data?.data ?? [];
  const pending = deliveries.some((d) => d.status === "pending");

  // A pending delivery on the page: look again shortly (a reload keeps the page).
  const { reload, loading } = paged;
  useEffect(() => {
    if (!pending || loading) return;
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [pending, loading, reload]);

  async function redeliver(d: Delivery) {
    setBusy(d.id);
    setNotice(null);
    setFailure(null);
    try {
      const created = await unwrap(
        api.POST("/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/deliveries", {
          params: { path },
          body: { event_id: d.event_id },
        }),
      );
      setNotice(`${d.event_type ?? "The event"} (${d.event_id}) is being delivered again as ${created.id}.`);
      setTick((t) => t + 1);
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(null);
    }
  }

  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const orderLink = (orderId: string) => `/merchants/${encodeURIComponent(merchantId)}/orders/${encodeURIComponent(orderId)}`;

  return (
    <section className="card" aria-labelledby="wh-deliveries-title">
      <div className="card-header">
        <h2 id="wh-deliveries-title">Deliveries</h2>
        <div className="actions">
          <label className="wh-filter">
            <span>Status</span>
            <select value={status} onChange={(e) => setStatus(e.target.value as Status | "")}>
              <option value="">All statuses</option>
              {STATUSES.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="btn btn-small" onClick={paged.reload} disabled={paged.loading}>
            Refresh
          </button>
        </div>
      </div>
      <p className="muted wh-deliveries-sub">
        Each event of a subscribed type, on its way to this endpoint, newest first. Failed attempts are retried for
        about three days.{pending ? " Pending deliveries refresh by themselves." : ""}
      </p>
      <div aria-live="polite">{notice && <p className="state state-success">{notice}</p>}</div>
      {failure != null && <ErrorNotice error={failure} />}
      {paged.error != null ? (
        <ErrorNotice error={paged.error} onRetry={paged.reload} />
      ) : !paged.data ? (
        <Loading what="deliveries" />
      ) : deliveries.length === 0 ? (
        <Empty>
          {status
            ? `No ${STATUSES.find((s) => s.value === status)?.label.toLowerCase()} deliveries.`
            : "No deliveries yet. They appear as soon as an event of a subscribed type happens."}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table wh-deliveries" aria-busy={paged.loading}>
            <caption className="visually-hidden">
              {status ? `${STATUSES.find((s) => s.value === status)?.label} deliveries` : "Deliveries"}, page {paged.page}
            </caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <Fragment key={d.id}>
                  <tr data-delivery={d.id} data-status={d.status} data-event-type={d.event_type ?? ""}>
                    <td data-label="Event">
                      <span className="wh-event-type">{d.event_type ? eventTypeLabel(d.event_type) : "Event"}</span>{" "}
                      <code>{d.event_type ?? d.event_id}</code>
                      <span className="wh-ids">
                        <code>{d.id}</code> · <code>{d.event_id}</code>
                        {d.order_id && (
                          <>
                            {" · "}
                            <Link to={orderLink(d.order_id)}>order {d.order_id.slice(0, 8)}…</Link>
                          </>
                        )}
                      </span>
                    </td>
                    <td data-label="Status">
                      <DeliveryStatusBadge status={d.status} />
                      {d.status === "pending" && d.next_attempt_at && (
                        <span className="wh-next">
                          next <time dateTime={d.next_attempt_at}>{formatTime(d.next_attempt_at)}</time>
                        </span>
                      )}
                    </td>
                    <td data-label="Attempts" className="num">
                      {d.attempt_count}
                    </td>
                    <td data-label="Last answer" className={d.last_error || (d.last_response_status ?? 200) >= 300 ? "fail" : undefined}>
                      {lastAnswer(d)}
                    </td>
                    <td data-label="Created">
                      <time dateTime={d.created_at}>{formatTime(d.created_at)}</time>
                    </td>
                    <td data-label="Actions" className="wh-row-actions">
                      <button
                        type="button"
                        className="btn btn-small"
                        aria-expanded={open.has(d.id)}
                        aria-controls={`attempts-${d.id}`}
                        onClick={() => toggle(d.id)}
                        disabled={d.attempt_count === 0}
                      >
                        Attempts<span className="visually-hidden"> of {d.id}</span>
                      </button>
                      {d.status !== "pending" && (
                        <button type="button" className="btn btn-small" onClick={() => redeliver(d)} disabled={busy !== null}>
                          {busy === d.id ? "Redelivering…" : "Redeliver"}
                          <span className="visually-hidden"> {d.id}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                  {open.has(d.id) && (
                    <tr className="wh-attempts-row">
                      <td colSpan={6} id={`attempts-${d.id}`}>
                        <Attempts merchantId={merchantId} endpointId={endpointId} delivery={d} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager paged={paged} label="Deliveries" />
    </section>
  );
}

/** Every attempt at one delivery, oldest first; loaded again when the count changes. */
function Attempts({ merchantId, endpointId, delivery }: { merchantId: string; endpointId: string; delivery: Delivery }) {
  const id = useId();
  const loaded = useLoad(
    () =>
      unwrap(
        api.GET("/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}", {
          params: { path: { merchant_id: merchantId, endpoint_id: endpointId, delivery_id: delivery.id } },
        }),
      ),
    [merchantId, endpointId, delivery.id, delivery.attempt_count, delivery.status],
  );
  if (loaded.error) return <ErrorNotice error={loaded.error} onRetry={loaded.reload} />;
  if (!loaded.data) return <Loading what="the attempts" />;
  const attempts = loaded.data.attempts;
  if (attempts.length === 0) return <p className="muted">Not attempted yet.</p>;
  return (
    <ol className="wh-attempts" aria-label={`Attempts at ${delivery.id}`} id={id}>
      {attempts.map((a, i) => {
        const ok = a.response_status != null && a.response_status >= 200 && a.response_status < 300 && !a.error;
        return (
          <li key={i} className={ok ? "wh-attempt-ok" : "wh-attempt-fail"} data-response-status={a.response_status ?? ""}>
            <div className="wh-attempt-head">
              <strong>Attempt {i + 1}</strong>
              <time dateTime={a.attempted_at}>{formatTime(a.attempted_at)}</time>
              <span className={`badge ${ok ? "ok" : "fail"}`}>{a.response_status != null ? `HTTP ${a.response_status}` : "no answer"}</span>
              <span className="muted">{a.latency_ms} ms</span>
            </div>
            {beyondStatus(a.error, a.response_status) && <p className="wh-attempt-error">{a.error}</p>}
            {a.response_body && (
              <pre className="wh-body" tabIndex={0} aria-label={`Answer to attempt ${i + 1}`}>
                {a.response_body}
              </pre>
            )}
          </li>
        );
      })}
    </ol>
  );
}

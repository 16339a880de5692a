// The events an order caused, as the outbox holds them (GET /v1/merchants/{id}/events?order_id=):
// what webhook endpoints and event consumers were told, in order — each event's type and time,
// with its JSON payload one toggle away. Shown next to the execution timeline.
import { useId, useState } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { Empty, ErrorNotice, Loading } from "../../components/States";
import { useLoad } from "../../components/useLoad";
import { eventTypeLabel, formatTime } from "../../components/format";

type Event = Schemas["Event"];

/** An order has a handful of events; pages are fetched to the end, up to a bound. */
const PAGE = 200;
const MAX_PAGES = 10;

async function loadEvents(merchantId: string, orderId: string): Promise<Event[]> {
  const events: Event[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await unwrap(
      api.GET("/v1/merchants/{merchant_id}/events", {
        params: { path: { merchant_id: merchantId }, query: { order_id: orderId, limit: PAGE, cursor } },
      }),
    );
    events.push(...res.data);
    if (!res.next_cursor) break;
    cursor = res.next_cursor;
  }
  return events;
}

const TONES: Record<string, string> = {
  "order.paid": "ok",
  "order.completed": "ok",
  "order.canceled": "fail",
  "task.timed_out": "fail",
  "order.awaiting_payment": "warn",
  "task.awaiting_callback": "warn",
};

/** `refresh` changes when the page's Refresh is pressed: the events load again. */
export function OrderEvents({ merchantId, orderId, refresh }: { merchantId: string; orderId: string; refresh: number }) {
  const loaded = useLoad(() => loadEvents(merchantId, orderId), [merchantId, orderId, refresh]);
  const events = loaded.data ?? [];
  return (
    <section className="card order-card order-events" aria-labelledby="events-title">
      <h2 id="events-title">Events sent</h2>
      <p className="order-events-sub">
        What webhook endpoints and event consumers were told about this order, oldest first.
      </p>
      {loaded.error != null ? (
        <ErrorNotice error={loaded.error} onRetry={loaded.reload} />
      ) : !loaded.data ? (
        <Loading what="the order's events" />
      ) : events.length === 0 ? (
        <Empty>No events for this order yet.</Empty>
      ) : (
        <ol className="ev-list" aria-label="Events of this order, in order">
          {events.map((e) => (
            <EventItem key={e.id} event={e} />
          ))}
        </ol>
      )}
    </section>
  );
}

function EventItem({ event }: { event: Event }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const reason =
    event.type === "order.canceled" && "cancel_reason" in event.data && typeof event.data.cancel_reason === "string"
      ? event.data.cancel_reason
      : null;
  return (
    <li className={`ev-item ev-tone-${TONES[event.type] ?? "info"}`} data-type={event.type} data-event={event.id}>
      <div className="ev-head">
        <span className="ev-title">{eventTypeLabel(event.type)}</span>
        <code className="ev-type">{event.type}</code>
        <time className="ev-time" dateTime={event.created_at} title={event.created_at}>
          {formatTime(event.created_at)}
        </time>
      </div>
      {reason && <p className="ev-note">cancel_reason: <code>{reason}</code></p>}
      <button
        type="button"
        className="btn-link ev-toggle"
        aria-expanded={open}
        aria-controls={`${id}-payload`}
        onClick={() => setOpen((o) => !o)}
      >
        {open ? "Hide payload" : "Show payload"}
        <span className="visually-hidden"> of {event.type}</span>
      </button>
      {open && (
        // Focusable, so the keyboard can scroll a long payload.
        <pre id={`${id}-payload`} className="ev-payload" tabIndex={0} aria-label={`Payload of ${event.type}`}>
          {JSON.stringify(event, null, 2)}
        </pre>
      )}
    </li>
  );
}

// One order and its execution, from GET /v1/orders/{id} and /history: what the order is now,
// which metadata versions it pinned, and a vertical timeline of every event (the steps, the
// route the routing table took, the discount function's input and output, and any timeout,
// failure or cancel reason), each with its raw detail one click away.
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { Empty, ErrorNotice, Loading } from "../../components/States";
import { useLoad } from "../../components/useLoad";
import { formatMoney, formatTime } from "../../components/format";
import { reasonLabel, StatusBadge } from "./status";
import { CancelOrderButton } from "./CancelOrder";
import { OrderEvents } from "./OrderEvents";
import { getVersion } from "../../api/documents";
import { FlowDiagram, type FlowBody } from "../flows/FlowDiagram";
import "./orders.css";

type Order = Schemas["OrderView"];
type HistoryEvent = Schemas["HistoryEvent"];
type Detail = Record<string, unknown>;

interface Pin {
  scope?: string;
  name?: string;
  version?: number;
}

/** History pages are fetched until the end (an execution holds at most 10,000 events). */
const HISTORY_PAGE = 200;
const MAX_HISTORY_PAGES = 50;

async function loadHistory(orderId: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
    const res = await unwrap(
      api.GET("/v1/orders/{order_id}/history", {
        params: { path: { order_id: orderId }, query: { limit: HISTORY_PAGE, cursor } },
      }),
    );
    // openapi-fetch's response type drops properties typed only `null` (an execution-wide
    // entry's `step`), so the page's items are the document's HistoryEvent as served.
    events.push(...(res.data as HistoryEvent[]));
    if (!res.next_cursor) break;
    cursor = res.next_cursor;
  }
  return events;
}

export function OrderTimelinePage() {
  const { merchantId, orderId } = useParams() as { merchantId: string; orderId: string };
  const loaded = useLoad(
    async () => {
      const [order, history] = await Promise.all([
        unwrap(api.GET("/v1/orders/{order_id}", { params: { path: { order_id: orderId } } })),
        loadHistory(orderId),
      ]);
      return { order, history };
    },
    [orderId],
  );

  // Refresh (and a cancel) reload the order, its history and its events.
  const [refreshes, setRefreshes] = useState(0);
  const refresh = () => {
    setRefreshes((n) => n + 1);
    loaded.reload();
  };

  const back = (
    <p className="orders-back">
      <Link to={`/merchants/${encodeURIComponent(merchantId)}/orders`}>← All orders</Link>
    </p>
  );

  if (loaded.error)
    return (
      <div className="orders-page">
        {back}
        <h1>Order</h1>
        <ErrorNotice error={loaded.error} onRetry={loaded.reload} />
      </div>
    );
  if (!loaded.data)
    return (
      <div className="orders-page">
        {back}
        <h1>Order</h1>
        <Loading what="the order and its history" />
      </div>
    );

  const { order, history } = loaded.data;
  const started = history.find((e) => e.type === "ExecutionStarted");
  const pinned = (started?.detail as Detail | undefined)?.pinned as Detail | undefined;
  const evaluations = history.filter((e) => e.type === "FunctionEvaluated");

  return (
    <div className="orders-page order-page">
      {back}
      <div className="order-title">
        <h1>
          Order <span className="order-id">{order.order_num ?? order.order_id}</span>
        </h1>
        <StatusBadge status={order.status} />
        <button type="button" className="btn" onClick={refresh} disabled={loaded.loading}>
          Refresh
        </button>
        <CancelOrderButton order={order} label={order.order_num ?? order.order_id} onCanceled={refresh} />
      </div>

      <div className="order-grid">
        <OrderSummary order={order} />
        <PinnedVersions pinned={pinned} merchantId={merchantId} />
      </div>

      <FlowCard pinned={pinned} merchantId={merchantId} order={order} history={history} />

      {evaluations.map((e) => (
        <RouteCard key={e.seq} event={e} order={order} pinned={pinned} merchantId={merchantId} />
      ))}

      <div className="order-split">
        <section className="card order-card" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Execution timeline</h2>
          {history.length === 0 ? (
            <Empty>This order has no recorded execution events.</Empty>
          ) : (
            <Timeline events={history} currency={order.currency} />
          )}
        </section>
        <OrderEvents merchantId={merchantId} orderId={order.order_id} refresh={refreshes} />
      </div>
    </div>
  );
}

function OrderSummary({ order }: { order: Order }) {
  const items = order.items ?? [];
  return (
    <section className="card order-card" aria-labelledby="summary-title">
      <h2 id="summary-title">Summary</h2>
      {order.status === "canceled" && (
        <p className="order-cancel" role="note">
          <strong>Canceled:</strong> {order.cancel_reason ? reasonLabel(order.cancel_reason) : "no reason recorded"}
          {order.cancel_reason && (
            <>
              {" "}
              (<code>{order.cancel_reason}</code>)
            </>
          )}
        </p>
      )}
      <dl className="order-facts">
        <dt>Amount</dt>
        <dd>{formatMoney(order.amount_minor, order.currency)}</dd>
        <dt>Final amount</dt>
        <dd data-testid="final-amount">
          {order.final_amount_minor != null ? (
            <>
              <strong>{formatMoney(order.final_amount_minor, order.currency)}</strong>{" "}
              <span className="order-minor">({order.final_amount_minor} minor units)</span>
            </>
          ) : (
            "not priced"
          )}
        </dd>
        <dt>Discount</dt>
        <dd>
          {order.discount
            ? `${order.discount.label ?? "—"} · ${order.discount.function} v${order.discount.version}`
            : "none"}
        </dd>
        <dt>Payment method</dt>
        <dd>{order.payment_method ?? "—"}</dd>
        {order.payment_deadline && (
          <>
            <dt>Pay by</dt>
            <dd>
              <time dateTime={order.payment_deadline}>{formatTime(order.payment_deadline)}</time>
            </dd>
          </>
        )}
        <dt>Order id</dt>
        <dd>
          <code className="order-break">{order.order_id}</code>
        </dd>
        {order.order_num && (
          <>
            <dt>Order number</dt>
            <dd>{order.order_num}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>
          <time dateTime={order.created_at}>{formatTime(order.created_at)}</time>
        </dd>
        <dt>Updated</dt>
        <dd>
          <time dateTime={order.updated_at}>{formatTime(order.updated_at)}</time>
        </dd>
      </dl>
      {items.length > 0 && (
        <table className="table order-items">
          <caption>Items</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col" className="num">Qty</th>
              <th scope="col" className="num">Unit price</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item, i) => (
              <tr key={i}>
                <td>
                  {item.name ?? item.sku} {item.sku && <span className="order-minor">{item.sku}</span>}
                </td>
                <td className="num">{item.quantity}</td>
                <td className="num">{formatMoney(item.unit_price_minor, order.currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Json label="Address and checkout fields" value={{ address: order.address, fields: order.fields }} />
    </section>
  );
}

const PIN_KINDS: Record<string, { kind: string; label: string }> = {
  flow: { kind: "order-flow", label: "Order flow" },
  payment_combination: { kind: "payment-combination", label: "Payment combination" },
  checkout_page: { kind: "checkout-page", label: "Checkout page" },
  routing_table: { kind: "routing-table", label: "Routing table" },
};

function versionsLink(merchantId: string, scope: string | undefined, kind: string, name: string) {
  const base = scope === "platform" ? "/platform" : `/merchants/${encodeURIComponent(merchantId)}`;
  return `${base}/documents/${kind}/${encodeURIComponent(name)}/versions`;
}

function PinnedVersions({ pinned, merchantId }: { pinned: Detail | undefined; merchantId: string }) {
  const rows: { label: string; kind: string; scope?: string; name: string; version?: number }[] = [];
  if (pinned) {
    for (const [key, { kind, label }] of Object.entries(PIN_KINDS)) {
      const pin = pinned[key] as Pin | null | undefined;
      if (pin && pin.name) rows.push({ label, kind, scope: pin.scope, name: pin.name, version: pin.version });
    }
    const functions = pinned.functions;
    if (functions && typeof functions === "object")
      for (const [name, version] of Object.entries(functions as Record<string, number>))
        rows.push({ label: "Discount function", kind: "discount-function", scope: "merchant", name, version });
  }
  return (
    <section className="card order-card" aria-labelledby="pinned-title">
      <h2 id="pinned-title">Pinned versions</h2>
      <p className="orders-hint">
        The metadata versions this order fixed when it started; later publishes do not change it.
      </p>
      {rows.length === 0 ? (
        <Empty>No pinned versions recorded.</Empty>
      ) : (
        <table className="table order-pins">
          <thead>
            <tr>
              <th scope="col">Document</th>
              <th scope="col">Name</th>
              <th scope="col" className="num">Version</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.kind}/${r.name}`}>
                <td>
                  {r.label}
                  {r.scope === "platform" && <span className="order-minor"> (platform)</span>}
                </td>
                <td>
                  <Link to={versionsLink(merchantId, r.scope, r.kind, r.name)}>{r.name}</Link>
                </td>
                <td className="num">v{r.version ?? "?"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The flow the order runs (its pinned version) as a diagram, with the step the order is at
 * (or ended in) highlighted and the steps it went through marked. */
function FlowCard({
  pinned,
  merchantId,
  order,
  history,
}: {
  pinned: Detail | undefined;
  merchantId: string;
  order: Order;
  history: HistoryEvent[];
}) {
  const pin = pinned?.flow as Pin | null | undefined;
  const flow = useLoad(async () => {
    if (!pin?.name || pin.version == null) return null;
    const scope = pin.scope === "platform" ? ({ type: "platform" } as const) : ({ type: "merchant", merchantId } as const);
    return (await getVersion(scope, "order-flow", pin.name, pin.version)).body as FlowBody;
  }, [merchantId, pin?.scope, pin?.name, pin?.version]);
  const entered = history.filter((e) => e.step);
  const current = entered[entered.length - 1]?.step ?? undefined;
  const visited = new Set(entered.map((e) => e.step as string));
  const state = order.status === "completed" ? "completed" : order.status === "canceled" ? "canceled" : "active";
  return (
    <section className="card order-card" aria-labelledby="flow-title">
      <h2 id="flow-title">Where the order is</h2>
      {!pin?.name ? (
        <Empty>No pinned flow recorded.</Empty>
      ) : flow.error ? (
        <ErrorNotice error={flow.error} onRetry={flow.reload} />
      ) : !flow.data ? (
        <Loading what="the flow" />
      ) : (
        <div className="flow-scroll" tabIndex={0} role="region" aria-label="Flow diagram">
          <FlowDiagram
            flow={flow.data}
            mark={{ current, currentState: state, visited }}
            label={`${pin.scope === "platform" ? "The platform" : "The merchant's"} flow ${pin.name} v${pin.version}, as this order runs it.${
              current ? ` The order ${state === "active" ? "is at" : "ended in"} step ${current}.` : ""
            }`}
          />
        </div>
      )}
    </section>
  );
}

/** The routing decision and the discount function's run: input → output. */
function RouteCard({
  event,
  order,
  pinned,
  merchantId,
}: {
  event: HistoryEvent;
  order: Order;
  pinned: Detail | undefined;
  merchantId: string;
}) {
  const d = event.detail as Detail;
  const input = d.input as Detail | undefined;
  const output = d.output as { amount_minor?: number; label?: string | null } | undefined;
  const error = d.error as { kind?: string; message?: string; line?: number; column?: number } | undefined;
  const rule = typeof d.rule === "number" ? d.rule : null;
  const tableVersion = typeof d.routing_table_version === "number" ? d.routing_table_version : null;
  const tableName = ((pinned?.routing_table as Pin | undefined)?.name ?? "default") as string;
  const when = useRuleCondition(merchantId, tableName, tableVersion, rule);
  const currency = typeof input?.currency === "string" ? input.currency : order.currency;
  const amount = typeof input?.amount_minor === "number" ? input.amount_minor : null;

  return (
    <section className="card order-card route-card" aria-labelledby={`route-${event.seq}`}>
      <h2 id={`route-${event.seq}`}>Route and discount</h2>
      <ol className="route-flow">
        <li>
          <span className="route-k">Routing table</span>
          <span className="route-v">
            {tableVersion !== null ? (
              <>
                {tableName} v{tableVersion}
              </>
            ) : (
              "named directly by the flow"
            )}
          </span>
        </li>
        <li>
          <span className="route-k">Rule</span>
          <span className="route-v">
            {rule !== null ? `#${rule}` : "default"}
            {when !== undefined && (
              <>
                {" "}
                <code>when {JSON.stringify(when)}</code>
              </>
            )}
          </span>
        </li>
        <li>
          <span className="route-k">Function</span>
          <span className="route-v">
            <Link to={versionsLink(merchantId, "merchant", "discount-function", String(d.function))}>
              {String(d.function)}
            </Link>{" "}
            v{String(d.version)}
          </span>
        </li>
        <li>
          <span className="route-k">Input</span>
          <span className="route-v">{amount !== null ? `${amount} (${formatMoney(amount, currency)})` : "—"}</span>
        </li>
        <li>
          <span className="route-k">Output</span>
          <span className="route-v route-out" data-testid="function-output">
            {output?.amount_minor != null ? (
              <>
                <strong>{output.amount_minor}</strong> ({formatMoney(output.amount_minor, currency)})
                {output.label && <> · {output.label}</>}
              </>
            ) : error ? (
              <span className="route-error">
                {error.kind}: {error.message}
                {error.line != null && ` (line ${error.line}${error.column != null ? `, column ${error.column}` : ""})`}
              </span>
            ) : (
              "—"
            )}
          </span>
        </li>
      </ol>
      <p className="orders-hint">
        {typeof d.operations === "number" && `${d.operations.toLocaleString()} operations`}
        {typeof d.duration_us === "number" && ` · ${d.duration_us.toLocaleString()} µs`}
      </p>
      {Array.isArray(d.logs) && d.logs.length > 0 && <pre className="tl-logs" tabIndex={0} aria-label="Logs">{(d.logs as string[]).join("\n")}</pre>}
      <Json label="Function input (the order map)" value={input} />
      <Json label="Function output" value={output ?? error} />
    </section>
  );
}

/** The `when` of the rule a payment took, from the pinned routing table version. */
function useRuleCondition(merchantId: string, name: string, version: number | null, rule: number | null) {
  const [when, setWhen] = useState<unknown>(undefined);
  useEffect(() => {
    if (version === null || rule === null) return;
    let live = true;
    unwrap(
      api.GET("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/versions/{version}", {
        params: { path: { merchant_id: merchantId, kind: "routing-table", name, version } },
      }),
    )
      .then((v) => {
        const rules = (v.body as Detail).rules;
        if (live && Array.isArray(rules)) setWhen((rules[rule] as Detail | undefined)?.when);
      })
      .catch(() => {
        // the condition is a nicety; the rule index is already shown
      });
    return () => {
      live = false;
    };
  }, [merchantId, name, version, rule]);
  return when;
}

// ---- the timeline ----

type Tone = "start" | "step" | "ok" | "fail" | "warn" | "info" | "end-ok" | "end-fail";

const TITLES: Record<string, string> = {
  ExecutionStarted: "Execution started",
  StepEntered: "Step entered",
  TaskScheduled: "Task scheduled",
  TaskSucceeded: "Task succeeded",
  TaskFailed: "Task failed",
  TaskTimedOut: "Task timed out",
  TaskRetryScheduled: "Retry scheduled",
  ChoiceSelected: "Choice made",
  FunctionEvaluated: "Discount function evaluated",
  ErrorCaught: "Error caught",
  ExecutionSucceeded: "Execution succeeded",
  ExecutionFailed: "Execution failed",
  ExecutionCanceled: "Execution canceled",
};

function toneOf(type: string): Tone {
  switch (type) {
    case "ExecutionStarted":
      return "start";
    case "StepEntered":
      return "step";
    case "TaskSucceeded":
    case "FunctionEvaluated":
      return "ok";
    case "TaskFailed":
    case "TaskTimedOut":
      return "fail";
    case "ErrorCaught":
    case "TaskRetryScheduled":
      return "warn";
    case "ExecutionSucceeded":
      return "end-ok";
    case "ExecutionFailed":
    case "ExecutionCanceled":
      return "end-fail";
    default:
      return "info";
  }
}

const str = (v: unknown) => (v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));

/** One line saying what an event means, in words. */
function summarize(event: HistoryEvent, currency: string): React.ReactNode {
  const d = (event.detail ?? {}) as Detail;
  switch (event.type) {
    case "ExecutionStarted": {
      const input = d.input as Detail | undefined;
      return (
        <>
          Order of {formatMoney(input?.amount_minor as number | undefined, currency)} started the flow; metadata
          versions pinned.
        </>
      );
    }
    case "StepEntered":
      return (
        <>
          Entered <strong>{event.step}</strong>
          {d.type ? ` (${str(d.type)} step)` : ""}.
        </>
      );
    case "TaskScheduled":
      return (
        <>
          Scheduled <code>{str(d.action) || "task"}</code>
          {typeof d.attempt === "number" && d.attempt > 1 ? `, attempt ${d.attempt}` : ""}
          {d.action === "await_payment" ? " — waiting for the customer to pay." : "."}
        </>
      );
    case "TaskSucceeded": {
      const out = (d.output ?? {}) as Detail;
      const bits: React.ReactNode[] = [];
      if (typeof out.payment_method === "string") bits.push(<>paid with <strong>{out.payment_method}</strong></>);
      if (typeof out.final_amount_minor === "number")
        bits.push(
          <>
            final amount <strong>{out.final_amount_minor}</strong> ({formatMoney(out.final_amount_minor, currency)})
          </>,
        );
      if (Array.isArray(out.methods))
        bits.push(<>offers {(out.methods as Detail[]).map((m) => str(m.code)).join(", ")}</>);
      if (typeof out.status === "string") bits.push(<>order {out.status}</>);
      return bits.length ? (
        <>
          Succeeded:{" "}
          {bits.map((b, i) => (
            <span key={i}>
              {i > 0 && "; "}
              {b}
            </span>
          ))}
          .
        </>
      ) : (
        "Succeeded."
      );
    }
    case "FunctionEvaluated": {
      const input = d.input as Detail | undefined;
      const out = d.output as Detail | undefined;
      const err = d.error as Detail | undefined;
      return (
        <>
          Rule {typeof d.rule === "number" ? `#${d.rule}` : "default"}
          {typeof d.routing_table_version === "number" ? ` of routing table v${d.routing_table_version}` : ""} →{" "}
          <strong>
            {str(d.function)} v{str(d.version)}
          </strong>
          : {str(input?.amount_minor)} →{" "}
          {out ? (
            <strong>{str(out.amount_minor)}</strong>
          ) : (
            <span className="tl-error">
              {str(err?.kind)}: {str(err?.message)}
            </span>
          )}
          {out?.label ? ` (${str(out.label)})` : ""}
        </>
      );
    }
    case "TaskFailed":
      return (
        <>
          <strong>{str(d.error)}</strong>
          {d.cause ? ` — ${str(d.cause)}` : ""}
        </>
      );
    case "TaskTimedOut":
      return (
        <>
          <strong>{str(d.error) || "Timed out"}</strong> — the step's timeout passed before its callback.
        </>
      );
    case "TaskRetryScheduled":
      return (
        <>
          {str(d.error)}: retry {typeof d.attempt === "number" ? `#${d.attempt}` : ""} in {str(d.in_seconds)} s.
        </>
      );
    case "ChoiceSelected":
      return (
        <>
          {d.choice === null || d.choice === undefined ? "No choice matched; default" : `Choice #${str(d.choice)}`} →{" "}
          <strong>{str(d.goto)}</strong>.
        </>
      );
    case "ErrorCaught":
      return (
        <>
          Caught <strong>{str(d.error)}</strong>
          {d.cause ? ` (${str(d.cause)})` : ""} → <strong>{str(d.goto)}</strong>.
        </>
      );
    case "ExecutionSucceeded":
      return "The flow finished.";
    case "ExecutionFailed":
      return (
        <>
          <strong>{str(d.error)}</strong>
          {d.cause ? ` — ${str(d.cause)}` : ""}
        </>
      );
    case "ExecutionCanceled":
      return (
        <>
          Reason: <strong>{reasonLabel(str(d.reason))}</strong> (<code>{str(d.reason)}</code>).
        </>
      );
    default:
      return Object.keys(d).length ? null : "";
  }
}

const clock = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  fractionalSecondDigits: 3,
} as Intl.DateTimeFormatOptions);

function elapsed(ms: number): string {
  if (ms < 1000) return `+${ms} ms`;
  if (ms < 60_000) return `+${(ms / 1000).toFixed(1)} s`;
  return `+${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function Timeline({ events, currency }: { events: HistoryEvent[]; currency: string }) {
  const t0 = new Date(events[0].at).getTime();
  return (
    <ol className="tl" aria-label="Execution events, in order">
      {events.map((e, i) => {
        const tone = toneOf(e.type);
        const newStep = e.type === "StepEntered" || (!!e.step && e.step !== events[i - 1]?.step);
        const at = new Date(e.at);
        const summary = summarize(e, currency);
        return (
          <li key={e.seq} className={`tl-item tl-tone-${tone}${newStep ? " tl-new-step" : ""}`} data-type={e.type}>
            <span className="tl-dot" aria-hidden="true" />
            <div className="tl-body">
              <div className="tl-head">
                <span className="tl-title">{TITLES[e.type] ?? e.type}</span>
                {e.step && <span className="tl-step">{e.step}</span>}
                <span className="tl-time">
                  <time dateTime={e.at} title={e.at}>
                    {Number.isNaN(at.getTime()) ? e.at : clock.format(at)}
                  </time>{" "}
                  <span className="tl-elapsed">{elapsed(Math.max(0, at.getTime() - t0))}</span>
                </span>
                <span className="tl-seq">#{e.seq}</span>
              </div>
              {summary && <p className="tl-summary">{summary}</p>}
              {e.detail && Object.keys(e.detail).length > 0 && (
                <Json label={e.type === "ExecutionStarted" ? "Pinned versions and input" : "Detail"} value={e.detail} />
              )}
            </div>
          </li>
        );
      })}
    </ol>
  );
}

function Json({ label, value }: { label: string; value: unknown }) {
  if (value === undefined) return null;
  return (
    <details className="tl-json">
      <summary>{label}</summary>
      {/* Focusable, so the keyboard can scroll a long value (it scrolls sideways). */}
      <pre tabIndex={0} aria-label={label}>
        {JSON.stringify(value, null, 2)}
      </pre>
    </details>
  );
}

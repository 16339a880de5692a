// A merchant's home (/merchants/:id), its landing page in the console: what is live (the
// methods it accepts, the discount each earns per its routing table, its checkout page, its
// payment timeout), what is risky (drafts not yet published; accepted methods no routing rule
// covers while the default route cancels), and its recent orders in numbers: by status and
// cancel reason, the discount given, and orders per hour.
//
// Everything comes from one request, GET /v1/merchants/{id}/overview: asking for each piece
// took 21 requests, and over a quarter of a second even on a release build.
import { Link, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { ErrorNotice, Loading } from "../components/States";
import { formatMoney, formatTime } from "../components/format";
import { useLoad } from "../components/useLoad";
import { CheckoutPreview } from "./documents/CheckoutPreview";
import { formatDuration, type FlowBody } from "./flows/FlowDiagram";
import { STATUSES, StatusBadge, reasonLabel } from "./orders/status";

type Overview = Schemas["MerchantOverview"];
type MethodOverview = Schemas["MethodOverview"];
type OrderStats = Schemas["OrderStats"];

interface Rule {
  when?: { method?: string; min_amount_minor?: number; max_amount_minor?: number; condition?: string };
  function?: string;
}
interface RoutingTable {
  rules?: Rule[];
  default?: { action?: string; function?: string };
}

/** A method's name for the reader: the combination's label, else the catalog's name in the
 * browser's language (or English), else its code. */
function methodLabel(m: MethodOverview): string {
  const lang = typeof navigator !== "undefined" ? navigator.language : "en";
  return m.label ?? m.names[lang] ?? m.names[lang.split("-")[0]] ?? m.names.en ?? m.method;
}

/** Everything the page shows, from the overview. */
function view(overview: Overview) {
  const table = (overview.routing_table?.body ?? null) as RoutingTable | null;
  const flowDoc = overview.order_flow;
  const flow = (flowDoc?.body ?? null) as FlowBody | null;
  const payment = flow?.steps?.find((s) => s?.type === "task" && s.action === "await_payment");
  const methods = overview.payment_methods.map((m) => ({ ...m, display: methodLabel(m) }));
  return {
    name: overview.merchant.name,
    methods,
    table,
    example: overview.example_order,
    checkout: overview.checkout_page,
    offered:
      overview.payment_combination_version == null ? null : overview.payment_methods.map((m) => ({ code: m.method, label: m.storefront_label })),
    flow: flowDoc && flow && { own: flowDoc.scope !== "platform", version: flowDoc.version, payment, timeout: flow.timeoutSeconds },
    drafts: overview.documents.flatMap(({ kind, documents }) => documents.filter((d) => d.has_draft).map((d) => ({ kind, ...d }))),
    day: overview.orders.last_24h,
    week: overview.orders.last_7d,
  };
}

type View = ReturnType<typeof view>;

function percentOff(final: number, original: number): string {
  const off = Math.round((1 - final / original) * 1000) / 10;
  return off > 0 ? `${off}% off` : "no discount";
}

function LiveMethods({ merchantId, live }: { merchantId: string; live: View }) {
  const base = `/merchants/${encodeURIComponent(merchantId)}`;
  const { amount_minor: amount, currency } = live.example;
  if (live.methods.length === 0)
    return (
      <p className="state state-warn">
        No payment methods are live: publish a{" "}
        <Link to={`${base}/documents/payment-combination/default`}>payment combination</Link>.
      </p>
    );
  return (
    <table className="table home-methods" data-testid="live-methods">
      <caption className="visually-hidden">Accepted payment methods and what each earns</caption>
      <thead>
        <tr>
          <th scope="col">Method</th>
          <th scope="col">Route</th>
          <th scope="col">On {formatMoney(amount, currency)} the customer pays</th>
        </tr>
      </thead>
      <tbody>
        {live.methods.map((m) => {
          const ev = m.route;
          const fn = ev?.function;
          const out = ev?.result?.ok ? ev.result.output : null;
          return (
            <tr key={m.method} data-method={m.method}>
              <th scope="row">
                {m.display} <code className="muted">{m.method}</code>
              </th>
              <td>
                {m.route_problem ? (
                  <span className="error">Could not evaluate: {m.route_problem}</span>
                ) : !ev ? (
                  <span className="muted">No routing table published</span>
                ) : fn ? (
                  <>
                    <Link to={`${base}/documents/discount-function/${encodeURIComponent(fn.name)}`}>{fn.name}</Link> v{fn.version}
                    {ev.route === "default" ? " (default route)" : ev.rule_index != null ? ` (rule #${ev.rule_index + 1})` : ""}
                    {m.function_description && <span className="home-fn-description">{m.function_description}</span>}
                  </>
                ) : ev.route === "cancel" ? (
                  <span className="badge fail">orders are canceled (no route)</span>
                ) : (
                  <span className="badge warn">{ev.route.replace(/_/g, " ")}</span>
                )}
              </td>
              <td>
                {out ? (
                  <>
                    <strong>{formatMoney(out.amount_minor, currency)}</strong> ({out.label ?? percentOff(out.amount_minor, amount)})
                  </>
                ) : ev?.result && !ev.result.ok ? (
                  <span className="error">the function failed: {ev.result.error?.message}</span>
                ) : (
                  "—"
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Orders per hour of the last 24 hours: one bar per hour, its count as text. */
function HourlyBars({ stats }: { stats: OrderStats }) {
  const most = Math.max(1, ...stats.buckets.map((b) => b.orders));
  return (
    <figure className="home-hours" data-testid="orders-per-hour">
      <figcaption>Orders per hour, last 24 hours</figcaption>
      <ol>
        {stats.buckets.map((b) => (
          <li key={b.start} data-orders={b.orders}>
            <span className="home-hour-bar" style={{ height: `${(b.orders / most) * 100}%` }} aria-hidden="true" />
            <span className="visually-hidden">
              {formatTime(b.start)} to {formatTime(b.end)}: {b.orders} order{b.orders === 1 ? "" : "s"}
            </span>
          </li>
        ))}
      </ol>
    </figure>
  );
}

function Counts({ merchantId, data }: { merchantId: string; data: { day: OrderStats; week: OrderStats } }) {
  const base = `/merchants/${encodeURIComponent(merchantId)}`;
  const reasons = Object.keys(data.week.by_cancel_reason).filter((r) => (data.week.by_cancel_reason[r] ?? 0) > 0);
  return (
    <section className="card" aria-labelledby="home-orders">
      <h2 id="home-orders">Recent orders</h2>
      <table className="table home-counts" data-testid="order-counts">
        <caption className="visually-hidden">Orders by status, last 24 hours and last 7 days</caption>
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col" className="num">Last 24 h</th>
            <th scope="col" className="num">Last 7 days</th>
          </tr>
        </thead>
        <tbody>
              {STATUSES.map((s) => (
                <tr key={s.value} data-status={s.value}>
                  <th scope="row">
                    <Link to={`${base}/orders?status=${s.value}`}>
                      <StatusBadge status={s.value} />
                    </Link>
                  </th>
                  <td className="num">{data.day.by_status[s.value] ?? 0}</td>
                  <td className="num">{data.week.by_status[s.value] ?? 0}</td>
                </tr>
              ))}
              {reasons.map((r) => (
                <tr key={r} data-reason={r} className="home-reason">
                  <th scope="row">Canceled: {reasonLabel(r)}</th>
                  <td className="num">{data.day.by_cancel_reason[r] ?? 0}</td>
                  <td className="num">{data.week.by_cancel_reason[r] ?? 0}</td>
                </tr>
              ))}
              <tr data-status="all">
                <th scope="row">All</th>
                <td className="num">{data.day.orders}</td>
                <td className="num">{data.week.orders}</td>
              </tr>
              <tr data-status="discount">
                <th scope="row">Discount given (completed orders)</th>
                <td className="num">{discountText(data.day)}</td>
                <td className="num">{discountText(data.week)}</td>
              </tr>
        </tbody>
      </table>
      <HourlyBars stats={data.day} />
      <p className="muted">
        From the order statistics of the API. <Link to={`${base}/orders`}>All orders</Link>
      </p>
    </section>
  );
}

function discountText(stats: OrderStats): string {
  return stats.discount_given.length === 0 ? "none" : stats.discount_given.map((d) => formatMoney(d.amount_minor, d.currency)).join(" + ");
}

export function MerchantHomePage() {
  const merchantId = useParams().merchantId!;
  const base = `/merchants/${encodeURIComponent(merchantId)}`;
  const overview = useLoad(
    () => unwrap(api.GET("/v1/merchants/{merchant_id}/overview", { params: { path: { merchant_id: merchantId } } })).then(view),
    [merchantId],
  );
  const live = overview.data;

  if (overview.error) return <ErrorNotice error={overview.error} onRetry={overview.reload} />;

  const unrouted =
    live?.table?.default?.action === "cancel" ? live.methods.filter((m) => !(live.table!.rules ?? []).some((r) => r.when?.method === m.method)) : [];
  const risks = (live?.drafts.length ?? 0) + unrouted.length;

  return (
    <div className="merchant-home">
      <div className="page-header">
        <div>
          <h1>{live?.name ?? merchantId}</h1>
          <p className="subtitle">
            <code>{merchantId}</code> · <Link to={`${base}/documents`}>Documents</Link> · <Link to={`${base}/orders`}>Orders</Link>
          </p>
        </div>
      </div>

      <section className="card" aria-labelledby="home-risky" data-testid="risky">
        <h2 id="home-risky">Needs attention</h2>
        {!live ? (
          <Loading what="what needs attention" />
        ) : risks === 0 ? (
          <p className="state state-success">Nothing: every draft is published and every accepted method has a route.</p>
        ) : (
          <ul className="home-risks">
            {unrouted.map((m) => (
              <li key={`route-${m.method}`} data-risk="unrouted">
                <span className="badge fail">no route</span> <strong>{m.display}</strong> is accepted but no routing rule names it, and
                the default route cancels: orders paid with it are canceled (<code>no_route</code>).{" "}
                <Link to={`${base}/documents/routing-table/default`}>Add a rule</Link>
              </li>
            ))}
            {live.drafts.map((d) => (
              <li key={`draft-${d.kind}/${d.name}`} data-risk="draft">
                <span className="badge warn">draft</span>{" "}
                <Link to={`${base}/documents/${d.kind}/${encodeURIComponent(d.name)}`}>
                  {d.kind} {d.name}
                </Link>{" "}
                has changes not yet published{d.published_version == null ? " (never published)" : ` (live: v${d.published_version})`}, saved{" "}
                {formatTime(d.updated_at)}.
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="card" aria-labelledby="home-live" data-testid="live">
        <h2 id="home-live">Live now</h2>
        {!live ? (
          <Loading what="what is live" />
        ) : (
          <>
            <h3>Payment methods accepted</h3>
            <LiveMethods merchantId={merchantId} live={live} />
            <h3>Payment timeout</h3>
            <p data-testid="payment-timeout">
              {live.flow?.payment?.timeoutSeconds ? (
                <>
                  <strong>{formatDuration(live.flow.payment.timeoutSeconds)}</strong> to pay
                </>
              ) : (
                "No payment timeout"
              )}
              {live.flow && (
                <>
                  {" "}
                  ({live.flow.own ? "your own flow" : "the platform flow"} v{live.flow.version}
                  {live.flow.timeout ? `; the whole flow times out after ${formatDuration(live.flow.timeout)}` : ""}).{" "}
                  <Link to={live.flow.own ? `${base}/documents/order-flow/default` : "/platform/documents/order-flow/default"}>
                    {live.flow.own ? "Change it" : "See the platform flow"}
                  </Link>
                </>
              )}
            </p>
          </>
        )}
      </section>

      <div className="split">
        {live ? (
          <Counts merchantId={merchantId} data={live} />
        ) : (
          <section className="card" aria-labelledby="home-orders">
            <h2 id="home-orders">Recent orders</h2>
            <Loading what="recent orders" />
          </section>
        )}
        <section className="card" aria-labelledby="home-checkout">
          <h2 id="home-checkout">Checkout page</h2>
          {live?.checkout ? (
            <>
              <p className="muted">
                v{live.checkout.version}, as the storefront shows it. <Link to={`${base}/documents/checkout-page/default`}>Edit</Link>
              </p>
              <CheckoutPreview merchantId={merchantId} page={live.checkout.body} published offered={live.offered} />
            </>
          ) : live ? (
            <p className="state state-warn">
              No checkout page is published. <Link to={`${base}/documents/checkout-page/default`}>Create one</Link>
            </p>
          ) : (
            <Loading what="the checkout page" />
          )}
        </section>
      </div>
    </div>
  );
}

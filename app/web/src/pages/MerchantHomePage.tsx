// A merchant's home (/merchants/:id), its landing page in the console: what is live (the
// methods it accepts, the discount each earns per its routing table, its checkout page, its
// payment timeout), what is risky (drafts not yet published; accepted methods no routing rule
// covers while the default route cancels), and its recent orders counted by status.
//
// Everything comes from the existing API. The order counts page through the order list
// (newest first) back to 7 days ago: a server-side counts endpoint would be cheaper.
import { Link, useParams } from "react-router";
import { api, ApiProblem, unwrap, type Schemas } from "../api/client";
import { getDocument, listDocuments, type Document } from "../api/documents";
import { ErrorNotice, Loading } from "../components/States";
import { formatMoney, formatTime } from "../components/format";
import { useLoad } from "../components/useLoad";
import { KINDS, type Scope } from "../scope";
import { CheckoutPreview } from "./documents/CheckoutPreview";
import { loadCatalog, loadCurrency, type Option } from "./documents/pickers";
import { formatDuration, type FlowBody } from "./flows/FlowDiagram";
import { STATUSES, StatusBadge } from "./orders/status";

type Evaluation = Schemas["EvaluateResponse"];
type Order = Schemas["OrderView"];

const EXAMPLE_AMOUNT = 10000;
const ORDER_PAGE = 200;
const MAX_ORDER_PAGES = 50;
const DAY = 24 * 3600 * 1000;

function notFoundIsNull<T>(p: Promise<T>): Promise<T | null> {
  return p.catch((e) => {
    if (e instanceof ApiProblem && e.status === 404) return null;
    throw e;
  });
}

interface Rule {
  when?: { method?: string; min_amount_minor?: number; max_amount_minor?: number; condition?: string };
  function?: string;
}
interface RoutingTable {
  rules?: Rule[];
  default?: { action?: string; function?: string };
}

async function loadLive(merchantId: string) {
  const scope: Scope = { type: "merchant", merchantId };
  const [catalog, combination, routing, checkout, ownFlow, platformFlow, money] = await Promise.all([
    loadCatalog(),
    notFoundIsNull(getDocument(scope, "payment-combination", "default")),
    notFoundIsNull(getDocument(scope, "routing-table", "default")),
    notFoundIsNull(getDocument(scope, "checkout-page", "default")),
    notFoundIsNull(getDocument(scope, "order-flow", "default")),
    notFoundIsNull(getDocument({ type: "platform" }, "order-flow", "default")),
    loadCurrency(merchantId),
  ]);
  const methods = ((combination?.published as { methods?: { method: string; label?: string }[] } | null)?.methods ?? []).map(
    (m): Option => ({ value: m.method, label: m.label ?? catalog.find((c) => c.value === m.method)?.label ?? m.method }),
  );
  const table = (routing?.published ?? null) as RoutingTable | null;
  // What each accepted method earns on an example order, by the published routing table.
  const evaluations = await Promise.all(
    methods.map((m) =>
      table
        ? unwrap(
            api.POST("/v1/merchants/{merchant_id}/routing/evaluate", {
              params: { path: { merchant_id: merchantId } },
              body: { payment_method: m.value, order: { amount_minor: EXAMPLE_AMOUNT, currency: money.currency } },
            }),
          ).catch((e: unknown) => e)
        : Promise.resolve(null),
    ),
  );
  // The functions' descriptions, for the names the routes run.
  const names = [...new Set(evaluations.flatMap((e) => (e && !(e instanceof Error) && (e as Evaluation).function ? [(e as Evaluation).function!.name] : [])))];
  const functions = new Map<string, Document | null>(
    await Promise.all(names.map(async (n) => [n, await notFoundIsNull(getDocument(scope, "discount-function", n))] as const)),
  );
  const flowDoc = ownFlow?.published ? ownFlow : platformFlow;
  const flow = (flowDoc?.published ?? null) as FlowBody | null;
  const payment = flow?.steps?.find((s) => s?.type === "task" && s.action === "await_payment");
  return {
    methods,
    table,
    routingVersion: routing?.published_version ?? null,
    evaluations,
    functions,
    checkout,
    currency: money.currency,
    flow: flow && { own: flowDoc === ownFlow, version: flowDoc?.published_version, payment, timeout: flow.timeoutSeconds },
  };
}

/** Every document of the merchant with a draft not yet published. */
async function loadDrafts(merchantId: string) {
  const scope: Scope = { type: "merchant", merchantId };
  const kinds = KINDS.filter((k) => (k.scopes as readonly string[]).includes("merchant"));
  const lists = await Promise.all(kinds.map(async (k) => ({ kind: k.kind, docs: (await listDocuments(scope, k.kind)).data })));
  return lists.flatMap(({ kind, docs }) => docs.filter((d) => d.has_draft).map((d) => ({ kind, ...d })));
}

/** Orders of the last 7 days by status, counted from the order list (newest first). */
async function loadCounts(merchantId: string, now: number) {
  const day: Record<string, number> = {};
  const week: Record<string, number> = {};
  let cursor: string | undefined;
  let complete = false;
  for (let page = 0; page < MAX_ORDER_PAGES; page++) {
    const res = await unwrap(
      api.GET("/v1/merchants/{merchant_id}/orders", {
        params: { path: { merchant_id: merchantId }, query: { limit: ORDER_PAGE, cursor } },
      }),
    );
    let older = false;
    for (const o of res.data as Order[]) {
      const age = now - new Date(o.created_at).getTime();
      if (age > 7 * DAY) {
        older = true;
        break;
      }
      week[o.status] = (week[o.status] ?? 0) + 1;
      if (age <= DAY) day[o.status] = (day[o.status] ?? 0) + 1;
    }
    if (older || !res.next_cursor) {
      complete = true;
      break;
    }
    cursor = res.next_cursor;
  }
  return { day, week, complete };
}

function percentOff(final: number, original: number): string {
  const off = Math.round((1 - final / original) * 1000) / 10;
  return off > 0 ? `${off}% off` : "no discount";
}

function LiveMethods({ merchantId, live }: { merchantId: string; live: Awaited<ReturnType<typeof loadLive>> }) {
  const base = `/merchants/${encodeURIComponent(merchantId)}`;
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
          <th scope="col">On {formatMoney(EXAMPLE_AMOUNT, live.currency)} the customer pays</th>
        </tr>
      </thead>
      <tbody>
        {live.methods.map((m, i) => {
          const e = live.evaluations[i];
          const ev = e && !(e instanceof Error) ? (e as Evaluation) : null;
          const fn = ev?.function;
          const description = fn ? ((live.functions.get(fn.name)?.published as { description?: string } | null)?.description ?? null) : null;
          const out = ev?.result?.ok ? ev.result.output : null;
          return (
            <tr key={m.value} data-method={m.value}>
              <th scope="row">
                {m.label} <code className="muted">{m.value}</code>
              </th>
              <td>
                {e instanceof Error ? (
                  <span className="error">Could not evaluate: {e.message}</span>
                ) : !ev ? (
                  <span className="muted">No routing table published</span>
                ) : fn ? (
                  <>
                    <Link to={`${base}/documents/discount-function/${encodeURIComponent(fn.name)}`}>{fn.name}</Link> v{fn.version}
                    {ev.route === "default" ? " (default route)" : ev.rule_index != null ? ` (rule #${ev.rule_index + 1})` : ""}
                    {description && <span className="home-fn-description">{description}</span>}
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
                    <strong>{formatMoney(out.amount_minor, live.currency)}</strong> ({out.label ?? percentOff(out.amount_minor, EXAMPLE_AMOUNT)})
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

function Counts({ merchantId }: { merchantId: string }) {
  const counts = useLoad(() => loadCounts(merchantId, Date.now()), [merchantId]);
  const base = `/merchants/${encodeURIComponent(merchantId)}`;
  return (
    <section className="card" aria-labelledby="home-orders">
      <h2 id="home-orders">Recent orders</h2>
      {counts.error ? (
        <ErrorNotice error={counts.error} onRetry={counts.reload} />
      ) : !counts.data ? (
        <Loading what="recent orders" />
      ) : (
        <>
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
                  <td className="num">{counts.data!.day[s.value] ?? 0}</td>
                  <td className="num">{counts.data!.week[s.value] ?? 0}</td>
                </tr>
              ))}
              <tr data-status="all">
                <th scope="row">All</th>
                <td className="num">{Object.values(counts.data.day).reduce((a, b) => a + b, 0)}</td>
                <td className="num">{Object.values(counts.data.week).reduce((a, b) => a + b, 0)}</td>
              </tr>
            </tbody>
          </table>
          {!counts.data.complete && (
            <p className="state state-warn">
              More than {ORDER_PAGE * MAX_ORDER_PAGES} orders in 7 days: the counts cover the newest {ORDER_PAGE * MAX_ORDER_PAGES}.
            </p>
          )}
          <p className="muted">
            Counted in the browser from the order list. <Link to={`${base}/orders`}>All orders</Link>
          </p>
        </>
      )}
    </section>
  );
}

export function MerchantHomePage() {
  const merchantId = useParams().merchantId!;
  const base = `/merchants/${encodeURIComponent(merchantId)}`;
  const merchant = useLoad(
    () => unwrap(api.GET("/v1/merchants/{merchant_id}", { params: { path: { merchant_id: merchantId } } })),
    [merchantId],
  );
  const live = useLoad(() => loadLive(merchantId), [merchantId]);
  const drafts = useLoad(() => loadDrafts(merchantId), [merchantId]);

  if (merchant.error) return <ErrorNotice error={merchant.error} onRetry={merchant.reload} />;

  const unrouted =
    live.data?.table?.default?.action === "cancel"
      ? live.data.methods.filter((m) => !(live.data!.table!.rules ?? []).some((r) => r.when?.method === m.value))
      : [];
  const risks = (drafts.data?.length ?? 0) + unrouted.length;

  return (
    <div className="merchant-home">
      <div className="page-header">
        <div>
          <h1>{merchant.data?.name ?? merchantId}</h1>
          <p className="subtitle">
            <code>{merchantId}</code> · <Link to={`${base}/documents`}>Documents</Link> · <Link to={`${base}/orders`}>Orders</Link>
          </p>
        </div>
      </div>

      <section className="card" aria-labelledby="home-risky" data-testid="risky">
        <h2 id="home-risky">Needs attention</h2>
        {drafts.error != null && <ErrorNotice error={drafts.error} onRetry={drafts.reload} />}
        {(!drafts.data || !live.data) && !drafts.error && !live.error ? (
          <Loading what="what needs attention" />
        ) : risks === 0 ? (
          <p className="state state-success">Nothing: every draft is published and every accepted method has a route.</p>
        ) : (
          <ul className="home-risks">
            {unrouted.map((m) => (
              <li key={`route-${m.value}`} data-risk="unrouted">
                <span className="badge fail">no route</span> <strong>{m.label}</strong> is accepted but no routing rule names it, and
                the default route cancels: orders paid with it are canceled (<code>no_route</code>).{" "}
                <Link to={`${base}/documents/routing-table/default`}>Add a rule</Link>
              </li>
            ))}
            {drafts.data?.map((d) => (
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
        {live.error ? (
          <ErrorNotice error={live.error} onRetry={live.reload} />
        ) : !live.data ? (
          <Loading what="what is live" />
        ) : (
          <>
            <h3>Payment methods accepted</h3>
            <LiveMethods merchantId={merchantId} live={live.data} />
            <h3>Payment timeout</h3>
            <p data-testid="payment-timeout">
              {live.data.flow?.payment?.timeoutSeconds ? (
                <>
                  <strong>{formatDuration(live.data.flow.payment.timeoutSeconds)}</strong> to pay
                </>
              ) : (
                "No payment timeout"
              )}
              {live.data.flow && (
                <>
                  {" "}
                  ({live.data.flow.own ? "your own flow" : "the platform flow"} v{live.data.flow.version}
                  {live.data.flow.timeout ? `; the whole flow times out after ${formatDuration(live.data.flow.timeout)}` : ""}).{" "}
                  <Link to={live.data.flow.own ? `${base}/documents/order-flow/default` : "/platform/documents/order-flow/default"}>
                    {live.data.flow.own ? "Change it" : "See the platform flow"}
                  </Link>
                </>
              )}
            </p>
          </>
        )}
      </section>

      <div className="split">
        <Counts merchantId={merchantId} />
        <section className="card" aria-labelledby="home-checkout">
          <h2 id="home-checkout">Checkout page</h2>
          {live.data?.checkout?.published ? (
            <>
              <p className="muted">
                v{live.data.checkout.published_version}, as the storefront shows it.{" "}
                <Link to={`${base}/documents/checkout-page/default`}>Edit</Link>
              </p>
              <CheckoutPreview merchantId={merchantId} page={live.data.checkout.published} published />
            </>
          ) : live.data ? (
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

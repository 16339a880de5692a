// A merchant's home (/merchants/:id), its landing page in the console: what is live (the
// methods it accepts, the discount each earns per its routing table, its checkout page, its
// payment timeout), what is risky (drafts not yet published; accepted methods no routing rule
// covers while the default route cancels), and its recent orders in numbers: by status and
// cancel reason, the discount given, and orders per hour.
//
// Everything comes from the API; the order numbers from GET /v1/merchants/{id}/orders/stats.
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
import { STATUSES, StatusBadge, reasonLabel } from "./orders/status";

type Evaluation = Schemas["EvaluateResponse"];

const EXAMPLE_AMOUNT = 10000;

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

/** The display names of the accepted methods, from their platform catalog entries: each
 * entry is read by its name (the catalog names them by their code), so only those requests
 * are made; when one is not found that way, the whole catalog is read as the pickers do. */
async function methodLabels(methods: { method: string; label?: string }[]): Promise<Map<string, string>> {
  const platform: Scope = { type: "platform" };
  const lang = typeof navigator !== "undefined" ? navigator.language : "en";
  const wanted = methods.filter((m) => !m.label).map((m) => m.method);
  const entries = await Promise.all(wanted.map((code) => notFoundIsNull(getDocument(platform, "payment-method", code))));
  const labels = new Map<string, string>();
  entries.forEach((doc, i) => {
    const body = doc?.published as { code?: string; names?: Record<string, string> } | null | undefined;
    if (!body || (body.code ?? doc!.name) !== wanted[i]) return;
    labels.set(wanted[i], body.names?.[lang] ?? body.names?.[lang.split("-")[0]] ?? body.names?.en ?? doc!.name);
  });
  if (labels.size < wanted.length) for (const option of await loadCatalog()) if (!labels.has(option.value)) labels.set(option.value, option.label);
  return labels;
}

/** Everything "Live now" shows. The requests run in two rounds: what can start at once does
 * (the documents, the currency), and each second request starts as soon as what it needs is
 * in — the route evaluations and the methods' catalog entries once the combination (and the
 * routing table and currency) are, and the discount functions the routing table names once
 * the table is (the functions a route can select are among those). */
async function loadLive(merchantId: string) {
  const scope: Scope = { type: "merchant", merchantId };
  const combinationP = notFoundIsNull(getDocument(scope, "payment-combination", "default"));
  const routingP = notFoundIsNull(getDocument(scope, "routing-table", "default"));
  const moneyP = loadCurrency(merchantId);
  const methodsP = combinationP.then(
    (combination) => (combination?.published as { methods?: { method: string; label?: string }[] } | null)?.methods ?? [],
  );
  const evaluationsP = Promise.all([methodsP, routingP, moneyP]).then(([methods, routing, money]) =>
    Promise.all(
      methods.map((m) =>
        routing?.published
          ? unwrap(
              api.POST("/v1/merchants/{merchant_id}/routing/evaluate", {
                params: { path: { merchant_id: merchantId } },
                body: { payment_method: m.method, order: { amount_minor: EXAMPLE_AMOUNT, currency: money.currency } },
              }),
            ).catch((e: unknown) => e)
          : Promise.resolve(null),
      ),
    ),
  );
  // The functions' descriptions, for every function the routing table names.
  const functionsP = routingP.then(async (routing) => {
    const table = (routing?.published ?? null) as RoutingTable | null;
    const names = [...new Set([...(table?.rules ?? []).map((r) => r.function), table?.default?.function].filter((n): n is string => !!n))];
    return new Map<string, Document | null>(
      await Promise.all(names.map(async (n) => [n, await notFoundIsNull(getDocument(scope, "discount-function", n))] as const)),
    );
  });
  const [labels, methodList, routing, checkout, ownFlow, platformFlow, money, evaluations, functions] = await Promise.all([
    methodsP.then(methodLabels),
    methodsP,
    routingP,
    notFoundIsNull(getDocument(scope, "checkout-page", "default")),
    notFoundIsNull(getDocument(scope, "order-flow", "default")),
    notFoundIsNull(getDocument({ type: "platform" }, "order-flow", "default")),
    moneyP,
    evaluationsP,
    functionsP,
  ]);
  const methods = methodList.map(
    (m): Option => ({ value: m.method, label: m.label ?? labels.get(m.method) ?? m.method }),
  );
  const table = (routing?.published ?? null) as RoutingTable | null;
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

type OrderStats = Schemas["OrderStats"];

/** The merchant's orders in numbers, over the last 24 hours and the last 7 days. */
async function loadStats(merchantId: string): Promise<{ day: OrderStats; week: OrderStats }> {
  const get = (window: "24h" | "7d") =>
    unwrap(api.GET("/v1/merchants/{merchant_id}/orders/stats", { params: { path: { merchant_id: merchantId }, query: { window } } }));
  const [day, week] = await Promise.all([get("24h"), get("7d")]);
  return { day, week };
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

function Counts({ merchantId }: { merchantId: string }) {
  const stats = useLoad(() => loadStats(merchantId), [merchantId]);
  const base = `/merchants/${encodeURIComponent(merchantId)}`;
  const data = stats.data;
  const reasons = data ? Object.keys(data.week.by_cancel_reason).filter((r) => (data.week.by_cancel_reason[r] ?? 0) > 0) : [];
  return (
    <section className="card" aria-labelledby="home-orders">
      <h2 id="home-orders">Recent orders</h2>
      {stats.error ? (
        <ErrorNotice error={stats.error} onRetry={stats.reload} />
      ) : !data ? (
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
        </>
      )}
    </section>
  );
}

function discountText(stats: OrderStats): string {
  return stats.discount_given.length === 0 ? "none" : stats.discount_given.map((d) => formatMoney(d.amount_minor, d.currency)).join(" + ");
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

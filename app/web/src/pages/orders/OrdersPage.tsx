// A merchant's orders, newest first: filter by status, and search by order id (or its first
// characters), order number, payment method and creation time — all kept in the URL, so a
// filtered list can be shared and survives a reload — page through with the API's cursors,
// open one's timeline, cancel an order that awaits payment. The filtering is the list API's.
import { useState, type FormEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { Empty, ErrorNotice, Loading } from "../../components/States";
import { useLoad } from "../../components/useLoad";
import { formatMoney, formatTime } from "../../components/format";
import { StatusBadge, reasonLabel, STATUSES } from "./status";
import { CancelOrderButton } from "./CancelOrder";
import "./orders.css";

export type Order = Schemas["OrderView"];

const PAGE_SIZE = 20;

/** The search fields, as kept in the URL (`from`/`to` as the datetime-local text entered). */
const SEARCH_KEYS = ["order", "order_num", "method", "from", "to"] as const;
type SearchKey = (typeof SEARCH_KEYS)[number];
type Search = Record<SearchKey, string>;

/** The search form's fields. */
const SEARCH_FIELDS: { key: SearchKey; label: string; type: "search" | "datetime-local"; placeholder?: string }[] = [
  { key: "order", label: "Order id", type: "search", placeholder: "all or 4+ first chars" },
  { key: "order_num", label: "Order number", type: "search", placeholder: "the client's order_num" },
  { key: "method", label: "Payment method", type: "search", placeholder: "e.g. alipay" },
  { key: "from", label: "Created from", type: "datetime-local" },
  { key: "to", label: "Created before", type: "datetime-local" },
];

/** What the API takes as an id prefix: 4 or more of an order id's characters. */
const ID_PREFIX = /^[0-9a-f-]{4,36}$/i;

/** A datetime-local value (the browser's time zone) as an RFC 3339 instant in UTC. */
function utc(local: string): string | undefined {
  if (!local) return undefined;
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

export function OrdersPage() {
  const merchantId = useParams().merchantId!;
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "";
  const searched: Search = Object.fromEntries(SEARCH_KEYS.map((k) => [k, params.get(k) ?? ""])) as Search;
  const searching = SEARCH_KEYS.some((k) => searched[k] !== "");
  const [form, setForm] = useState<Search>(searched);
  const filterKey = JSON.stringify([status, searched]);
  // The cursors of the pages before this one (the first page has none).
  const [pages, setPages] = useState<{ key: string; cursors: (string | undefined)[] }>({
    key: filterKey,
    cursors: [undefined],
  });
  const cursors = pages.key === filterKey ? pages.cursors : [undefined];
  const cursor = cursors[cursors.length - 1];
  const badId = searched.order !== "" && !ID_PREFIX.test(searched.order);

  const list = useLoad(async () => {
    // Not an order id, nor the start of one: no order has it.
    if (badId) return { data: [] as Order[], next_cursor: null };
    return unwrap(
      api.GET("/v1/merchants/{merchant_id}/orders", {
        params: {
          path: { merchant_id: merchantId },
          query: {
            // A status the API does not know (a hand-edited URL) filters nothing.
            status: STATUSES.find((s) => s.value === status)?.value,
            order_id_prefix: searched.order || undefined,
            order_num: searched.order_num || undefined,
            payment_method: searched.method || undefined,
            created_from: utc(searched.from),
            created_to: utc(searched.to),
            cursor,
            limit: PAGE_SIZE,
          },
        },
      }),
    );
  }, [merchantId, filterKey, cursor]);

  const urlParams = (next: Partial<Search> & { status?: string }) =>
    Object.fromEntries(Object.entries(next).filter(([, v]) => v)) as Record<string, string>;
  const search = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = Object.fromEntries(SEARCH_KEYS.map((k) => [k, form[k].trim()])) as Search;
    setParams(urlParams({ status, ...trimmed }), { replace: true });
  };
  const clearSearch = () => {
    setForm({ order: "", order_num: "", method: "", from: "", to: "" });
    setParams(urlParams({ status }), { replace: true });
  };
  const [canceledNote, setCanceledNote] = useState<string | null>(null);

  const setStatus = (next: string) => setParams(urlParams({ ...searched, status: next }), { replace: true });
  const nextPage = (next: string) => setPages({ key: filterKey, cursors: [...cursors, next] });
  const previousPage = () => setPages({ key: filterKey, cursors: cursors.slice(0, -1) });


  const statusLabel = STATUSES.find((s) => s.value === status)?.label.toLowerCase();
  const orders = list.data?.data ?? [];

  return (
    <div className="orders-page">
      <div className="orders-head">
        <h1>Orders</h1>
        <p className="orders-sub">
          Merchant <code>{merchantId}</code>, newest first.
        </p>
      </div>

      <div className="orders-filters toolbar" role="search" aria-label="Filter orders">
        <label className="orders-field">
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn" onClick={list.reload} disabled={list.loading}>
          Refresh
        </button>
      </div>
      <form className="orders-filters toolbar" role="search" aria-label="Find an order" onSubmit={search}>
        {SEARCH_FIELDS.map((f) => (
          <label className="orders-field" key={f.key}>
            <span>{f.label}</span>
            <input
              type={f.type}
              value={form[f.key]}
              onChange={(e) => setForm((current) => ({ ...current, [f.key]: e.target.value }))}
              placeholder={f.placeholder}
              spellCheck={false}
              autoComplete="off"
            />
          </label>
        ))}
        <button type="submit" className="btn">
          Find
        </button>
        {searching && (
          <button type="button" className="btn" onClick={clearSearch}>
            Show all orders
          </button>
        )}
      </form>
      <div aria-live="polite">{canceledNote && <p className="state state-success">{canceledNote}</p>}</div>

      {list.error ? (
        <ErrorNotice error={list.error} onRetry={list.reload} />
      ) : list.loading && !list.data ? (
        <Loading what="orders" />
      ) : orders.length === 0 ? (
        <Empty>
          {searched.order
            ? `No order ${searched.order} for merchant ${merchantId}. ${badId ? "Search by an order id or its first 4 or more characters." : "Nothing matches the search."}`
            : searching
            ? `No orders of merchant ${merchantId} match the search.`
            : status
            ? `No ${statusLabel} orders${cursors.length > 1 ? " on this page" : ""}.`
            : "No orders yet. Orders appear here as soon as a storefront starts a checkout."}
        </Empty>
      ) : (
        <div className={`orders-table-wrap${list.loading ? " orders-stale" : ""}`} aria-busy={list.loading}>
          <table className="table orders-table">
            <caption className="orders-sr">
              {searching
                ? `Orders matching the search, page ${cursors.length}`
                : `${status ? `${STATUSES.find((s) => s.value === status)?.label} orders` : "All orders"}, page ${cursors.length}`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Created</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Amount</th>
                <th scope="col" className="num">Pays</th>
                <th scope="col">Payment</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.order_id}>
                  <td data-label="Order">
                    <Link to={`/merchants/${encodeURIComponent(merchantId)}/orders/${encodeURIComponent(o.order_id)}`}>
                      {o.order_num ?? shortId(o.order_id)}
                    </Link>
                    {o.order_num && <span className="orders-id">{shortId(o.order_id)}</span>}
                  </td>
                  <td data-label="Created">
                    <time dateTime={o.created_at}>{formatTime(o.created_at)}</time>
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={o.status} />
                    {o.cancel_reason && <span className="orders-reason">{reasonLabel(o.cancel_reason)}</span>}
                  </td>
                  <td data-label="Amount" className="num">
                    {formatMoney(o.amount_minor, o.currency)}
                  </td>
                  <td data-label="Pays" className="num">
                    {o.final_amount_minor != null ? formatMoney(o.final_amount_minor, o.currency) : "—"}
                  </td>
                  <td data-label="Payment">
                    {o.payment_method ?? "—"}
                    {o.discount && (
                      <span className="orders-discount">
                        {o.discount.label ?? o.discount.function} (v{o.discount.version})
                      </span>
                    )}
                  </td>
                  <td data-label="Actions">
                    <CancelOrderButton
                      order={o}
                      label={o.order_num ?? shortId(o.order_id)}
                      onCanceled={(c) => {
                        setCanceledNote(`Order ${c.order_num ?? shortId(c.order_id)} was canceled.`);
                        list.reload();
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {(cursors.length > 1 || list.data?.next_cursor) && (
        <nav className="orders-pager toolbar" aria-label="Pages">
          <button type="button" className="btn" onClick={previousPage} disabled={cursors.length <= 1}>
            Previous page
          </button>
          <span>Page {cursors.length}</span>
          <button
            type="button"
            className="btn"
            onClick={() => list.data?.next_cursor && nextPage(list.data.next_cursor)}
            disabled={!list.data?.next_cursor}
          >
            Next page
          </button>
        </nav>
      )}
    </div>
  );
}

/** The first block of a UUID: enough to tell orders apart at a glance. */
export function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

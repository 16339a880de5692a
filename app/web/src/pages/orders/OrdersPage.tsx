// A merchant's orders, newest first: filter by status (kept in the URL, so a filtered list can
// be shared and survives a reload), page through with the API's cursors, open one's timeline;
// find one order by its id (GET /v1/orders/{id}; the list API has no search); cancel an order
// that awaits payment.
import { useState, type FormEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { Empty, ErrorNotice, Loading } from "../../components/States";
import { useLoad } from "../../components/useLoad";
import { formatMoney, formatTime } from "../../components/format";
import { StatusBadge, reasonLabel, STATUSES } from "./status";
import { ApiProblem } from "../../api/client";
import { CancelOrderButton } from "./CancelOrder";
import "./orders.css";

export type Order = Schemas["OrderView"];

const PAGE_SIZE = 20;

export function OrdersPage() {
  const merchantId = useParams().merchantId!;
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "";
  const searched = params.get("order") ?? "";
  const [query, setQuery] = useState(searched);
  // The cursors of the pages before this one (the first page has none).
  const [pages, setPages] = useState<{ status: string; cursors: (string | undefined)[] }>({
    status,
    cursors: [undefined],
  });
  const cursors = pages.status === status ? pages.cursors : [undefined];
  const cursor = cursors[cursors.length - 1];

  const list = useLoad(async () => {
    if (searched) {
      // One order by id: shown when it is this merchant's (another's is "not found" too).
      const found = await unwrap(api.GET("/v1/orders/{order_id}", { params: { path: { order_id: searched } } })).catch((e) => {
        if (e instanceof ApiProblem && e.status === 404) return null;
        throw e;
      });
      return { data: found && found.merchant_id === merchantId ? [found] : [], next_cursor: null };
    }
    return unwrap(
      api.GET("/v1/merchants/{merchant_id}/orders", {
        params: {
          path: { merchant_id: merchantId },
          query: { status: status || undefined, cursor, limit: PAGE_SIZE },
        },
      }),
    );
  }, [merchantId, status, cursor, searched]);

  const search = (event: FormEvent) => {
    event.preventDefault();
    const id = query.trim();
    setParams(id ? { order: id } : status ? { status } : {}, { replace: true });
  };
  const clearSearch = () => {
    setQuery("");
    setParams(status ? { status } : {}, { replace: true });
  };
  const [canceledNote, setCanceledNote] = useState<string | null>(null);

  const setStatus = (next: string) => {
    setParams(next ? { status: next } : {}, { replace: true });
    setQuery("");
    setPages({ status: next, cursors: [undefined] });
  };
  const nextPage = (next: string) => setPages({ status, cursors: [...cursors, next] });
  const previousPage = () => setPages({ status, cursors: cursors.slice(0, -1) });

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
        <label className="orders-field">
          <span>Order id</span>
          <input
            type="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder="the full order id"
            spellCheck={false}
            autoComplete="off"
          />
        </label>
        <button type="submit" className="btn">
          Find
        </button>
        {searched && (
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
          {searched
            ? `No order ${searched} for merchant ${merchantId}. Search by the full order id.`
            : status
            ? `No ${statusLabel} orders${cursors.length > 1 ? " on this page" : ""}.`
            : "No orders yet. Orders appear here as soon as a storefront starts a checkout."}
        </Empty>
      ) : (
        <div className={`orders-table-wrap${list.loading ? " orders-stale" : ""}`} aria-busy={list.loading}>
          <table className="table orders-table">
            <caption className="orders-sr">
              {searched
                ? `Order ${searched}`
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

      {!searched && (cursors.length > 1 || list.data?.next_cursor) && (
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

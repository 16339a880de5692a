// The orders whose price the candidate changes most: before, after and the change.
import { Link } from "react-router";
import { ScrollRegion } from "./ScrollRegion";
import { formatMoney } from "../../components/format";
import type { Impact } from "../../api/release";

export function LargestChanges({ merchantId, changes }: { merchantId: string; changes: Impact["largest_changes"] }) {
  if (changes.length === 0) return <p className="muted">No order's price changes.</p>;
  return (
    <ScrollRegion label="The largest price changes">
      <table className="table" data-testid="largest-changes">
        <caption className="visually-hidden">The largest price changes</caption>
        <thead>
          <tr>
            <th scope="col">Order</th>
            <th scope="col">Method</th>
            <th scope="col" className="num">Amount</th>
            <th scope="col" className="num">Paid before</th>
            <th scope="col" className="num">Would pay</th>
            <th scope="col" className="num">Change</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c) => (
            <tr key={c.order_id}>
              <td>
                <Link to={`/merchants/${encodeURIComponent(merchantId)}/orders/${encodeURIComponent(c.order_id)}`}>
                  <code>{c.order_id}</code>
                </Link>
              </td>
              <td>{c.payment_method}</td>
              <td className="num">{formatMoney(c.amount_minor, c.currency)}</td>
              <td className="num">{formatMoney(c.before.final_amount_minor, c.currency)}</td>
              <td className="num">{formatMoney(c.after.final_amount_minor, c.currency)}</td>
              <td className={`num ${c.price_change_minor < 0 ? "ok" : "fail"}`}>{signed(c.price_change_minor, c.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

/** A change with its sign: "+¥1.00", "−¥2.50". */
export function signed(minor: number, currency: string): string {
  if (minor === 0) return formatMoney(0, currency);
  return `${minor > 0 ? "+" : "−"}${formatMoney(Math.abs(minor), currency)}`;
}

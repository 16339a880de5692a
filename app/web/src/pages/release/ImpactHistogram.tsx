// The impact's histogram of price changes (after − before) as horizontal CSS bars, one row
// per bucket, one chart per currency; each bar's length is its share of the largest bucket.
import type { Impact } from "../../api/release";
import { BarChart } from "./BarChart";
import { signed } from "./LargestChanges";

type Bucket = Impact["histogram"][number];

/** "−¥9.99 to −¥0.10", or "no change" for the 0 bucket. */
function bucketLabel(b: Bucket): string {
  if (b.from_minor === 0 && b.to_minor === 0) return "no change";
  if (b.from_minor === b.to_minor) return signed(b.from_minor, b.currency);
  return `${signed(b.from_minor, b.currency)} to ${signed(b.to_minor, b.currency)}`;
}

export function ImpactHistogram({ buckets }: { buckets: Bucket[] }) {
  if (buckets.length === 0) return <p className="muted">No order was priced both times.</p>;
  const max = Math.max(...buckets.map((b) => b.orders), 1);
  const currencies = [...new Set(buckets.map((b) => b.currency))];
  return (
    <div data-testid="impact-histogram">
      {currencies.map((currency) => (
        <BarChart
          key={currency}
          caption={`Price change per order${currencies.length > 1 ? ` (${currency})` : ""}: after − before, negative is cheaper`}
          labelHeader="Change"
          valueHeader="Orders"
          rowTestId="histogram-bucket"
          bars={buckets
            .filter((b) => b.currency === currency)
            .map((b) => ({
              key: `${b.from_minor}:${b.to_minor}`,
              label: bucketLabel(b),
              share: b.orders / max,
              value: String(b.orders),
              tone: b.to_minor < 0 ? "bar-down" : b.from_minor > 0 ? "bar-up" : "bar-zero",
            }))}
        />
      ))}
    </div>
  );
}

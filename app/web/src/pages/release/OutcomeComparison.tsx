// A rollout's outcomes, both versions side by side: orders started, completed and canceled,
// conversion (also as bars), the discount given and the average final amount; then the
// two-proportion test of the conversions in words, with its p-value and sample sizes.
import type { Comparison, Rollout, VersionOutcome } from "../../api/release";
import { BarChart } from "./BarChart";
import { ScrollRegion } from "./ScrollRegion";
import { formatMoney } from "../../components/format";

const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });

function conversionText(c: number | null | undefined): string {
  return c == null ? "—" : percent.format(c);
}

export function OutcomeComparison({ rollout, currency }: { rollout: Rollout; currency: string }) {
  const { stable, candidate, comparison } = rollout.outcomes;
  const columns: [string, VersionOutcome][] = [
    [`v${stable.version} (stable)`, stable],
    [`v${candidate.version} (candidate)`, candidate],
  ];
  const rows: [string, (o: VersionOutcome) => string][] = [
    ["Orders started", (o) => String(o.started)],
    ["Completed", (o) => String(o.by_status.completed ?? 0)],
    ["Canceled", (o) => String(o.by_status.canceled ?? 0)],
    ["Conversion", (o) => conversionText(o.conversion)],
    ["Discount given", (o) => formatMoney(o.discount_total_minor, currency)],
    ["Average final amount", (o) => formatMoney(o.average_final_amount_minor, currency)],
  ];
  return (
    <div data-testid="outcomes">
      <ScrollRegion label="Outcomes of both versions">
        <table className="table outcome-table">
          <caption className="visually-hidden">Outcomes of the orders each version started</caption>
          <thead>
            <tr>
              <th scope="col">Orders since the rollout started</th>
              {columns.map(([label]) => (
                <th scope="col" className="num" key={label}>
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map(([label, value]) => (
              <tr key={label} data-testid={`outcome-${label.toLowerCase().replace(/ /g, "-")}`}>
                <th scope="row">{label}</th>
                {columns.map(([column, o]) => (
                  <td className="num" key={column}>
                    {value(o)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      <BarChart
        caption="Conversion (completed ÷ started)"
        labelHeader="Version"
        valueHeader="Conversion"
        testId="conversion-bars"
        bars={columns.map(([label, o]) => ({
          key: label,
          label,
          share: o.conversion ?? 0,
          value: conversionText(o.conversion),
          tone: o === candidate ? "bar-candidate" : "bar-zero",
        }))}
      />
      <p className={`state ${comparison?.significant ? "state-warn" : "state-info"}`} data-testid="significance">
        {significanceText(comparison ?? null)}
      </p>
    </div>
  );
}

/** The test's verdict in words. */
export function significanceText(c: Comparison | null): string {
  if (!c) return "Not enough orders to compare yet: each version needs orders started, some completed and some not.";
  const [stableSize, candidateSize] = c.sample_sizes;
  const points = Math.abs(c.difference * 100).toFixed(1);
  const direction = c.difference === 0 ? "the same as" : `${points} points ${c.difference > 0 ? "higher" : "lower"} than`;
  const verdict = c.significant
    ? "The difference is significant"
    : "The difference is not significant: it may be chance";
  return `The candidate's conversion is ${direction} the stable version's. ${verdict} (p = ${c.p_value.toFixed(3)}; ${stableSize} orders on the stable version, ${candidateSize} on the candidate).`;
}

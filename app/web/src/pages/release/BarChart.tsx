// A horizontal bar chart in plain HTML and CSS: a table (so screen readers read label and
// value), one row per bar, each bar's width its share of the whole.
export interface Bar {
  key: string;
  label: string;
  /** The bar's length, 0 to 1. */
  share: number;
  /** What is written after the bar. */
  value: string;
  /** Its colour: bar-down, bar-up, bar-zero or bar-candidate (release.css). */
  tone: string;
}

export function BarChart({ caption, labelHeader, valueHeader, bars, testId, rowTestId }: {
  caption: string;
  labelHeader: string;
  valueHeader: string;
  bars: Bar[];
  testId?: string;
  rowTestId?: string;
}) {
  return (
    <table className="bar-chart" data-testid={testId}>
      <caption>{caption}</caption>
      <thead className="visually-hidden">
        <tr>
          <th scope="col">{labelHeader}</th>
          <th scope="col">{valueHeader}</th>
        </tr>
      </thead>
      <tbody>
        {bars.map((b) => (
          <tr key={b.key} data-testid={rowTestId}>
            <th scope="row" className="bar-label">
              {b.label}
            </th>
            <td className="bar-cell">
              <span className={`bar ${b.tone}`} style={{ width: `${Math.min(1, Math.max(0, b.share)) * 100}%` }} />
              <span className="bar-value">{b.value}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

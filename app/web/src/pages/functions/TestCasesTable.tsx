// The function's embedded test cases as an editable table: each row's input and expectation,
// and whether the current script passes it (run through the dry-run endpoint, compared the way
// the server compares on publish).
import type { Outcome, TestRow } from "./model";
import { describeOutput, expectationOf, meets, newKey, parseObject } from "./model";

export type Verdict =
  | { state: "pending" }
  | { state: "invalid"; message: string }
  | { state: "pass"; actual: string }
  | { state: "fail"; actual: string };

export function verdictOf(row: TestRow, outcome: Outcome | undefined): Verdict {
  const input = parseObject(row.inputText);
  if ("error" in input) return { state: "invalid", message: `Input: ${input.error}` };
  const expect = expectationOf(row);
  if (expect === null) return { state: "invalid", message: "Expected amount: a whole number of minor units" };
  if (!outcome) return { state: "pending" };
  if ("problem" in outcome) return { state: "fail", actual: outcome.problem };
  const { result } = outcome;
  if (result.ok && result.output)
    return meets(expect, result.output)
      ? { state: "pass", actual: describeOutput(result.output) }
      : { state: "fail", actual: describeOutput(result.output) };
  const error = result.error;
  return {
    state: "fail",
    actual: error ? `${error.kind}: ${error.message}` : "no result",
  };
}

interface Props {
  rows: TestRow[];
  verdicts: Verdict[];
  /** Problems the server reported for a row (its index), e.g. on publish. */
  rowProblems: Map<number, string[]>;
  onChange(rows: TestRow[]): void;
  onUseAsSample(row: TestRow): void;
}

export function TestCasesTable({ rows, verdicts, rowProblems, onChange, onUseAsSample }: Props) {
  const update = (key: number, patch: Partial<TestRow>) =>
    onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const remove = (key: number) => onChange(rows.filter((r) => r.key !== key));
  const add = () => {
    const last = rows[rows.length - 1];
    onChange([
      ...rows,
      {
        key: newKey(),
        name: "",
        inputText: last ? last.inputText : '{\n  "amount_minor": 10000,\n  "currency": "CNY"\n}',
        amount: "",
        label: "",
      },
    ]);
  };

  const passed = verdicts.filter((v) => v.state === "pass").length;
  const settled = verdicts.every((v) => v.state !== "pending");

  return (
    <section className="fn-tests card" aria-labelledby="fn-tests-title">
      <div className="fn-section-head">
        <h2 id="fn-tests-title">Test cases</h2>
        <p className="fn-tests-summary" role="status" aria-live="polite">
          {rows.length === 0
            ? "No test cases yet."
            : settled
              ? `${passed} of ${rows.length} passing`
              : `Running ${rows.length} test case${rows.length === 1 ? "" : "s"}…`}
        </p>
      </div>
      <p className="fn-hint">
        Every case runs on publish, and any failure rejects it. An expected label is compared only
        when given.
      </p>
      {rows.length > 0 && (
        <div className="fn-table-wrap">
          <table className="table fn-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Test case: name and input order (JSON)</th>
                <th scope="col">Expected</th>
                <th scope="col">Result</th>
                <th scope="col">
                  <span className="fn-sr">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => {
                const n = i + 1;
                const verdict = verdicts[i] ?? { state: "pending" };
                const problems = rowProblems.get(i) ?? [];
                return (
                  <tr key={row.key} className={`fn-row fn-row-${verdict.state}`} data-testid={`test-row-${n}`}>
                    <td data-label="#" className="fn-num">
                      {n}
                    </td>
                    <td data-label="Test case" className="fn-case">
                      <input
                        type="text"
                        aria-label={`Test ${n} name`}
                        placeholder="What the case shows"
                        value={row.name}
                        maxLength={120}
                        onChange={(e) => update(row.key, { name: e.target.value })}
                      />
                      <textarea
                        aria-label={`Test ${n} input`}
                        className="fn-json"
                        spellCheck={false}
                        rows={4}
                        value={row.inputText}
                        onChange={(e) => update(row.key, { inputText: e.target.value })}
                      />
                    </td>
                    <td data-label="Expected" className="fn-expect">
                      <label>
                        <span>Amount</span>
                        <input
                          type="text"
                          inputMode="numeric"
                          aria-label={`Test ${n} expected amount`}
                          value={row.amount}
                          onChange={(e) => update(row.key, { amount: e.target.value })}
                        />
                      </label>
                      <label>
                        <span>Label</span>
                        <input
                          type="text"
                          aria-label={`Test ${n} expected label`}
                          placeholder="(not compared)"
                          value={row.label}
                          maxLength={200}
                          onChange={(e) => update(row.key, { label: e.target.value })}
                        />
                      </label>
                    </td>
                    <td data-label="Result" className="fn-verdict" aria-live="polite">
                      <Verdict verdict={verdict} n={n} />
                      {problems.map((p) => (
                        <p key={p} className="fn-row-problem" role="alert">
                          {p}
                        </p>
                      ))}
                    </td>
                    <td data-label="Actions" className="fn-row-actions">
                      <button
                        type="button"
                        className="btn btn-small"
                        aria-label={`Try test ${n} in the dry run`}
                        onClick={() => onUseAsSample(row)}
                      >
                        Try it
                      </button>
                      <button
                        type="button"
                        className="btn btn-small"
                        aria-label={`Remove test ${n}`}
                        onClick={() => remove(row.key)}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <div className="toolbar">
        <button type="button" className="btn" onClick={add}>
          Add test case
        </button>
      </div>
    </section>
  );
}

function Verdict({ verdict, n }: { verdict: Verdict; n: number }) {
  switch (verdict.state) {
    case "pending":
      return <span className="badge">Running…</span>;
    case "invalid":
      return (
        <>
          <span className="badge fail" aria-label={`Test ${n}: invalid`}>
            Invalid
          </span>
          <span className="fn-actual">{verdict.message}</span>
        </>
      );
    case "pass":
      return (
        <>
          <span className="badge ok" aria-label={`Test ${n}: pass`}>
            Pass
          </span>
          <span className="fn-actual">got {verdict.actual}</span>
        </>
      );
    case "fail":
      return (
        <>
          <span className="badge fail" aria-label={`Test ${n}: fail`}>
            Fail
          </span>
          <span className="fn-actual">got {verdict.actual}</span>
        </>
      );
  }
}

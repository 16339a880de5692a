// The function's embedded test cases as an editable table: each row's input and expectation,
// and whether the current script passes it (run through the dry-run endpoint, compared the way
// the server compares on publish).
import { diffChars } from "diff";
import type { Expectation, FunctionOutput, Outcome, TestRow } from "./model";
import { describeOutput, expectationOf, meets, newKey, parseObject } from "./model";

export type Verdict =
  | { state: "pending" }
  | { state: "invalid"; message: string }
  | { state: "pass"; actual: string }
  | { state: "fail"; actual: string; expect: Expectation; output?: FunctionOutput };

export function verdictOf(row: TestRow, outcome: Outcome | undefined): Verdict {
  const input = parseObject(row.inputText);
  if ("error" in input) return { state: "invalid", message: `Input: ${input.error}` };
  const expect = expectationOf(row);
  if (expect === null) return { state: "invalid", message: "Expected amount: a whole number of minor units" };
  if (!outcome) return { state: "pending" };
  if ("problem" in outcome) return { state: "fail", actual: outcome.problem, expect };
  const { result } = outcome;
  if (result.ok && result.output)
    return meets(expect, result.output)
      ? { state: "pass", actual: describeOutput(result.output) }
      : { state: "fail", actual: describeOutput(result.output), expect, output: result.output };
  const error = result.error;
  return {
    state: "fail",
    actual: error ? `${error.kind}: ${error.message}` : "no result",
    expect,
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
                        aria-label={`Try it: test ${n} in the dry run`}
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
          <Mismatch verdict={verdict} n={n} />
        </>
      );
  }
}

/** A character made visible: spaces, tabs, line breaks and other invisible ones. */
const VISIBLE: Record<string, string> = {
  " ": "·",
  "\t": "→",
  "\n": "↵",
  "\r": "␍",
  "\u00a0": "⍽",
  "\u200b": "␣",
  "\u3000": "□",
};

function Visible({ text }: { text: string }) {
  const parts: React.ReactNode[] = [];
  let plain = "";
  const flush = () => {
    if (plain) parts.push(plain);
    plain = "";
  };
  for (const ch of text) {
    const shown = VISIBLE[ch] ?? (/\s/.test(ch) ? "⍽" : undefined);
    if (shown) {
      flush();
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      parts.push(
        <span key={parts.length} className="ws" title={`U+${code}`}>
          {shown}
        </span>,
      );
    } else plain += ch;
  }
  flush();
  return <>{parts}</>;
}

/** Expected against got, side by side; differing labels character by character, with
 * whitespace made visible (labels that differ only in spaces look alike otherwise). */
function Mismatch({ verdict, n }: { verdict: Extract<Verdict, { state: "fail" }>; n: number }) {
  const { expect, output } = verdict;
  const expectedAmount = typeof expect === "number" ? expect : expect.amount_minor;
  const expectedLabel = typeof expect === "number" ? undefined : expect.label;
  const labelDiffers = output != null && expectedLabel !== undefined && output.label !== expectedLabel;
  const gotLabel = output?.label ?? "";
  const onlyWhitespace =
    labelDiffers && expectedLabel!.replace(/\s+/g, "") === gotLabel.replace(/\s+/g, "");
  const parts = labelDiffers ? diffChars(expectedLabel!, gotLabel) : [];
  return (
    <div className="fn-mismatch" data-testid={`test-${n}-mismatch`}>
      <dl className="fn-facts">
        <dt>Expected</dt>
        <dd>
          {expectedAmount}
          {expectedLabel !== undefined && <> · {expectedLabel}</>}
        </dd>
        <dt>Got</dt>
        <dd>{verdict.actual}</dd>
      </dl>
      {output != null && output.amount_minor !== expectedAmount && (
        <p className="fn-diff-note">
          The amount differs: expected {expectedAmount}, got {output.amount_minor}.
        </p>
      )}
      {labelDiffers && (
        <div className="fn-label-diff" role="group" aria-label={`Test ${n} label difference`}>
          <p className="fn-diff-note">
            {onlyWhitespace ? "The labels differ only in whitespace" : "The labels differ"} (· is a space, → a tab):
          </p>
          <div className="fn-diff-line">
            <span className="fn-diff-side">expected</span>
            <code data-testid={`test-${n}-expected-label`}>
              {parts.map((p, i) =>
                p.added ? null : p.removed ? (
                  <del key={i}>
                    <Visible text={p.value} />
                  </del>
                ) : (
                  <span key={i}>
                    <Visible text={p.value} />
                  </span>
                ),
              )}
            </code>
          </div>
          <div className="fn-diff-line">
            <span className="fn-diff-side">got</span>
            <code data-testid={`test-${n}-got-label`}>
              {parts.map((p, i) =>
                p.removed ? null : p.added ? (
                  <ins key={i}>
                    <Visible text={p.value} />
                  </ins>
                ) : (
                  <span key={i}>
                    <Visible text={p.value} />
                  </span>
                ),
              )}
            </code>
          </div>
        </div>
      )}
    </div>
  );
}

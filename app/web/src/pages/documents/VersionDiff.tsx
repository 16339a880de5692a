// A side-by-side diff of two JSON bodies (pretty-printed, compared line by line with `diff`):
// removed lines on the left, added on the right, unchanged lines aligned. Stacks on phones.
import { diffLines } from "diff";

interface Cell {
  line?: number;
  text?: string;
  kind: "same" | "removed" | "added" | "blank";
}

function splitLines(value: string): string[] {
  const lines = value.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function sideBySide(left: string, right: string): { rows: [Cell, Cell][]; added: number; removed: number } {
  const changes = diffLines(left, right);
  const rows: [Cell, Cell][] = [];
  let l = 1;
  let r = 1;
  let added = 0;
  let removed = 0;
  for (let i = 0; i < changes.length; i++) {
    const change = changes[i];
    if (change.removed) {
      const gone = splitLines(change.value);
      const next = changes[i + 1];
      const come = next?.added ? splitLines(next.value) : [];
      if (next?.added) i++;
      removed += gone.length;
      added += come.length;
      for (let k = 0; k < Math.max(gone.length, come.length); k++) {
        rows.push([
          k < gone.length ? { line: l++, text: gone[k], kind: "removed" } : { kind: "blank" },
          k < come.length ? { line: r++, text: come[k], kind: "added" } : { kind: "blank" },
        ]);
      }
    } else if (change.added) {
      const come = splitLines(change.value);
      added += come.length;
      for (const text of come) rows.push([{ kind: "blank" }, { line: r++, text, kind: "added" }]);
    } else {
      for (const text of splitLines(change.value)) {
        rows.push([
          { line: l++, text, kind: "same" },
          { line: r++, text, kind: "same" },
        ]);
      }
    }
  }
  return { rows, added, removed };
}

function Column({ title, cells, side }: { title: string; cells: Cell[]; side: string }) {
  return (
    <div className="diff-col" role="region" aria-label={title} data-side={side}>
      <h3>{title}</h3>
      {cells.map((cell, i) => (
        <div key={i} className={`diff-line ${cell.kind}`}>
          <span className="ln">{cell.line ?? ""}</span>
          <span className="tx">
            {cell.kind === "removed" && <span className="visually-hidden">removed: </span>}
            {cell.kind === "added" && <span className="visually-hidden">added: </span>}
            {cell.text ?? ""}
          </span>
        </div>
      ))}
    </div>
  );
}

export function VersionDiff({ left, right, leftTitle, rightTitle }: { left: unknown; right: unknown; leftTitle: string; rightTitle: string }) {
  const a = JSON.stringify(left, null, 2) + "\n";
  const b = JSON.stringify(right, null, 2) + "\n";
  const { rows, added, removed } = sideBySide(a, b);
  return (
    <>
      <p className="muted" data-testid="diff-summary">
        {added === 0 && removed === 0 ? (
          "The two versions are identical."
        ) : (
          <>
            <span className="ok">+{added}</span> added, <span className="fail">−{removed}</span> removed line
            {added + removed === 1 ? "" : "s"}.
          </>
        )}
      </p>
      <div className="diff" data-testid="diff">
        <Column title={leftTitle} side="left" cells={rows.map((r) => r[0])} />
        <Column title={rightTitle} side="right" cells={rows.map((r) => r[1])} />
      </div>
    </>
  );
}

// Cursor pagination over the API's `{data, next_cursor}` lists: Previous / Next keep a stack
// of the cursors already visited.
import { useState, type DependencyList } from "react";
import { useLoad, type Loaded } from "./useLoad";

export interface Paged<T> extends Loaded<{ data: T[]; next_cursor?: string | null }> {
  page: number;
  hasNext: boolean;
  hasPrev: boolean;
  next(): void;
  prev(): void;
}

export function usePaged<T>(
  load: (cursor: string | undefined) => Promise<{ data: T[]; next_cursor?: string | null }>,
  deps: DependencyList,
): Paged<T> {
  // cursors[i] is the cursor of page i (undefined for the first page).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [depsKey, setDepsKey] = useState(() => JSON.stringify(deps));
  const key = JSON.stringify(deps);
  if (key !== depsKey) {
    setDepsKey(key);
    setCursors([undefined]);
  }
  const cursor = cursors[cursors.length - 1];
  const loaded = useLoad(() => load(cursor), [cursor, key]);
  const nextCursor = loaded.data?.next_cursor ?? null;
  return {
    ...loaded,
    page: cursors.length,
    hasNext: !!nextCursor && !loaded.loading,
    hasPrev: cursors.length > 1,
    next: () => nextCursor && setCursors((c) => [...c, nextCursor]),
    prev: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
  };
}

export function Pager({ paged, label }: { paged: Paged<unknown>; label: string }) {
  if (!paged.hasPrev && !paged.hasNext) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" className="btn btn-small" onClick={paged.prev} disabled={!paged.hasPrev}>
        Previous
      </button>
      <span className="muted">Page {paged.page}</span>
      <button type="button" className="btn btn-small" onClick={paged.next} disabled={!paged.hasNext}>
        Next
      </button>
    </nav>
  );
}

// A table that may scroll sideways on a narrow screen: a labelled region that takes the
// keyboard focus, so it can be scrolled without a mouse (axe: scrollable-region-focusable).
import type { ReactNode } from "react";

export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

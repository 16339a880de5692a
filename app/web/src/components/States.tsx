// The loading, empty and error states every page shows the same way.
import { ApiProblem } from "../api/client";

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="state state-loading">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <p className="state state-empty">{children}</p>;
}

/** An error from the API (its problem's title and detail) or from the network. */
export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const [title, detail] =
    error instanceof ApiProblem
      ? [error.problem.title ?? `HTTP ${error.status}`, error.problem.detail]
      : ["Could not reach the server", error instanceof Error ? error.message : String(error)];
  return (
    <div role="alert" className="state state-error">
      <strong>{title}</strong>
      {detail && <span> — {detail}</span>}
      {error instanceof ApiProblem && error.violations.length > 0 && (
        <ul>
          {error.violations.map((v) => (
            <li key={`${v.pointer}:${v.message}`}>
              <code>{v.pointer || "/"}</code> {v.message}
            </li>
          ))}
        </ul>
      )}
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

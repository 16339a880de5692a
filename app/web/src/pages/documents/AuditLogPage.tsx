// A scope's audit log: every draft save, publish and rollback, newest first (paginated).
import { Link } from "react-router";
import { auditLog } from "../../api/documents";
import { Breadcrumbs } from "../../components/Layout";
import { Empty, ErrorNotice, Loading } from "../../components/States";
import { formatTime } from "../../components/format";
import { Pager, usePaged } from "../../components/usePaged";
import { scopeLabel, scopePath, useScope } from "../../scope";

const ACTIONS: Record<string, { label: string; badge: string }> = {
  draft_saved: { label: "Draft saved", badge: "badge" },
  published: { label: "Published", badge: "badge ok" },
  rolled_back: { label: "Rolled back", badge: "badge warn" },
};

export function AuditLogPage() {
  const scope = useScope();
  const scopeKey = scope.type === "merchant" ? scope.merchantId : "platform";
  const entries = usePaged((cursor) => auditLog(scope, cursor, 50), [scopeKey]);
  const base = scopePath(scope);
  const rows = entries.data?.data ?? [];

  return (
    <>
      <Breadcrumbs items={[{ label: scopeLabel(scope), to: base }, { label: "Audit log" }]} />
      <div className="page-header">
        <div>
          <h1>Audit log</h1>
          <p className="subtitle">Who changed which document in {scopeLabel(scope)}, and when.</p>
        </div>
      </div>
      <section className="card" aria-label="Audit log entries">
        {entries.loading && !entries.data && <Loading what="the audit log" />}
        {entries.error != null && <ErrorNotice error={entries.error} onRetry={entries.reload} />}
        {entries.data && rows.length === 0 && <Empty>Nothing has changed yet.</Empty>}
        {rows.length > 0 && (
          <div className="table-wrap">
            <table className="table" data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">What</th>
                  <th scope="col">Document</th>
                  <th scope="col">Versions</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => {
                  const action = ACTIONS[e.action] ?? { label: e.action, badge: "badge" };
                  return (
                    <tr key={e.id}>
                      <td>{formatTime(e.at)}</td>
                      <td>
                        <code>{e.actor}</code>
                      </td>
                      <td>
                        <span className={action.badge}>{action.label}</span>
                      </td>
                      <td>
                        <span className="muted">{e.kind}</span>{" "}
                        <Link to={`${base}/documents/${e.kind}/${encodeURIComponent(e.name)}`}>{e.name}</Link>
                      </td>
                      <td>
                        {e.action === "draft_saved" ? (
                          <span className="muted">{e.from_version != null ? `draft on v${e.from_version}` : "first draft"}</span>
                        ) : e.from_version != null || e.to_version != null ? (
                          <Link to={`${base}/documents/${e.kind}/${encodeURIComponent(e.name)}/versions`} >
                            {e.from_version != null ? `v${e.from_version}` : "—"} → {e.to_version != null ? `v${e.to_version}` : "—"}
                            <span className="visually-hidden"> (versions of {e.name})</span>
                          </Link>
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <Pager paged={entries} label="Audit log" />
      </section>
    </>
  );
}

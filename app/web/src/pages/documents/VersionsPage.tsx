// A document's published versions: who published each and when, view one, compare any two
// side by side, and roll back (publish an older body again as a new version).
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { allVersions, getVersion, rollback, type Version } from "../../api/documents";
import { Breadcrumbs } from "../../components/Layout";
import { Empty, ErrorNotice, Loading } from "../../components/States";
import { formatTime } from "../../components/format";
import { useLoad } from "../../components/useLoad";
import { readOnlyReason } from "../../session/permissions";
import { useMe } from "../../session/session";
import { KINDS, scopeLabel, scopePath, useScope, overviewPath } from "../../scope";
import { VersionDiff } from "./VersionDiff";

export function VersionsPage() {
  const scope = useScope();
  const { kind = "", name = "" } = useParams();
  const scopeKey = scope.type === "merchant" ? scope.merchantId : "platform";
  const readOnly = readOnlyReason(useMe(), scope);
  const versions = useLoad(() => allVersions(scope, kind, name), [scopeKey, kind, name]);
  const list = [...(versions.data ?? [])].sort((a, b) => b.version - a.version);
  const latest = list[0]?.version;

  const [left, setLeft] = useState<number | null>(null);
  const [right, setRight] = useState<number | null>(null);
  const [viewing, setViewing] = useState<number | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const bodies = useState<Record<number, Version>>({});
  const [cache, setCache] = bodies;

  // Compare the two newest versions until the user picks others.
  useEffect(() => {
    if (!versions.data) return;
    const sorted = [...versions.data].sort((a, b) => b.version - a.version);
    setRight((r) => (r != null && sorted.some((v) => v.version === r) ? r : (sorted[0]?.version ?? null)));
    setLeft((l) => (l != null && sorted.some((v) => v.version === l) ? l : (sorted[1]?.version ?? sorted[0]?.version ?? null)));
  }, [versions.data]);

  const wanted = [left, right, viewing].filter((v): v is number => v != null && !cache[v]);
  const wantedKey = wanted.join(",");
  const fetching = useLoad(async () => {
    const got = await Promise.all(wanted.map((v) => getVersion(scope, kind, name, v)));
    setCache((c) => ({ ...c, ...Object.fromEntries(got.map((g) => [g.version, g])) }));
    return got.length;
  }, [wantedKey, scopeKey, kind, name]);

  async function doRollback(version: number) {
    setBusy(true);
    setError(undefined);
    try {
      const result = await rollback(scope, kind, name, version);
      setNotice(`Rolled back: version ${version}'s body is now published as version ${result.version}.`);
      setConfirming(null);
      setLeft(latest ?? null);
      setRight(result.version);
      versions.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const base = scopePath(scope);
  const docPath = `${base}/documents/${kind}/${encodeURIComponent(name)}`;
  const label = KINDS.find((k) => k.kind === kind)?.label ?? kind;

  return (
    <>
      <Breadcrumbs
        items={[
          { label: scopeLabel(scope), to: base },
          { label, to: overviewPath(scope) },
          { label: name, to: docPath },
          { label: "Versions" },
        ]}
      />
      <div className="page-header">
        <div>
          <h1>
            Versions of {name} <span className="badge">{kind}</span>
          </h1>
          <p className="subtitle">Published versions are immutable; a rollback publishes an older body as a new version.</p>
        </div>
        <div className="actions">
          <Link className="btn" to={docPath}>
            {readOnly ? "View document" : "Edit document"}
          </Link>
        </div>
      </div>
      {readOnly && (
        <p className="state state-info" role="note">
          <strong>Read-only.</strong> {readOnly} Rolling back is not offered.
        </p>
      )}
      <div aria-live="polite">{notice && <p className="state state-success">{notice}</p>}</div>
      {error != null && <ErrorNotice error={error} />}
      {versions.loading && !versions.data && <Loading what="versions" />}
      {versions.error != null && <ErrorNotice error={versions.error} onRetry={versions.reload} />}
      {versions.data && list.length === 0 && <Empty>{name} has never been published.</Empty>}
      {list.length > 0 && (
        <section className="card" aria-labelledby="version-list">
          <h2 id="version-list">Published versions ({list.length})</h2>
          <div className="table-wrap">
            <table className="table" data-testid="versions-table">
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Published</th>
                  <th scope="col">By</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.map((v) => (
                  <tr key={v.version}>
                    <td>
                      <strong>v{v.version}</strong> {v.version === latest && <span className="badge ok">current</span>}
                      {v.rolled_back_from != null && (
                        <div className="muted" style={{ fontSize: "0.85rem" }}>
                          rollback to v{v.rolled_back_from}
                        </div>
                      )}
                    </td>
                    <td>{formatTime(v.published_at)}</td>
                    <td>
                      <code>{v.published_by}</code>
                    </td>
                    <td>
                      <div className="toolbar" style={{ margin: 0 }}>
                        <button
                          type="button"
                          className="btn btn-small"
                          aria-pressed={viewing === v.version}
                          onClick={() => setViewing(viewing === v.version ? null : v.version)}
                        >
                          {viewing === v.version ? "Hide" : "View"}
                          <span className="visually-hidden"> version {v.version}</span>
                        </button>
                        {v.version !== latest && !readOnly && (
                          <button type="button" className="btn btn-small btn-danger" onClick={() => setConfirming(v.version)}>
                            Roll back to v{v.version}
                          </button>
                        )}
                      </div>
                      {confirming === v.version && (
                        <div className="confirm" role="alertdialog" aria-labelledby={`confirm-${v.version}`}>
                          <p id={`confirm-${v.version}`}>
                            Publish version {v.version}'s body again as version {(latest ?? 0) + 1}? Orders already
                            started keep the versions they pinned.
                          </p>
                          <div className="toolbar" style={{ margin: 0 }}>
                            <button type="button" className="btn btn-primary btn-small" disabled={busy} onClick={() => doRollback(v.version)} autoFocus>
                              {busy ? "Rolling back…" : "Confirm rollback"}
                            </button>
                            <button type="button" className="btn btn-small" onClick={() => setConfirming(null)}>
                              Cancel
                            </button>
                          </div>
                        </div>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {viewing != null && (
        <section className="card" aria-labelledby="viewing-heading">
          <h2 id="viewing-heading">Version {viewing}</h2>
          {cache[viewing] ? (
            <pre className="json-view" data-testid="version-body">
              {JSON.stringify(cache[viewing].body, null, 2)}
            </pre>
          ) : fetching.error != null ? (
            <ErrorNotice error={fetching.error} onRetry={fetching.reload} />
          ) : (
            <Loading what={`version ${viewing}`} />
          )}
        </section>
      )}
      {list.length > 0 && (
        <section className="card" aria-labelledby="compare-heading">
          <h2 id="compare-heading">Compare versions</h2>
          <div className="field-row" style={{ marginBottom: 12 }}>
            <VersionPicker id="diff-left" label="Old version" versions={list} value={left} onChange={setLeft} />
            <VersionPicker id="diff-right" label="New version" versions={list} value={right} onChange={setRight} />
          </div>
          {left != null && right != null && cache[left] && cache[right] ? (
            <VersionDiff left={cache[left].body} right={cache[right].body} leftTitle={`v${left}`} rightTitle={`v${right}`} />
          ) : fetching.error != null ? (
            <ErrorNotice error={fetching.error} onRetry={fetching.reload} />
          ) : (
            <Loading what="the versions to compare" />
          )}
        </section>
      )}
    </>
  );
}

function VersionPicker({
  id,
  label,
  versions,
  value,
  onChange,
}: {
  id: string;
  label: string;
  versions: { version: number }[];
  value: number | null | undefined;
  onChange: (version: number) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value ?? ""} onChange={(e) => onChange(Number(e.target.value))}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version}
          </option>
        ))}
      </select>
    </div>
  );
}

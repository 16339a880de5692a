// A scope's documents (/platform, /merchants/:id): per kind valid in the scope, the documents
// with their published version and whether a draft is pending, and a "New document" action.
// A merchant's come with the merchant in one request (its overview); the platform's two kinds
// are listed one request each.
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import { listDocuments, type DocumentSummary, type Page } from "../../api/documents";
import { Breadcrumbs } from "../../components/Layout";
import { Empty, ErrorNotice, Loading } from "../../components/States";
import { formatTime } from "../../components/format";
import { useLoad, type Loaded } from "../../components/useLoad";
import { readOnlyReason } from "../../session/permissions";
import { useMe } from "../../session/session";
import { KINDS, scopeLabel, scopePath, useScope, type Scope } from "../../scope";

const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

type KindProps = { scope: Scope; kind: string; label: string };

/** A platform kind's card: it lists its documents itself. */
function PlatformKindCard(props: KindProps) {
  const { scope, kind } = props;
  const docs = useLoad(() => listDocuments(scope, kind), [kind]);
  return <KindCard {...props} docs={docs} />;
}

function KindCard({ scope, kind, label, docs }: KindProps & { docs: Loaded<Page<DocumentSummary>> }) {
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [nameError, setNameError] = useState<string | null>(null);
  const base = scopePath(scope);
  const inputId = `new-${kind}`;
  const readOnly = readOnlyReason(useMe(), scope) !== null;

  function create(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    if (!NAME_PATTERN.test(trimmed)) {
      setNameError("Use lower-case letters, digits, '_' and '-', starting with a letter or digit.");
      return;
    }
    if (docs.data?.data.some((d) => d.name === trimmed)) {
      setNameError(`A ${kind} named ${trimmed} already exists.`);
      return;
    }
    navigate(`${base}/documents/${kind}/${encodeURIComponent(trimmed)}`);
  }

  return (
    <section className="card" aria-labelledby={`kind-${kind}`}>
      <div className="card-header">
        <h2 id={`kind-${kind}`}>{label}</h2>
        <span className="badge">
          <code>{kind}</code>
        </span>
      </div>
      {docs.loading && !docs.data && <Loading what={label.toLowerCase()} />}
      {docs.error != null && <ErrorNotice error={docs.error} onRetry={docs.reload} />}
      {docs.data && docs.data.data.length === 0 && (
        <Empty>
          No {label.toLowerCase()} yet.
          {kind === "order-flow" && scope.type === "merchant" && (
            <>
              {" "}
              Orders run the platform's <Link to="/platform/documents/order-flow/default">default flow</Link>; publish one
              named <code>default</code> here to customise it.
            </>
          )}
        </Empty>
      )}
      {docs.data && docs.data.data.length > 0 && (
        <ul className="doc-list">
          {docs.data.data.map((d) => (
            <li key={d.name}>
              <Link className="name" to={`${base}/documents/${kind}/${encodeURIComponent(d.name)}`}>
                {d.name}
              </Link>
              {d.published_version != null ? (
                <span className="badge ok">v{d.published_version} published</span>
              ) : (
                <span className="badge warn">never published</span>
              )}
              {d.has_draft && <span className="badge info">draft</span>}
              <span className="muted" style={{ fontSize: "0.82rem", width: "100%" }}>
                Updated {formatTime(d.updated_at)} ·{" "}
                <Link to={`${base}/documents/${kind}/${encodeURIComponent(d.name)}/versions`} aria-label={`Versions of ${d.name}`}>
                  Versions
                </Link>
              </span>
            </li>
          ))}
        </ul>
      )}
      {docs.data?.next_cursor && <p className="muted">Showing the first {docs.data.data.length}.</p>}
      {!readOnly && <form className="new-doc" onSubmit={create} noValidate>
        <label htmlFor={inputId} className="visually-hidden">
          Name of the new {kind}
        </label>
        <input
          id={inputId}
          value={name}
          placeholder="new-document-name"
          onChange={(e) => {
            setName(e.target.value);
            setNameError(null);
          }}
          aria-invalid={nameError ? true : undefined}
          aria-describedby={nameError ? `${inputId}-error` : undefined}
        />
        <button type="submit" className="btn">
          New document<span className="visually-hidden"> ({kind})</span>
        </button>
        {nameError && (
          <span className="error fail" id={`${inputId}-error`} style={{ width: "100%", fontSize: "0.88rem" }}>
            {nameError}
          </span>
        )}
      </form>}
    </section>
  );
}

/** A merchant's title and its documents of every kind, from its overview. */
function MerchantDocuments({ merchantId, kinds }: { merchantId: string; kinds: { kind: string; label: string }[] }) {
  const scope: Scope = { type: "merchant", merchantId };
  const overview = useLoad(
    () => unwrap(api.GET("/v1/merchants/{merchant_id}/overview", { params: { path: { merchant_id: merchantId } } })),
    [merchantId],
  );
  if (overview.error != null) return <ErrorNotice error={overview.error} onRetry={overview.reload} />;
  return (
    <>
      <div className="page-header">
        <div>
          <h1>{overview.data?.merchant.name ?? merchantId}</h1>
          <p className="subtitle">
            Merchant <code>{merchantId}</code> · its payment combination, checkout page, discount functions, routing table and
            order flow.
          </p>
        </div>
        <div className="actions">
          <Link className="btn" to={`/merchants/${encodeURIComponent(merchantId)}/orders`}>
            Orders
          </Link>
          <Link className="btn" to={`/merchants/${encodeURIComponent(merchantId)}/audit-log`}>
            Audit log
          </Link>
        </div>
      </div>
      <div className="kind-grid">
        {kinds.map((k) => {
          const found = overview.data?.documents.find((d) => d.kind === k.kind);
          const docs = { ...overview, data: overview.data && { data: found?.documents ?? [], next_cursor: found?.next_cursor } };
          return <KindCard key={`${merchantId}:${k.kind}`} scope={scope} kind={k.kind} label={k.label} docs={docs} />;
        })}
      </div>
    </>
  );
}

export function ScopeOverviewPage() {
  const scope = useScope();
  const kinds = KINDS.filter((k) => (k.scopes as readonly string[]).includes(scope.type));
  return (
    <>
      <Breadcrumbs items={[{ label: scopeLabel(scope) }]} />
      {scope.type === "merchant" ? (
        <MerchantDocuments merchantId={scope.merchantId} kinds={kinds} />
      ) : (
        <>
          <div className="page-header">
            <div>
              <h1>Platform</h1>
              <p className="subtitle">The payment method catalog and the default order flow every merchant inherits.</p>
            </div>
            <div className="actions">
              <Link className="btn" to="/platform/audit-log">
                Audit log
              </Link>
            </div>
          </div>
          <div className="kind-grid">
            {kinds.map((k) => (
              <PlatformKindCard key={k.kind} scope={scope} kind={k.kind} label={k.label} />
            ))}
          </div>
        </>
      )}
    </>
  );
}

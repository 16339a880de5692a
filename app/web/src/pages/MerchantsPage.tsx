// The merchants (platform admin): the paginated list, a form to create one (the API's 422s
// shown at their fields), and API keys for a merchant (the secret is shown once).
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ApiProblem, unwrap, type Schemas } from "../api/client";
import { MERCHANTS_CHANGED } from "../components/Layout";
import { Empty, ErrorNotice, Loading } from "../components/States";
import { Pager, usePaged } from "../components/usePaged";
import { formatTime } from "../components/format";
import { useMe } from "../session/session";

type KeyScope = "merchant_admin" | "storefront";

function CreateMerchant({ onCreated }: { onCreated: (m: Schemas["Merchant"]) => void }) {
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const fieldErrors = (field: string) =>
    error instanceof ApiProblem ? error.violations.filter((v) => v.pointer === `/${field}`).map((v) => v.message) : [];
  const idErrors = fieldErrors("id");
  const nameErrors = fieldErrors("name");

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const merchant = await unwrap(api.POST("/v1/merchants", { body: { id, name } }));
      setId("");
      setName("");
      onCreated(merchant);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="create-merchant">
      <h2 id="create-merchant">Create a merchant</h2>
      {error != null && <ErrorNotice error={error} />}
      <div className="field-row">
        <div className="field">
          <label htmlFor="merchant-id">Merchant id</label>
          <input
            id="merchant-id"
            value={id}
            onChange={(e) => setId(e.target.value)}
            placeholder="e.g. haidilao"
            aria-invalid={idErrors.length > 0 || undefined}
            aria-describedby="merchant-id-hint merchant-id-error"
          />
          <span className="hint" id="merchant-id-hint">
            Lower-case letters, digits and dashes; 2–63 characters.
          </span>
          <span className="error" id="merchant-id-error">
            {idErrors.join(" ")}
          </span>
        </div>
        <div className="field">
          <label htmlFor="merchant-name">Display name</label>
          <input
            id="merchant-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. Haidilao Hot Pot"
            aria-invalid={nameErrors.length > 0 || undefined}
            aria-describedby="merchant-name-error"
          />
          <span className="hint">&nbsp;</span>
          <span className="error" id="merchant-name-error">
            {nameErrors.join(" ")}
          </span>
        </div>
        <div className="field">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create merchant"}
          </button>
          <span className="hint">&nbsp;</span>
          <span className="error">&nbsp;</span>
        </div>
      </div>
    </form>
  );
}

function CreateKey({ merchantId }: { merchantId: string }) {
  const [scope, setScope] = useState<KeyScope>("merchant_admin");
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Schemas["ApiKeyCreated"] | null>(null);
  const [error, setError] = useState<unknown>();
  const [copied, setCopied] = useState(false);
  const selectId = `key-scope-${merchantId}`;

  async function create() {
    setBusy(true);
    setError(undefined);
    setCopied(false);
    try {
      setCreated(
        await unwrap(
          api.POST("/v1/merchants/{merchant_id}/api-keys", {
            params: { path: { merchant_id: merchantId } },
            body: { scope },
          }),
        ),
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied(true);
    } catch {
      // No clipboard (insecure context): select the text so the user can copy it.
      const node = document.getElementById(`secret-${created.id}`);
      if (node) window.getSelection()?.selectAllChildren(node);
    }
  }

  return (
    <div>
      <div className="toolbar" style={{ margin: 0 }}>
        <label htmlFor={selectId} className="visually-hidden">
          Scope of the new key for {merchantId}
        </label>
        <select id={selectId} value={scope} onChange={(e) => setScope(e.target.value as KeyScope)}>
          <option value="merchant_admin">Merchant admin</option>
          <option value="storefront">Storefront</option>
        </select>
        <button type="button" className="btn btn-small" onClick={create} disabled={busy} aria-label={`Create API key for ${merchantId}`}>
          {busy ? "Creating…" : "Create API key"}
        </button>
      </div>
      {error != null && <ErrorNotice error={error} />}
      {created && (
        <div className="secret" role="status" style={{ marginTop: 8 }}>
          <span>
            New <strong>{created.scope}</strong> key <code>{created.id}</code>. Copy the secret now; it is not shown again:
          </span>
          <code id={`secret-${created.id}`} data-testid="api-key-secret">
            {created.key}
          </code>
          <button type="button" className="btn btn-small" onClick={copy}>
            {copied ? "Copied" : "Copy secret"}
          </button>
          <button type="button" className="btn btn-small" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
    </div>
  );
}

export function MerchantsPage() {
  const me = useMe();
  const merchants = usePaged(
    (cursor) => unwrap(api.GET("/v1/merchants", { params: { query: { limit: 20, cursor } } })),
    [],
  );
  const [createdNote, setCreatedNote] = useState<string | null>(null);
  const isPlatform = me.scope === "platform_admin";

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Merchants</h1>
          <p className="subtitle">Every merchant on the platform, with its configuration, orders and API keys.</p>
        </div>
      </div>
      {isPlatform && (
        <CreateMerchant
          onCreated={(m) => {
            setCreatedNote(`Created merchant ${m.id}.`);
            merchants.reload();
            window.dispatchEvent(new Event(MERCHANTS_CHANGED));
          }}
        />
      )}
      {createdNote && (
        <p className="state state-success" role="status">
          {createdNote}
        </p>
      )}
      <section className="card" aria-labelledby="merchant-list">
        <h2 id="merchant-list">All merchants</h2>
        {merchants.loading && !merchants.data && <Loading what="merchants" />}
        {merchants.error != null && <ErrorNotice error={merchants.error} onRetry={merchants.reload} />}
        {merchants.data && merchants.data.data.length === 0 && <Empty>No merchants yet. Create the first one above.</Empty>}
        {merchants.data && merchants.data.data.length > 0 && (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Merchant</th>
                  <th scope="col">Created</th>
                  <th scope="col">Pages</th>
                  {isPlatform && <th scope="col">API keys</th>}
                </tr>
              </thead>
              <tbody>
                {merchants.data.data.map((m) => (
                  <tr key={m.id}>
                    <td>
                      <Link to={`/merchants/${encodeURIComponent(m.id)}`}>
                        <strong>{m.name}</strong>
                      </Link>
                      <div className="muted">
                        <code>{m.id}</code>
                      </div>
                    </td>
                    <td>{formatTime(m.created_at)}</td>
                    <td>
                      <Link to={`/merchants/${encodeURIComponent(m.id)}/orders`} aria-label={`Orders of ${m.id}`}>
                        Orders
                      </Link>
                      {" · "}
                      <Link to={`/merchants/${encodeURIComponent(m.id)}/audit-log`} aria-label={`Audit log of ${m.id}`}>
                        Audit log
                      </Link>
                    </td>
                    {isPlatform && (
                      <td>
                        <CreateKey merchantId={m.id} />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager paged={merchants} label="Merchants" />
      </section>
    </>
  );
}

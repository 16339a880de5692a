// A merchant's webhook endpoints (merchant admins of the merchant and platform admins): the
// list, and a form to add one. The new endpoint's signing secret is shown once, here, right
// after it is created; the endpoint's own page edits it, rotates its secret and deletes it.
import { useState } from "react";
import { Link, useLocation, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { Empty, ErrorNotice, Loading } from "../../components/States";
import { useLoad } from "../../components/useLoad";
import { formatTime } from "../../components/format";
import {
  EMPTY_DRAFT,
  EndpointForm,
  isFormProblem,
  localProblems,
  ProblemSummary,
  visibleProblems,
  type EndpointDraft,
  type Rejection,
} from "./EndpointForm";
import { SecretOnce } from "./SecretOnce";
import { inLifecycleOrder } from "./problems";
import { EndpointStatus } from "./EndpointStatus";
import "./webhooks.css";

export type Endpoint = Schemas["WebhookEndpoint"];
/** The answer to creating an endpoint or rotating its secret: the only times it has one. */
export type EndpointWithSecret = Schemas["WebhookEndpointWithSecret"];

export function webhooksPath(merchantId: string) {
  return `/merchants/${encodeURIComponent(merchantId)}/webhooks`;
}

export function WebhooksPage() {
  const merchantId = useParams().merchantId!;
  const deleted = (useLocation().state as { deleted?: string } | null)?.deleted;
  const list = useLoad(
    () => unwrap(api.GET("/v1/merchants/{merchant_id}/webhook-endpoints", { params: { path: { merchant_id: merchantId } } })),
    [merchantId],
  );
  const [created, setCreated] = useState<EndpointWithSecret | null>(null);

  const endpoints = list.data?.data ?? [];
  return (
    <div className="wh-page">
      <div className="page-header">
        <div>
          <h1>Webhooks</h1>
          <p className="subtitle">
            Where merchant <code>{merchantId}</code>'s events are delivered: each endpoint gets the event types it
            chose, signed with its own secret.
          </p>
        </div>
      </div>
      <div aria-live="polite">
        {deleted && !created && <p className="state state-success">Endpoint {deleted} was deleted.</p>}
      </div>
      {created?.secret && (
        <SecretOnce
          title={`Endpoint created: ${created.url}`}
          secret={created.secret}
          onDone={() => setCreated(null)}
        />
      )}

      <section className="card" aria-labelledby="wh-list-title">
        <h2 id="wh-list-title">Endpoints</h2>
        {list.error != null ? (
          <ErrorNotice error={list.error} onRetry={list.reload} />
        ) : !list.data ? (
          <Loading what="webhook endpoints" />
        ) : endpoints.length === 0 ? (
          <Empty>No webhook endpoints yet. Add one below to receive this merchant's events.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table wh-table">
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Status</th>
                  <th scope="col">Event types</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {endpoints.map((e) => (
                  <tr key={e.id} data-endpoint={e.id}>
                    <td data-label="Endpoint">
                      <Link to={`${webhooksPath(merchantId)}/${encodeURIComponent(e.id)}`} className="wh-url">
                        {e.url}
                      </Link>
                      {e.description && <span className="wh-description">{e.description}</span>}
                    </td>
                    <td data-label="Status">
                      <EndpointStatus endpoint={e} />
                      {!e.enabled && e.disabled_reason && <span className="wh-disabled-reason">{e.disabled_reason}</span>}
                    </td>
                    <td data-label="Event types">
                      <span className="wh-types-inline">{inLifecycleOrder(e.event_types).join(", ")}</span>
                    </td>
                    <td data-label="Created">
                      <time dateTime={e.created_at}>{formatTime(e.created_at)}</time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <CreateEndpoint
        merchantId={merchantId}
        onCreated={(endpoint) => {
          setCreated(endpoint);
          list.reload();
        }}
      />
    </div>
  );
}

function CreateEndpoint({ merchantId, onCreated }: { merchantId: string; onCreated(e: EndpointWithSecret): void }) {
  const [draft, setDraft] = useState<EndpointDraft>(EMPTY_DRAFT);
  const [busy, setBusy] = useState(false);
  const [rejection, setRejection] = useState<Rejection | null>(null);
  const [submitted, setSubmitted] = useState(false);
  const problems = visibleProblems(draft, rejection, submitted);

  async function create() {
    setSubmitted(true);
    setRejection(null);
    if (Object.keys(localProblems(draft).byField).length > 0) return;
    setBusy(true);
    try {
      const endpoint = await unwrap(
        api.POST("/v1/merchants/{merchant_id}/webhook-endpoints", {
          params: { path: { merchant_id: merchantId } },
          body: {
            url: draft.url.trim(),
            // The checkboxes offer the document's types; the server names any other at its index.
            event_types: draft.eventTypes as Schemas["SubscribableEventType"][],
            enabled: draft.enabled,
            description: draft.description.trim() || null,
          },
        }),
      );
      setDraft(EMPTY_DRAFT);
      setSubmitted(false);
      onCreated(endpoint);
    } catch (e) {
      setRejection({ error: e, sent: draft });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="wh-create-title">
      <h2 id="wh-create-title">Add an endpoint</h2>
      {rejection && !isFormProblem(rejection.error) && <ErrorNotice error={rejection.error} />}
      <ProblemSummary title="The endpoint was not added" problems={problems} />
      <EndpointForm
        draft={draft}
        onChange={setDraft}
        problems={problems}
        busy={busy}
        submitLabel="Add endpoint"
        busyLabel="Adding…"
        onSubmit={create}
      />
    </section>
  );
}

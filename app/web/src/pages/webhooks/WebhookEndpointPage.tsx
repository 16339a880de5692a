// One webhook endpoint: what it receives and where, enable or disable it, edit it (PATCH),
// rotate its signing secret (the new one is shown once; the previous one keeps signing for
// 24 h) and delete it, each change that cannot be undone after a confirmation; send it a test
// event and see the answer; its deliveries (Deliveries.tsx). When the server disabled it (every
// delivery failed for days) the reason is the first thing on the page.
import { useEffect, useState, type ReactNode } from "react";
import { useNavigate, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { Breadcrumbs } from "../../components/Layout";
import { ErrorNotice, Loading } from "../../components/States";
import { useLoad } from "../../components/useLoad";
import { eventTypeLabel, formatTime } from "../../components/format";
import { useUnsavedChangesPrompt } from "../../components/UnsavedChanges";
import { EndpointForm, isFormProblem, localProblems, ProblemSummary, visibleProblems, type EndpointDraft, type Rejection } from "./EndpointForm";
import { EndpointStatus } from "./EndpointStatus";
import { SecretOnce } from "./SecretOnce";
import { inLifecycleOrder } from "./problems";
import { webhooksPath, type EndpointWithSecret } from "./WebhooksPage";
import { Deliveries } from "./Deliveries";
import "./webhooks.css";

type Endpoint = Schemas["WebhookEndpoint"];

function draftOf(e: Endpoint): EndpointDraft {
  return { url: e.url, description: e.description ?? "", eventTypes: [...e.event_types], enabled: e.enabled };
}

const same = (a: EndpointDraft, b: EndpointDraft) =>
  a.url.trim() === b.url.trim() &&
  a.description.trim() === b.description.trim() &&
  a.enabled === b.enabled &&
  JSON.stringify([...a.eventTypes].sort()) === JSON.stringify([...b.eventTypes].sort());

export function WebhookEndpointPage() {
  const { merchantId, endpointId } = useParams() as { merchantId: string; endpointId: string };
  const loaded = useLoad(
    () =>
      unwrap(
        api.GET("/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}", {
          params: { path: { merchant_id: merchantId, endpoint_id: endpointId } },
        }),
      ),
    [merchantId, endpointId],
  );
  const crumbs = (
    <Breadcrumbs items={[{ label: "Webhooks", to: webhooksPath(merchantId) }, { label: loaded.data?.url ?? endpointId }]} />
  );
  if (loaded.error)
    return (
      <>
        {crumbs}
        <ErrorNotice error={loaded.error} onRetry={loaded.reload} />
      </>
    );
  if (!loaded.data)
    return (
      <>
        {crumbs}
        <Loading what="the webhook endpoint" />
      </>
    );
  return (
    <>
      {crumbs}
      <EndpointView key={loaded.data.id} merchantId={merchantId} initial={loaded.data} />
    </>
  );
}

function EndpointView({ merchantId, initial }: { merchantId: string; initial: Endpoint }) {
  const navigate = useNavigate();
  const path = { merchant_id: merchantId, endpoint_id: initial.id };
  const [endpoint, setEndpoint] = useState(initial);
  const [draft, setDraft] = useState(() => draftOf(initial));
  const [busy, setBusy] = useState<"save" | "toggle" | "rotate" | "delete" | "test" | null>(null);
  const [tested, setTested] = useState<{ outcome: Schemas["AttemptOutcome"]; at: string } | null>(null);
  const [deliveriesRefresh, setDeliveriesRefresh] = useState(0);
  const [confirm, setConfirm] = useState<"rotate" | "delete" | null>(null);
  const [secret, setSecret] = useState<EndpointWithSecret | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [rejection, setRejection] = useState<Rejection | null>(null);
  const [submitted, setSubmitted] = useState(false);
  const [gone, setGone] = useState(false);
  const dirty = !same(draft, draftOf(endpoint));
  const problems = visibleProblems(draft, rejection, submitted);
  const prompt = useUnsavedChangesPrompt(dirty && busy === null && !gone, "Your changes to this endpoint");

  useEffect(() => {
    if (gone) navigate(webhooksPath(merchantId), { state: { deleted: endpoint.url } });
  }, [gone, navigate, merchantId, endpoint.url]);

  const begin = (what: NonNullable<typeof busy>) => {
    setBusy(what);
    setNotice(null);
    setFailure(null);
  };

  async function save() {
    setSubmitted(true);
    setRejection(null);
    if (Object.keys(localProblems(draft).byField).length > 0) return;
    const before = draftOf(endpoint);
    const changes: Schemas["UpdateWebhookEndpoint"] = {};
    if (draft.url.trim() !== before.url) changes.url = draft.url.trim();
    if (draft.description.trim() !== before.description.trim()) changes.description = draft.description.trim() || null;
    if (JSON.stringify([...draft.eventTypes].sort()) !== JSON.stringify([...before.eventTypes].sort())) changes.event_types = draft.eventTypes as Schemas["SubscribableEventType"][];
    if (draft.enabled !== before.enabled) changes.enabled = draft.enabled;
    begin("save");
    try {
      const saved = await unwrap(
        api.PATCH("/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}", { params: { path }, body: changes }),
      );
      setEndpoint(saved);
      setDraft(draftOf(saved));
      setSubmitted(false);
      setNotice("Changes saved.");
    } catch (e) {
      if (isFormProblem(e)) setRejection({ error: e, sent: draft });
      else setFailure(e);
    } finally {
      setBusy(null);
    }
  }

  async function toggle() {
    begin("toggle");
    try {
      const saved = await unwrap(
        api.PATCH("/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}", {
          params: { path },
          body: { enabled: !endpoint.enabled },
        }),
      );
      setEndpoint(saved);
      if (saved.enabled) setDeliveriesRefresh((n) => n + 1);
      // The form follows, unless it holds an edit of its own there.
      setDraft((d) => (d.enabled === endpoint.enabled ? { ...d, enabled: saved.enabled } : d));
      setNotice(saved.enabled ? "Endpoint enabled: it receives events again." : "Endpoint disabled: it receives nothing until enabled.");
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(null);
    }
  }

  /** POST .../test: a signed `webhook.test` event, now; nothing is stored or retried. */
  async function sendTest() {
    begin("test");
    setTested(null);
    try {
      const outcome = await unwrap(
        api.POST("/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/test", { params: { path } }),
      );
      setTested({ outcome, at: new Date().toISOString() });
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(null);
    }
  }

  async function rotate() {
    setConfirm(null);
    begin("rotate");
    try {
      const rotated = await unwrap(
        api.POST("/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/rotate-secret", { params: { path } }),
      );
      setEndpoint(rotated);
      setSecret(rotated);
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(null);
    }
  }

  async function remove() {
    setConfirm(null);
    begin("delete");
    try {
      await unwrap(api.DELETE("/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}", { params: { path } }));
      setGone(true);
    } catch (e) {
      setFailure(e);
      setBusy(null);
    }
  }

  const previousUntil =
    endpoint.previous_secret_expires_at && new Date(endpoint.previous_secret_expires_at).getTime() > Date.now()
      ? endpoint.previous_secret_expires_at
      : null;

  return (
    <div className="wh-page">
      {prompt}
      <div className="page-header">
        <div>
          <h1>Webhook endpoint</h1>
          <p className="subtitle wh-subtitle">
            <code className="wh-url">{endpoint.url}</code> <EndpointStatus endpoint={endpoint} />
          </p>
        </div>
        <div className="actions">
          <button type="button" className="btn" onClick={sendTest} disabled={busy !== null}>
            {busy === "test" ? "Sending…" : "Send test event"}
          </button>
          <button type="button" className="btn" onClick={toggle} disabled={busy !== null}>
            {busy === "toggle" ? "Saving…" : endpoint.enabled ? "Disable" : "Enable"}
          </button>
          <button type="button" className="btn" onClick={() => setConfirm("rotate")} disabled={busy !== null}>
            {busy === "rotate" ? "Rotating…" : "Rotate secret"}
          </button>
          <button type="button" className="btn btn-danger" onClick={() => setConfirm("delete")} disabled={busy !== null}>
            {busy === "delete" ? "Deleting…" : "Delete"}
          </button>
        </div>
      </div>

      {!endpoint.enabled && endpoint.disabled_reason && (
        <div className="state state-error wh-disabled" role="alert" data-testid="disabled-reason">
          <strong>orderflow disabled this endpoint.</strong> {endpoint.disabled_reason}
          <p>
            Nothing is delivered to it until it is enabled again. Fix the receiver (Send test event shows what it
            answers), then Enable it: that clears this reason.
          </p>
        </div>
      )}
      {confirm === "rotate" && (
        <Confirm id="wh-rotate-title" action="Rotate secret" keep="Keep the current secret" onConfirm={rotate} onKeep={() => setConfirm(null)}>
          Rotate the signing secret? A new secret is made and shown once. The current one keeps signing alongside it
          for 24 hours, so your receiver can switch over without rejecting a delivery.
        </Confirm>
      )}
      {confirm === "delete" && (
        <Confirm id="wh-delete-title" action="Delete endpoint" keep="Keep it" onConfirm={remove} onKeep={() => setConfirm(null)}>
          Delete the endpoint {endpoint.url}? It stops receiving events at once, and this cannot be undone.
        </Confirm>
      )}
      {secret?.secret && (
        <SecretOnce
          title="New signing secret"
          secret={secret.secret}
          previousExpiresAt={secret.previous_secret_expires_at}
          onDone={() => setSecret(null)}
        />
      )}
      <div aria-live="polite">
        {notice && <p className="state state-success">{notice}</p>}
        {tested && <TestOutcome outcome={tested.outcome} at={tested.at} onDone={() => setTested(null)} />}
      </div>
      {failure != null && <ErrorNotice error={failure} />}

      <section className="card" aria-labelledby="wh-facts-title">
        <h2 id="wh-facts-title">Details</h2>
        <dl className="wh-facts">
          <dt>Id</dt>
          <dd>
            <code>{endpoint.id}</code>
          </dd>
          <dt>Description</dt>
          <dd>{endpoint.description || <span className="muted">none</span>}</dd>
          <dt>Event types</dt>
          <dd>
            <ul className="wh-type-badges">
              {inLifecycleOrder(endpoint.event_types).map((t) => (
                <li key={t} className="badge" title={eventTypeLabel(t)}>
                  {t}
                </li>
              ))}
            </ul>
          </dd>
          <dt>Signing secret</dt>
          <dd>
            Shown only when the endpoint is created and when the secret is rotated.
            {previousUntil && (
              <>
                {" "}
                The previous secret still signs too, until <time dateTime={previousUntil}>{formatTime(previousUntil)}</time>.
              </>
            )}
          </dd>
          <dt>Created</dt>
          <dd>
            <time dateTime={endpoint.created_at}>{formatTime(endpoint.created_at)}</time>
          </dd>
          <dt>Changed</dt>
          <dd>
            <time dateTime={endpoint.updated_at}>{formatTime(endpoint.updated_at)}</time>
          </dd>
        </dl>
      </section>

      <Deliveries merchantId={merchantId} endpointId={endpoint.id} refresh={deliveriesRefresh} />

      <section className="card" aria-labelledby="wh-edit-title">
        <h2 id="wh-edit-title">
          Edit {dirty && <span className="badge warn">unsaved changes</span>}
        </h2>
        <ProblemSummary title="The changes were not saved" problems={problems} />
        <EndpointForm
          draft={draft}
          onChange={setDraft}
          problems={problems}
          busy={busy === "save"}
          submitLabel="Save changes"
          busyLabel="Saving…"
          onSubmit={save}
          submitDisabled={!dirty || busy !== null}
        >
          <button
            type="button"
            className="btn"
            disabled={!dirty || busy !== null}
            onClick={() => {
              setDraft(draftOf(endpoint));
              setRejection(null);
              setSubmitted(false);
            }}
          >
            Discard changes
          </button>
        </EndpointForm>
      </section>
    </div>
  );
}

function Confirm({ id, action, keep, onConfirm, onKeep, children }: {
  id: string;
  action: string;
  keep: string;
  onConfirm(): void;
  onKeep(): void;
  children: ReactNode;
}) {
  return (
    <div className="confirm" role="alertdialog" aria-labelledby={id}>
      <p id={id}>{children}</p>
      <div className="toolbar">
        <button type="button" className="btn btn-danger" onClick={onConfirm}>
          {action}
        </button>
        <button type="button" className="btn" onClick={onKeep}>
          {keep}
        </button>
      </div>
    </div>
  );
}

/** What the receiver answered the test event. */
function TestOutcome({ outcome, at, onDone }: { outcome: Schemas["AttemptOutcome"]; at: string; onDone(): void }) {
  return (
    <section
      className={`state ${outcome.delivered ? "state-success" : "state-error"} wh-test`}
      aria-labelledby="wh-test-title"
      data-testid="test-outcome"
    >
      <h2 id="wh-test-title">
        {outcome.delivered ? "Test event delivered" : "Test event not delivered"}
      </h2>
      <p>
        {outcome.response_status != null ? (
          <>
            The receiver answered <strong>HTTP {outcome.response_status}</strong>
          </>
        ) : (
          <>No answer came</>
        )}{" "}
        in {outcome.latency_ms} ms (sent <time dateTime={at}>{formatTime(at)}</time>).
        {!outcome.delivered && outcome.response_status != null && " Only a 2xx answer counts as delivered."}
      </p>
      {outcome.error && !/^the receiver answered \d+$/i.test(outcome.error.trim()) && <p className="wh-attempt-error">{outcome.error}</p>}
      {outcome.response_body && (
        <pre className="wh-body" tabIndex={0} aria-label="The receiver's answer">
          {outcome.response_body}
        </pre>
      )}
      <button type="button" className="btn btn-small" onClick={onDone}>
        Dismiss
      </button>
    </section>
  );
}

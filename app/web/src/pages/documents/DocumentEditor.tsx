// The editor of one document (any kind but discount functions): a form rendered from the
// kind's JSON Schema (or its raw JSON), loaded from the draft (or the published body), saved
// with If-Match, checked and published. The API's 422 problems are shown at the fields their
// JSON pointers name and listed above the form. Loaded on demand (it brings the form library).
import { useCallback, useState, type ReactNode } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import type { RJSFSchema } from "@rjsf/utils";
import { ApiProblem } from "../../api/client";
import { checkDocument, discardDraft, getDocument, publish, saveDraft, type Document } from "../../api/documents";
import { ErrorNotice, Loading } from "../../components/States";
import { formatTime } from "../../components/format";
import { useSaveShortcut, useUnsavedChangesPrompt } from "../../components/UnsavedChanges";
import { scopePath, type Scope } from "../../scope";
import { CheckoutPreview } from "./CheckoutPreview";
import { RoutingEvaluatePanel } from "./RoutingEvaluatePanel";
import { SchemaForm, isAlternativesMessage, jsonEqual, usePrecompiledValidator } from "./SchemaForm";
import { fieldId, valueAt, type Violation } from "./pointers";
import type { PickerData } from "./pickers";
import { FlowPanel } from "../flows/FlowPanel";
import type { FlowBody } from "../flows/FlowDiagram";
import { useMe } from "../../session/session";
import { ReleasePanels, rolloutBlocksPublish } from "../release/ReleasePanels";
import type { Rollout } from "../../api/release";

export interface Problems {
  /** What produced them: a draft save, a check, a publish attempt or an evaluation. */
  source: "save" | "check" | "publish" | "evaluate";
  title: string;
  detail?: string;
  violations: Violation[];
}

const SOURCE_LABEL: Record<Problems["source"], string> = {
  save: "The draft was not saved",
  check: "Publishing would fail",
  publish: "Not published",
  evaluate: "The routing table was rejected",
};

/** The problems above the form; each pointer links to its field. */
export function ProblemList({ problems }: { problems: Problems }) {
  return (
    <div role="alert" className="state state-error problems" data-testid="problems">
      <strong>{SOURCE_LABEL[problems.source]}:</strong> {problems.detail ?? problems.title}
      {problems.violations.length > 0 && (
        <ul>
          {problems.violations.map((v, i) => (
            <li key={`${i}:${v.pointer}`}>
              {v.pointer ? (
                <a
                  href={`#${fieldId(v.pointer)}`}
                  onClick={(e) => {
                    const target = document.getElementById(fieldId(v.pointer));
                    if (target) {
                      e.preventDefault();
                      target.focus();
                      target.scrollIntoView({ block: "center" });
                    }
                  }}
                >
                  <code>{v.pointer}</code>
                </a>
              ) : (
                <code>(document)</code>
              )}{" "}
              {isAlternativesMessage(v.message) ? "does not match any of the allowed kinds (see the fields marked below)" : v.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** What a check or a publish warned of: publishable, but worth knowing before it happens. */
export interface Warnings {
  source: "check" | "publish";
  violations: Violation[];
}

/** The warnings next to Publish, each at the pointer it names. */
export function WarningList({ warnings }: { warnings: Warnings }) {
  return (
    <section className="state state-warn publish-warnings" data-testid="publish-warnings" aria-labelledby="publish-warnings-title">
      <h2 id="publish-warnings-title" className="warnings-title">
        {warnings.source === "check" ? "Publishing this would warn" : "Published, with warnings"} ({warnings.violations.length})
      </h2>
      <ul>
        {warnings.violations.map((v, i) => (
          <li key={`${i}:${v.pointer}`}>
            <code>{v.pointer || "(document)"}</code> {v.message}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A question above the form with a destructive action and a way out. */
function Confirm({ id, action, keep, onConfirm, onKeep, children }: {
  id: string;
  action: string;
  keep: string;
  onConfirm: () => void;
  onKeep: () => void;
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

type Tab = "form" | "json";

/** Why Publish has nothing to do, or null when it has. */
function nothingToPublish(server: Document | null, dirty: boolean, formData: unknown): string | null {
  const pending = dirty ? formData : (server?.draft ?? null);
  const version = server?.published_version;
  if (pending == null)
    return server == null
      ? "Nothing to publish yet: fill in the form first."
      : `Nothing to publish: there is no draft, and v${version} is what is published.`;
  if (server?.published != null && jsonEqual(pending, server.published))
    return `Nothing to publish: ${dirty ? "the form" : "the draft"} equals the published v${version}.`;
  return null;
}

export function DocumentEditor({ scope, kind, name, doc, schema, reload, readOnly, pickers }: {
  scope: Scope;
  kind: string;
  name: string;
  /** What the server holds, or null for a document that does not exist yet. */
  doc: Document | null;
  schema: RJSFSchema;
  reload: () => void;
  /** Why the signed-in key may not change this document (a read-only view), or null. */
  readOnly: string | null;
  /** What the form's pickers offer (pickers.tsx), loaded with the document. */
  pickers?: PickerData | null;
}) {
  // The document as the server last described it: the baseline edits are compared with.
  const [server, setServer] = useState<Document | null>(doc);
  const [formData, setFormData] = useState<unknown>(() => doc?.draft ?? doc?.published ?? {});
  const [problems, setProblems] = useState<Problems | null>(null);
  const [warnings, setWarnings] = useState<Warnings | null>(null);
  const [error, setError] = useState<unknown>();
  const [stale, setStale] = useState(false);
  const customized = (useLocation().state as { customized?: string } | null)?.customized;
  const [notice, setNotice] = useState<string | null>(() =>
    customized === "copied"
      ? "The platform flow was copied here as a draft: change it, then publish it to use it for your orders."
      : customized === "exists"
        ? "You already have your own flow: here it is."
        : null,
  );
  const [busy, setBusy] = useState<"save" | "check" | "publish" | "discard" | null>(null);
  const [showAllErrors, setShowAllErrors] = useState(false);
  const [tab, setTab] = useState<Tab>("form");
  const [jsonText, setJsonText] = useState("");
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const [confirmDiscardDraft, setConfirmDiscardDraft] = useState(false);
  const validator = usePrecompiledValidator(kind, schema);
  const me = useMe();
  const baseline = server?.draft ?? server?.published ?? {};
  const dirty = !readOnly && !jsonEqual(formData, baseline);
  const hasDraft = server?.draft != null;
  const publishedVersion = server?.published_version ?? null;
  const idle = busy === null && jsonError === null;
  const [rollout, setRollout] = useState<Rollout | null>(null);
  const publishBlocked = rolloutBlocksPublish(rollout) ?? nothingToPublish(server, dirty, formData);

  const prompt = useUnsavedChangesPrompt(dirty && busy === null, `${name} (${kind})`);

  const change = useCallback(
    (next: unknown) => {
      setFormData(next);
      setNotice(null);
      // Warnings were about the document as it was checked or published.
      setWarnings(null);
      // A problem stays shown until the value it names changes.
      setProblems((current) => {
        if (!current) return current;
        const left = current.violations.filter((v) => jsonEqual(valueAt(next, v.pointer), valueAt(formData, v.pointer)) || v.pointer === "");
        if (left.length === current.violations.length) return current;
        return left.length ? { ...current, violations: left } : null;
      });
    },
    [formData],
  );

  function showFailure(e: unknown, source: Problems["source"]) {
    if (e instanceof ApiProblem && e.status === 412) {
      setStale(true);
    } else if (e instanceof ApiProblem && e.status === 422) {
      setProblems({ source, title: e.problem.title ?? "Unprocessable", detail: e.problem.detail, violations: e.violations });
    } else {
      setError(e);
    }
  }

  async function save(): Promise<boolean> {
    setBusy("save");
    setError(undefined);
    setProblems(null);
    setNotice(null);
    setShowAllErrors(true);
    try {
      const result = await saveDraft(scope, kind, name, formData, server?.etag);
      setServer(result);
      setNotice(`Draft saved at ${formatTime(result.draft_updated_at ?? result.updated_at)}.`);
      return true;
    } catch (e) {
      showFailure(e, "save");
      return false;
    } finally {
      setBusy(null);
    }
  }

  /** Runs the publish checks on the document as edited; saves nothing. */
  async function check() {
    setBusy("check");
    setError(undefined);
    setProblems(null);
    setWarnings(null);
    setNotice(null);
    setShowAllErrors(true);
    try {
      const result = await checkDocument(scope, kind, name, formData);
      if (result.warnings.length > 0) setWarnings({ source: "check", violations: result.warnings });
      if (result.publishable) {
        setNotice(
          result.warnings.length > 0
            ? "No problems: publishing this would pass every check, with the warnings below."
            : "No problems: publishing this would pass every check.",
        );
      } else {
        const count = result.problems.length;
        setProblems({
          source: "check",
          title: "Unprocessable",
          detail: `${count} problem${count === 1 ? "" : "s"} (nothing was saved)`,
          violations: result.problems,
        });
      }
    } catch (e) {
      showFailure(e, "check");
    } finally {
      setBusy(null);
    }
  }

  async function publishDraft() {
    if (publishBlocked) return;
    if (dirty && !(await save())) return;
    setBusy("publish");
    setError(undefined);
    setProblems(null);
    setWarnings(null);
    try {
      const result = await publish(scope, kind, name);
      if (result.warnings.length > 0) setWarnings({ source: "publish", violations: result.warnings });
      // Start again from what the server now holds: the published body, no draft.
      const fresh = await getDocument(scope, kind, name);
      setServer(fresh);
      setFormData(fresh.draft ?? fresh.published ?? formData);
      setShowAllErrors(false);
      setNotice(`Published version ${result.version}.`);
    } catch (e) {
      showFailure(e, "publish");
    } finally {
      setBusy(null);
    }
  }

  function discard() {
    setFormData(baseline);
    setProblems(null);
    setError(undefined);
    setShowAllErrors(false);
    setConfirmDiscard(false);
    if (tab === "json") {
      setJsonText(JSON.stringify(baseline, null, 2));
      setJsonError(null);
    }
    setNotice(hasDraft ? "Changes discarded: back to the saved draft." : "Changes discarded.");
  }

  /** Discards the saved draft on the server (DELETE .../draft), and any unsaved edits. */
  async function discardSavedDraft() {
    setConfirmDiscardDraft(false);
    setBusy("discard");
    setError(undefined);
    setProblems(null);
    setWarnings(null);
    try {
      await discardDraft(scope, kind, name, server?.etag);
      // A document never published is gone with its draft.
      const fresh = await getDocument(scope, kind, name).catch((e) => {
        if (e instanceof ApiProblem && e.status === 404) return null;
        throw e;
      });
      setServer(fresh);
      setFormData(fresh?.published ?? {});
      if (tab === "json") {
        setJsonText(JSON.stringify(fresh?.published ?? {}, null, 2));
        setJsonError(null);
      }
      setShowAllErrors(false);
      setNotice(
        fresh?.published_version != null
          ? `Draft discarded: back to the published v${fresh.published_version}.`
          : "Draft discarded: the document was never published, so it is gone.",
      );
    } catch (e) {
      showFailure(e, "save");
    } finally {
      setBusy(null);
    }
  }

  /** A rollout started, was promoted or aborted: the published version changed, so start
   * again from what the server now holds, as after a publish. */
  async function released(message: string, releaseWarnings: Violation[]) {
    setError(undefined);
    setProblems(null);
    setWarnings(releaseWarnings.length > 0 ? { source: "publish", violations: releaseWarnings } : null);
    try {
      const fresh = await getDocument(scope, kind, name);
      setServer(fresh);
      setFormData(fresh.draft ?? fresh.published ?? formData);
      setShowAllErrors(false);
      setNotice(message);
    } catch (e) {
      setError(e);
    }
  }

  useSaveShortcut(() => void save(), !readOnly && idle);

  function openTab(next: Tab) {
    if (next === tab) return;
    if (next === "json") {
      setJsonText(JSON.stringify(formData, null, 2));
      setJsonError(null);
    } else if (jsonError) {
      return; // keep the user on the JSON until it parses
    }
    setTab(next);
  }

  function editJson(text: string) {
    setJsonText(text);
    try {
      const parsed = JSON.parse(text);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        setJsonError("The document must be a JSON object.");
        return;
      }
      setJsonError(null);
      change(parsed);
    } catch (e) {
      setJsonError(e instanceof Error ? e.message : String(e));
    }
  }

  /** Opens step `index` of an order flow in the form: its box unfolded, its name focused. */
  function openStep(index: number) {
    openTab("form");
    requestAnimationFrame(() => {
      const toggle = document.querySelector<HTMLButtonElement>(`[aria-controls="root_steps_${index}__item"]`);
      if (toggle?.getAttribute("aria-expanded") === "false") toggle.click();
      requestAnimationFrame(() => {
        const field = document.getElementById(`root_steps_${index}_name`);
        field?.scrollIntoView({ block: "center" });
        field?.focus();
      });
    });
  }

  const base = scopePath(scope);
  const sidePanel =
    kind === "checkout-page" && scope.type === "merchant" ? (
      <CheckoutPreview merchantId={scope.merchantId} page={formData} />
    ) : kind === "routing-table" && scope.type === "merchant" ? (
      <RoutingEvaluatePanel merchantId={scope.merchantId} table={formData} onProblems={setProblems} />
    ) : null;

  const editor = (
    <section className="card" aria-labelledby="editor-heading">
      <h2 id="editor-heading" className="visually-hidden">
        {readOnly ? "View" : "Edit"} {name}
      </h2>
      <div className="tabs" role="tablist" aria-label="Editor">
        <button type="button" role="tab" id="tab-form" aria-controls="panel-form" aria-selected={tab === "form"} onClick={() => openTab("form")}>
          Form
        </button>
        <button type="button" role="tab" id="tab-json" aria-controls="panel-json" aria-selected={tab === "json"} onClick={() => openTab("json")}>
          JSON
        </button>
      </div>
      {tab === "form" ? (
        <div role="tabpanel" id="panel-form" aria-labelledby="tab-form">
          {validator.status === "loading" && <Loading what="the form" />}
          {validator.status === "unavailable" && (
            <p className="state state-warn" role="status">
              {validator.reason}{" "}
              <button type="button" className="btn btn-small" onClick={() => openTab("json")}>
                Edit JSON
              </button>
            </p>
          )}
          {validator.status === "ready" && (
            <SchemaForm
              kind={kind}
              schema={schema}
              validator={validator.validator}
              formData={formData}
              onChange={change}
              serverErrors={problems?.violations}
              showAllErrors={showAllErrors}
              disabled={busy !== null}
              readonly={readOnly !== null}
              pickers={pickers}
            />
          )}
        </div>
      ) : (
        <div role="tabpanel" id="panel-json" aria-labelledby="tab-json">
          <div className="field">
            <label htmlFor="json-editor">Document JSON</label>
            <textarea
              id="json-editor"
              className="json-editor"
              spellCheck={false}
              value={jsonText}
              readOnly={readOnly !== null}
              onChange={(e) => editJson(e.target.value)}
              aria-invalid={jsonError ? true : undefined}
              aria-describedby="json-editor-status"
            />
            <span id="json-editor-status" className={jsonError ? "error" : "hint"}>
              {readOnly ? "Read-only." : jsonError ? `Not valid JSON: ${jsonError}` : "Valid JSON; changes apply to the form."}
            </span>
          </div>
        </div>
      )}
    </section>
  );

  return (
    <>
      {prompt}
      <div className="page-header editor-bar">
        <div>
          <h1>
            {name} <span className="badge">{kind}</span>
          </h1>
          <p className="subtitle">
            {publishedVersion != null ? (
              <span className="badge ok">v{publishedVersion} published</span>
            ) : (
              <span className="badge warn">never published</span>
            )}{" "}
            {dirty ? (
              <span className="badge warn">unsaved changes</span>
            ) : hasDraft ? (
              <span className="badge info">draft saved</span>
            ) : null}{" "}
            {readOnly && <span className="badge">read-only</span>}
          </p>
        </div>
        <div className="actions">
          <Link className="btn" to={`${base}/documents/${kind}/${encodeURIComponent(name)}/versions`}>
            Versions
          </Link>
          {!readOnly && (
            <>
              <button type="button" className="btn" onClick={() => setConfirmDiscard(true)} disabled={!dirty || busy !== null}>
                Discard changes
              </button>
              {hasDraft && (
                <button type="button" className="btn" onClick={() => setConfirmDiscardDraft(true)} disabled={busy !== null}>
                  {busy === "discard" ? "Discarding…" : "Discard draft"}
                </button>
              )}
              <button type="button" className="btn" onClick={save} disabled={!idle} aria-keyshortcuts="Control+S Meta+S">
                {busy === "save" ? "Saving…" : "Save draft"}
              </button>
              <button type="button" className="btn" onClick={check} disabled={!idle}>
                {busy === "check" ? "Checking…" : "Check"}
              </button>
              <button
                type="button"
                className="btn btn-primary"
                onClick={publishDraft}
                disabled={!idle || publishBlocked !== null}
                aria-describedby={publishBlocked ? "publish-reason" : undefined}
              >
                {busy === "publish" ? "Publishing…" : "Publish"}
              </button>
            </>
          )}
        </div>
        {!readOnly && publishBlocked && (
          <p className="publish-reason" id="publish-reason" data-testid="publish-reason">
            {publishBlocked}
          </p>
        )}
        {!readOnly && warnings && <WarningList warnings={warnings} />}
      </div>
      {readOnly && (
        <p className="state state-info" role="note" data-testid="read-only">
          <strong>Read-only.</strong> {readOnly}
        </p>
      )}
      {server == null && (
        <p className="state state-warn" role="status" data-testid="new-document">
          <strong>New document.</strong> {name} does not exist yet: fill in the form and save a draft to create it.
        </p>
      )}
      {confirmDiscard && (
        <Confirm id="discard-title" action="Discard changes" keep="Keep them" onConfirm={discard} onKeep={() => setConfirmDiscard(false)}>
          Discard your unsaved changes and go back to {hasDraft ? "the saved draft" : publishedVersion != null ? `v${publishedVersion}` : "an empty form"}?
        </Confirm>
      )}
      {confirmDiscardDraft && (
        <Confirm id="discard-draft-title" action="Discard draft" keep="Keep it" onConfirm={discardSavedDraft} onKeep={() => setConfirmDiscardDraft(false)}>
          Discard the saved draft{dirty ? " and your unsaved changes" : ""}?{" "}
          {publishedVersion != null
            ? `The document goes back to the published v${publishedVersion}.`
            : "It was never published, so the document is deleted."}
        </Confirm>
      )}
      <div aria-live="polite">
        {notice && <p className="state state-success">{notice}</p>}
      </div>
      {stale && (
        <div role="alert" className="state state-warn">
          <strong>Someone else changed this document</strong> since you loaded it (the ETag you sent is stale), so your
          draft was not saved.{" "}
          <button type="button" className="btn btn-small" onClick={reload}>
            Reload the latest (discards your changes)
          </button>
        </div>
      )}
      {error != null && <ErrorNotice error={error} />}
      {problems && <ProblemList problems={problems} />}
      {scope.type === "merchant" && !readOnly && server != null && (
        <ReleasePanels
          doc={{ merchantId: scope.merchantId, kind, name }}
          hasDraft={hasDraft}
          dirty={dirty}
          publishedVersion={publishedVersion}
          onPublished={released}
          onRollout={setRollout}
        />
      )}
      {kind === "order-flow" && scope.type === "platform" && readOnly && me.merchant_id && server?.published && (
        <CustomizeFlow merchantId={me.merchant_id} flow={server.published} />
      )}
      {kind === "order-flow" && formData !== null && typeof formData === "object" && (
        <FlowPanel
          flow={formData as FlowBody}
          onChange={change}
          onSelectStep={openStep}
          readOnly={readOnly !== null || busy !== null}
        />
      )}
      {sidePanel ? (
        <div className="split split-wide-left">
          {editor}
          <div className="sticky-col">{sidePanel}</div>
        </div>
      ) : (
        editor
      )}
    </>
  );
}

/** "Customize the platform flow": a merchant admin copies the platform's published flow into
 * the merchant's scope as its draft `default` (PUT .../order-flow/default/draft), to change
 * and publish there. When the merchant already has one, it is opened instead. */
function CustomizeFlow({ merchantId, flow }: { merchantId: string; flow: Record<string, unknown> }) {
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const target: Scope = { type: "merchant", merchantId };
  const path = `${scopePath(target)}/documents/order-flow/default`;
  async function copy() {
    setBusy(true);
    setError(undefined);
    try {
      const existing = await getDocument(target, "order-flow", "default").catch((e) => {
        if (e instanceof ApiProblem && e.status === 404) return null;
        throw e;
      });
      if (!existing) await saveDraft(target, "order-flow", "default", flow);
      navigate(path, { state: { customized: existing ? "exists" : "copied" } });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }
  return (
    <div className="state state-info customize-flow" data-testid="customize-flow">
      <p>
        Orders of <strong>{merchantId}</strong> run this platform flow unless it publishes its own.{" "}
        <button type="button" className="btn btn-primary btn-small" onClick={copy} disabled={busy}>
          {busy ? "Copying…" : `Customize for ${merchantId}`}
        </button>
      </p>
      <p className="muted">Copies it into {merchantId}'s documents as a draft to change and publish there.</p>
      {error != null && <ErrorNotice error={error} />}
    </div>
  );
}

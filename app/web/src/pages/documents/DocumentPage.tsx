// One document (.../documents/:kind/:name). Discount functions open the script editor; every
// other kind a form rendered from GET /v1/schemas/{kind} (or its raw JSON), loaded from the
// draft (or the published body), saved with If-Match and published. The API's 422 problems
// are shown at the fields their JSON pointers name and listed above the form.
import { useCallback, useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import type { RJSFSchema } from "@rjsf/utils";
import { ApiProblem } from "../../api/client";
import { checkDocument, getDocument, getSchema, publish, saveDraft, type Document } from "../../api/documents";
import { Breadcrumbs } from "../../components/Layout";
import { ErrorNotice, Loading } from "../../components/States";
import { formatTime } from "../../components/format";
import { useLoad } from "../../components/useLoad";
import { KINDS, scopeLabel, scopePath, useScope, type Scope } from "../../scope";
import { FunctionEditor } from "../functions/FunctionEditor";
import { CheckoutPreview } from "./CheckoutPreview";
import { RoutingEvaluatePanel } from "./RoutingEvaluatePanel";
import { SchemaForm, jsonEqual, usePrecompiledValidator } from "./SchemaForm";
import { fieldId, toErrorSchema, valueAt, type Violation } from "./pointers";

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
              {v.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

type Tab = "form" | "json";

function DocumentEditor({ scope, kind, name, doc, schema, reload }: {
  scope: Scope;
  kind: string;
  name: string;
  doc: Document | null;
  schema: RJSFSchema;
  reload: () => void;
}) {
  const initial = (doc?.draft ?? doc?.published ?? {}) as unknown;
  const [formData, setFormData] = useState<unknown>(initial);
  const [saved, setSaved] = useState<unknown>(doc?.draft ?? null);
  const [etag, setEtag] = useState<string | undefined>(doc?.etag);
  const [publishedVersion, setPublishedVersion] = useState(doc?.published_version ?? null);
  const [hasDraft, setHasDraft] = useState(doc?.draft != null);
  const [problems, setProblems] = useState<Problems | null>(null);
  const [error, setError] = useState<unknown>();
  const [stale, setStale] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<"save" | "check" | "publish" | null>(null);
  const [tab, setTab] = useState<Tab>("form");
  const [jsonText, setJsonText] = useState("");
  const [jsonError, setJsonError] = useState<string | null>(null);
  const validator = usePrecompiledValidator(kind, schema);
  const dirty = !jsonEqual(formData, saved ?? doc?.published ?? {}) || (!hasDraft && publishedVersion == null);

  const extraErrors = useMemo(() => (problems ? toErrorSchema(problems.violations) : undefined), [problems]);

  const change = useCallback(
    (next: unknown) => {
      setFormData(next);
      setNotice(null);
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
    try {
      const result = await saveDraft(scope, kind, name, formData, etag);
      setEtag(result.etag);
      setSaved(result.draft ?? formData);
      setHasDraft(true);
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
    setNotice(null);
    try {
      const result = await checkDocument(scope, kind, name, formData);
      if (result.publishable) {
        setNotice("No problems: publishing this would pass every check.");
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
    if (dirty && !(await save())) return;
    setBusy("publish");
    setError(undefined);
    setProblems(null);
    try {
      const result = await publish(scope, kind, name);
      setPublishedVersion(result.version);
      setHasDraft(false);
      const fresh = await getDocument(scope, kind, name);
      setEtag(fresh.etag);
      setSaved(null);
      setFormData(fresh.draft ?? fresh.published ?? formData);
      setNotice(`Published version ${result.version}.`);
    } catch (e) {
      showFailure(e, "publish");
    } finally {
      setBusy(null);
    }
  }

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
        Edit {name}
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
              schema={schema}
              validator={validator.validator}
              formData={formData}
              onChange={change}
              extraErrors={extraErrors}
              disabled={busy !== null}
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
              onChange={(e) => editJson(e.target.value)}
              aria-invalid={jsonError ? true : undefined}
              aria-describedby="json-editor-status"
            />
            <span id="json-editor-status" className={jsonError ? "error" : "hint"}>
              {jsonError ? `Not valid JSON: ${jsonError}` : "Valid JSON; changes apply to the form."}
            </span>
          </div>
        </div>
      )}
    </section>
  );

  return (
    <>
      <div className="page-header">
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
            {hasDraft ? <span className="badge info">draft saved</span> : null}{" "}
            {dirty ? <span className="badge warn">unsaved changes</span> : null}
          </p>
        </div>
        <div className="actions">
          <Link className="btn" to={`${base}/documents/${kind}/${encodeURIComponent(name)}/versions`}>
            Versions
          </Link>
          <button type="button" className="btn" onClick={save} disabled={busy !== null || jsonError !== null}>
            {busy === "save" ? "Saving…" : "Save draft"}
          </button>
          <button type="button" className="btn" onClick={check} disabled={busy !== null || jsonError !== null}>
            {busy === "check" ? "Checking…" : "Check"}
          </button>
          <button type="button" className="btn btn-primary" onClick={publishDraft} disabled={busy !== null || jsonError !== null}>
            {busy === "publish" ? "Publishing…" : "Publish"}
          </button>
        </div>
      </div>
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

export function DocumentPage() {
  const scope = useScope();
  const { kind = "", name = "" } = useParams();
  const [generation, setGeneration] = useState(0);
  const scopeKey = scope.type === "merchant" ? scope.merchantId : "platform";
  const known = KINDS.find((k) => k.kind === kind && (k.scopes as readonly string[]).includes(scope.type));
  const isFunction = kind === "discount-function";
  const loaded = useLoad(async () => {
    if (!known || isFunction) return null;
    const [schema, doc] = await Promise.all([
      getSchema(kind),
      getDocument(scope, kind, name).catch((e) => {
        if (e instanceof ApiProblem && e.status === 404) return null; // a new document
        throw e;
      }),
    ]);
    return { schema: schema as RJSFSchema, doc };
  }, [scopeKey, kind, name, generation]);

  const crumbs = (
    <Breadcrumbs
      items={[
        { label: scopeLabel(scope), to: scopePath(scope) },
        { label: known?.label ?? kind, to: scopePath(scope) },
        { label: name },
      ]}
    />
  );

  if (!known) {
    return (
      <>
        {crumbs}
        <p role="alert" className="state state-error">
          There are no <code>{kind}</code> documents in the {scopeLabel(scope)} scope.
        </p>
      </>
    );
  }
  if (isFunction) {
    return (
      <>
        {crumbs}
        <FunctionEditor scope={scope} name={name} />
      </>
    );
  }
  return (
    <>
      {crumbs}
      {loaded.loading && <Loading what={`${kind} ${name}`} />}
      {!loaded.loading && loaded.error != null && <ErrorNotice error={loaded.error} onRetry={loaded.reload} />}
      {!loaded.loading && loaded.data && (
        <>
          {loaded.data.doc === null && (
            <p className="state state-warn" role="status">
              <strong>New document.</strong> {name} does not exist yet: fill in the form and save a draft to create it.
            </p>
          )}
          <DocumentEditor
            key={`${scopeKey}/${kind}/${name}/${generation}`}
            scope={scope}
            kind={kind}
            name={name}
            doc={loaded.data.doc}
            schema={loaded.data.schema}
            reload={() => setGeneration((g) => g + 1)}
          />
        </>
      )}
    </>
  );
}

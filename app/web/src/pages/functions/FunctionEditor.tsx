// The discount function editor: the script on the left (CodeMirror, with error markers), its
// dry-run against an editable sample order on the right (re-run on every change, debounced),
// the embedded test cases below (pass/fail per case), and Save draft / Publish with the
// server's problems shown at the script line and in a list. Discard changes drops the unsaved
// edits; Discard draft deletes the saved draft on the server (DELETE .../draft), like the other
// document editors.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link } from "react-router";
import { api, ApiProblem, unwrap } from "../../api/client";
import { Empty, ErrorNotice, Loading } from "../../components/States";
import { useLoad } from "../../components/useLoad";
import { scopePath, type Scope } from "../../scope";
import { formatMoney } from "../../components/format";
import { useSaveShortcut, useUnsavedChangesPrompt } from "../../components/UnsavedChanges";
import { CodeEditor, type CodeEditorHandle, type Marker } from "./CodeEditor";
import {
  buildDocument,
  isObject,
  outcomeOf,
  parseObject,
  positionOf,
  pretty,
  rowFromTest,
  sampleOrder,
  TEMPLATE,
  testIndexOf,
  type FunctionDocument,
  type Outcome,
  type TestRow,
  type Violation,
} from "./model";
import { TestCasesTable, verdictOf } from "./TestCasesTable";
import { ReleasePanels, rolloutBlocksPublish } from "../release/ReleasePanels";
import type { Rollout } from "../../api/release";
import "./function-editor.css";

const KIND = "discount-function";
const DEBOUNCE_MS = 300;
const TEST_CONCURRENCY = 4;

export function FunctionEditor({ scope, name }: { scope: Scope; name: string }) {
  if (scope.type !== "merchant")
    return <Empty>Discount functions belong to a merchant; open one from a merchant's overview.</Empty>;
  return <MerchantFunctionEditor scope={scope} merchantId={scope.merchantId} name={name} />;
}

interface LoadedDocument {
  /** Changes on every load, so the editor starts afresh from what the server holds. */
  loadId: number;
  /** Null when the function does not exist yet (the first save creates it). */
  etag: string | null;
  publishedVersion: number | null;
  hasDraft: boolean;
  body: FunctionDocument;
  /** The published body, when there is one (Publish has nothing to do when the draft equals it). */
  published: FunctionDocument | null;
}

let loads = 0;

async function loadDocument(merchantId: string, name: string): Promise<LoadedDocument> {
  try {
    const doc = await unwrap(
      api.GET("/v1/merchants/{merchant_id}/metadata/{kind}/{name}", {
        params: { path: { merchant_id: merchantId, kind: KIND, name } },
      }),
    );
    const body = (doc.draft ?? doc.published ?? TEMPLATE) as unknown as FunctionDocument;
    return {
      loadId: ++loads,
      etag: doc.etag,
      publishedVersion: doc.published_version ?? null,
      hasDraft: !!doc.draft,
      body,
      published: (doc.published ?? null) as unknown as FunctionDocument | null,
    };
  } catch (e) {
    if (e instanceof ApiProblem && e.status === 404)
      return { loadId: ++loads, etag: null, publishedVersion: null, hasDraft: false, body: TEMPLATE, published: null };
    throw e;
  }
}

function MerchantFunctionEditor({ scope, merchantId, name }: { scope: Scope; merchantId: string; name: string }) {
  const [notice, setNotice] = useState<string | null>(null);
  const loaded = useLoad(() => loadDocument(merchantId, name), [merchantId, name]);
  if (!loaded.data) {
    if (loaded.error) return <ErrorNotice error={loaded.error} onRetry={loaded.reload} />;
    return <Loading what="the discount function" />;
  }
  if (loaded.error) return <ErrorNotice error={loaded.error} onRetry={loaded.reload} />;
  return (
    <Editor
      key={loaded.data.loadId}
      scope={scope}
      merchantId={merchantId}
      name={name}
      loaded={loaded.data}
      notice={notice}
      onNotice={setNotice}
      onReload={() => {
        setNotice(null);
        loaded.reload();
      }}
      onPublished={(version) => {
        setNotice(`Published version ${version}.`);
        loaded.reload();
      }}
      onReleased={(message) => {
        setNotice(message);
        loaded.reload();
      }}
      onDraftDiscarded={(publishedVersion) => {
        setNotice(
          publishedVersion !== null
            ? `Draft discarded: back to the published v${publishedVersion}.`
            : "Draft discarded: the function was never published, so it is gone.",
        );
        loaded.reload();
      }}
    />
  );
}

type Run =
  | { state: "idle" }
  | { state: "running"; previous?: Outcome }
  | { state: "done"; outcome: Outcome }
  | { state: "bad-input"; message: string };

interface EditorProps {
  scope: Scope;
  merchantId: string;
  name: string;
  loaded: LoadedDocument;
  notice: string | null;
  onNotice(notice: string | null): void;
  onReload(): void;
  onPublished(version: number): void;
  /** A rollout started, was promoted or aborted: `message` says what happened. */
  onReleased(message: string): void;
  /** The saved draft was deleted; `publishedVersion` is what the function is back to (null: gone). */
  onDraftDiscarded(publishedVersion: number | null): void;
}

function Editor({ scope, merchantId, name, loaded, notice, onNotice, onReload, onPublished, onReleased, onDraftDiscarded }: EditorProps) {
  const initial = loaded.body;
  const [description, setDescription] = useState(initial.description ?? "");
  const [script, setScript] = useState(initial.script ?? "");
  const [rows, setRows] = useState<TestRow[]>(() => (initial.tests ?? []).map(rowFromTest));
  const [sampleText, setSampleText] = useState(() =>
    pretty(sampleOrder(merchantId, isObject(initial.tests?.[0]?.input) ? initial.tests![0].input : undefined)),
  );
  // A function that does not exist yet starts from a template that is unsaved by definition.
  const [baseline, setBaseline] = useState(() =>
    loaded.etag === null
      ? ""
      : JSON.stringify(
          buildDocument(initial.description ?? "", initial.script ?? "", (initial.tests ?? []).map(rowFromTest)).doc,
        ),
  );
  const [hasDraft, setHasDraft] = useState(loaded.hasDraft);
  const etag = useRef(loaded.etag);
  const [busy, setBusy] = useState<"saving" | "publishing" | "discarding" | null>(null);
  const [problems, setProblems] = useState<{ title: string; list: Violation[] } | null>(null);
  const [publishMarkers, setPublishMarkers] = useState<Marker[]>([]);
  const [conflict, setConflict] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const editor = useRef<CodeEditorHandle>(null);

  const built = useMemo(() => buildDocument(description, script, rows), [description, script, rows]);
  const dirty = built.problems.length > 0 || JSON.stringify(built.doc) !== baseline;
  // The published body in the same normal form as `baseline`, to tell when a draft equals it.
  const publishedJson = useMemo(() => {
    const p = loaded.published;
    return p ? JSON.stringify(buildDocument(p.description ?? "", p.script ?? "", (p.tests ?? []).map(rowFromTest)).doc) : null;
  }, [loaded.published]);
  const pendingJson = dirty ? JSON.stringify(built.doc) : hasDraft ? baseline : null;
  const [rollout, setRollout] = useState<Rollout | null>(null);
  const publishBlocked =
    rolloutBlocksPublish(rollout) ??
    (pendingJson === null
      ? `Nothing to publish: there is no draft, and v${loaded.publishedVersion} is what is published.`
      : pendingJson === publishedJson
        ? `Nothing to publish: ${dirty ? "the editor" : "the draft"} equals the published v${loaded.publishedVersion}.`
        : null);
  // A new function's untouched template is not worth a prompt when leaving.
  const [template] = useState(() => JSON.stringify(built.doc));
  const edited = loaded.etag !== null ? dirty : JSON.stringify(built.doc) !== template;

  // ---- the dry-run: on every change, debounced; only the newest request counts ----
  const [run, setRun] = useState<Run>({ state: "idle" });
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    const input = parseObject(sampleText);
    if ("error" in input) {
      setRun({ state: "bad-input", message: input.error });
      return;
    }
    setRun((r) => ({ state: "running", previous: r.state === "done" ? r.outcome : r.state === "running" ? r.previous : undefined }));
    const timer = setTimeout(() => {
      outcomeOf(merchantId, script, input.value).then((outcome) => {
        if (mine === generation.current) setRun({ state: "done", outcome });
      });
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [merchantId, script, sampleText]);

  // ---- the test cases: each distinct input runs once per script version ----
  const [testCache, setTestCache] = useState<{ script: string; outcomes: Map<string, Outcome> }>({
    script,
    outcomes: new Map(),
  });
  const cacheRef = useRef(testCache);
  cacheRef.current = testCache;
  const inputsKey = JSON.stringify(rows.map((r) => r.inputText));
  useEffect(() => {
    const timer = setTimeout(() => {
      const cache = cacheRef.current.script === script ? cacheRef.current.outcomes : new Map<string, Outcome>();
      if (cacheRef.current.script !== script) setTestCache({ script, outcomes: cache });
      const todo = [...new Set(rows.map((r) => r.inputText))].filter((text) => {
        if (cache.has(text)) return false;
        return "value" in parseObject(text);
      });
      let next = 0;
      const worker = async () => {
        while (next < todo.length) {
          const text = todo[next++];
          const input = parseObject(text);
          if (!("value" in input)) continue;
          const outcome = await outcomeOf(merchantId, script, input.value);
          setTestCache((c) => (c.script === script ? { script, outcomes: new Map(c.outcomes).set(text, outcome) } : c));
          // A newer script makes the rest of this run moot.
          if (cacheRef.current.script !== script) return;
        }
      };
      for (let i = 0; i < TEST_CONCURRENCY; i++) void worker();
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [merchantId, script, inputsKey]);

  const verdicts = rows.map((row) =>
    verdictOf(row, testCache.script === script ? testCache.outcomes.get(row.inputText) : undefined),
  );

  // ---- markers: the dry-run's error, and positions named by publish problems ----
  const runMarkers = useMemo<Marker[]>(() => {
    if (run.state !== "done" || !("result" in run.outcome)) return [];
    const error = run.outcome.result.error;
    if (run.outcome.result.ok || !error || error.line == null) return [];
    return [{ line: error.line, column: error.column, message: `${error.kind}: ${error.message}` }];
  }, [run]);
  const markers = useMemo(() => [...runMarkers, ...publishMarkers], [runMarkers, publishMarkers]);

  const editScript = useCallback((value: string) => {
    setScript(value);
    setPublishMarkers([]); // they described the text as it was
  }, []);

  // ---- warn before leaving with unsaved changes (in the app and when closing the tab) ----
  const prompt = useUnsavedChangesPrompt(edited && busy === null, `The discount function ${name}`);

  // ---- saving and publishing ----
  const showProblems = (title: string, list: Violation[]) => {
    setProblems({ title, list });
    setPublishMarkers(
      list.flatMap((v): Marker[] => {
        const at = positionOf(v);
        if (!at) return [];
        const severity = v.pointer === "/script" ? "error" : "warning";
        return [{ line: at.line, column: at.column, message: v.message, severity }];
      }),
    );
  };

  const fail = (e: unknown, what: "save" | "publish") => {
    if (e instanceof ApiProblem && e.status === 412) setConflict(true);
    else if (e instanceof ApiProblem && e.status === 422)
      showProblems(
        what === "publish" ? "Publishing was rejected" : "The draft was not saved",
        e.violations.length > 0 ? e.violations : [{ pointer: "", message: e.message }],
      );
    else if (e instanceof ApiProblem && e.status === 409)
      showProblems(
        e.problem.type?.endsWith("/rollout-in-progress")
          ? "Not published: a rollout is in progress (promote or abort it first)"
          : "Nothing to publish",
        [{ pointer: "", message: e.message }],
      );
    else setFailure(e);
  };

  const save = async (): Promise<boolean> => {
    onNotice(null);
    setFailure(null);
    if (built.problems.length > 0) {
      showProblems("Fix these before saving", built.problems);
      return false;
    }
    setBusy("saving");
    try {
      const saved = await unwrap(
        api.PUT("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/draft", {
          params: {
            path: { merchant_id: merchantId, kind: KIND, name },
            header: etag.current ? { "If-Match": etag.current } : undefined,
          },
          body: { ...built.doc },
        }),
      );
      etag.current = saved.etag;
      setBaseline(JSON.stringify(built.doc));
      setHasDraft(true);
      setProblems(null);
      setPublishMarkers([]);
      return true;
    } catch (e) {
      fail(e, "save");
      return false;
    } finally {
      setBusy(null);
    }
  };

  const saveDraft = async () => {
    if (await save()) onNotice("Draft saved. Publish it to use it for new orders.");
  };

  const publish = async () => {
    if (publishBlocked) return;
    if (dirty || !hasDraft) {
      if (!(await save())) return;
    }
    onNotice(null);
    setFailure(null);
    setBusy("publishing");
    try {
      const published = await unwrap(
        api.POST("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/publish", {
          params: {
            path: { merchant_id: merchantId, kind: KIND, name },
            header: etag.current ? { "If-Match": etag.current } : undefined,
          },
        }),
      );
      setProblems(null);
      onPublished(published.version);
    } catch (e) {
      fail(e, "publish");
    } finally {
      setBusy(null);
    }
  };

  /** Deletes the saved draft on the server (and drops any unsaved edits with it); the editor
   * then reloads what is left: the published version, or nothing (a new function). */
  const discardDraft = async () => {
    setConfirmDiscardDraft(false);
    onNotice(null);
    setFailure(null);
    setBusy("discarding");
    try {
      await unwrap(
        api.DELETE("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/draft", {
          params: {
            path: { merchant_id: merchantId, kind: KIND, name },
            header: etag.current ? { "If-Match": etag.current } : {},
          },
        }),
      );
      setBusy(null);
      onDraftDiscarded(loaded.publishedVersion);
    } catch (e) {
      setBusy(null);
      if (e instanceof ApiProblem && e.status === 412) setConflict(true);
      else setFailure(e);
    }
  };

  // Ctrl/Cmd+S saves, wherever the focus is.
  useSaveShortcut(() => void saveDraft(), !busy);
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const [confirmDiscardDraft, setConfirmDiscardDraft] = useState(false);

  // Problems the server tied to a test case show in that row too.
  const rowProblems = new Map<number, string[]>();
  for (const v of problems?.list ?? []) {
    const i = testIndexOf(v.pointer);
    if (i !== null) rowProblems.set(i, [...(rowProblems.get(i) ?? []), numberedFromOne(v.message, i)]);
  }

  const sample = parseObject(sampleText);
  const sampleAmount = "value" in sample && typeof sample.value.amount_minor === "number" ? sample.value.amount_minor : null;
  const currency = "value" in sample && typeof sample.value.currency === "string" ? sample.value.currency : "CNY";
  // What is typed in the amount field while it has focus (it may be empty or half-typed).
  const [amountText, setAmountText] = useState<string | null>(null);
  const setSampleAmount = (text: string) => {
    setAmountText(text);
    if (!("value" in sample) || !/^\d+$/.test(text.trim())) return;
    setSampleText(pretty({ ...sample.value, amount_minor: Number(text) }));
  };

  const versionsPath = `${scopePath(scope)}/documents/${KIND}/${encodeURIComponent(name)}/versions`;

  return (
    <div className="fn-editor">
      {prompt}
      <div className="page-header editor-bar">
        <div>
          <h1>
            {name} <span className="badge">discount function</span>
          </h1>
          <p className="subtitle">
            {loaded.publishedVersion !== null ? (
              <span className="badge ok">v{loaded.publishedVersion} published</span>
            ) : (
              <span className="badge warn">never published</span>
            )}{" "}
            {dirty ? (
              <span className="badge warn">unsaved changes</span>
            ) : hasDraft ? (
              <span className="badge info">draft saved</span>
            ) : null}
          </p>
        </div>
        <div className="actions">
          <Link to={versionsPath} className="btn">
            Versions
          </Link>
          <button type="button" className="btn" onClick={() => setConfirmDiscard(true)} disabled={!!busy || !edited}>
            Discard changes
          </button>
          {hasDraft && (
            <button type="button" className="btn" onClick={() => setConfirmDiscardDraft(true)} disabled={!!busy}>
              {busy === "discarding" ? "Discarding…" : "Discard draft"}
            </button>
          )}
          <button type="button" className="btn" onClick={saveDraft} disabled={!!busy || !dirty} aria-keyshortcuts="Control+S Meta+S">
            {busy === "saving" ? "Saving…" : "Save draft"}
          </button>
          <button
            type="button"
            className="btn btn-primary"
            onClick={publish}
            disabled={!!busy || publishBlocked !== null}
            aria-describedby={publishBlocked ? "publish-reason" : undefined}
          >
            {busy === "publishing" ? "Publishing…" : "Publish"}
          </button>
        </div>
        {publishBlocked && (
          <p className="publish-reason" id="publish-reason" data-testid="publish-reason">
            {publishBlocked}
          </p>
        )}
      </div>
      {confirmDiscard && (
        <div className="confirm" role="alertdialog" aria-labelledby="discard-title">
          <p id="discard-title">
            Discard your unsaved changes and go back to {hasDraft ? "the saved draft" : loaded.publishedVersion !== null ? `v${loaded.publishedVersion}` : "the template"}?
          </p>
          <div className="toolbar">
            <button
              type="button"
              className="btn btn-danger"
              onClick={() => {
                setConfirmDiscard(false);
                onReload();
              }}
            >
              Discard changes
            </button>
            <button type="button" className="btn" onClick={() => setConfirmDiscard(false)}>
              Keep them
            </button>
          </div>
        </div>
      )}

      {confirmDiscardDraft && (
        <div className="confirm" role="alertdialog" aria-labelledby="discard-draft-title">
          <p id="discard-draft-title">
            Discard the saved draft{dirty ? " and your unsaved changes" : ""}?{" "}
            {loaded.publishedVersion !== null
              ? `The function goes back to the published v${loaded.publishedVersion}.`
              : "It was never published, so the function is deleted."}
          </p>
          <div className="toolbar">
            <button type="button" className="btn btn-danger" onClick={discardDraft}>
              Discard draft
            </button>
            <button type="button" className="btn" onClick={() => setConfirmDiscardDraft(false)}>
              Keep it
            </button>
          </div>
        </div>
      )}

      {notice && (
        <p className="state state-success" role="status">
          {notice}
        </p>
      )}
      {conflict && (
        <div role="alert" className="state state-warn fn-alert">
          <strong>Someone else changed this function since you opened it.</strong>{" "}
          Reload to continue from their version (your unsaved edits here are discarded).
          <div className="toolbar">
            <button type="button" className="btn btn-primary" onClick={onReload}>
              Reload
            </button>
            <button type="button" className="btn" onClick={() => setConflict(false)}>
              Keep editing
            </button>
          </div>
        </div>
      )}
      {failure !== null && <ErrorNotice error={failure} />}
      {problems && (
        <div role="alert" className="state state-error problems fn-alert">
          <strong>{problems.title}</strong>
          <ul>
            {problems.list.map((v, i) => {
              const at = positionOf(v);
              const test = testIndexOf(v.pointer);
              return (
                <li key={i}>
                  {test !== null && numberedFromOne(v.message, test) !== v.message ? (
                    numberedFromOne(v.message, test)
                  ) : (
                    <>
                      {test !== null ? <strong>Test case {test + 1}:</strong> : v.pointer && <code>{v.pointer}</code>}{" "}
                      {v.message}
                    </>
                  )}
                  {at && (
                    <>
                      {" "}
                      <button type="button" className="btn fn-link" onClick={() => editor.current?.goTo(at.line, at.column)}>
                        Go to line {at.line}
                      </button>
                    </>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      )}

      <ReleasePanels
        doc={{ merchantId, kind: KIND, name }}
        hasDraft={hasDraft}
        dirty={dirty}
        publishedVersion={loaded.publishedVersion}
        onPublished={(message) => onReleased(message)}
        onRollout={setRollout}
      />

      <label className="fn-field">
        <span>Description</span>
        <textarea
          rows={2}
          value={description}
          maxLength={500}
          required
          onChange={(e) => setDescription(e.target.value)}
        />
      </label>

      <div className="fn-split">
        <section className="fn-pane card" aria-labelledby="fn-script-title">
          <div className="fn-section-head">
            <h2 id="fn-script-title">Script</h2>
            <span className="fn-hint" id="fn-script-help">
              rhai · sees <code>order</code> · returns the final amount or <code>#{"{"} amount_minor, label {"}"}</code>
            </span>
          </div>
          <CodeEditor
            ref={editor}
            value={script}
            onChange={editScript}
            markers={markers}
            labelledBy="fn-script-title"
            describedBy="fn-script-help"
          />
        </section>

        <section className="fn-pane card" aria-labelledby="fn-result-title">
          <div className="fn-section-head">
            <h2 id="fn-result-title">Dry run</h2>
            <span className="fn-hint">runs as you type</span>
          </div>
          <div className="fn-sample">
            <label className="fn-field fn-amount">
              <span>Order amount (minor units)</span>
              <input
                type="number"
                min={0}
                step={1}
                inputMode="numeric"
                value={amountText ?? sampleAmount ?? ""}
                disabled={!("value" in sample)}
                onChange={(e) => setSampleAmount(e.target.value)}
                onBlur={() => setAmountText(null)}
              />
            </label>
            <details className="fn-sample-json">
              <summary>Sample order (JSON)</summary>
              <label className="fn-field">
                <span className="fn-sr">Sample order (JSON)</span>
                <textarea
                  className="fn-json"
                  rows={10}
                  spellCheck={false}
                  value={sampleText}
                  onChange={(e) => setSampleText(e.target.value)}
                />
              </label>
            </details>
          </div>
          <RunResult run={run} currency={currency} amount={sampleAmount} onGoTo={(l, c) => editor.current?.goTo(l, c)} />
        </section>
      </div>

      <TestCasesTable
        rows={rows}
        verdicts={verdicts}
        rowProblems={rowProblems}
        onChange={setRows}
        onUseAsSample={(row) => setSampleText(row.inputText)}
      />
    </div>
  );
}

function RunResult({
  run,
  currency,
  amount,
  onGoTo,
}: {
  run: Run;
  currency: string;
  amount: number | null;
  onGoTo(line: number, column?: number | null): void;
}) {
  if (run.state === "idle") return null;
  if (run.state === "bad-input")
    return (
      <div className="fn-result fn-result-error" role="status" aria-live="polite">
        <p>
          <strong>The sample order is not valid JSON:</strong> {run.message}
        </p>
      </div>
    );
  const outcome = run.state === "done" ? run.outcome : run.previous;
  const running = run.state === "running";
  return (
    <div className={`fn-result${running ? " fn-result-stale" : ""}`} aria-live="polite" aria-busy={running} data-testid="dry-run-result">
      {running && !outcome && <p className="fn-hint">Running…</p>}
      {outcome && "problem" in outcome && (
        <div className="fn-result-error">
          <p>
            <strong>The server did not run the script:</strong> {outcome.problem}
          </p>
        </div>
      )}
      {outcome && "result" in outcome && outcome.result.ok && outcome.result.output && (
        <div className="fn-result-ok">
          <p className="fn-final">
            <span className="fn-final-label">Final amount</span>
            <output className="fn-final-value" aria-label="Final amount">
              {outcome.result.output.amount_minor}
            </output>
            <span className="fn-final-money">
              {formatMoney(outcome.result.output.amount_minor, currency)}
              {amount !== null && amount > 0 && (
                <>
                  {" "}
                  of {formatMoney(amount, currency)} ({Math.round((1 - outcome.result.output.amount_minor / amount) * 1000) / 10}% off)
                </>
              )}
            </span>
          </p>
          <dl className="fn-facts">
            <dt>Label</dt>
            <dd>{outcome.result.output.label ?? <em>none</em>}</dd>
          </dl>
        </div>
      )}
      {outcome && "result" in outcome && !outcome.result.ok && outcome.result.error && (
        <div className="fn-result-error" role="group" aria-label="Script error">
          <p className="fn-error-kind">
            <span className="badge fail">{outcome.result.error.kind}</span>
          </p>
          <p className="fn-error-message">{outcome.result.error.message}</p>
          {outcome.result.error.line != null && (
            <p>
              <button type="button" className="btn fn-link" onClick={() => onGoTo(outcome.result.error!.line!, outcome.result.error!.column)}>
                Line {outcome.result.error.line}
                {outcome.result.error.column != null && `, column ${outcome.result.error.column}`}
              </button>
            </p>
          )}
        </div>
      )}
      {outcome && "result" in outcome && (
        <>
          <dl className="fn-facts">
            <dt>Operations</dt>
            <dd>{outcome.result.operations.toLocaleString()}</dd>
            <dt>Duration</dt>
            <dd>{outcome.result.duration_us.toLocaleString()} µs</dd>
          </dl>
          <h3 className="fn-subhead">Logs</h3>
          {outcome.result.logs.length === 0 ? (
            <p className="fn-hint">Nothing printed. Use <code>print(…)</code> to log.</p>
          ) : (
            <pre className="fn-logs">{outcome.result.logs.join("\n")}</pre>
          )}
        </>
      )}
    </div>
  );
}

/** The server counts test cases from 1 in its messages ("test 1 failed: …"), as the console's
 * table does; a message about the test case at `index` reads "Test case index+1". */
function numberedFromOne(message: string, index: number): string {
  const m = /^test (\d+)\b/i.exec(message);
  return m && Number(m[1]) === index + 1 ? `Test case ${index + 1}${message.slice(m[0].length)}` : message;
}

// The staged rollout of a merchant's document: start one with a percentage (it publishes the
// saved draft to that share of new orders), ramp it, promote it to every order or abort it;
// its state and percent, and the outcomes of both versions (OutcomeComparison).
import { useEffect, useState, type FormEvent } from "react";
import {
  abortRollout,
  getRollout,
  promoteRollout,
  rampRollout,
  startRollout,
  type DocRef,
  type Rollout,
  type RolloutStarted,
} from "../../api/release";
import type { Violation } from "../../api/client";
import { ErrorNotice, Loading } from "../../components/States";
import { formatTime } from "../../components/format";
import { useLoad } from "../../components/useLoad";
import { loadCurrency } from "../documents/pickers";
import { OutcomeComparison } from "./OutcomeComparison";

type Action = "start" | "ramp" | "promote" | "abort" | "refresh";

const STATE_BADGE: Record<Rollout["state"], string> = { active: "info", promoted: "ok", aborted: "warn" };

export function RolloutControl({ doc, hasDraft, dirty, publishedVersion, onPublished, onRollout }: {
  doc: DocRef;
  hasDraft: boolean;
  dirty: boolean;
  publishedVersion: number | null;
  /** The document's published versions changed (start, promote, abort): reload it. */
  onPublished: (message: string, warnings: Violation[]) => void;
  /** The rollout shown changed (null: none), so the editor can say why Publish waits. */
  onRollout?: (rollout: Rollout | null) => void;
}) {
  const loaded = useLoad(async () => {
    const [newest, { currency }] = await Promise.all([getRollout(doc), loadCurrency(doc.merchantId)]);
    return { newest, currency };
  }, [doc.merchantId, doc.kind, doc.name]);
  const [rollout, setRollout] = useState<Rollout | null | undefined>(undefined);
  const [percentText, setPercentText] = useState("10");
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState<unknown>();
  const current = rollout !== undefined ? rollout : loaded.data?.newest;
  const currency = loaded.data?.currency ?? "CNY";
  useEffect(() => {
    if (current !== undefined) onRollout?.(current);
  }, [current, onRollout]);
  const active = current?.state === "active";
  const percent = Number(percentText);
  const percentValid = /^\d+$/.test(percentText.trim()) && percent >= 1 && percent <= 99;

  /** Runs one action; a start answers the rollout with its publish warnings. */
  async function run(action: Action, call: () => Promise<Rollout | RolloutStarted | null>, message?: (r: Rollout) => string) {
    setBusy(action);
    setError(undefined);
    try {
      const result = await call();
      const next = result && "rollout" in result ? result.rollout : result;
      setRollout(next);
      if (next && message) onPublished(message(next), result && "warnings" in result ? result.warnings : []);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!percentValid) return;
    if (active) void run("ramp", () => rampRollout(doc, percent));
    else
      void run(
        "start",
        () => startRollout(doc, percent),
        (r) => `Rollout started: v${r.candidate_version} goes to ${r.percent}% of new orders.`,
      );
  }

  const startBlocked = active
    ? null
    : publishedVersion == null
      ? "A rollout needs a published version for the other orders: publish the first version instead."
      : !hasDraft
        ? "Save a draft first: a rollout publishes the saved draft to a share of new orders."
        : dirty
          ? "Your unsaved changes are not in the draft: save it first."
          : null;

  return (
    <section className="card release-card" aria-labelledby="rollout-heading" data-testid="rollout-panel">
      <div className="card-header">
        <h2 id="rollout-heading">Rollout</h2>
        {current && (
          <span className={`badge ${STATE_BADGE[current.state]}`} data-testid="rollout-state">
            {current.state} · {current.percent}%
          </span>
        )}
        <div className="actions">
          {current && (
            <button type="button" className="btn btn-small" onClick={() => void run("refresh", () => getRollout(doc))} disabled={busy !== null}>
              {busy === "refresh" ? "Refreshing…" : "Refresh outcomes"}
            </button>
          )}
        </div>
      </div>
      {loaded.loading && rollout === undefined && <Loading what="the rollout" />}
      {loaded.error != null && <ErrorNotice error={loaded.error} onRetry={loaded.reload} />}
      {current && (
        <p className="hint" data-testid="rollout-summary">
          {active
            ? `v${current.candidate_version} goes to ${current.percent}% of new orders; the others keep v${current.stable_version}.`
            : current.state === "promoted"
              ? `v${current.candidate_version} was promoted to every order on ${formatTime(current.ended_at)}.`
              : `Aborted on ${formatTime(current.ended_at)}: every new order gets v${current.stable_version} again.`}{" "}
          <span className="muted">Started {formatTime(current.started_at)} by {current.started_by}.</span>
        </p>
      )}
      {!loaded.loading && current === null && <p className="hint muted">This document was never rolled out.</p>}
      <form onSubmit={submit} className="field-row" noValidate>
        <div className="field">
          <label htmlFor="rollout-percent">{active ? "New share of orders (%)" : "Share of new orders (%)"}</label>
          <input
            id="rollout-percent"
            type="number"
            inputMode="numeric"
            min={1}
            max={99}
            step={1}
            value={percentText}
            onChange={(e) => setPercentText(e.target.value)}
            aria-invalid={!percentValid || undefined}
            aria-describedby="rollout-percent-hint"
            style={{ width: "6em" }}
          />
        </div>
        <div className="field">
          <button type="submit" className="btn btn-primary" disabled={busy !== null || !percentValid || startBlocked !== null}>
            {active ? (busy === "ramp" ? "Ramping…" : "Ramp") : busy === "start" ? "Starting…" : "Start rollout"}
          </button>
        </div>
        {active && (
          <div className="field">
            <div className="toolbar">
              <button
                type="button"
                className="btn"
                disabled={busy !== null}
                onClick={() => void run("promote", () => promoteRollout(doc), (r) => `Promoted: v${r.candidate_version} goes to every new order.`)}
              >
                {busy === "promote" ? "Promoting…" : "Promote to 100%"}
              </button>
              <button
                type="button"
                className="btn btn-danger"
                disabled={busy !== null}
                onClick={() => void run("abort", () => abortRollout(doc), (r) => `Rollout aborted: every new order gets v${r.stable_version} again.`)}
              >
                {busy === "abort" ? "Aborting…" : "Abort"}
              </button>
            </div>
          </div>
        )}
      </form>
      <p id="rollout-percent-hint" className={percentValid ? "hint muted" : "error fail"}>
        {!percentValid ? "A whole number from 1 to 99 (promote for 100, abort for 0)." : (startBlocked ?? (active ? "Orders keep the version they started with; ramping only moves new orders." : "Publishes the saved draft to this share of new orders; publish is refused until the rollout is promoted or aborted."))}
      </p>
      {error != null && <ErrorNotice error={error} />}
      {current && <OutcomeComparison rollout={current} currency={currency} />}
    </section>
  );
}

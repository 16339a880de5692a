// The fields of a webhook endpoint, for creating one and for editing it: the URL, a
// description, the event types it receives (checkboxes, from the API's list of event types)
// and whether it is enabled. Problems are shown at the field they name, in plain words.
import { useId, type FormEvent, type ReactNode } from "react";
import { EVENT_TYPES } from "../../api/event-types";
import { eventTypeLabel } from "../../components/format";
import { problemsOf, type Field, type FieldProblems } from "./problems";

export interface EndpointDraft {
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
}

export const EMPTY_DRAFT: EndpointDraft = { url: "", description: "", eventTypes: [], enabled: true };

/** What the console checks before asking the API (the API checks again, and more). */
export function localProblems(draft: EndpointDraft): FieldProblems {
  const byField: FieldProblems["byField"] = {};
  if (!draft.url.trim()) byField.url = ["Enter the URL your receiver listens on, e.g. https://kitchen.example.com/orderflow."];
  if (draft.eventTypes.length === 0) byField.event_types = ["Choose at least one event type."];
  return { byField, other: [] };
}

export function EndpointForm({
  draft,
  onChange,
  problems,
  busy,
  submitLabel,
  busyLabel,
  onSubmit,
  submitDisabled = false,
  children,
}: {
  draft: EndpointDraft;
  onChange(next: EndpointDraft): void;
  problems: FieldProblems;
  busy: boolean;
  submitLabel: string;
  busyLabel: string;
  onSubmit(): void;
  /** E.g. nothing changed: nothing to save. */
  submitDisabled?: boolean;
  /** More buttons next to the submit button. */
  children?: ReactNode;
}) {
  const id = useId();
  const errorsOf = (field: Field) => problems.byField[field] ?? [];
  const set = (patch: Partial<EndpointDraft>) => onChange({ ...draft, ...patch });
  // Known types in the API's order, then any the endpoint has that this console does not know.
  const types = [...EVENT_TYPES, ...draft.eventTypes.filter((t) => !EVENT_TYPES.includes(t))];
  const toggle = (type: string, on: boolean) =>
    set({ eventTypes: on ? types.filter((t) => t === type || draft.eventTypes.includes(t)) : draft.eventTypes.filter((t) => t !== type) });

  function submit(event: FormEvent) {
    event.preventDefault();
    onSubmit();
  }

  const fieldError = (field: Field) => {
    const errors = errorsOf(field);
    return (
      <span className="error" id={`${id}-${field}-error`} data-testid={`${field}-error`}>
        {errors.map((e, i) => (
          <span key={i} className="wh-field-error">
            {e}
          </span>
        ))}
      </span>
    );
  };

  return (
    <form className="wh-form" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={`${id}-url`}>Endpoint URL</label>
        <input
          id={`${id}-url`}
          type="url"
          inputMode="url"
          value={draft.url}
          onChange={(e) => set({ url: e.target.value })}
          placeholder="https://kitchen.example.com/orderflow"
          spellCheck={false}
          autoComplete="off"
          aria-invalid={errorsOf("url").length > 0 || undefined}
          aria-describedby={`${id}-url-hint ${id}-url-error`}
        />
        <span className="hint" id={`${id}-url-hint`}>
          Where orderflow POSTs the events, signed. A public http(s) address.
        </span>
        {fieldError("url")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-description`}>Description (optional)</label>
        <input
          id={`${id}-description`}
          value={draft.description}
          maxLength={256}
          onChange={(e) => set({ description: e.target.value })}
          placeholder="e.g. Kitchen display"
          aria-invalid={errorsOf("description").length > 0 || undefined}
          aria-describedby={`${id}-description-error`}
        />
        {fieldError("description")}
      </div>
      <fieldset className={`field wh-types${errorsOf("event_types").length > 0 ? " wh-invalid" : ""}`} aria-describedby={`${id}-event_types-error`}>
        <legend>Event types</legend>
        <div className="wh-type-actions">
          <button type="button" className="btn-link" onClick={() => set({ eventTypes: [...types] })}>
            Select all
          </button>
          <button type="button" className="btn-link" onClick={() => set({ eventTypes: [] })}>
            Select none
          </button>
        </div>
        <ul className="wh-type-list">
          {types.map((type) => (
            <li key={type}>
              <label>
                <input type="checkbox" checked={draft.eventTypes.includes(type)} onChange={(e) => toggle(type, e.target.checked)} />
                <span>
                  {eventTypeLabel(type)} <code>{type}</code>
                </span>
              </label>
            </li>
          ))}
        </ul>
        {fieldError("event_types")}
      </fieldset>
      <div className="field wh-enabled">
        <label>
          <input type="checkbox" checked={draft.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
          <span>Enabled</span>
        </label>
        <span className="hint">A disabled endpoint keeps its settings but receives nothing.</span>
        {fieldError("enabled")}
      </div>
      <div className="toolbar">
        <button type="submit" className="btn btn-primary" disabled={busy || submitDisabled}>
          {busy ? busyLabel : submitLabel}
        </button>
        {children}
      </div>
    </form>
  );
}

/** The violations no field shows, and the summary of those that are. */
export function ProblemSummary({ title, problems }: { title: string; problems: FieldProblems }) {
  const atFields = Object.values(problems.byField).reduce((n, list) => n + (list?.length ?? 0), 0);
  if (atFields === 0 && problems.other.length === 0) return null;
  return (
    <div role="alert" className="state state-error">
      <strong>{title}</strong>
      {atFields > 0 && <span> — {atFields === 1 ? "see the field marked below." : `see the ${atFields} problems marked below.`}</span>}
      {problems.other.length > 0 && (
        <ul>
          {problems.other.map((v, i) => (
            <li key={i}>
              {v.pointer && <code>{v.pointer}</code>} {v.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The API's answer to a draft it was sent: its problems, until the field they name changes. */
export interface Rejection {
  error: unknown;
  sent: EndpointDraft;
}

const valueOf = (draft: EndpointDraft, field: Field) =>
  field === "url"
    ? draft.url.trim()
    : field === "description"
      ? draft.description.trim()
      : field === "enabled"
        ? String(draft.enabled)
        : JSON.stringify([...draft.eventTypes].sort());

/** What the form shows: the API's problems at fields not changed since, else (after a first
 * submit) the console's own checks. */
export function visibleProblems(draft: EndpointDraft, rejection: Rejection | null, submitted: boolean): FieldProblems {
  const local = submitted ? localProblems(draft).byField : {};
  if (!rejection) return { byField: local, other: [] };
  const fromApi = problemsOf(rejection.error);
  const byField: FieldProblems["byField"] = { ...local };
  for (const [field, list] of Object.entries(fromApi.byField) as [Field, string[]][])
    if (valueOf(draft, field) === valueOf(rejection.sent, field)) byField[field] = list;
  return { byField, other: fromApi.other };
}

/** An error that is not about the form's fields (a 409, a 403, the network…). */
export function isFormProblem(error: unknown): boolean {
  const p = problemsOf(error);
  return Object.keys(p.byField).length > 0 || p.other.length > 0;
}

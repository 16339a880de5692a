// The API's problems about a webhook endpoint, in plain words, at the field they name.
// A 422's violations carry a JSON pointer (`/url`, `/event_types/2`, `/description`); each
// field shows the ones under its pointer, and what no field claims is listed above the form.
import { ApiProblem, type Violation } from "../../api/client";
import { EVENT_TYPES } from "../../api/event-types";

export type Field = "url" | "event_types" | "description" | "enabled";
const FIELDS: Field[] = ["url", "event_types", "description", "enabled"];

/** The form field a pointer names, or null. `/event_types/3` is the event types field. */
export function fieldOf(pointer: string): Field | null {
  const top = pointer.split("/")[1] ?? "";
  return (FIELDS as string[]).includes(top) ? (top as Field) : null;
}

/** The server's message about a field, said the way a merchant reads it. */
export function plainMessage(field: Field | null, message: string): string {
  const m = message.trim();
  if (field === "url") {
    if (/loopback, private or link-local/i.test(m))
      return "This address is on a private network (this machine, a local network or a link-local address). orderflow only delivers to public addresses, so events cannot reach internal systems. Use your receiver's public URL.";
    if (/does not resolve/i.test(m)) return "The host name could not be found. Check it for typos; it must resolve in public DNS.";
    if (/http or https/i.test(m)) return "The URL must start with https:// (or http://).";
    if (/not a URL/i.test(m)) return "This is not a URL. Enter a full address, e.g. https://kitchen.example.com/orderflow.";
    if (/name a host/i.test(m)) return "The URL needs a host name, e.g. https://kitchen.example.com/orderflow.";
    if (/credentials/i.test(m))
      return "Take the user name and password out of the URL. Every delivery is signed instead: your receiver checks the signature with the signing secret.";
    if (/at most (\d+) characters/i.test(m)) return `The URL is too long: ${m}.`;
  }
  if (field === "event_types") {
    const unknown = /^'([^']*)' is not an event type/.exec(m);
    if (unknown) return `"${unknown[1]}" is not an event type this server knows.`;
    if (/at least one|min/i.test(m)) return "Choose at least one event type.";
  }
  if (field === "description" && /at most (\d+) characters/i.test(m)) return `The description is too long: ${m}.`;
  return m ? m[0].toUpperCase() + m.slice(1) : m;
}

export interface FieldProblems {
  byField: Partial<Record<Field, string[]>>;
  /** Problems no field of the form shows. */
  other: Violation[];
}

/** Splits an error's violations by the field they name (none for a non-422 error). */
export function problemsOf(error: unknown): FieldProblems {
  const result: FieldProblems = { byField: {}, other: [] };
  if (!(error instanceof ApiProblem) || error.status !== 422) return result;
  for (const v of error.violations) {
    const field = fieldOf(v.pointer);
    if (field) (result.byField[field] ??= []).push(plainMessage(field, v.message));
    else result.other.push(v);
  }
  return result;
}

/** Event types in the API's order (an order's life: created, awaiting payment, paid, …), any
 * this console does not know last. */
export function inLifecycleOrder(types: readonly string[]): string[] {
  const rank = (t: string) => (EVENT_TYPES.includes(t) ? EVENT_TYPES.indexOf(t) : EVENT_TYPES.length);
  return [...types].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

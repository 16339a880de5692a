// JSON pointers (RFC 6901), as the API's 422 problems name fields, mapped onto the form:
// rjsf's ErrorSchema (nested by property / index, messages under __errors) and its field ids.
import type { ErrorSchema } from "@rjsf/utils";

export interface Violation {
  pointer: string;
  message: string;
}

export function parsePointer(pointer: string): string[] {
  if (pointer === "" || pointer === "/") return [];
  return pointer
    .replace(/^\//, "")
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The value a pointer names, or undefined. */
export function valueAt(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const segment of parsePointer(pointer)) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** The violations as an rjsf ErrorSchema (for `extraErrors`). */
export function toErrorSchema(violations: Violation[]): ErrorSchema {
  const root: Record<string, unknown> = {};
  for (const { pointer, message } of violations) {
    let node = root;
    for (const segment of parsePointer(pointer)) {
      node[segment] ??= {};
      node = node[segment] as Record<string, unknown>;
    }
    const errors = (node.__errors ??= []) as string[];
    if (!errors.includes(message)) errors.push(message);
  }
  return root as ErrorSchema;
}

/** The id rjsf gives the field a pointer names (idPrefix "root", separator "_"). */
export function fieldId(pointer: string): string {
  return ["root", ...parsePointer(pointer)].join("_");
}

/** Removes a prefix such as `/routing_table` from pointers into a request that wrapped the document. */
export function stripPrefix(violations: Violation[], prefix: string): Violation[] {
  return violations.map((v) => ({
    ...v,
    pointer: v.pointer === prefix ? "" : v.pointer.startsWith(`${prefix}/`) ? v.pointer.slice(prefix.length) : v.pointer,
  }));
}

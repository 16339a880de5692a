// The form's own validation errors, made fit to show: the precompiled Ajv validator reports
// every branch of a `oneOf` it tried (a wrong value in one field of an order-flow step comes
// back as dozens of errors about other kinds of step), in validator wording
// ("must match exactly one schema in oneOf"). This keeps the errors of the branch the data is
// (the one the form shows), puts each at the field it is about, says it in plain words with
// the field's label, and drops duplicates.
import type { ErrorSchema, RJSFSchema, RJSFValidationError } from "@rjsf/utils";

type Schema = Record<string, unknown> & {
  $ref?: string;
  title?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  const?: unknown;
  type?: string | string[];
};

/** One error at the field its path names (property names and array indices). */
export interface FieldError {
  path: string[];
  message: string;
}

function lookup(root: Schema, ref: string): Schema | undefined {
  const hash = ref.indexOf("#");
  const pointer = hash >= 0 ? ref.slice(hash + 1) : "";
  let node: unknown = root;
  for (const raw of pointer.split("/").filter(Boolean)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node as Schema | undefined;
}

interface Resolved {
  schema: Schema;
  /** The description of the definition a `$ref` pointed at (e.g. what an identifier is). */
  refDescription?: string;
}

/** Follows `$ref`s; the referring schema's own keywords (title, description) win. */
function resolve(root: Schema, schema: Schema | undefined): Resolved {
  let current: Schema = schema ?? {};
  let refDescription: string | undefined;
  for (let hops = 0; current.$ref && hops < 20; hops++) {
    const { $ref, ...own } = current;
    const target = lookup(root, $ref) ?? {};
    refDescription ??= target.description;
    current = { ...target, ...own };
  }
  return { schema: current, refDescription };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The branch of a oneOf the data is: its constants match (a step's `type`), then the
 * branch that knows the most of its fields; on a tie the first, as the form shows it. */
export function chooseBranch(root: Schema, branches: Schema[], data: unknown): Schema {
  let best = resolve(root, branches[0]).schema;
  let bestScore = -Infinity;
  for (const branch of branches) {
    const s = resolve(root, branch).schema;
    let score = 0;
    const props = s.properties ?? {};
    if (isObject(data)) {
      for (const [key, prop] of Object.entries(props)) {
        const c = resolve(root, prop).schema.const;
        if (c !== undefined && key in data) score += data[key] === c ? 10 : -100;
      }
      for (const key of Object.keys(data)) score += key in props ? 1 : -5;
    } else if (data !== undefined && s.type !== undefined) {
      const t = Array.isArray(data) ? "array" : data === null ? "null" : typeof data;
      if ([s.type].flat().some((x) => x === t || (x === "integer" && t === "number"))) score += 1;
    }
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  return best;
}

function dataAt(data: unknown, path: string[]): unknown {
  let node = data;
  for (const key of path) node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

/** Walks the schema along `path`, choosing oneOf branches as the data goes. `branchAt[i]`
 * is the branch chosen for the node at depth i (when that node is a oneOf). */
function walk(root: Schema, data: unknown, path: string[]) {
  const branchAt: (Schema | undefined)[] = [];
  let node: Schema | undefined = root;
  let resolved: Resolved = { schema: root };
  for (let depth = 0; ; depth++) {
    resolved = resolve(root, node);
    let s = resolved.schema;
    const options = s.oneOf ?? s.anyOf;
    if (options) {
      const branch = chooseBranch(root, options, dataAt(data, path.slice(0, depth)));
      branchAt[depth] = branch;
      // The field's own title and description (on the oneOf) win over the branch's.
      s = { ...branch, ...(s.title ? { title: s.title } : {}) };
      resolved = { ...resolved, schema: s };
    }
    if (depth === path.length) return { branchAt, resolved, found: true };
    const key = path[depth];
    const next: Schema | undefined = /^\d+$/.test(key) ? s.items : s.properties?.[key];
    if (!next) return { branchAt, resolved, found: false };
    node = next;
  }
}

/** Whether an error belongs to the branches the data is in (not to one it is not). */
function relevant(root: Schema, data: unknown, error: RJSFValidationError, path: string[]): boolean {
  const { branchAt } = walk(root, data, path);
  for (let depth = 0; depth <= path.length; depth++) {
    const branch = branchAt[depth];
    if (!branch) continue;
    const props = branch.properties ?? {};
    if (depth === path.length) {
      if (error.name === "additionalProperties") return !(String(error.params?.additionalProperty) in props);
      continue;
    }
    const key = path[depth];
    if (depth === path.length - 1 && error.name === "required") return (branch.required ?? []).includes(key);
    if (depth === path.length - 1 && error.name === "const")
      return props[key] !== undefined && resolve(root, props[key]).schema.const === error.params?.allowedValue;
    if (!(key in props)) return false;
  }
  return true;
}

function humanize(key: string): string {
  const words = key.replace(/_/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

const TYPE_WORDS: Record<string, string> = {
  integer: "a whole number",
  number: "a number",
  string: "text",
  boolean: "yes or no",
  array: "a list",
  object: "a group of fields",
};

function plural(n: number, word: string) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The error in plain words, naming the field by its label. */
function plainMessage(root: Schema, data: unknown, error: RJSFValidationError, path: string[]): string {
  const { resolved, found } = walk(root, data, path);
  const s = found ? resolved.schema : {};
  const key = path[path.length - 1];
  const label = s.title ?? (key === undefined ? "The document" : /^\d+$/.test(key) ? `Item ${Number(key) + 1}` : humanize(key));
  const p = (error.params ?? {}) as Record<string, unknown>;
  switch (error.name) {
    case "required":
      return `${label} is required.`;
    case "minimum":
      return `${label} must be at least ${p.limit}.`;
    case "exclusiveMinimum":
      return `${label} must be more than ${p.limit}.`;
    case "maximum":
      return `${label} must be at most ${p.limit}.`;
    case "exclusiveMaximum":
      return `${label} must be less than ${p.limit}.`;
    case "type":
      return `${label} must be ${String(p.type).split(",").map((t) => TYPE_WORDS[t] ?? t).join(" or ")}.`;
    case "pattern":
      return resolved.refDescription
        ? `${label} is not valid. Expected ${lowerFirst(resolved.refDescription)}`
        : `${label} does not have the expected form.`;
    case "minLength":
      return p.limit === 1 ? `${label} must not be empty.` : `${label} must be at least ${plural(Number(p.limit), "character")} long.`;
    case "maxLength":
      return `${label} must be at most ${plural(Number(p.limit), "character")} long.`;
    case "enum":
      return `${label} must be one of: ${((p.allowedValues as unknown[]) ?? []).join(", ")}.`;
    case "const":
      return `${label} must be “${String(p.allowedValue)}”.`;
    case "additionalProperties":
      return `${label} has a field it does not allow: “${String(p.additionalProperty)}”.`;
    case "minItems":
      return `${label} needs at least ${plural(Number(p.limit), "item")}.`;
    case "maxItems":
      return `${label} may have at most ${plural(Number(p.limit), "item")}.`;
    case "uniqueItems":
      return `${label} lists the same entry twice.`;
    case "format":
      return `${label} must be a valid ${String(p.format)}.`;
    case "oneOf":
    case "anyOf": {
      const node = resolve(root, walk(root, data, path.slice(0, -1)).resolved.schema).schema;
      const own = found ? resolve(root, (/^\d+$/.test(key ?? "") ? node.items : node.properties?.[key ?? ""]) ?? {}).schema : {};
      const titles = (own.oneOf ?? own.anyOf ?? []).map((b) => resolve(root, b).schema.title).filter(Boolean);
      return titles.length ? `${label} must be one of: ${titles.join(", ")}.` : `${label} is not any of the allowed kinds.`;
    }
    default:
      return `${label}: ${error.message ?? "is not valid"}.`;
  }
}

/** rjsf's `property` (".steps.1.name", or "['a.b']" for odd keys) as a path. */
export function propertyPath(property: string | undefined): string[] {
  if (!property) return [];
  const path: string[] = [];
  const re = /\.([^.[\]]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(property))) path.push(m[1] ?? m[2] ?? m[3]);
  return path;
}

/** The validator's errors, filtered to the data's branches, in plain words, once each. */
export function cleanErrors(rootSchema: RJSFSchema, data: unknown, errors: RJSFValidationError[]): FieldError[] {
  const root = rootSchema as Schema;
  const kept: FieldError[] = [];
  const alternatives: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const path = propertyPath(error.property);
    if (!relevant(root, data, error, path)) continue;
    const entry = { path, message: plainMessage(root, data, error, path) };
    const id = `${path.join("/")}\u0000${entry.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    (error.name === "oneOf" || error.name === "anyOf" ? alternatives : kept).push(entry);
  }
  // "Must be one of …" only when nothing more specific says what is wrong inside.
  for (const alt of alternatives) {
    const prefix = alt.path.join("/");
    if (!kept.some((e) => e.path.join("/") === prefix || e.path.join("/").startsWith(`${prefix}/`))) kept.push(alt);
  }
  return kept;
}

/** The field id rjsf gives a path (idPrefix "root", separator "_"). */
export function pathId(path: string[]): string {
  return ["root", ...path].join("_");
}

/** Errors as rjsf's ErrorSchema (messages under `__errors`, nested by path). */
export function toErrorSchema(errors: FieldError[]): ErrorSchema {
  const root: Record<string, unknown> = {};
  for (const { path, message } of errors) {
    let node = root;
    for (const key of path) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    const list = (node.__errors ??= []) as string[];
    if (!list.includes(message)) list.push(message);
  }
  return root as ErrorSchema;
}

// A form rendered from a kind's JSON Schema with @rjsf/core. Validation runs in the browser
// with validators precompiled at build time (scripts/compile-validators.mjs): the server's
// Content-Security-Policy forbids the runtime code generation Ajv would otherwise need.
import { createContext, isValidElement, useContext, useEffect, useMemo, useRef, useState } from "react";
import Form, { getDefaultRegistry } from "@rjsf/core";
import {
  getTemplate,
  getUiOptions,
  type ArrayFieldItemTemplateProps,
  type FieldProps,
  type FieldTemplateProps,
  type MultiSchemaFieldTemplateProps,
  type IconButtonProps,
  type RJSFSchema,
  type ValidatorType,
} from "@rjsf/utils";
import { makeAllReferencesAbsolute } from "@rjsf/utils/lib/findSchemaDefinition.js";
import createPrecompiledValidator from "@rjsf/validator-ajv8/lib/createPrecompiledValidator.js";
import { PRECOMPILED } from "../../generated/validators";
import { cleanErrors, pathId, toErrorSchema, type FieldError } from "./errors";
import { parsePointer, type Violation } from "./pointers";
import { MoneyInput, PickerContext, PickerSelect, pickerFor, type PickerData } from "./pickers";

const DEFAULTS = getDefaultRegistry();

/** The kind of the document the form edits (the pickers depend on it). */
const FormKind = createContext<string>("");

/** Deep equality of JSON values (key order ignored; a key set to undefined is no key, as
 * in the JSON that is saved). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const otherKeys = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return keys.length === otherKeys.length && keys.every((k) => k in bo && jsonEqual(ao[k], bo[k]));
}

/** The schema as rjsf uses it internally (and as the validators were compiled): every $ref
 * made absolute against the schema's $id. */
export function absoluteRefs(schema: RJSFSchema): RJSFSchema {
  return makeAllReferencesAbsolute(schema, (schema.$id as string | undefined) ?? "#");
}

export type ValidatorState =
  | { status: "loading" }
  | { status: "ready"; validator: ValidatorType }
  /** The server's schema is not the one the console was built with (or the kind is unknown). */
  | { status: "unavailable"; reason: string };

/** The precompiled validator for `kind`, when the server's schema is the one it was built from. */
export function usePrecompiledValidator(kind: string, schema: RJSFSchema | undefined): ValidatorState {
  const [state, setState] = useState<ValidatorState>({ status: "loading" });
  useEffect(() => {
    if (!schema) return;
    const entry = PRECOMPILED[kind];
    if (!entry) {
      setState({ status: "unavailable", reason: `The console has no form validator for ${kind}.` });
      return;
    }
    if (!jsonEqual(entry.schema, schema)) {
      setState({
        status: "unavailable",
        reason: "The server's schema differs from the one this console was built with; edit the JSON instead.",
      });
      return;
    }
    let live = true;
    setState({ status: "loading" });
    entry
      .load()
      .then((fns) => live && setState({ status: "ready", validator: createPrecompiledValidator(fns, absoluteRefs(schema)) }))
      .catch((e) => live && setState({ status: "unavailable", reason: `Could not load the validator: ${e}` }));
    return () => {
      live = false;
    };
  }, [kind, schema]);
  return state;
}

// rjsf's default buttons are Bootstrap glyph icons; without Bootstrap they would be empty.
// These say what they do, so they are labelled for everyone.
function TextButton({ label, danger }: { label: string; danger?: boolean }) {
  return function Button(props: IconButtonProps) {
    const { onClick, disabled, id, className } = props;
    return (
      <button
        type="button"
        id={id}
        className={`btn btn-small${danger ? " btn-danger" : ""} ${className ?? ""}`}
        onClick={onClick}
        disabled={disabled}
      >
        {label}
      </button>
    );
  };
}
const buttonTemplates = {
  AddButton: TextButton({ label: "Add item" }),
  CopyButton: TextButton({ label: "Duplicate" }),
  MoveUpButton: TextButton({ label: "Move up" }),
  MoveDownButton: TextButton({ label: "Move down" }),
  RemoveButton: TextButton({ label: "Remove", danger: true }),
  ClearButton: TextButton({ label: "Clear" }),
  SubmitButton: () => null,
};

/** A short name for an array item, from the fields that usually identify one. */
function itemSummary(data: unknown): string {
  if (data === null || typeof data !== "object") return data === undefined ? "" : String(data);
  const d = data as Record<string, unknown>;
  const when = d.when as Record<string, unknown> | undefined;
  const parts = [d.name, d.id, d.code, d.method, when?.method, d.kind, d.type, d.action]
    .filter((v) => typeof v === "string" && v)
    .slice(0, 2) as string[];
  const label = [d.title, d.label, d.function].find((v) => typeof v === "string" && v) as string | undefined;
  return [parts.join(" · "), label && `“${label}”`].filter(Boolean).join(" ");
}

function containsErrors(errorSchema: unknown): boolean {
  if (!errorSchema || typeof errorSchema !== "object") return false;
  return Object.entries(errorSchema).some(([key, value]) =>
    key === "__errors" ? Array.isArray(value) && value.length > 0 : containsErrors(value),
  );
}

/** Whether the form has been shown (so an item mounting now was just added). */
const FormShown = createContext<{ current: boolean }>({ current: false });

/** An array item: a collapsible box with its number, a summary and its buttons in a bar above
 * it. Short lists start open; in longer ones only the first item does. An item holding an
 * error is always open. */
function ArrayFieldItemTemplate(props: ArrayFieldItemTemplateProps) {
  const { children, className, buttonsProps, hasToolbar, registry, uiSchema, index, totalItems } = props;
  const Buttons = getTemplate("ArrayFieldItemButtonsTemplate", registry, getUiOptions(uiSchema));
  const child = isValidElement(children) ? (children.props as { formData?: unknown; errorSchema?: unknown }) : {};
  // An item added after the form was first shown starts open: it is about to be filled in.
  const formShown = useContext(FormShown);
  const [open, setOpen] = useState(() => totalItems <= 3 || index === 0 || formShown.current);
  const hasErrors = containsErrors(child.errorSchema);
  const shown = open || hasErrors;
  const bodyId = `${buttonsProps.fieldPathId?.$id ?? `item-${index}`}__item`;
  return (
    <div className={`${className} array-item${hasErrors ? " has-item-error" : ""}`}>
      <div className="array-item-toolbox">
        <button
          type="button"
          className="item-toggle"
          aria-expanded={shown}
          aria-controls={bodyId}
          disabled={hasErrors}
          onClick={() => setOpen(!shown)}
        >
          <span aria-hidden="true" className="chevron">
            {shown ? "▾" : "▸"}
          </span>{" "}
          <span className="item-number">#{index}</span> <span className="item-summary">{itemSummary(child.formData)}</span>
        </button>
        {hasToolbar && (
          <span className="item-buttons" role="group" aria-label={`Item ${index}`}>
            <Buttons {...buttonsProps} />
          </span>
        )}
      </div>
      <div className="array-item-body" id={bodyId} hidden={!shown}>
        {children}
      </div>
    </div>
  );
}

/** A oneOf/anyOf field: the option chooser, labelled (rjsf's own leaves it unlabelled). */
function MultiSchemaFieldTemplate({ selector, optionSchemaField, schema }: MultiSchemaFieldTemplateProps) {
  return (
    <div className="multi-schema">
      <label className="form-group multi-schema-choice">
        <span className="control-label">{schema.title ? `${schema.title}: kind` : "Kind"}</span>
        {selector}
      </label>
      {optionSchemaField}
    </div>
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The routing table's default route as one plain choice. rjsf's own oneOf chooser shows its
 * first option ("Cancel the order") when the table has no default at all, so what it showed
 * and what was saved disagreed; here "no default" is a choice of its own. */
function RoutingDefaultField({ formData, onChange, onBlur, fieldPathId, errorSchema, disabled, readonly, schema }: FieldProps) {
  const id = fieldPathId.$id;
  const fnId = `${id}_function`;
  const mode =
    formData === undefined || formData === null
      ? "none"
      : isObject(formData) && "function" in formData
        ? "function"
        : isObject(formData) && formData.action === "cancel" && Object.keys(formData).length === 1
          ? "cancel"
          : "other";
  const fn = isObject(formData) && typeof formData.function === "string" ? formData.function : "";
  const functions = pickerFor("routing-table", "function", useContext(PickerContext));
  const errors = (errorSchema as { __errors?: string[] } | undefined)?.__errors ?? [];
  const fnErrors = (errorSchema as { function?: { __errors?: string[] } } | undefined)?.function?.__errors ?? [];
  const choose = (next: string) => {
    const value = next === "none" ? undefined : next === "cancel" ? { action: "cancel" } : { function: fn };
    onChange(value, fieldPathId.path, undefined, id);
  };
  return (
    <div className={`form-group rjsf-field routing-default${errors.length ? " has-error" : ""}`}>
      <label className="control-label" htmlFor={id}>
        {(schema.title as string | undefined) ?? "Default route"}
      </label>
      <p className="field-description" id={`${id}__description`}>
        What happens to an order no rule matches.
      </p>
      <select
        id={id}
        value={mode}
        disabled={disabled || readonly}
        aria-describedby={`${id}__description${errors.length ? ` ${id}__error` : ""}`}
        aria-invalid={errors.length ? true : undefined}
        onChange={(e) => choose(e.target.value)}
        onBlur={() => onBlur(id, formData)}
      >
        <option value="none">No default: every enabled payment method needs a rule</option>
        <option value="cancel">Cancel the order (cancel reason no_route)</option>
        <option value="function">Run a discount function</option>
        {mode === "other" && <option value="other">(as in the JSON)</option>}
      </select>
      {errors.length > 0 && (
        <ul className="error-detail" id={`${id}__error`}>
          {errors.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
      {mode === "function" && (
        <div className={`form-group rjsf-field rjsf-field-string${fnErrors.length ? " has-error" : ""}`}>
          <label className="control-label" htmlFor={fnId}>
            Function<span className="required">*</span>
          </label>
{functions ? (
            <PickerSelect
              {...({} as FieldProps)}
              formData={fn || undefined}
              fieldPathId={{ ...fieldPathId, $id: fnId }}
              disabled={disabled}
              readonly={readonly}
              rawErrors={fnErrors}
              options={functions.options}
              missing={functions.missing}
              placeholder={functions.placeholder}
              onChange={(v: unknown) => onChange({ function: (v as string | undefined) ?? "" }, fieldPathId.path, undefined, fnId)}
              onBlur={() => onBlur(fnId, fn)}
            />
          ) : (
                    <input
            id={fnId}
            type="text"
            value={fn}
            disabled={disabled}
            readOnly={readonly}
            placeholder="a published discount function, e.g. no-discount"
            aria-invalid={fnErrors.length ? true : undefined}
            aria-describedby={fnErrors.length ? `${fnId}__error` : undefined}
            onChange={(e) => onChange({ function: e.target.value }, fieldPathId.path, undefined, fnId)}
            onBlur={() => onBlur(fnId, fn)}
          />
          )}
          {fnErrors.length > 0 && (
            <ul className="error-detail" id={`${fnId}__error`}>
              {fnErrors.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

/** A string field: a picker where the field names something the merchant chooses from (see
 * pickers.tsx), else rjsf's own. */
function StringOrPickerField(props: FieldProps) {
  const kind = useContext(FormKind);
  const picker = pickerFor(kind, props.name, useContext(PickerContext));
  const Default = DEFAULTS.fields.StringField;
  if (!picker) return <Default {...props} />;
  return <PickerSelect {...props} {...picker} />;
}

/** A number field: an amount in the currency for `*_minor` fields, else rjsf's own. */
function NumberOrMoneyField(props: FieldProps) {
  const Default = DEFAULTS.fields.NumberField;
  if (props.schema.type === "integer" && props.name?.endsWith("_minor")) return <MoneyInput {...props} />;
  return <Default {...props} />;
}

/** The one value a field's schema allows (`const`, or an `enum` of one), if so. */
function singleValue(schema: RJSFSchema): { value: unknown } | null {
  if (schema.const !== undefined) return { value: schema.const };
  if (Array.isArray(schema.enum) && schema.enum.length === 1) return { value: schema.enum[0] };
  return null;
}

/** Fields whose schema allows a single value (an order flow's `version: v1`, a step's `type`
 * under the step-kind chooser) are filled in by their defaults and not shown: there is
 * nothing to choose. One holding anything else stays visible, so the problem can be seen. */
function FieldTemplate(props: FieldTemplateProps) {
  const Default = DEFAULTS.templates.FieldTemplate;
  const single = singleValue(props.schema);
  if (single && props.required && jsonEqual(props.formData, single.value)) return null;
  return <Default {...props} />;
}

const FIELDS = { RoutingDefault: RoutingDefaultField, StringField: StringOrPickerField, NumberField: NumberOrMoneyField };

const DEFAULT_FORM_STATE = {
  arrayMinItems: { populate: "never" as const },
  emptyObjectFields: "populateRequiredDefaults" as const,
  constAsDefaults: "never" as const,
};

/** Per kind, the fields the generic form gets wrong. */
const UI_SCHEMAS: Record<string, object> = {
  "routing-table": { default: { "ui:field": "RoutingDefault", "ui:fieldReplacesAnyOrOneOf": true } },
};

/** The API's JSON Schema wording for a value that matches none of a oneOf's branches. */
export function isAlternativesMessage(message: string): boolean {
  return /is not valid under any of the schemas listed in the '(oneOf|anyOf)' keyword/.test(message);
}

/** Whether an error's field was touched: the field itself, or (for an error about a whole
 * group, like a step) a field inside it. */
function touchedAt(touched: Set<string>, id: string): boolean {
  if (touched.has(id)) return true;
  for (const t of touched) if (t.startsWith(`${id}_`)) return true;
  return false;
}

export function SchemaForm({
  kind,
  schema,
  validator,
  formData,
  onChange,
  serverErrors,
  showAllErrors,
  disabled,
  readonly,
  pickers,
}: {
  kind: string;
  /** What the pickers offer (pickers.tsx); null for plain fields. */
  pickers?: PickerData | null;
  schema: RJSFSchema;
  validator: ValidatorType;
  formData: unknown;
  onChange: (data: unknown) => void;
  /** Problems the API reported (a save, check, publish or evaluation), at their pointers. */
  serverErrors?: Violation[];
  /** Show the form's own errors on every field, touched or not (after Check). */
  showAllErrors?: boolean;
  disabled?: boolean;
  readonly?: boolean;
}) {
  const templates = useMemo(
    () => ({ ButtonTemplates: buttonTemplates, ArrayFieldItemTemplate, MultiSchemaFieldTemplate, FieldTemplate }),
    [],
  );
  // The ids of the fields the user changed or left; the form's own errors show only there.
  const [touched, setTouched] = useState<Set<string>>(() => new Set());
  const touch = (id: string | undefined) => {
    if (!id) return;
    setTouched((t) => (t.has(id) ? t : new Set(t).add(id)));
  };
  const rootSchema = useMemo(() => absoluteRefs(schema), [schema]);
  // Live validation, run here rather than by rjsf's liveValidate: rjsf validates against the
  // schema it resolved for the current data, which the precompiled validator (built for the
  // root schema) refuses. The errors are cleaned up (errors.ts) and joined with the API's.
  const clientErrors = useMemo<FieldError[]>(() => {
    try {
      const data = JSON.parse(JSON.stringify(formData ?? {}));
      return cleanErrors(rootSchema, data, validator.validateFormData(data, rootSchema).errors);
    } catch {
      return [];
    }
  }, [formData, validator, rootSchema]);
  const errors = useMemo(() => {
    const visible = clientErrors.filter((e) => showAllErrors || touchedAt(touched, pathId(e.path)));
    const explained = (path: string[]) => {
      const id = pathId(path);
      return visible.some((e) => pathId(e.path) === id || pathId(e.path).startsWith(`${id}_`));
    };
    const server = (serverErrors ?? [])
      .map((v) => ({ path: parsePointer(v.pointer), message: v.message }))
      // The API's "not valid under any of the schemas listed in the 'oneOf' keyword" for a
      // step says less than the form's own errors inside it: show those instead.
      .filter((e) => !(isAlternativesMessage(e.message) && explained(e.path)))
      .map((e) => (isAlternativesMessage(e.message) ? { ...e, message: "This does not match any of the allowed kinds." } : e));
    const serverAt = new Set(server.map((e) => pathId(e.path)));
    // One account of a field's problem: where the API reported one, the API's.
    const own = visible.filter((e) => !serverAt.has(pathId(e.path)));
    const all = [...own, ...server];
    return all.length ? toErrorSchema(all) : undefined;
  }, [clientErrors, serverErrors, showAllErrors, touched]);
  const uiSchema = useMemo(() => ({ ...(UI_SCHEMAS[kind] ?? {}), "ui:submitButtonOptions": { norender: true } }), [kind]);
  const shown = useRef(false);
  useEffect(() => {
    shown.current = true;
  }, []);
  return (
    <FormKind.Provider value={kind}>
    <PickerContext.Provider value={pickers ?? null}>
    <FormShown.Provider value={shown}>
    <Form
      className="rjsf"
      schema={schema}
      validator={validator}
      formData={formData}
      onChange={(e, id) => {
        touch(id);
        onChange(e.formData);
      }}
      onBlur={(id) => touch(id)}
      extraErrors={errors}
      showErrorList={false}
      noHtml5Validate
      disabled={disabled}
      readonly={readonly}
      templates={templates}
      fields={FIELDS}
      // Load documents as they are: no empty array items added to them. A new item (a step)
      // gets the defaults of its required fields (its `type`), so the kind the form shows is
      // the kind saved, and nothing else: a `const` is not a default (a new task step is not
      // a waitForCallback task).
      experimental_defaultFormStateBehavior={DEFAULT_FORM_STATE}
      idPrefix="root"
      idSeparator="_"
      uiSchema={uiSchema}
    />
    </FormShown.Provider>
    </PickerContext.Provider>
    </FormKind.Provider>
  );
}

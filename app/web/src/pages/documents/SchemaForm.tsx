// A form rendered from a kind's JSON Schema with @rjsf/core. Validation runs in the browser
// with validators precompiled at build time (scripts/compile-validators.mjs): the server's
// Content-Security-Policy forbids the runtime code generation Ajv would otherwise need.
import { isValidElement, useEffect, useMemo, useState } from "react";
import Form from "@rjsf/core";
import {
  getTemplate,
  getUiOptions,
  mergeObjects,
  type ArrayFieldItemTemplateProps,
  type ErrorSchema,
  type MultiSchemaFieldTemplateProps,
  type IconButtonProps,
  type RJSFSchema,
  type ValidatorType,
} from "@rjsf/utils";
import { makeAllReferencesAbsolute } from "@rjsf/utils/lib/findSchemaDefinition.js";
import createPrecompiledValidator from "@rjsf/validator-ajv8/lib/createPrecompiledValidator.js";
import { PRECOMPILED } from "../../generated/validators";

/** Deep equality of JSON values (key order ignored). */
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
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length && keys.every((k) => k in bo && jsonEqual(ao[k], bo[k]));
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

/** An array item: a collapsible box with its number, a summary and its buttons in a bar above
 * it. Short lists start open; in longer ones only the first item does. An item holding an
 * error is always open. */
function ArrayFieldItemTemplate(props: ArrayFieldItemTemplateProps) {
  const { children, className, buttonsProps, hasToolbar, registry, uiSchema, index, totalItems } = props;
  const Buttons = getTemplate("ArrayFieldItemButtonsTemplate", registry, getUiOptions(uiSchema));
  const [open, setOpen] = useState(totalItems <= 3 || index === 0);
  const child = isValidElement(children) ? (children.props as { formData?: unknown; errorSchema?: unknown }) : {};
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

export function SchemaForm({
  schema,
  validator,
  formData,
  onChange,
  extraErrors,
  disabled,
}: {
  schema: RJSFSchema;
  validator: ValidatorType;
  formData: unknown;
  onChange: (data: unknown) => void;
  extraErrors?: ErrorSchema;
  disabled?: boolean;
}) {
  const templates = useMemo(() => ({ ButtonTemplates: buttonTemplates, ArrayFieldItemTemplate, MultiSchemaFieldTemplate }), []);
  const [touched, setTouched] = useState(false);
  const rootSchema = useMemo(() => absoluteRefs(schema), [schema]);
  // Live validation, run here rather than by rjsf's liveValidate: rjsf validates against the
  // schema it resolved for the current data, which the precompiled validator (built for the
  // root schema) refuses. The result joins the API's problems as the fields' errors.
  const errors = useMemo(() => {
    let clientErrors: ErrorSchema | undefined;
    if (touched) {
      try {
        const data = JSON.parse(JSON.stringify(formData ?? {}));
        clientErrors = validator.validateFormData(data, rootSchema).errorSchema;
      } catch {
        clientErrors = undefined;
      }
    }
    if (!clientErrors) return extraErrors;
    if (!extraErrors) return clientErrors;
    return mergeObjects(clientErrors, extraErrors, "preventDuplicates") as ErrorSchema;
  }, [touched, formData, validator, rootSchema, extraErrors]);
  return (
    <div>
    <Form
      className="rjsf"
      schema={schema}
      validator={validator}
      formData={formData}
      onChange={(e) => {
        setTouched(true);
        onChange(e.formData);
      }}
      extraErrors={errors}
      showErrorList={false}
      noHtml5Validate
      disabled={disabled}
      templates={templates}
      // Load documents as they are: no empty array items or schema defaults added to them.
      experimental_defaultFormStateBehavior={{ arrayMinItems: { populate: "never" }, emptyObjectFields: "skipDefaults" }}
      idPrefix="root"
      idSeparator="_"
      uiSchema={{ "ui:submitButtonOptions": { norender: true } }}
    />
    </div>
  );
}

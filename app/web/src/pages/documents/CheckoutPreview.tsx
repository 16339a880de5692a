// What the storefront will render from the checkout page being edited (unsaved): its
// sections and fields, and the merchant's enabled payment methods in display order. The
// methods come from GET /v1/storefront/merchants/{id}/checkout-page, which resolves them the
// way the storefront does (published payment combination + platform catalog), unless the
// page showing the preview has them already (the merchant home, from its overview).
import { api, ApiProblem, unwrap } from "../../api/client";

/** A payment method as the storefront offers it. */
export interface OfferedMethod {
  code: string;
  label: string;
}
import { ErrorNotice, Loading } from "../../components/States";
import { useLoad } from "../../components/useLoad";

interface Field {
  name?: string;
  type?: string;
  label?: string;
  required?: boolean;
  placeholder?: string;
  help?: string;
  constraints?: { options?: { value?: string; label?: string }[] };
}
interface Section {
  id?: string;
  kind?: string;
  title?: string;
  description?: string;
  fields?: Field[];
}

function PreviewField({ field }: { field: Field }) {
  const options = field.constraints?.options ?? [];
  return (
    <div className="preview-field">
      <span>
        <strong>{field.label || <em className="muted">(no label)</em>}</strong>
        {field.required ? (
          <span className="fail" title="required">
            {" "}
            *<span className="visually-hidden"> required</span>
          </span>
        ) : (
          <span className="muted"> (optional)</span>
        )}{" "}
        <span className="badge">{field.type ?? "?"}</span>
      </span>
      {field.type === "boolean" ? (
        <span className="muted">☐ {field.placeholder ?? field.label}</span>
      ) : field.type === "select" ? (
        <span className="fake-input">
          {options.length ? options.map((o) => o.label ?? o.value).join(" · ") : "no options (rejected on publish)"}
        </span>
      ) : (
        <span className="fake-input">{field.placeholder || "\u00a0"}</span>
      )}
      {field.help && <span className="muted" style={{ fontSize: "0.82rem" }}>{field.help}</span>}
    </div>
  );
}

export function CheckoutPreview({
  merchantId,
  page,
  published = false,
  offered,
}: {
  merchantId: string;
  page: unknown;
  /** The page is the published version (the merchant home), not the editor's unsaved one. */
  published?: boolean;
  /** The methods the storefront offers, when the caller has them (null: no published
   * payment combination); when absent, they are loaded. */
  offered?: OfferedMethod[] | null;
}) {
  const given = offered !== undefined;
  const resolved = useLoad(
    () =>
      given
        ? Promise.resolve(null)
        : unwrap(
            api.GET("/v1/storefront/merchants/{merchant_id}/checkout-page", {
              params: { path: { merchant_id: merchantId } },
            }),
          ),
    [merchantId, given],
  );
  const doc = (page ?? {}) as { title?: string; sections?: Section[] };
  const sections = Array.isArray(doc.sections) ? doc.sections : [];
  const methods = (given ? offered : resolved.data?.payment_methods) ?? [];
  const hasPaymentSection = sections.some((s) => s?.kind === "payment_methods");

  const methodList =
    !given && resolved.loading && !resolved.data ? (
      <Loading what="payment methods" />
    ) : offered === null || (resolved.error instanceof ApiProblem && resolved.error.status === 409) ? (
      <p className="state state-warn">The merchant has no published payment combination, so no methods are offered.</p>
    ) : resolved.error != null ? (
      <ErrorNotice error={resolved.error} onRetry={resolved.reload} />
    ) : methods.length === 0 ? (
      <p className="muted">No payment methods enabled.</p>
    ) : (
      <ol className="preview-methods" aria-label="Payment methods in display order">
        {methods.map((m, i) => (
          <li key={m.code}>
            <span className="pos" aria-hidden="true">
              {i + 1}.
            </span>
            <span>
              <strong>{m.label}</strong> <code className="muted">{m.code}</code>
            </span>
          </li>
        ))}
      </ol>
    );

  return (
    <section className="card preview" aria-labelledby="preview-heading" data-testid="checkout-preview">
      <div className="card-header">
        <h2 id="preview-heading">{published ? "Preview" : "Live preview"}</h2>
        <span className="badge info">{published ? "published version" : "unsaved changes included"}</span>
      </div>
      <p className="muted" style={{ fontSize: "0.85rem" }}>
        What the storefront renders from this definition, with the payment methods of the merchant's published payment
        combination.
      </p>
      <div className="preview-page" aria-live="polite">
        <h3>{doc.title || "Checkout"}</h3>
        {sections.length === 0 && <p className="muted">No sections yet.</p>}
        {sections.map((section, i) => (
          <div className="preview-section" key={`${i}:${section?.id}`} data-section={section?.id}>
            <h4>
              {section?.title || section?.id || <em className="muted">(untitled)</em>}
              <span className="badge">{section?.kind ?? "?"}</span>
            </h4>
            {section?.description && <p className="muted">{section.description}</p>}
            {(section?.fields ?? []).map((field, j) => (
              <PreviewField key={`${j}:${field?.name}`} field={field ?? {}} />
            ))}
            {section?.kind === "items_summary" && <p className="muted">The order's items and total appear here.</p>}
            {section?.kind === "payment_methods" && methodList}
          </div>
        ))}
        {!hasPaymentSection && sections.length > 0 && (
          <div className="preview-section">
            <p className="state state-warn">
              No <code>payment_methods</code> section: the storefront decides where to show the methods.
            </p>
            {methodList}
          </div>
        )}
      </div>
    </section>
  );
}

// One document (.../documents/:kind/:name). Discount functions open the script editor; every
// other kind a form rendered from GET /v1/schemas/{kind} (DocumentEditor). Both editors are
// their own chunks, loaded when a document of their kind is opened.
import { lazy, Suspense, useState } from "react";
import { useParams } from "react-router";
import type { RJSFSchema } from "@rjsf/utils";
import { ApiProblem } from "../../api/client";
import { getDocument, getSchema } from "../../api/documents";
import { Breadcrumbs } from "../../components/Layout";
import { ErrorNotice, Loading } from "../../components/States";
import { useLoad } from "../../components/useLoad";
import { loadPickerData } from "./pickers";
import { readOnlyReason } from "../../session/permissions";
import { useMe } from "../../session/session";
import { KINDS, overviewPath, scopeLabel, scopePath, useScope } from "../../scope";

const DocumentEditor = lazy(() => import("./DocumentEditor").then((m) => ({ default: m.DocumentEditor })));
const FunctionEditor = lazy(() => import("../functions/FunctionEditor").then((m) => ({ default: m.FunctionEditor })));

export function DocumentPage() {
  const scope = useScope();
  const me = useMe();
  const { kind = "", name = "" } = useParams();
  const [generation, setGeneration] = useState(0);
  const scopeKey = scope.type === "merchant" ? scope.merchantId : "platform";
  const known = KINDS.find((k) => k.kind === kind && (k.scopes as readonly string[]).includes(scope.type));
  const isFunction = kind === "discount-function";
  const readOnly = readOnlyReason(me, scope);
  const loaded = useLoad(async () => {
    if (!known || isFunction) return null;
    const [schema, doc, pickers] = await Promise.all([
      getSchema(kind),
      getDocument(scope, kind, name).catch((e) => {
        if (e instanceof ApiProblem && e.status === 404) return null; // a new document
        throw e;
      }),
      // The lists the form's pickers offer; without them the fields stay plain text.
      loadPickerData(scope, kind).catch(() => null),
    ]);
    return { schema: schema as RJSFSchema, doc, pickers };
  }, [scopeKey, kind, name, generation]);

  const crumbs = (
    <Breadcrumbs
      items={[
        { label: scopeLabel(scope), to: scopePath(scope) },
        { label: known?.label ?? kind, to: overviewPath(scope) },
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
        <Suspense fallback={<Loading what="the function editor" />}>
          <FunctionEditor scope={scope} name={name} />
        </Suspense>
      </>
    );
  }
  return (
    <>
      {crumbs}
      {loaded.loading && <Loading what={`${kind} ${name}`} />}
      {!loaded.loading && loaded.error != null && <ErrorNotice error={loaded.error} onRetry={loaded.reload} />}
      {!loaded.loading && loaded.data && (
        <Suspense fallback={<Loading what="the editor" />}>
          <DocumentEditor
            key={`${scopeKey}/${kind}/${name}/${generation}`}
            scope={scope}
            kind={kind}
            name={name}
            doc={loaded.data.doc}
            schema={loaded.data.schema}
            reload={() => setGeneration((g) => g + 1)}
            readOnly={readOnly}
            pickers={loaded.data.pickers}
          />
        </Suspense>
      )}
    </>
  );
}

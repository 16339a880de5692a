// Scope-aware calls for metadata documents: the API has one path per scope
// (/v1/platform/... and /v1/merchants/{id}/...), the console one function per operation.
import type { Scope } from "../scope";
import { api, unwrap, type Schemas } from "./client";

export type Json = Record<string, unknown>;
export type Document = Schemas["Document"];
export type DocumentSummary = Schemas["DocumentSummary"];
export type VersionSummary = Schemas["VersionSummary"];
export type Version = Schemas["Version"];
export type AuditEntry = Schemas["AuditEntry"];
export interface Page<T> {
  data: T[];
  next_cursor?: string | null;
}

/** A metadata document's body: a JSON object, as its kind's JSON Schema describes it. The
 * editors send whatever the user made of it (the JSON tab may hold any JSON): the server
 * validates and answers 422 with pointers. */
type DocumentBody = Record<string, unknown>;

/** The kinds each scope's path parameter takes. The console's routes carry a kind as text
 * and pass it on as the scope's kind: the server answers a kind that does not live there
 * with a 404, which the pages show like any other. */
type PlatformKind = Schemas["PlatformKind"];
type MerchantKind = Schemas["MerchantKind"];

export function listDocuments(scope: Scope, kind: string, cursor?: string, limit = 200): Promise<Page<DocumentSummary>> {
  const query = { limit, cursor };
  return scope.type === "platform"
    ? unwrap(api.GET("/v1/platform/metadata/{kind}", { params: { path: { kind: kind as PlatformKind }, query } }))
    : unwrap(
        api.GET("/v1/merchants/{merchant_id}/metadata/{kind}", {
          params: { path: { merchant_id: scope.merchantId, kind: kind as MerchantKind }, query },
        }),
      );
}

export function getDocument(scope: Scope, kind: string, name: string): Promise<Document> {
  return scope.type === "platform"
    ? unwrap(api.GET("/v1/platform/metadata/{kind}/{name}", { params: { path: { kind: kind as PlatformKind, name } } }))
    : unwrap(
        api.GET("/v1/merchants/{merchant_id}/metadata/{kind}/{name}", {
          params: { path: { merchant_id: scope.merchantId, kind: kind as MerchantKind, name } },
        }),
      );
}

/** PUT .../draft; `etag` (when known) is sent as If-Match so a concurrent change is a 412. */
export function saveDraft(scope: Scope, kind: string, name: string, draft: unknown, etag?: string): Promise<Document> {
  const header = etag ? { "If-Match": etag } : {};
  return scope.type === "platform"
    ? unwrap(
        api.PUT("/v1/platform/metadata/{kind}/{name}/draft", {
          params: { path: { kind: kind as PlatformKind, name }, header },
          body: draft as DocumentBody,
        }),
      )
    : unwrap(
        api.PUT("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/draft", {
          params: { path: { merchant_id: scope.merchantId, kind: kind as MerchantKind, name }, header },
          body: draft as DocumentBody,
        }),
      );
}

export function publish(scope: Scope, kind: string, name: string): Promise<Schemas["Published"]> {
  return scope.type === "platform"
    ? unwrap(api.POST("/v1/platform/metadata/{kind}/{name}/publish", { params: { path: { kind: kind as PlatformKind, name } } }))
    : unwrap(
        api.POST("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/publish", {
          params: { path: { merchant_id: scope.merchantId, kind: kind as MerchantKind, name } },
        }),
      );
}

/** DELETE .../draft: discards the saved draft (the published versions stay; a document never
 * published is gone). `etag` (when known) is sent as If-Match. */
export async function discardDraft(scope: Scope, kind: string, name: string, etag?: string): Promise<void> {
  const header = etag ? { "If-Match": etag } : {};
  await (scope.type === "platform"
    ? unwrap(api.DELETE("/v1/platform/metadata/{kind}/{name}/draft", { params: { path: { kind: kind as PlatformKind, name }, header } }))
    : unwrap(
        api.DELETE("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/draft", {
          params: { path: { merchant_id: scope.merchantId, kind: kind as MerchantKind, name }, header },
        }),
      ));
}

/** POST .../check: every problem publishing `draft` would meet; nothing is saved. */
export function checkDocument(scope: Scope, kind: string, name: string, draft: unknown): Promise<Schemas["CheckResult"]> {
  return scope.type === "platform"
    ? unwrap(api.POST("/v1/platform/metadata/{kind}/{name}/check", { params: { path: { kind: kind as PlatformKind, name } }, body: draft as DocumentBody }))
    : unwrap(
        api.POST("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/check", {
          params: { path: { merchant_id: scope.merchantId, kind: kind as MerchantKind, name } },
          body: draft as DocumentBody,
        }),
      );
}

export function listVersions(scope: Scope, kind: string, name: string, cursor?: string): Promise<Page<VersionSummary>> {
  const query = { limit: 200, cursor };
  return scope.type === "platform"
    ? unwrap(api.GET("/v1/platform/metadata/{kind}/{name}/versions", { params: { path: { kind: kind as PlatformKind, name }, query } }))
    : unwrap(
        api.GET("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/versions", {
          params: { path: { merchant_id: scope.merchantId, kind: kind as MerchantKind, name }, query },
        }),
      );
}

/** Every version of a document (following next_cursor). */
export async function allVersions(scope: Scope, kind: string, name: string): Promise<VersionSummary[]> {
  const all: VersionSummary[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await listVersions(scope, kind, name, cursor);
    all.push(...page.data);
    if (!page.next_cursor) return all;
    cursor = page.next_cursor;
  }
}

export function getVersion(scope: Scope, kind: string, name: string, version: number): Promise<Version> {
  return scope.type === "platform"
    ? unwrap(
        api.GET("/v1/platform/metadata/{kind}/{name}/versions/{version}", {
          params: { path: { kind: kind as PlatformKind, name, version } },
        }),
      )
    : unwrap(
        api.GET("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/versions/{version}", {
          params: { path: { merchant_id: scope.merchantId, kind: kind as MerchantKind, name, version } },
        }),
      );
}

export function rollback(scope: Scope, kind: string, name: string, version: number): Promise<Schemas["Published"]> {
  return scope.type === "platform"
    ? unwrap(
        api.POST("/v1/platform/metadata/{kind}/{name}/rollback", {
          params: { path: { kind: kind as PlatformKind, name } },
          body: { version },
        }),
      )
    : unwrap(
        api.POST("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollback", {
          params: { path: { merchant_id: scope.merchantId, kind: kind as MerchantKind, name } },
          body: { version },
        }),
      );
}

export function auditLog(scope: Scope, cursor?: string, limit = 50): Promise<Page<AuditEntry>> {
  const query = { limit, cursor };
  return scope.type === "platform"
    ? unwrap(api.GET("/v1/platform/audit-log", { params: { query } }))
    : unwrap(
        api.GET("/v1/merchants/{merchant_id}/audit-log", {
          params: { path: { merchant_id: scope.merchantId }, query },
        }),
      );
}

export function getSchema(kind: string): Promise<Json> {
  return unwrap(api.GET("/v1/schemas/{kind}", { params: { path: { kind: kind as Schemas["MetadataKind"] } } })) as Promise<Json>;
}

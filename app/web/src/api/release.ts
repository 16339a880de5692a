// Impact preview and staged rollouts of a merchant's document: one function per operation of
// POST .../impact and .../rollout (GET, POST, PATCH, promote, abort).
import { api, ApiProblem, unwrap, type Schemas } from "./client";

export type Impact = Schemas["ImpactResponse"];
export type Rollout = Schemas["Rollout"];
export type RolloutStarted = Schemas["RolloutStarted"];
export type VersionOutcome = Schemas["VersionOutcome"];
export type Comparison = Schemas["ConversionComparison"];

/** Which document: a merchant's kind and name. */
export interface DocRef {
  merchantId: string;
  kind: string;
  name: string;
}

/** The path of a merchant document's operations. `kind` is passed on as the merchant kind
 * it names; the server answers any other with a 404. */
const path = ({ merchantId, kind, name }: DocRef) => ({ path: { merchant_id: merchantId, kind: kind as MerchantKind, name } });

type MerchantKind = Schemas["MerchantKind"];
/** The path of an impact preview: only kinds impactSupported() accepts get there. */
type ImpactPath = { path: { merchant_id: string; kind: Schemas["PreviewableKind"]; name: string } };

/** Kinds whose change can be previewed on past orders: any discount function, and the
 * `default` routing table, payment combination and checkout page (the ones orders use). */
export function impactSupported(kind: string, name: string): boolean {
  return kind === "discount-function" || (name === "default" && ["routing-table", "payment-combination", "checkout-page"].includes(kind));
}

/** Replays the saved draft over the newest `limit` orders that reached pricing. */
export function previewImpact(doc: DocRef, limit?: number): Promise<Impact> {
  return unwrap(
    api.POST("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/impact", {
      params: path(doc) as ImpactPath,
      body: limit ? { sample: { limit } } : {},
    }),
  );
}

/** The newest rollout of the document, or null when it never had one (404). */
export async function getRollout(doc: DocRef): Promise<Rollout | null> {
  try {
    return await unwrap(api.GET("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout", { params: path(doc) }));
  } catch (e) {
    if (e instanceof ApiProblem && e.status === 404) return null;
    throw e;
  }
}

/** Publishes the saved draft to `percent` of new orders. */
export function startRollout(doc: DocRef, percent: number): Promise<RolloutStarted> {
  return unwrap(api.POST("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout", { params: path(doc), body: { percent } }));
}

export function rampRollout(doc: DocRef, percent: number): Promise<Rollout> {
  return unwrap(api.PATCH("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout", { params: path(doc), body: { percent } }));
}

export function promoteRollout(doc: DocRef): Promise<Rollout> {
  return unwrap(api.POST("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout/promote", { params: path(doc) }));
}

export function abortRollout(doc: DocRef): Promise<Rollout> {
  return unwrap(api.POST("/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout/abort", { params: path(doc) }));
}

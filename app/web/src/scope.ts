// A metadata scope: the platform (the payment method catalog, the default flow) or one
// merchant. Console URLs mirror the API's: /admin/platform/... and /admin/merchants/{id}/...
import { useParams } from "react-router";

export type Scope = { type: "platform" } | { type: "merchant"; merchantId: string };

/** The scope named by the current route's `:merchantId`, or the platform when it has none. */
export function useScope(): Scope {
  const { merchantId } = useParams();
  return merchantId ? { type: "merchant", merchantId } : { type: "platform" };
}

/** The scope's console path: `/platform` or `/merchants/{id}` (router-relative). */
export function scopePath(scope: Scope): string {
  return scope.type === "platform"
    ? "/platform"
    : `/merchants/${encodeURIComponent(scope.merchantId)}`;
}

/** The scope's documents overview: `/platform` or `/merchants/{id}/documents`. */
export function overviewPath(scope: Scope): string {
  return scope.type === "platform" ? "/platform" : `${scopePath(scope)}/documents`;
}

export function scopeLabel(scope: Scope): string {
  return scope.type === "platform" ? "Platform" : scope.merchantId;
}

/** Metadata kinds, and which scopes hold them (DESIGN.md). */
export const KINDS = [
  { kind: "payment-method", label: "Payment methods", scopes: ["platform"] },
  { kind: "payment-combination", label: "Payment combinations", scopes: ["merchant"] },
  { kind: "checkout-page", label: "Checkout pages", scopes: ["merchant"] },
  { kind: "discount-function", label: "Discount functions", scopes: ["merchant"] },
  { kind: "routing-table", label: "Routing tables", scopes: ["merchant"] },
  { kind: "order-flow", label: "Order flows", scopes: ["platform", "merchant"] },
] as const;

export type Kind = (typeof KINDS)[number]["kind"];

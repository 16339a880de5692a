// What the signed-in key may change. The API decides (403 otherwise); the console asks the
// same question first, so a read-only user is shown a read-only page instead of buttons that
// can only fail.
import type { Scope } from "../scope";
import type { CurrentKey } from "./session";

/** Why `me` may not change documents of `scope`, or null when it may. */
export function readOnlyReason(me: CurrentKey, scope: Scope): string | null {
  if (me.scope === "platform_admin") return null;
  if (scope.type === "platform")
    return "Platform documents are managed by platform admins. Your merchant admin key can view this one but not change it.";
  if (me.scope === "merchant_admin" && me.merchant_id === scope.merchantId) return null;
  return "Your key may view this merchant's documents but not change them.";
}

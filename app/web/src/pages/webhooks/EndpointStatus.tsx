// Whether an endpoint receives events, as a badge: enabled, disabled by a person, or disabled
// by the server because its deliveries failed for days (its `disabled_reason`).
import type { Schemas } from "../../api/client";

export function EndpointStatus({ endpoint }: { endpoint: Schemas["WebhookEndpoint"] }) {
  if (endpoint.enabled) return <span className="badge ok">Enabled</span>;
  if (endpoint.disabled_reason) return <span className="badge fail">Disabled by orderflow</span>;
  return <span className="badge">Disabled</span>;
}

// Whether an endpoint receives events, as a badge.
import type { Schemas } from "../../api/client";

export function EndpointStatus({ endpoint }: { endpoint: Schemas["WebhookEndpoint"] }) {
  return endpoint.enabled ? (
    <span className="badge ok">Enabled</span>
  ) : (
    <span className="badge">Disabled</span>
  );
}

// Order statuses and cancel reasons as people read them.

export const STATUSES = [
  { value: "awaiting_payment", label: "Awaiting payment" },
  { value: "processing", label: "Processing" },
  { value: "completed", label: "Completed" },
  { value: "canceled", label: "Canceled" },
] as const;

const REASONS: Record<string, string> = {
  payment_timeout: "Payment timed out",
  flow_timeout: "Flow timed out",
  no_route: "No route for the payment method",
  function_error: "Discount function failed",
  customer_canceled: "Canceled by the customer",
  // Canceled with a merchant_admin or platform_admin key: from this console, or the merchant's
  // own systems.
  merchant_canceled: "Canceled by the merchant",
  rejected: "Rejected by the flow",
};

export function statusLabel(status: string): string {
  return STATUSES.find((s) => s.value === status)?.label ?? status;
}

export function reasonLabel(reason: string): string {
  return REASONS[reason] ?? reason;
}

const TONES: Record<string, string> = {
  completed: "ok",
  canceled: "fail",
  awaiting_payment: "warn",
  processing: "info",
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge ${TONES[status] ?? ""} order-status`}>{statusLabel(status)}</span>;
}


// On top of the order-flow editor: the settings merchants change most (how long the customer
// has to pay, how long the whole flow may take) as plain controls, and the flow as a diagram
// whose steps open in the form below when clicked.
import { useEffect, useState } from "react";
import { FlowDiagram, type FlowBody, type FlowStep } from "./FlowDiagram";

/** A duration in whole seconds, typed in minutes (decimals allowed: 0.5 is 30 s). */
function MinutesInput({
  id,
  label,
  hint,
  seconds,
  onChange,
  readOnly,
}: {
  id: string;
  label: string;
  hint: string;
  seconds: number | undefined;
  onChange: (seconds: number | undefined) => void;
  readOnly: boolean;
}) {
  const shown = seconds === undefined ? "" : String(Math.round((seconds / 60) * 1000) / 1000);
  const [text, setText] = useState(shown);
  const parse = (t: string): number | undefined | null => {
    if (t.trim() === "") return undefined;
    const n = Number(t);
    if (!Number.isFinite(n) || n <= 0) return null;
    const s = Math.round(n * 60);
    return s >= 1 ? s : null;
  };
  const parsed = parse(text);
  useEffect(() => {
    if (parsed !== seconds) setText(shown);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [seconds]);
  return (
    <label htmlFor={id}>
      {label}
      <input
        id={id}
        type="number"
        min={0}
        step="any"
        inputMode="decimal"
        value={text}
        readOnly={readOnly}
        aria-invalid={parsed === null ? true : undefined}
        aria-describedby={`${id}-hint`}
        onChange={(e) => {
          setText(e.target.value);
          const next = parse(e.target.value);
          if (next !== null) onChange(next);
        }}
      />
      <span className={parsed === null ? "hint error" : "hint"} id={`${id}-hint`}>
        {parsed === null ? "Enter a number of minutes above 0." : seconds !== undefined ? `${hint} (${seconds} s)` : hint}
      </span>
    </label>
  );
}

export function FlowPanel({
  flow,
  onChange,
  onSelectStep,
  readOnly,
}: {
  flow: FlowBody;
  onChange: (next: FlowBody) => void;
  onSelectStep: (index: number) => void;
  readOnly: boolean;
}) {
  const steps = Array.isArray(flow.steps) ? flow.steps : [];
  const paymentIndex = steps.findIndex((s) => s?.type === "task" && s.action === "await_payment");
  const payment = paymentIndex >= 0 ? steps[paymentIndex] : undefined;

  const setPaymentTimeout = (seconds: number | undefined) => {
    const next: FlowStep = { ...payment };
    if (seconds === undefined) delete next.timeoutSeconds;
    else next.timeoutSeconds = seconds;
    onChange({ ...flow, steps: steps.map((s, i) => (i === paymentIndex ? next : s)) });
  };
  const setFlowTimeout = (seconds: number | undefined) => {
    const next = { ...flow };
    if (seconds === undefined) delete next.timeoutSeconds;
    else next.timeoutSeconds = seconds;
    onChange(next);
  };

  return (
    <section className="card flow-panel" aria-labelledby="flow-panel-title">
      <h2 id="flow-panel-title">The flow</h2>
      <div className="flow-settings" role="group" aria-label="Common settings">
        {payment && (
          <MinutesInput
            id="flow-payment-timeout"
            label="Payment timeout (minutes)"
            hint={`How long the customer has to pay (step ${payment.name}); then its catch applies.`}
            seconds={payment.timeoutSeconds}
            onChange={setPaymentTimeout}
            readOnly={readOnly}
          />
        )}
        <MinutesInput
          id="flow-timeout"
          label="Flow timeout (minutes)"
          hint="The longest an order's whole flow may take; then it is canceled."
          seconds={flow.timeoutSeconds}
          onChange={setFlowTimeout}
          readOnly={readOnly}
        />
      </div>
      <div className="flow-scroll">
        <FlowDiagram
          flow={flow}
          onSelect={onSelectStep}
          label={readOnly ? "Click a step to see it in the form below." : "Click a step to edit it in the form below."}
        />
      </div>
    </section>
  );
}

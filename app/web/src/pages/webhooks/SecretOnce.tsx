// A signing secret, shown once (after creating an endpoint or rotating its secret): copy it
// now, the API never returns it again.
import { useId, useState } from "react";
import { formatTime } from "../../components/format";

export function SecretOnce({
  secret,
  title,
  previousExpiresAt,
  onDone,
}: {
  secret: string;
  title: string;
  /** After a rotation: until when the previous secret keeps signing alongside. */
  previousExpiresAt?: string | null;
  onDone(): void;
}) {
  const [copied, setCopied] = useState<"yes" | "selected" | null>(null);
  const id = useId();
  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("yes");
    } catch {
      // No clipboard (an insecure context, or refused): select the text to copy by hand.
      const node = document.getElementById(id);
      if (node) window.getSelection()?.selectAllChildren(node);
      setCopied("selected");
    }
  }
  return (
    <section className="secret wh-secret" aria-labelledby={`${id}-title`} data-testid="signing-secret">
      <h2 id={`${id}-title`}>{title}</h2>
      <p>
        Copy the signing secret now: <strong>it is not shown again.</strong> Your receiver checks each delivery's
        signature with it (Standard Webhooks: the <code>webhook-signature</code> header).
      </p>
      <div className="wh-secret-value">
        <code id={id} data-testid="signing-secret-value">
          {secret}
        </code>
        <button type="button" className="btn btn-small" onClick={copy}>
          {copied === "yes" ? "Copied" : "Copy secret"}
        </button>
        <span aria-live="polite" className="muted">
          {copied === "selected" ? "Selected: press Ctrl+C (⌘C) to copy." : ""}
        </span>
      </div>
      {previousExpiresAt && (
        <p data-testid="previous-secret-note">
          The previous secret keeps signing too, alongside the new one, until{" "}
          <time dateTime={previousExpiresAt}>{formatTime(previousExpiresAt)}</time> (24 hours), so deliveries still
          verify while you switch your receiver over.
        </p>
      )}
      <button type="button" className="btn btn-small" onClick={onDone}>
        Done
      </button>
    </section>
  );
}

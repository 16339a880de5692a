// What sits next to Publish on a merchant's document: the Impact preview (for the kinds the
// API can replay) and the staged rollout with its outcomes. Both work on the saved draft.
import type { Violation } from "../../api/client";
import { impactSupported, type DocRef, type Rollout } from "../../api/release";
import { ImpactPanel } from "./ImpactPanel";
import { RolloutControl } from "./RolloutControl";
import "./release.css";

export function ReleasePanels({ doc, hasDraft, dirty, publishedVersion, onPublished, onRollout }: {
  doc: DocRef;
  hasDraft: boolean;
  dirty: boolean;
  publishedVersion: number | null;
  onPublished: (message: string, warnings: Violation[]) => void;
  onRollout?: (rollout: Rollout | null) => void;
}) {
  return (
    <div className="release-panels">
      {impactSupported(doc.kind, doc.name) && <ImpactPanel doc={doc} hasDraft={hasDraft} dirty={dirty} />}
      <RolloutControl doc={doc} hasDraft={hasDraft} dirty={dirty} publishedVersion={publishedVersion} onPublished={onPublished} onRollout={onRollout} />
    </div>
  );
}

/** Why Publish waits while a rollout runs, or null. */
export function rolloutBlocksPublish(rollout: Rollout | null): string | null {
  return rollout?.state === "active"
    ? `A rollout is in progress (v${rollout.candidate_version} to ${rollout.percent}% of new orders): promote or abort it before publishing.`
    : null;
}

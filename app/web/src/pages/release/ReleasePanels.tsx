// What sits next to Publish on a merchant's document: the Impact preview (for the kinds the
// API can replay) and the staged rollout with its outcomes. Both work on the saved draft.
import type { Violation } from "../../api/client";
import { impactSupported, type DocRef } from "../../api/release";
import { ImpactPanel } from "./ImpactPanel";
import { RolloutControl } from "./RolloutControl";
import "./release.css";

export function ReleasePanels({ doc, hasDraft, dirty, publishedVersion, onPublished }: {
  doc: DocRef;
  hasDraft: boolean;
  dirty: boolean;
  publishedVersion: number | null;
  onPublished: (message: string, warnings: Violation[]) => void;
}) {
  return (
    <div className="release-panels">
      {impactSupported(doc.kind, doc.name) && <ImpactPanel doc={doc} hasDraft={hasDraft} dirty={dirty} />}
      <RolloutControl doc={doc} hasDraft={hasDraft} dirty={dirty} publishedVersion={publishedVersion} onPublished={onPublished} />
    </div>
  );
}

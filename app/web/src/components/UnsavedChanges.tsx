// Unsaved edits are never lost silently: while an editor holds changes it has not saved,
// leaving the page in the app asks first (a dialog), and so does closing or reloading the
// tab (the browser's own prompt).
import { useEffect, useRef } from "react";
import { useBlocker } from "react-router";

/** Blocks navigation while `dirty`; render the returned element to ask the user. */
export function useUnsavedChangesPrompt(dirty: boolean, what: string) {
  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) =>
      dirty && (currentLocation.pathname !== nextLocation.pathname || currentLocation.search !== nextLocation.search),
  );

  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      // Older browsers show the prompt only when returnValue is set.
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  // The edits were saved (or discarded) while the prompt was up: let the navigation go on.
  useEffect(() => {
    if (blocker.state === "blocked" && !dirty) blocker.proceed();
  }, [blocker, dirty]);

  if (blocker.state !== "blocked") return null;
  return <LeaveDialog what={what} onStay={() => blocker.reset()} onLeave={() => blocker.proceed()} />;
}

function LeaveDialog({ what, onStay, onLeave }: { what: string; onStay(): void; onLeave(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={dialog}
      className="leave-dialog"
      aria-labelledby="leave-title"
      aria-describedby="leave-text"
      onCancel={(e) => {
        e.preventDefault();
        onStay();
      }}
    >
      <h2 id="leave-title">Leave without saving?</h2>
      <p id="leave-text">{what} has changes that are not saved. If you leave now, they are lost.</p>
      <div className="toolbar">
        <button type="button" className="btn btn-primary" onClick={onStay} autoFocus>
          Stay and keep editing
        </button>
        <button type="button" className="btn btn-danger" onClick={onLeave}>
          Leave and discard changes
        </button>
      </div>
    </dialog>
  );
}

/** Ctrl+S / Cmd+S anywhere on the page runs `save` (instead of the browser's "Save page"). */
export function useSaveShortcut(save: () => void, enabled: boolean) {
  const latest = useRef(save);
  latest.current = save;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "s") {
        e.preventDefault();
        if (enabled) latest.current();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [enabled]);
}

// A CodeMirror 6 editor for a discount script: line numbers, JavaScript highlighting (close
// enough for rhai), and error markers (underline + gutter) at the positions the server reports.
// Tab is left to the browser (focus moves on), so the editor never traps keyboard users.
import { forwardRef, useEffect, useImperativeHandle, useRef } from "react";
import { basicSetup } from "codemirror";
import { EditorView } from "@codemirror/view";
import { EditorState, type Text } from "@codemirror/state";
import { javascript } from "@codemirror/lang-javascript";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";

/** A problem at a 1-based line and column of the script. */
export interface Marker {
  line: number;
  column?: number | null;
  message: string;
  severity?: "error" | "warning";
}

export interface CodeEditorHandle {
  /** Focuses the editor with the cursor at a 1-based line and column. */
  goTo(line: number, column?: number | null): void;
}

interface Props {
  value: string;
  onChange(value: string): void;
  markers: Marker[];
  /** The id of the element that labels the editor (screen readers read it). */
  labelledBy: string;
  describedBy?: string;
}

/** The document offset of a 1-based line/column, clamped into the document. */
function offset(doc: Text, line: number, column?: number | null): number {
  const l = doc.line(Math.min(Math.max(1, line), doc.lines));
  return l.from + Math.min(Math.max(0, (column ?? 1) - 1), l.length);
}

function toDiagnostics(state: EditorState, markers: Marker[]): Diagnostic[] {
  return markers.map((m) => {
    const from = offset(state.doc, m.line, m.column);
    const line = state.doc.lineAt(from);
    // Underline the word at the position, or one character, or (with no column) the line.
    let to = from;
    if (m.column == null) to = line.to;
    else {
      const word = state.wordAt(from);
      to = word && word.from === from ? word.to : Math.min(from + 1, line.to);
    }
    return { from, to, severity: m.severity ?? "error", message: m.message, source: "orderflow" };
  });
}

export const CodeEditor = forwardRef<CodeEditorHandle, Props>(function CodeEditor(
  { value, onChange, markers, labelledBy, describedBy },
  ref,
) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  useEffect(() => {
    const attributes: Record<string, string> = { "aria-labelledby": labelledBy };
    if (describedBy) attributes["aria-describedby"] = describedBy;
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          javascript(),
          lintGutter(),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of(attributes),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) onChangeRef.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor is created once; later values arrive through the effect below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [labelledBy, describedBy]);

  // A value from outside (a reload, a rollback) replaces the text; typing does not loop back.
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (v) v.dispatch(setDiagnostics(v.state, toDiagnostics(v.state, markers)));
  }, [markers]);

  useImperativeHandle(ref, () => ({
    goTo(line, column) {
      const v = view.current;
      if (!v) return;
      const pos = offset(v.state.doc, line, column);
      v.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
      v.focus();
    },
  }));

  return <div className="fn-code" ref={host} />;
});

// An order flow as a picture: its steps as boxes, its transitions as labelled arrows (next,
// choice branches and default, catch, timeout), drawn with plain SVG and HTML — no graph
// library. Used by the order-flow editor (click a step to edit it) and by an order's
// timeline (the step the order is at, or ended in, highlighted; the steps it went through
// marked).
//
// Layout: steps in layers by their longest distance from the first step along forward
// transitions (to a step later in the list); a transition back up the list (a loop) or
// within a layer is drawn as an arc on the right.
import { useMemo } from "react";
import "./flow.css";

export interface FlowStep {
  type?: string;
  name?: string;
  action?: string;
  function?: string;
  timeoutSeconds?: number;
  seconds?: number;
  goto?: string;
  end?: boolean;
  default?: string;
  choices?: { condition?: string; goto?: string }[];
  catch?: { errors?: string[]; goto?: string }[];
}

export interface FlowBody {
  timeoutSeconds?: number;
  steps?: FlowStep[];
}

export type EdgeKind = "next" | "choice" | "default" | "catch" | "timeout";

export interface FlowEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  label: string;
}

/** "300 s" as "5 min", "3600 s" as "1 h". */
export function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function shorten(text: string, max = 28): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Every transition of the flow, as the engine takes them (domain/src/workflow). */
export function flowEdges(flow: FlowBody): FlowEdge[] {
  const steps = (flow.steps ?? []).filter((s) => typeof s?.name === "string" && s.name);
  const edges: FlowEdge[] = [];
  steps.forEach((step, i) => {
    const from = step.name!;
    if (step.type === "choice") {
      (step.choices ?? []).forEach((c, n) => {
        if (c?.goto) edges.push({ from, to: c.goto, kind: "choice", label: shorten(c.condition ? `if ${c.condition}` : `choice ${n + 1}`, 40) });
      });
      if (step.default) edges.push({ from, to: step.default, kind: "default", label: "otherwise" });
    } else if (step.type !== "succeed" && step.type !== "fail" && !step.end) {
      const to = step.goto ?? steps[i + 1]?.name;
      if (to) edges.push({ from, to, kind: "next", label: step.goto ? "then (go to)" : "then" });
    }
    for (const c of step.catch ?? []) {
      if (!c?.goto) continue;
      const errors = c.errors ?? [];
      const timeout = errors.includes("Task.Timeout") || errors.includes("States.ALL");
      const others = errors.filter((e) => e !== "Task.Timeout");
      const parts = [
        timeout ? `timeout${step.timeoutSeconds ? ` ${formatDuration(step.timeoutSeconds)}` : ""}` : null,
        others.length ? `on ${others.join(", ")}` : null,
      ].filter(Boolean);
      edges.push({ from, to: c.goto, kind: timeout && !others.length ? "timeout" : "catch", label: shorten(parts.join("; "), 40) });
    }
  });
  return edges;
}

const NODE_W = 200;
const NODE_H = 54;
const GAP_X = 56;
const GAP_Y = 70;
const PAD = 16;
const ARC_ROOM = 230;

interface Placed {
  step: FlowStep;
  index: number;
  x: number;
  y: number;
}

function layout(flow: FlowBody) {
  const steps = (flow.steps ?? []).filter((s) => typeof s?.name === "string" && s.name);
  const index = new Map(steps.map((s, i) => [s.name!, i]));
  const edges = flowEdges(flow).filter((e) => index.has(e.to));
  const rank = steps.map(() => 0);
  // Longest path along forward edges (to a later step): steps are listed in order, so one
  // pass in list order settles every rank.
  steps.forEach((_, i) => {
    for (const e of edges) {
      if (index.get(e.from) !== i) continue;
      const j = index.get(e.to)!;
      if (j > i) rank[j] = Math.max(rank[j], rank[i] + 1);
    }
  });
  const layers: number[][] = [];
  rank.forEach((r, i) => (layers[r] ??= []).push(i));
  const widest = Math.max(1, ...layers.map((l) => l?.length ?? 0));
  const width = PAD * 2 + widest * NODE_W + (widest - 1) * GAP_X + ARC_ROOM;
  const placed: Placed[] = [];
  layers.forEach((layer, r) => {
    if (!layer) return;
    const rowWidth = layer.length * NODE_W + (layer.length - 1) * GAP_X;
    const left = PAD + ((width - ARC_ROOM - PAD * 2) - rowWidth) / 2;
    layer.forEach((i, k) => placed.push({ step: steps[i], index: i, x: left + k * (NODE_W + GAP_X), y: PAD + r * (NODE_H + GAP_Y) }));
  });
  placed.sort((a, b) => a.index - b.index);
  const height = PAD * 2 + layers.length * NODE_H + Math.max(0, layers.length - 1) * GAP_Y;
  return { placed, edges, width, height, byName: new Map(placed.map((p) => [p.step.name!, p])) };
}

function subtitle(step: FlowStep): string {
  const parts: string[] = [];
  if (step.type === "task") parts.push(step.action ?? "task");
  else if (step.type === "wait") parts.push(`wait ${step.seconds ? formatDuration(step.seconds) : ""}`.trim());
  else parts.push(step.type ?? "step");
  if (step.type === "task" && step.timeoutSeconds) parts.push(`times out ${formatDuration(step.timeoutSeconds)}`);
  if (step.end || step.type === "succeed" || step.type === "fail") parts.push("end");
  return parts.join(" · ");
}

export interface StepMark {
  /** The step the order is at, or ended in. */
  current?: string;
  /** How the order stands at `current`: still there, or ended there. */
  currentState?: "active" | "completed" | "canceled";
  /** Steps the order went through. */
  visited?: Set<string>;
}

export function FlowDiagram({
  flow,
  onSelect,
  mark,
  label,
}: {
  flow: FlowBody;
  /** Called with a step's index when its box is clicked; without it the boxes are not buttons. */
  onSelect?: (index: number) => void;
  mark?: StepMark;
  label: string;
}) {
  const { placed, edges, width, height, byName } = useMemo(() => layout(flow), [flow]);
  if (placed.length === 0) return <p className="muted">The flow has no steps yet.</p>;

  // Several transitions between the same two steps share one arrow with their labels joined.
  const grouped = new Map<string, FlowEdge[]>();
  for (const e of edges) {
    const key = `${e.from}→${e.to}`;
    grouped.set(key, [...(grouped.get(key) ?? []), e]);
  }
  let arcs = 0;
  const drawn = [...grouped.values()].map((group) => {
    const e = group[0];
    const a = byName.get(e.from)!;
    const b = byName.get(e.to)!;
    const kind = group.some((g) => g.kind === "timeout") ? "timeout" : group.some((g) => g.kind === "catch") ? "catch" : e.kind;
    const text = group.map((g) => g.label).join(" / ");
    let path: string;
    let lx: number;
    let ly: number;
    let anchor: "middle" | "start" = "middle";
    const rightmost = Math.max(...placed.map((p) => p.x + NODE_W));
    if (b.y > a.y && b.y - a.y <= NODE_H + GAP_Y) {
      const sx = a.x + NODE_W / 2;
      const sy = a.y + NODE_H;
      const tx = b.x + NODE_W / 2;
      const ty = b.y;
      const my = (sy + ty) / 2;
      path = `M${sx},${sy} C${sx},${my} ${tx},${my} ${tx},${ty - 4}`;
      lx = (sx + tx) / 2;
      ly = my;
    } else if (b.y === a.y && b.index !== a.index) {
      const right = b.x > a.x;
      const sx = right ? a.x + NODE_W : a.x;
      const tx = right ? b.x - 4 : b.x + NODE_W + 4;
      const y = a.y + NODE_H / 2;
      path = `M${sx},${y} L${tx},${y}`;
      lx = (sx + tx) / 2;
      ly = y - 8;
    } else {
      // Over several layers, back up the list, or to itself: an arc out on the right, past
      // every box, so it crosses none.
      arcs += 1;
      const sx = a.x + NODE_W;
      const sy = a.y + NODE_H / 2 + (b.y > a.y ? 8 : -8);
      const tx = b.x + NODE_W + 4;
      const ty = b.y + NODE_H / 2 + (b.index === a.index ? 14 : 0);
      const bulge = rightmost + 24 + arcs * 16;
      path = `M${sx},${sy} C${bulge},${sy} ${bulge},${ty} ${tx},${ty}`;
      lx = bulge - 6;
      ly = (sy + ty) / 2;
      anchor = "start";
    }
    return { key: `${e.from}→${e.to}`, from: e.from, to: e.to, kind, text, path, lx, ly, anchor };
  });

  return (
    <figure className="flow-diagram" data-testid="flow-diagram">
      <div className="flow-canvas" style={{ width, height }}>
        <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} aria-hidden="true" focusable="false">
          <defs>
            {(["next", "choice", "default", "catch", "timeout"] as const).map((k) => (
              <marker key={k} id={`flow-arrow-${k}`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M0,0 L10,5 L0,10 z" className={`flow-arrow flow-arrow-${k}`} />
              </marker>
            ))}
          </defs>
          {drawn.map((d) => (
            <g key={d.key} className={`flow-edge flow-edge-${d.kind}`} data-from={d.from} data-to={d.to} data-kind={d.kind}>
              <path d={d.path} markerEnd={`url(#flow-arrow-${d.kind})`} />
              <text x={d.lx} y={d.ly} textAnchor={d.anchor} dominantBaseline="middle" className="flow-edge-label">
                {d.text}
              </text>
            </g>
          ))}
        </svg>
        {placed.map((p) => {
          const name = p.step.name!;
          const isCurrent = mark?.current === name;
          const cls = [
            "flow-node",
            `flow-node-${p.step.type ?? "step"}`,
            mark?.visited?.has(name) ? "flow-node-visited" : "",
            isCurrent ? `flow-node-current flow-node-${mark?.currentState ?? "active"}` : "",
          ]
            .filter(Boolean)
            .join(" ");
          const style = { left: p.x, top: p.y, width: NODE_W, height: NODE_H };
          const body = (
            <>
              <span className="flow-node-name">{name}</span>
              <span className="flow-node-sub">{subtitle(p.step)}</span>
              {isCurrent && (
                <span className="flow-node-here">
                  {mark?.currentState === "active" ? "now here" : mark?.currentState === "completed" ? "ended here" : "canceled here"}
                </span>
              )}
            </>
          );
          return onSelect ? (
            <button
              key={`${p.index}-${name}`}
              type="button"
              className={cls}
              style={style}
              data-step={name}
              onClick={() => onSelect(p.index)}
            >
              <span className="visually-hidden">Step {p.index + 1}: </span>
              {body}
              <span className="visually-hidden"> (edit)</span>
            </button>
          ) : (
            <div key={`${p.index}-${name}`} className={cls} style={style} data-step={name} aria-current={isCurrent ? "step" : undefined}>
              {body}
            </div>
          );
        })}
      </div>
      <figcaption>
        {label}
        {flow.timeoutSeconds ? ` The whole flow times out after ${formatDuration(flow.timeoutSeconds)}.` : ""}
        <span className="visually-hidden">
          {" "}
          Transitions:{" "}
          {drawn.map((d) => `${d.from} to ${d.to} (${d.text})`).join("; ")}.
        </span>
      </figcaption>
    </figure>
  );
}

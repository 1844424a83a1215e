import type { ModelFormat, ModelSpec, Shape, TensorKey } from '../config/spec.js';
import { keysOf } from './build.js';

/** A shape as Keras prints it: `(None, 5, 3)`. */
function kerasShape(s: Shape): string {
  return s.length === 1 ? `(${s[0] ?? 'None'},)` : `(${s.map((d) => d ?? 'None').join(', ')})`;
}

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(2)} ${units[u]}`;
}

/**
 * `model.summary()` as Keras 3 prints it: one row per layer in `model.layers` order with its
 * name (type), output shape, parameter count and, for Functional models, the tensors it is
 * connected to (`layer[node][tensor]`); then the totals. Op nodes are left out as Keras does.
 */
export function summarize(spec: ModelSpec, format: ModelFormat): string {
  const functional = spec.className === 'Functional';
  const callIndex = new Map<number, number>();
  const nodeName = new Map<number, string>();
  spec.nodes.forEach((n, i) => {
    const li = n.layer;
    if (li < 0) return;
    const c = callIndex.get(li) ?? 0;
    callIndex.set(li, c + 1);
    nodeName.set(i, `${spec.layers[li].name}[${c}]`);
  });
  const tensorName = (k: TensorKey): string => {
    const [kind, a, b] = k.split(':');
    if (kind === 'in') return `${spec.inputs[Number(a)].name}[0][0]`;
    return `${nodeName.get(Number(a))}[${b}]`;
  };
  const rows: string[][] = [];
  if (functional) for (const inp of spec.inputs) rows.push([`${inp.name} (InputLayer)`, kerasShape(inp.shape), '0', '-']);
  const seen = new Set<number>();
  spec.nodes.forEach((n) => {
    if (n.layer < 0 || spec.layers[n.layer].op) return;
    const l = spec.layers[n.layer];
    const params = seen.has(n.layer) ? 0 : l.weights.reduce((t, w) => t + w.shape.reduce((a, b) => a * b, 1), 0);
    const first = !seen.has(n.layer);
    seen.add(n.layer);
    const shape = n.outputShapes.length === 1 ? kerasShape(n.outputShapes[0]) : `[${n.outputShapes.map(kerasShape).join(', ')}]`;
    const connected = keysOf(n.call).map(tensorName).join(', ') || '-';
    rows.push([first ? `${l.name} (${l.className})` : `  (call of ${l.name})`, shape, first ? String(params) : '0 (shared)', connected]);
  });
  const header = ['Layer (type)', 'Output Shape', 'Param #', ...(functional ? ['Connected to'] : [])];
  const cols = header.length;
  const width = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[], l: string, sep: string, r: string) =>
    `${l} ${cells.map((cell, c) => (c === 2 ? cell.padStart(width[c]) : cell.padEnd(width[c]))).join(` ${sep} `)} ${r}`;
  const rule = (l: string, mid: string, r: string, fill: string) => `${l}${width.map((w) => fill.repeat(w + 2)).join(mid)}${r}`;
  const bytesPer = spec.layers.some((l) => l.dtype === 'float64') ? 8 : 4;
  const out = [
    `Model: "${spec.name}" (${spec.className}, Keras ${spec.kerasVersion}, ${format})`,
    rule('┏', '┳', '┓', '━'),
    line(header, '┃', '┃', '┃'),
    rule('┡', '╇', '┩', '━'),
    ...rows.map((r, i) => line(r.slice(0, cols), '│', '│', '│') + (i < rows.length - 1 ? `\n${rule('├', '┼', '┤', '─')}` : '')),
    rule('└', '┴', '┘', '─'),
    ` Total params: ${spec.parameterCount} (${bytes(spec.parameterCount * bytesPer)})`,
  ];
  return out.join('\n');
}

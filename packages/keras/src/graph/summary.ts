import type { ModelFormat, ModelSpec, TensorKey } from '../config/spec.js';
import { keysOf } from './build.js';
import { kerasShape } from '../errors.js';

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
 * connected to (`layer[node][tensor]`); then the totals. Keras 3 lists op nodes (NotEqual ...) as
 * layers, and so does this.
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
  // Rows per layer (each call of a shared layer is a row), then laid out in Keras's
  // `model.layers` order: the config's order, InputLayers and op nodes included.
  const byName = new Map<string, string[][]>();
  if (functional) for (const inp of spec.inputs) byName.set(inp.name, [[`${inp.name} (InputLayer)`, kerasShape(inp.shape), '0', '-']]);
  const seen = new Set<number>();
  spec.nodes.forEach((n) => {
    if (n.layer < 0) return;
    const l = spec.layers[n.layer];
    const params = seen.has(n.layer) ? 0 : l.weights.reduce((t, w) => t + w.shape.reduce((a, b) => a * b, 1), 0);
    const first = !seen.has(n.layer);
    seen.add(n.layer);
    const shape = n.outputShapes.length === 1 ? kerasShape(n.outputShapes[0]) : `[${n.outputShapes.map(kerasShape).join(', ')}]`;
    const connected = keysOf(n.call).map(tensorName).join(', ') || '-';
    const row = [first ? `${l.name} (${l.className})` : `  (call of ${l.name})`, shape, first ? String(params) : '0 (shared)', connected];
    byName.set(l.name, [...(byName.get(l.name) ?? []), row]);
  });
  const rows: string[][] = [];
  for (const name of [...configOrder(spec), ...byName.keys()]) {
    rows.push(...(byName.get(name) ?? []));
    byName.delete(name);
  }
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

/** Layer names in the order of the config's `layers` list (InputLayers and op nodes included). */
function configOrder(spec: ModelSpec): string[] {
  const c = spec.config as { layers?: unknown; config?: { layers?: unknown } };
  const list = Array.isArray(c.layers) ? c.layers : Array.isArray(c.config?.layers) ? c.config.layers : [];
  return list.flatMap((l) => {
    const entry = l as { name?: unknown; config?: { name?: unknown } } | null;
    const name = entry?.name ?? entry?.config?.name;
    return typeof name === 'string' ? [name] : [];
  });
}

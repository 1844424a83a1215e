import type { ModelSpec, Shape, TensorKey } from '../config/spec.js';
import { keysOf } from './build.js';
import { kerasShape } from '../errors.js';
import { isNonTrainable } from '../weights/trainable.js';

/** A count as Keras prints it (`f"{n:,}"`). */
function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
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
 * connected to (`layer[node][tensor]`); then the totals. Keras 3 lists op nodes (NotEqual ...) as
 * layers, and so does this.
 */
export function summarize(spec: ModelSpec): string {
  const functional = spec.className === 'Functional';
  const callIndex = new Map<number, number>();
  const nodeName = new Map<number, string>();
  // A nested model's call is one row, as Keras prints it: its inner calls make one group.
  const groupOf = (i: number) => {
    const n = spec.nodes[i].nested;
    return n ? `${n.model}[${n.call}]` : undefined;
  };
  const groupOutputs = new Map<string, TensorKey[]>();
  const readBy = (k: TensorKey, group: string | undefined) => {
    if (!k.startsWith('n:')) return;
    const from = groupOf(Number(k.split(':')[1]));
    if (from === undefined || from === group) return;
    const outs = groupOutputs.get(from) ?? [];
    if (!outs.includes(k)) outs.push(k);
    groupOutputs.set(from, outs);
  };
  spec.nodes.forEach((n, i) => {
    const li = n.layer;
    if (li < 0) return;
    for (const k of keysOf(n.call)) readBy(k, groupOf(i));
    const c = callIndex.get(li) ?? 0;
    callIndex.set(li, c + 1);
    nodeName.set(i, `${spec.layers[li].name}[${c}]`);
  });
  for (const k of spec.outputs) readBy(k, undefined);
  const tensorName = (k: TensorKey): string => {
    const [kind, a, b] = k.split(':');
    if (kind === 'in') return `${spec.inputs[Number(a)].name}[0][0]`;
    const group = groupOf(Number(a));
    if (group !== undefined) return `${group}[${(groupOutputs.get(group) as TensorKey[]).indexOf(k)}]`;
    return `${nodeName.get(Number(a))}[${b}]`;
  };
  const shapeText = (shapes: Shape[]) => (shapes.length === 1 ? kerasShape(shapes[0]) : `[${shapes.map(kerasShape).join(', ')}]`);
  const shapeOf = (k: TensorKey) => {
    const [, a, b] = k.split(':');
    return spec.nodes[Number(a)].outputShapes[Number(b)];
  };
  const paramsOf = (weights: { shape: number[] }[]) => weights.reduce((t, w) => t + w.shape.reduce((a, b) => a * b, 1), 0);
  const classOf = nestedClasses(spec);
  // Rows per layer (each call of a shared layer is a row), then laid out in Keras's
  // `model.layers` order: the config's order, InputLayers and op nodes included.
  const byName = new Map<string, string[][]>();
  if (functional) for (const inp of spec.inputs) byName.set(inp.name, [[`${inp.name} (InputLayer)`, kerasShape(inp.shape), '0', '-']]);
  const seen = new Set<number | string>();
  const groupInputs = new Map<string, TensorKey[]>();
  spec.nodes.forEach((n, i) => {
    if (n.layer < 0) return;
    const group = groupOf(i);
    if (group === undefined) return;
    const ins = groupInputs.get(group) ?? [];
    for (const k of keysOf(n.call)) if (!ins.includes(k) && (!k.startsWith('n:') || groupOf(Number(k.split(':')[1])) !== group)) ins.push(k);
    groupInputs.set(group, ins);
  });
  spec.nodes.forEach((n, i) => {
    if (n.layer < 0) return;
    const group = groupOf(i);
    if (group !== undefined) {
      const model = (n.nested as { model: string }).model;
      if (seen.has(group)) return;
      seen.add(group);
      const first = !seen.has(model);
      seen.add(model);
      const params = paramsOf(spec.layers.filter((l) => l.nestedIn === model).flatMap((l) => l.weights));
      const outs = groupOutputs.get(group) ?? [];
      const connected = (groupInputs.get(group) ?? []).map(tensorName).join(', ') || '-';
      const row = [
        first ? `${model} (${classOf.get(model) ?? 'Functional'})` : `  (call of ${model})`,
        shapeText(outs.map(shapeOf)),
        first ? count(params) : '0 (shared)',
        connected,
      ];
      byName.set(model, [...(byName.get(model) ?? []), row]);
      return;
    }
    const l = spec.layers[n.layer];
    const params = seen.has(n.layer) ? 0 : paramsOf(l.weights);
    const first = !seen.has(n.layer);
    seen.add(n.layer);
    const connected = keysOf(n.call).map(tensorName).join(', ') || '-';
    const row = [first ? `${l.name} (${l.className})` : `  (call of ${l.name})`, shapeText(n.outputShapes), first ? count(params) : '0 (shared)', connected];
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
  const fixed = spec.layers.reduce((t, l) => t + l.weights.reduce((u, w, j) => u + (isNonTrainable(l, j) ? w.shape.reduce((a, b) => a * b, 1) : 0), 0), 0);
  const total = (label: string, n: number) => ` ${label}: ${count(n)} (${bytes(n * bytesPer)})`;
  const out = [
    `Model: "${spec.name}"`,
    rule('┏', '┳', '┓', '━'),
    line(header, '┃', '┃', '┃'),
    rule('┡', '╇', '┩', '━'),
    ...rows.map((r, i) => line(r.slice(0, cols), '│', '│', '│') + (i < rows.length - 1 ? `\n${rule('├', '┼', '┤', '─')}` : '')),
    rule('└', '┴', '┘', '─'),
    total('Total params', spec.parameterCount),
    total('Trainable params', spec.parameterCount - fixed),
    total('Non-trainable params', fixed),
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

/** The class (Sequential, Functional) of each nested model the config's `layers` list holds. */
function nestedClasses(spec: ModelSpec): Map<string, string> {
  const c = spec.config as { layers?: unknown; config?: { layers?: unknown } };
  const list = Array.isArray(c.layers) ? c.layers : Array.isArray(c.config?.layers) ? c.config.layers : [];
  const out = new Map<string, string>();
  for (const l of list) {
    const entry = l as { name?: unknown; class_name?: unknown; config?: { name?: unknown } } | null;
    const name = entry?.name ?? entry?.config?.name;
    if (typeof name === 'string' && typeof entry?.class_name === 'string') out.set(name, entry.class_name);
  }
  return out;
}

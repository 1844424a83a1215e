import type { ModelSpec, Shape, TensorKey } from '../config/spec.js';
import { keysOf } from './build.js';
import { isNonTrainable } from '../weights/trainable.js';

/** A shape as Keras's summary prints it: `(None, 5)`, and `(None)` for one axis (not Python's `(None,)`). */
function summaryShape(s: readonly (number | null)[]): string {
  return `(${s.map((d) => d ?? 'None').join(', ')})`;
}

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
  const shapeText = (shapes: Shape[]) => (shapes.length === 1 ? summaryShape(shapes[0]) : `[${shapes.map(summaryShape).join(', ')}]`);
  const shapeOf = (k: TensorKey) => {
    const [, a, b] = k.split(':');
    return spec.nodes[Number(a)].outputShapes[Number(b)];
  };
  const paramsOf = (weights: { shape: number[] }[]) => weights.reduce((t, w) => t + w.shape.reduce((a, b) => a * b, 1), 0);
  const classOf = nestedClasses(spec);
  // One row per layer (a shared layer's calls in one row, as Keras prints it: the last call's
  // shape, every call's inputs), laid out in Keras's `model.layers` order: the config's order,
  // InputLayers and op nodes included. A nested model's call counts as one call of it.
  const byName = new Map<string, SummaryRow>();
  if (functional) {
    for (const inp of spec.inputs)
      byName.set(inp.name, { label: `${inp.name} (InputLayer)`, shape: summaryShape(inp.shape), params: 0, connected: [], outputs: [] });
  }
  const callOf = (name: string, label: string, params: number, shape: string, inputs: TensorKey[], outputs: TensorKey[]) => {
    const row = byName.get(name);
    if (row) {
      row.shape = shape;
      row.connected.push(inputs);
      row.outputs.push(...outputs);
    } else byName.set(name, { label, shape, params, connected: [inputs], outputs: [...outputs] });
  };
  const groupInputs = new Map<string, TensorKey[]>();
  spec.nodes.forEach((n, i) => {
    if (n.layer < 0) return;
    const group = groupOf(i);
    if (group === undefined) return;
    const ins = groupInputs.get(group) ?? [];
    for (const k of keysOf(n.call)) if (!ins.includes(k) && (!k.startsWith('n:') || groupOf(Number(k.split(':')[1])) !== group)) ins.push(k);
    groupInputs.set(group, ins);
  });
  const seenGroups = new Set<string>();
  spec.nodes.forEach((n, i) => {
    if (n.layer < 0) return;
    const group = groupOf(i);
    if (group !== undefined) {
      if (seenGroups.has(group)) return;
      seenGroups.add(group);
      const model = (n.nested as { model: string }).model;
      const params = paramsOf(spec.layers.filter((l) => l.nestedIn === model).flatMap((l) => l.weights));
      const outs = groupOutputs.get(group) ?? [];
      // Every output of this call, read by the outer graph or not, as Keras prints them.
      const every = spec.nestedOutputShapes?.[model]?.[(n.nested as { call: number }).call];
      callOf(model, `${model} (${classOf.get(model) ?? 'Functional'})`, params, shapeText(every ?? outs.map(shapeOf)), groupInputs.get(group) ?? [], outs);
      return;
    }
    const l = spec.layers[n.layer];
    const outputs = n.outputShapes.map((_, j) => `n:${i}:${j}` as TensorKey);
    callOf(l.name, `${l.name} (${l.className})`, paramsOf(l.weights), shapeText(n.outputShapes), keysOf(n.call), outputs);
  });
  // Keras leaves out "Connected to" where a Functional graph is a chain: one input, each call
  // reading only the call before it, no layer called twice.
  const chain = functional && isChain(spec, [...byName.values()]);
  const rows: string[][] = [];
  for (const name of [...configOrder(spec), ...byName.keys()]) {
    const r = byName.get(name);
    if (!r) continue;
    byName.delete(name);
    rows.push([r.label, r.shape, count(r.params), ...(functional && !chain ? [r.connected.flat().map(tensorName).join(', ') || '-'] : [])]);
  }
  const header = ['Layer (type)', 'Output Shape', 'Param #', ...(functional && !chain ? ['Connected to'] : [])];
  const cols = header.length;
  const width = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[], l: string, sep: string, r: string) =>
    `${l} ${cells.map((cell, c) => (c === 2 ? cell.padStart(width[c]) : cell.padEnd(width[c]))).join(` ${sep} `)} ${r}`;
  const rule = (l: string, mid: string, r: string, fill: string) => `${l}${width.map((w) => fill.repeat(w + 2)).join(mid)}${r}`;
  const bytesPer = spec.layers.some((l) => l.dtype === 'float64') ? 8 : 4;
  const fixed = spec.layers.reduce((t, l) => t + paramsOf(l.weights.filter((_, j) => isNonTrainable(l, j))), 0);
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

/**
 * Whether a Functional graph is what Keras's summary calls sequential-like: one input, and every
 * layer (or nested model) called once, on exactly the one tensor the call before it made.
 */
function isChain(spec: ModelSpec, rows: SummaryRow[]): boolean {
  // Keras's rule looks at the graph's nodes only: outputs may be taken anywhere along the chain.
  if (spec.inputs.length !== 1) return false;
  const calls = rows.filter((r) => r.connected.length > 0);
  if (calls.some((r) => r.connected.length !== 1 || r.connected[0].length !== 1)) return false;
  // Walk from the input: each step exactly one call reads what the step before made.
  let made: TensorKey[] = ['in:0' as TensorKey];
  for (let walked = 0; ; walked++) {
    const readers = calls.filter((r) => made.includes(r.connected[0][0]));
    if (readers.length !== 1) return readers.length === 0 && walked === calls.length;
    made = readers[0].outputs;
  }
}

/** One row of the summary: a layer or nested model, with every call's inputs and outputs. */
interface SummaryRow {
  label: string;
  shape: string;
  params: number;
  connected: TensorKey[][];
  outputs: TensorKey[];
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

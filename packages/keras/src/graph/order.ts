import { KerasFileError } from '../errors.js';
import type { RawGraph, RawRef } from './parse.js';

/** Every tensor reference of a call. */
function refsOf(call: RawGraph['layers'][number]['calls'][number]): RawRef[] {
  const out: RawRef[] = [];
  for (const a of call.args) {
    if ('tensor' in a) out.push(a.tensor);
    else if ('list' in a) out.push(...a.list);
  }
  for (const v of Object.values(call.named)) out.push(...v);
  for (const m of call.mask ?? []) if (m !== null) out.push(m);
  return out;
}

/**
 * The calls of a graph in an order where each comes after the calls it reads (Kahn's algorithm,
 * ties broken by config order, so a chain keeps its order). A reference to a missing layer or
 * call, and a cycle, are errors.
 */
export function topologicalOrder(raw: RawGraph, where: string): { layer: number; call: number }[] {
  const inputs = new Set(raw.inputs.map((i) => i.layer));
  const index = new Map(raw.layers.map((e, i) => [e.name, i]));
  const id = (layer: number, call: number) => `${layer}#${call}`;
  const waiting = new Map<string, number>();
  const readers = new Map<string, string[]>();
  const all: { layer: number; call: number; key: string }[] = [];
  raw.layers.forEach((e, li) =>
    e.calls.forEach((call, ci) => {
      const key = id(li, ci);
      all.push({ layer: li, call: ci, key });
      let deps = 0;
      for (const ref of refsOf(call)) {
        if (inputs.has(ref.layer)) continue;
        const src = index.get(ref.layer);
        if (src === undefined) throw new KerasFileError(`${where}: layer '${e.name}' takes its input from '${ref.layer}', which is not in the model.`);
        if (ref.node >= raw.layers[src].calls.length) {
          throw new KerasFileError(
            `${where}: layer '${e.name}' reads call #${ref.node} of '${ref.layer}', which is called ${raw.layers[src].calls.length} time(s).`,
          );
        }
        const from = id(src, ref.node);
        readers.set(from, [...(readers.get(from) ?? []), key]);
        deps++;
      }
      waiting.set(key, deps);
    }),
  );
  const position = new Map(all.map((n, i) => [n.key, i]));
  const ready = all.filter((n) => waiting.get(n.key) === 0).map((n) => position.get(n.key) as number);
  const out: { layer: number; call: number }[] = [];
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const next = all[ready.shift() as number];
    out.push({ layer: next.layer, call: next.call });
    for (const r of readers.get(next.key) ?? []) {
      const left = (waiting.get(r) as number) - 1;
      waiting.set(r, left);
      if (left === 0) ready.push(position.get(r) as number);
    }
  }
  if (out.length !== all.length) {
    const stuck = all.filter((n) => (waiting.get(n.key) as number) > 0).map((n) => `'${raw.layers[n.layer].name}'`);
    throw new KerasFileError(`${where}: the layer graph has a cycle (through ${stuck.slice(0, 5).join(', ')}).`);
  }
  return out;
}

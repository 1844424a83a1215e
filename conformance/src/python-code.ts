/**
 * Translates the Keras code of an errors.json entry (`GRU(units=-5)`, `GRU(4, dropout=0.5)(x)`,
 * `GRU(4); layer(x, training=True)`) into gru's API, so entries the runner has no hand-written
 * reproduction for are still judged. Only simple Python literals are understood (numbers, strings,
 * True/False/None, tuples, lists, dicts); anything else (numpy arrays, shapes described in prose)
 * makes the entry untranslatable, with the reason.
 */

export type PyValue = number | string | boolean | null | PyValue[] | { [key: string]: PyValue };

export class Untranslatable extends Error {}

/** Keras 3.15.1's GRU / GRUCell keyword arguments; these are passed camelCase, any other keeps its spelling. */
const KERAS_ARGUMENTS = new Set([
  'units',
  'activation',
  'recurrent_activation',
  'use_bias',
  'kernel_initializer',
  'recurrent_initializer',
  'bias_initializer',
  'kernel_regularizer',
  'recurrent_regularizer',
  'bias_regularizer',
  'activity_regularizer',
  'kernel_constraint',
  'recurrent_constraint',
  'bias_constraint',
  'dropout',
  'recurrent_dropout',
  'seed',
  'return_sequences',
  'return_state',
  'go_backwards',
  'stateful',
  'unroll',
  'reset_after',
  'use_cudnn',
  'implementation',
  'zero_output_for_mask',
  'name',
  'trainable',
  'dtype',
]);
/** Keyword arguments of `layer(x, ...)` that take a Python literal. */
const CALL_ARGUMENTS = new Set(['training']);

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_m, ch: string) => ch.toUpperCase());

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }
  peek(): string {
    this.ws();
    return this.src[this.pos] ?? '';
  }
  eat(ch: string): boolean {
    if (this.peek() === ch) {
      this.pos++;
      return true;
    }
    return false;
  }
  expect(ch: string): void {
    if (!this.eat(ch)) throw new Untranslatable(`expected '${ch}' at column ${this.pos + 1} of \`${this.src}\``);
  }
  identifier(): string | undefined {
    this.ws();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
  /** The source text of the expression starting here, up to the next top-level ',' or closing bracket. */
  skipExpression(): string {
    this.ws();
    const start = this.pos;
    let depth = 0;
    let quote = '';
    for (; this.pos < this.src.length; this.pos++) {
      const ch = this.src[this.pos];
      if (quote) {
        if (ch === '\\') this.pos++;
        else if (ch === quote) quote = '';
      } else if (ch === "'" || ch === '"') quote = ch;
      else if ('([{'.includes(ch)) depth++;
      else if (')]}'.includes(ch)) {
        if (depth === 0) break;
        depth--;
      } else if (ch === ',' && depth === 0) break;
    }
    return this.src.slice(start, this.pos).trim();
  }

  /** One Python literal; throws Untranslatable (with the expression's text) for anything else. */
  literal(): PyValue {
    const start = this.pos;
    const fail = (): never => {
      this.pos = start;
      const text = this.skipExpression();
      throw new Untranslatable(`\`${text}\` is not a Python literal`);
    };
    const ch = this.peek();
    if (ch === "'" || ch === '"') return this.string();
    if (ch === '(' || ch === '[') {
      const close = ch === '(' ? ')' : ']';
      this.pos++;
      const items: PyValue[] = [];
      while (!this.eat(close)) {
        items.push(this.literal());
        if (!this.eat(',')) {
          this.expect(close);
          break;
        }
      }
      return items;
    }
    if (ch === '{') {
      this.pos++;
      const obj: Record<string, PyValue> = {};
      while (!this.eat('}')) {
        const key = this.literal();
        if (typeof key !== 'string') throw new Untranslatable('only string keys are understood in a dict literal');
        this.expect(':');
        obj[key] = this.literal();
        if (!this.eat(',')) {
          this.expect('}');
          break;
        }
      }
      return obj;
    }
    const num = /^[-+]?(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?/.exec(this.src.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      const after = this.src[this.pos] ?? '';
      if (/[A-Za-z_(.]/.test(after)) fail();
      return Number(num[0].replace(/_/g, ''));
    }
    const word = this.identifier();
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    return fail();
  }

  string(): string {
    const quote = this.src[this.pos++];
    let out = '';
    while (this.pos < this.src.length && this.src[this.pos] !== quote) {
      let ch = this.src[this.pos++];
      if (ch === '\\') {
        const e = this.src[this.pos++];
        ch = ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[e] ?? `\\${e}`;
      }
      out += ch;
    }
    if (this.src[this.pos] !== quote) throw new Untranslatable(`unterminated string in \`${this.src}\``);
    this.pos++;
    return out;
  }

  /** `(a, b, k=v, ...)`: positional texts are kept raw (the caller decides), keyword values parsed. */
  args(parseValue: (name: string | undefined, p: Parser) => unknown): { positional: unknown[]; keywords: [string, unknown][] } {
    this.expect('(');
    const positional: unknown[] = [];
    const keywords: [string, unknown][] = [];
    while (!this.eat(')')) {
      const save = this.pos;
      const name = this.identifier();
      if (name && this.peek() === '=' && this.src[this.pos + 1] !== '=') {
        this.pos++;
        keywords.push([name, parseValue(name, this)]);
      } else {
        this.pos = save;
        if (keywords.length) throw new Untranslatable('a positional argument after a keyword argument');
        positional.push(parseValue(undefined, this));
      }
      if (!this.eat(',')) {
        this.expect(')');
        break;
      }
    }
    return { positional, keywords };
  }
}

/** What an errors.json entry's code does, in gru's terms. */
export interface TranslatedCode {
  layer: 'GRU' | 'GRUCell';
  /** Constructor options, camelCase for Keras's own arguments. */
  options: Record<string, unknown>;
  /** Present when the code calls the layer on the standard input `x` (batch 2, timesteps 5, features 3). */
  call?: Record<string, unknown>;
}

/** Splits on top-level `;`. */
function statements(code: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < code.length; i++) {
    const ch = code[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"') quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (ch === ';' && depth === 0) {
      out.push(code.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(code.slice(start).trim());
  return out.filter((s) => s.length > 0);
}

function parseCall(p: Parser, layer: string): Record<string, unknown> {
  const { positional, keywords } = p.args((name, q) => {
    if (name === undefined) {
      const text = q.skipExpression();
      if (text !== 'x')
        throw new Untranslatable(`the call's input \`${text}\` is not the standard input \`x\` (it needs an array gru cannot rebuild from the code)`);
      return text;
    }
    if (!CALL_ARGUMENTS.has(name)) {
      const text = q.skipExpression();
      throw new Untranslatable(`the call argument \`${name}=${text}\` needs a tensor (numpy array), not a Python literal`);
    }
    return q.literal();
  });
  if (positional.length !== 1) throw new Untranslatable(`${layer} is called with ${positional.length} positional arguments; only \`layer(x)\` is understood`);
  if (layer === 'GRUCell') throw new Untranslatable('a GRUCell call needs state tensors (numpy arrays)');
  return Object.fromEntries(keywords.map(([k, v]) => [camel(k), v]));
}

/**
 * `GRU(...)`, `GRUCell(...)`, `GRU(...)(x, training=...)`, `GRU(...); layer(x)` or
 * `l = GRU(...); l(x)`, with an optional ` -> note` after the code (errors.json's annotation).
 * Throws Untranslatable with the reason for anything else.
 */
export function translateKerasCode(code: string): TranslatedCode {
  const body = code.split(' -> ')[0].trim();
  const stmts = statements(body);
  if (stmts.length === 0 || stmts.length > 2) throw new Untranslatable(`expected a constructor and at most one call, got ${stmts.length} statements`);
  const p = new Parser(stmts[0]);
  let variable = 'layer';
  const first = p.identifier();
  let layer = first;
  if (first && p.peek() === '=') {
    p.pos++;
    variable = first;
    layer = p.identifier();
  }
  if ((layer !== 'GRU' && layer !== 'GRUCell') || p.peek() !== '(') {
    throw new Untranslatable(`\`${stmts[0]}\` is not a GRU(...) or GRUCell(...) constructor call`);
  }
  const { positional, keywords } = p.args((_name, q) => q.literal());
  if (positional.length > 1) throw new Untranslatable(`only \`units\` is understood as a positional argument, got ${positional.length}`);
  const options: Record<string, unknown> = {};
  if (positional.length) options.units = positional[0];
  for (const [k, v] of keywords) options[KERAS_ARGUMENTS.has(k) ? camel(k) : k] = v;
  const out: TranslatedCode = { layer, options };
  if (p.peek() === '(') out.call = parseCall(p, layer);
  if (p.peek() !== '') throw new Untranslatable(`the code goes on with \`${p.src.slice(p.pos).trim()}\`, which is not a call \`layer(x)\``);
  if (stmts.length === 2) {
    if (out.call) throw new Untranslatable('the layer is called twice');
    const q = new Parser(stmts[1]);
    const callee = q.identifier();
    if (callee !== variable) throw new Untranslatable(`\`${stmts[1]}\` is not a call of the layer`);
    out.call = parseCall(q, layer);
    if (q.peek() !== '') throw new Untranslatable(`the code goes on with \`${q.src.slice(q.pos).trim()}\` after the call`);
  }
  return out;
}

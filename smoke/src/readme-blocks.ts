import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './workspace.js';

/** A fenced js/ts code block of a README, as a user would copy it. */
export interface ReadmeBlock {
  /** The README, relative to the repository root. */
  readme: string;
  /** Line of the opening fence (1-based). */
  line: number;
  lang: 'js' | 'ts';
  code: string;
  /** Preceded by an HTML comment starting with `<!-- fragment`: shown, not run. */
  fragment: boolean;
  /** The file a block names on its first line (`// my-backend.mjs`), which other blocks import. */
  fileName?: string;
  /** The folder of the app the README's blocks are written to, and where they run. */
  folder: string;
  /** `README.md:59` */
  id: string;
}

/** Every README the project ships or shows: the root, each package's and the conformance kit's. */
export function readmeFiles(): string[] {
  const packages = readdirSync(join(repoRoot, 'packages')).map((d) => join('packages', d, 'README.md'));
  return ['README.md', ...packages, join('conformance', 'README.md')].filter((f) => existsSync(join(repoRoot, f)));
}

const LANGS: Record<string, 'js' | 'ts'> = { js: 'js', javascript: 'js', mjs: 'js', ts: 'ts', typescript: 'ts' };

export function extractBlocks(readme: string): ReadmeBlock[] {
  const lines = readFileSync(join(repoRoot, readme), 'utf8').split('\n');
  const folder = readme === 'README.md' ? 'root' : readme.split('/').slice(-2, -1)[0];
  const blocks: ReadmeBlock[] = [];
  let previous = '';
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) {
      if (lines[i].trim()) previous = lines[i].trim();
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${readme}:${i + 1}: a code fence that is never closed`);
    const lang = LANGS[open[1]];
    if (lang) {
      const code = lines.slice(i + 1, end).join('\n') + '\n';
      const named = /^\/\/ ([\w.-]+\.(?:mjs|js|ts|mts))\s*$/.exec(lines[i + 1] ?? '');
      blocks.push({ readme, line: i + 1, lang, code, fragment: previous.startsWith('<!-- fragment'), fileName: named?.[1], folder, id: `${readme}:${i + 1}` });
    }
    previous = lines[end].trim();
    i = end;
  }
  return blocks;
}

/** The file a block runs from: its own name when it gives one, else one named for its line. */
export function runFileName(block: ReadmeBlock): string {
  if (block.fileName) return block.fileName;
  return `block-${block.line}.${block.lang === 'ts' ? 'mts' : 'mjs'}`;
}

/**
 * The file `tsc --strict` checks: the block's own file. A js block is checked as JavaScript
 * (`checkJs`, its JSDoc types honored), as a JavaScript user's editor checks it; a ts block as
 * TypeScript.
 */
export function typeFileName(block: ReadmeBlock): string {
  return runFileName(block);
}

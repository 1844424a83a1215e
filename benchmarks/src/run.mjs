#!/usr/bin/env node
/**
 * `pnpm bench` entry point: times every available runner on every shape, prints a markdown
 * table on stdout (progress goes to stderr) and writes the JSON document. Exit code 1 when a
 * runner failed with an error, 2 for bad flags or a broken runner module. Flags: --help.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { runRounds } from './bench.mjs';
import { USAGE, parseOptions } from './cli.mjs';
import { discoverRunners, selectRunners } from './discover.mjs';
import { childMain } from './isolate.mjs';
import { checkAvailable, errorText } from './job.mjs';
import { addPeakFractions, addRatios, buildDocument, environment, formatMarkdown } from './report.mjs';
import { SHAPES, describeShape, flops, parseShapes } from './shapes.mjs';

/** @param {string} line */
const log = (line) => process.stderr.write(`${line}\n`);

/**
 * @param {import('./discover.mjs').DiscoveredRunner[]} runners
 */
async function list(runners) {
  const out = ['Shapes:', ...SHAPES.map((s) => `  ${s.id}  ${describeShape(s)}  ${(flops(s) / 1e6).toFixed(1)} MFLOP  ${s.about ?? ''}`), '', 'Runners:'];
  for (const r of runners) {
    let a;
    try {
      a = await checkAvailable(r);
    } catch (err) {
      a = `error: ${errorText(err)}`;
    }
    out.push(
      `  ${r.name}  (${r.kind}, ${relative(process.cwd(), r.file)})  ${a === true ? 'available' : `unavailable: ${a}`}${r.note ? `  note: ${r.note}` : ''}`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

/** @param {string[]} argv @returns {Promise<number>} */
async function main(argv) {
  let opts, runners, shapes;
  try {
    opts = parseOptions(argv);
    if (opts.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (opts.child !== undefined) {
      await childMain(opts.child);
      return 0;
    }
    runners = selectRunners(await discoverRunners(opts.runnersDir), opts.runners);
    shapes = parseShapes(opts.shapes);
  } catch (err) {
    log(`bench: ${errorText(err)}`);
    return 2;
  }
  if (opts.list) {
    await list(runners);
    return 0;
  }
  const env = environment();
  log(
    `bench: ${runners.length} runner(s) × ${shapes.length} shape(s), ${opts.inProcess ? 'in-process' : 'one child process each'}${opts.quick ? ', quick' : ''}${opts.rounds > 1 ? `, ${opts.rounds} rounds` : ''}`,
  );
  const results = addPeakFractions(addRatios(await runRounds(runners, shapes, opts, log)));
  const doc = buildDocument(opts, shapes, runners, results, env);
  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileSync(opts.json, `${JSON.stringify(doc, null, 2)}\n`);
  process.stdout.write(formatMarkdown(doc));
  log(`bench: wrote ${relative(process.cwd(), opts.json) || opts.json}`);
  return results.some((r) => r.status === 'error') ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));

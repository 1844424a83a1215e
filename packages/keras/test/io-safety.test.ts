import { unzipSync } from 'fflate';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KerasFileError, loadModel } from '../src/index.js';
import { expectClose, FIXTURES, readJson, type JsonTensor } from './helpers.js';

const TFJS_DIR = join(FIXTURES, 'tfjs_embed_bidir');
const SHARDS = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
const ref = readJson<{ input: JsonTensor; expected: JsonTensor[] }>(join(FIXTURES, 'tfjs_embed_bidir.json'));
const MODEL_JSON = readFileSync(join(TFJS_DIR, 'model.json'), 'utf8');

/** model.json with its weight group's shard paths replaced. */
function manifestWith(paths: string[]): string {
  const json = JSON.parse(MODEL_JSON);
  json.weightsManifest[0].paths = paths;
  return JSON.stringify(json);
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An HTTP server on 127.0.0.1 that records request paths; its open connections are closed after the tests. */
async function serve(handler: Handler): Promise<{ server: Server; origin: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("URL loads: shard redirects stay in model.json's folder; loads can be cancelled and have a deadline", () => {
  let model: Awaited<ReturnType<typeof serve>>;
  let other: Awaited<ReturnType<typeof serve>>;
  /** Requests the model server saw that asked for a stalled response, resolved when one arrives. */
  let stalled: () => void = () => {};

  beforeAll(async () => {
    other = await serve((_req, res) => res.end('other origin')); // a loader that followed a redirect here would get these bytes
    model = await serve((req, res) => {
      const url = req.url ?? '';
      const send = (body: string | Uint8Array) => res.end(body);
      const redirect = (to: string) => {
        res.statusCode = 302;
        res.setHeader('location', to);
        res.end();
      };
      if (url === '/m/model.json') return send(MODEL_JSON);
      if (SHARDS.some((s) => url === `/m/${s}` || url === `/m/real/${s}`)) return send(readFileSync(join(TFJS_DIR, url.split('/').pop()!)));
      if (url === '/m/cross/model.json') return send(manifestWith(['x1.bin', SHARDS[1]]));
      if (url === '/m/cross/x1.bin') return redirect(`${other.origin}/evil/x1.bin`);
      if (url === '/m/cross/group1-shard2of2.bin') return send(readFileSync(join(TFJS_DIR, SHARDS[1])));
      if (url === '/m/up/model.json') return send(manifestWith(['x1.bin', SHARDS[1]]));
      if (url === '/m/up/x1.bin') return redirect('/secret.bin');
      if (url === '/m/in/model.json') return send(manifestWith(['x1.bin', 'x2.bin']));
      if (url === '/m/in/x1.bin') return redirect(`/m/in/real/${SHARDS[0]}`);
      if (url === '/m/in/x2.bin') return redirect(`real/${SHARDS[1]}`);
      if (url.startsWith('/m/in/real/')) return send(readFileSync(join(TFJS_DIR, url.split('/').pop()!)));
      if (url === '/m/loop/model.json') return send(manifestWith(['x1.bin', SHARDS[1]]));
      if (url === '/m/loop/x1.bin') return redirect('/m/loop/x1.bin');
      if (url === '/m/moved.json') return redirect('/m/model.json');
      if (url === '/m/stall-headers.json') {
        stalled();
        return; // never answers
      }
      if (url === '/m/stall-body.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(MODEL_JSON.slice(0, 100));
        stalled();
        return; // never finishes the body
      }
      res.statusCode = 404;
      res.end('not found');
    });
  });
  afterAll(async () => {
    await close(model.server);
    await close(other.server);
  });

  it('a shard answering 302 to another origin is refused, and nothing is fetched from there', async () => {
    const err = await loadModel(`${model.origin}/m/cross/model.json`).catch((e) => e);
    expect(err).toBeInstanceOf(KerasFileError);
    expect(err.message).toBe(`Weight shard "x1.bin" redirects to ${other.origin}/evil/x1.bin, outside ${model.origin}/m/cross/; refusing to follow it.`);
    expect(other.requests).toEqual([]);
  });

  it('a redirect out of the folder on the same origin is refused too', async () => {
    await expect(loadModel(`${model.origin}/m/up/model.json`)).rejects.toThrow(
      /Weight shard "x1\.bin" redirects to http:\/\/127\.0\.0\.1:\d+\/secret\.bin, outside .*\/m\/up\/; refusing to follow it/,
    );
    expect(model.requests).not.toContain('/secret.bin');
  });

  it('redirects that stay in the folder are followed (absolute and relative Location)', async () => {
    const loaded = await loadModel(`${model.origin}/m/in/model.json`);
    expectClose(await loaded.predict(ref.input), ref.expected[0]);
  });

  it('a redirect loop stops after a few hops', async () => {
    const start = model.requests.length;
    await expect(loadModel(`${model.origin}/m/loop/model.json`)).rejects.toThrow(/Cannot fetch .*\/m\/loop\/x1\.bin: more than 5 redirects/);
    expect(model.requests.slice(start).filter((r) => r === '/m/loop/x1.bin').length).toBe(6);
  });

  it('model.json itself may be redirected; its shards then come from where it was served', async () => {
    const loaded = await loadModel(`${model.origin}/m/moved.json`);
    expectClose(await loaded.predict(ref.input), ref.expected[0]);
  });

  it('a file: URL string that names no local file is a KerasFileError naming it, not a bare TypeError', async () => {
    for (const url of ['file://a b/x.keras', 'file://otherhost/x.keras', 'file:///tmp/%2Fetc']) {
      const err = await loadModel(url).catch((e) => e);
      expect(err, url).toBeInstanceOf(KerasFileError);
      expect(err.message).toMatch(/^Cannot load file:.*: (it is not a valid file: URL|it names no local file) \(/);
    }
  });

  it('an aborted load of a long data: URL names it shortened, not whole', async () => {
    const url = `data:application/octet-stream;base64,${Buffer.alloc(300_000, 7).toString('base64')}`;
    const err = await loadModel(url, { signal: AbortSignal.abort() }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/^Fetching data:application\/octet-stream;base64,/);
    expect(err.message.length).toBeLessThan(1000);
  });

  it('timeoutMs: a server that never answers fails the load with a clear error', async () => {
    const err = await loadModel(`${model.origin}/m/stall-headers.json`, { timeoutMs: 300 }).catch((e) => e);
    expect(err).toBeInstanceOf(KerasFileError);
    expect(err.message).toMatch(
      /^Fetching http:\/\/127\.0\.0\.1:\d+\/m\/stall-headers\.json did not finish within 300 ms \(options\.timeoutMs\); pass a larger timeoutMs, or Infinity for no deadline\.$/,
    );
  });

  it('timeoutMs: a body that stalls half-way fails the load too', async () => {
    // A Response whose headers have arrived: only its body is left to read (whatever the machine's load).
    const response = await fetch(`${model.origin}/m/stall-body.json`);
    const err = await loadModel(response, { timeoutMs: 300 }).catch((e) => e);
    expect(err).toBeInstanceOf(KerasFileError);
    expect(err.message).toMatch(/^Reading http:\/\/127\.0\.0\.1:\d+\/m\/stall-body\.json did not finish within 300 ms \(options\.timeoutMs\)/);
  });

  it('signal: aborting while a body stalls rejects the load, with the reason', async () => {
    const response = await fetch(`${model.origin}/m/stall-body.json`);
    const controller = new AbortController();
    const load = loadModel(response, { signal: controller.signal, timeoutMs: Infinity }).catch((e) => e);
    controller.abort('cancelled');
    const err = await load;
    expect(err).toBeInstanceOf(KerasFileError);
    expect(err.message).toMatch(/^Reading http:\/\/127\.0\.0\.1:\d+\/m\/stall-body\.json was aborted by options\.signal \(cancelled\)\.$/);
  });

  it('signal: aborting while the server stalls rejects the load, with the reason', async () => {
    for (const path of ['stall-headers', 'stall-body']) {
      const controller = new AbortController();
      // Aborted as soon as the server has the request (no sleeps): deterministic on a loaded machine.
      const arrived = new Promise<void>((resolve) => (stalled = resolve));
      const load = loadModel(`${model.origin}/m/${path}.json`, { signal: controller.signal, timeoutMs: Infinity }).catch((e) => e);
      await arrived;
      controller.abort(new Error('user left the page'));
      const err = await load;
      expect(err).toBeInstanceOf(KerasFileError);
      expect(err.message).toMatch(
        new RegExp(`^(Fetching|Reading) http://127\\.0\\.0\\.1:\\d+/m/${path}\\.json was aborted by options\\.signal \\(user left the page\\)\\.$`),
      );
    }
  });

  it('an already aborted signal fetches nothing', async () => {
    const start = model.requests.length;
    await expect(loadModel(`${model.origin}/m/model.json`, { signal: AbortSignal.abort() })).rejects.toThrow(/was aborted by options\.signal/);
    expect(model.requests.length).toBe(start);
  });

  it('a shard function given in options.files that never answers is held to timeoutMs too', async () => {
    const bytes = new TextEncoder().encode(MODEL_JSON);
    const err = await loadModel(bytes, { files: () => new Promise<Uint8Array>(() => {}), timeoutMs: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(KerasFileError);
    expect(err.message).toBe(
      "Reading weight shard 'group1-shard1of2.bin' from options.files did not finish within 200 ms (options.timeoutMs); pass a larger timeoutMs, or Infinity for no deadline.",
    );
  });

  it('bad signal and timeoutMs options are named', async () => {
    await expect(loadModel(`${model.origin}/m/model.json`, { timeoutMs: -1 })).rejects.toThrow(
      /Option `timeoutMs` must be a positive number of milliseconds \(or Infinity\), received -1/,
    );
    await expect(loadModel(`${model.origin}/m/model.json`, { timeoutMs: Number.NaN })).rejects.toThrow(/received NaN/);
    await expect(loadModel(`${model.origin}/m/model.json`, { signal: {} as AbortSignal })).rejects.toThrow(
      /Option `signal` must be an AbortSignal, received object/,
    );
  });
});

describe('file loads: regular files only, and shards whose real path stays in the model folder', () => {
  let root = '';
  let dir = '';
  let outside = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'gru-keras-io-'));
    dir = join(root, 'model');
    outside = join(root, 'outside');
    mkdirSync(dir);
    mkdirSync(outside);
    for (const s of SHARDS) copyFileSync(join(TFJS_DIR, s), join(outside, s));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A folder holding model.json (with `paths`) and whatever `make` puts beside it. */
  function modelFolder(name: string, paths: string[], make: (folder: string) => void): string {
    const folder = join(dir, name);
    mkdirSync(folder);
    writeFileSync(join(folder, 'model.json'), manifestWith(paths));
    make(folder);
    return join(folder, 'model.json');
  }

  it('a FIFO where a shard should be is refused at once (it used to hang the load forever)', async () => {
    const json = modelFolder('fifo', SHARDS, (f) => {
      copyFileSync(join(TFJS_DIR, SHARDS[0]), join(f, SHARDS[0]));
      execFileSync('mkfifo', [join(f, SHARDS[1])]);
    });
    await expect(loadModel(json)).rejects.toThrow(/group1-shard2of2\.bin is not a regular file \(it is a FIFO\); refusing to read it/);
  }, 20000);

  it('a .keras path that is a FIFO, or a folder, is refused at once', async () => {
    const fifo = join(dir, 'model.keras');
    execFileSync('mkfifo', [fifo]);
    await expect(loadModel(fifo)).rejects.toThrow(/model\.keras is not a regular file \(it is a FIFO\)/);
    await expect(loadModel(dir)).rejects.toThrow(/is not a regular file \(it is a folder\)/);
  }, 20000);

  it('a TensorFlow SavedModel, as a folder or its saved_model.pb, is named as such, with what to do instead', async () => {
    const saved = join(dir, 'exported');
    mkdirSync(join(saved, 'variables'), { recursive: true });
    // The first bytes of a real saved_model.pb: field 1 (schema version 1), then field 2 (meta graphs).
    writeFileSync(join(saved, 'saved_model.pb'), Uint8Array.from([0x08, 0x01, 0x12, 0xa5, 0x9c, 0x04, 0x0a, 0xce]));
    await expect(loadModel(saved)).rejects.toThrow(/it is a folder\); refusing to read it\. It is a TensorFlow SavedModel .* model\.save\('model\.keras'\)/);
    await expect(loadModel(join(saved, 'saved_model.pb'))).rejects.toThrow(
      /starts with bytes 08 01 12 a5 9c 04 0a ce\. It looks like a TensorFlow SavedModel's saved_model\.pb .* model\.save\('model\.keras'\) instead/,
    );
  });

  it('a Keras model saved unzipped (zipped=False) is named, and loads the way the message says', async () => {
    const unzipped = join(dir, 'unzipped_model');
    mkdirSync(unzipped);
    const files = unzipSync(readFileSync(join(FIXTURES, 'k3_embed_stack.keras')));
    for (const name of ['config.json', 'metadata.json', 'model.weights.h5']) writeFileSync(join(unzipped, name), files[name]);
    await expect(loadModel(unzipped)).rejects.toThrow(/It is a Keras model saved unzipped \(zipped=False\): load its weights with its config/);
    const slashed = (await loadModel(`${unzipped}/`).catch((e: Error) => e)) as Error;
    expect(slashed.message).toContain(`loadModel('${join(unzipped, 'model.weights.h5')}'`);
    const model = await loadModel(join(unzipped, 'model.weights.h5'), { config: readFileSync(join(unzipped, 'config.json'), 'utf8') });
    const k3 = readJson<{ input: JsonTensor; expected: JsonTensor[] }>(join(FIXTURES, 'k3_embed_stack.json'));
    expectClose(await model.predict(k3.input), k3.expected[0]);
  });

  it('a shard that is a symlink to a file outside the folder is refused', async () => {
    const json = modelFolder('link-file', SHARDS, (f) => {
      copyFileSync(join(TFJS_DIR, SHARDS[0]), join(f, SHARDS[0]));
      symlinkSync(join(outside, SHARDS[1]), join(f, SHARDS[1]));
    });
    await expect(loadModel(json)).rejects.toThrow(
      /Weight shard .*group1-shard2of2\.bin is a link to .*outside\/group1-shard2of2\.bin, outside .*link-file; refusing to read it/,
    );
  });

  it('a shard in a subfolder that is a symlink out of the folder is refused', async () => {
    const json = modelFolder(
      'link-folder',
      SHARDS.map((s) => `sub/${s}`),
      (f) => symlinkSync(outside, join(f, 'sub')),
    );
    await expect(loadModel(json)).rejects.toThrow(
      /Weight shard .*sub\/group1-shard1of2\.bin is a link to .*outside\/group1-shard1of2\.bin, outside .*link-folder; refusing to read it/,
    );
  });

  it('links that stay inside the folder, and a model folder reached through a link, load', async () => {
    const json = modelFolder('link-inside', SHARDS, (f) => {
      mkdirSync(join(f, 'data'));
      for (const s of SHARDS) {
        copyFileSync(join(TFJS_DIR, s), join(f, 'data', s));
        symlinkSync(join(f, 'data', s), join(f, s));
      }
    });
    expectClose(await (await loadModel(json)).predict(ref.input), ref.expected[0]);
    symlinkSync(join(dir, 'link-inside'), join(root, 'alias'));
    expectClose(await (await loadModel(join(root, 'alias', 'model.json'))).predict(ref.input), ref.expected[0]);
  });
});

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KerasFileError, LimitError, loadModel } from '../src/index.js';
import { checkRelativePath, siblingUrl } from '../src/io/source.js';
import { expectClose, FIXTURES, readBytes, readJson, type JsonTensor } from './helpers.js';

const KERAS = join(FIXTURES, 'k3_embed_stack.keras');
const ref = readJson<{ input: JsonTensor; expected: JsonTensor[] }>(join(FIXTURES, 'k3_embed_stack.json'));
const TFJS_DIR = join(FIXTURES, 'tfjs_embed_bidir');
const tfjsRef = readJson<{ input: JsonTensor; expected: JsonTensor[] }>(join(FIXTURES, 'tfjs_embed_bidir.json'));
const SHARDS = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
/** '..' and separators spelled with percent-escapes: a URL resolves `%2e%2e` as '..', and servers may decode `%2f`/`%5c`. */
const ENCODED_ESCAPES = [
  '%2e%2e/%2e%2e/secret.bin',
  '%2E%2E/secret.bin',
  '.%2e/secret.bin',
  '%2E./secret.bin',
  'a/%2e%2E/%2e%2e/secret.bin',
  '..%2fsecret.bin',
  '..%2Fsecret.bin',
  'a%2f..%2f..%2fsecret.bin',
  '..%5csecret.bin',
  '%2e%2e%5Csecret.bin',
  '%252e%252e/secret.bin',
  '%2e%2e',
  '%2fetc/passwd',
  'shard%00.bin',
];

describe('sources: a model loads the same from every kind of source', () => {
  const bytes = readBytes(KERAS);
  const sources: [string, () => unknown][] = [
    ['a path', () => KERAS],
    ['a file: URL', () => pathToFileURL(KERAS)],
    ['a file: URL string', () => pathToFileURL(KERAS).href],
    ['a Uint8Array', () => bytes],
    ['a Node Buffer', () => readFileSync(KERAS)],
    ['an ArrayBuffer', () => bytes.slice().buffer],
    ['a Response', () => new Response(bytes)],
    ['a Blob', () => new Blob([bytes])],
  ];
  for (const [what, make] of sources) {
    it(what, async () => {
      const model = await loadModel(make() as Parameters<typeof loadModel>[0]);
      expectClose(await model.predict(ref.input), ref.expected[0]);
    });
  }

  it('rejects a value that is no source, naming what it accepts', async () => {
    await expect(loadModel(42 as never)).rejects.toThrow(
      /must be a path or URL string, a URL, a Uint8Array, an ArrayBuffer, a Response or a Blob; received number/,
    );
  });

  it('a data: or blob: URL loads whether given as a string or a URL (Node reads them with fetch; a string said ENOENT)', async () => {
    const data = `data:application/octet-stream;base64,${Buffer.from(bytes).toString('base64')}`;
    const blob = URL.createObjectURL(new Blob([bytes]));
    try {
      for (const source of [data, new URL(data), blob, new URL(blob)]) {
        expectClose(await (await loadModel(source)).predict(ref.input), ref.expected[0]);
      }
    } finally {
      URL.revokeObjectURL(blob);
    }
    // Messages show a long data: URL cut short, not its megabytes.
    const cut = `data:application/octet-stream;base64,${Buffer.from(bytes.subarray(0, bytes.length - 30)).toString('base64')}`;
    const error = await loadModel(cut).catch((e) => e);
    expect(error).toBeInstanceOf(KerasFileError);
    expect(error.message).toMatch(/^data:application\/octet-stream;base64,UEsDB\S*\.\.\. \(a URL of \d+ characters\): \.keras archive is truncated/);
    expect(error.message.length).toBeLessThan(400);
  });

  it('a URL scheme Node cannot read is refused as unsupported, naming what is (it said ENOENT, or "fetch failed")', async () => {
    const supported = /In Node, loadModel reads file paths, file: URLs, and http:, https:, data: and blob: URLs \(fetched\)/;
    for (const [source, scheme] of [
      ['ftp://example.com/model.keras', 'ftp:'],
      [new URL('ftp://example.com/model.keras'), 'ftp:'],
      ['s3://bucket/model.keras', 's3:'],
      ['gopher:model.keras', 'gopher:'],
    ] as const) {
      const error = await loadModel(source).catch((e) => e);
      expect(error).toBeInstanceOf(KerasFileError);
      expect(error.message).toContain(`Cannot load ${String(source)}: the URL scheme '${scheme}' is not supported.`);
      expect(error.message).toMatch(supported);
    }
    await expect(loadModel('gopher:model.keras')).rejects.toThrow("A relative path that contains ':' can be written './gopher:model.keras'.");
    // A Windows drive letter is a path, not a scheme.
    await expect(loadModel('C:\\no-such\\model.keras')).rejects.toThrow(/^Cannot open C:\\no-such\\model\.keras: ENOENT/);
  });

  it('reports a missing file with its path', async () => {
    await expect(loadModel(join(FIXTURES, 'no-such.keras'))).rejects.toThrow(/Cannot open .*no-such\.keras/);
  });

  it('refuses a file over limits.maxFileBytes before reading it', async () => {
    await expect(loadModel(KERAS, { limits: { maxFileBytes: 1000 } })).rejects.toThrow(LimitError);
    await expect(loadModel(new Response(bytes), { limits: { maxFileBytes: 1000 } })).rejects.toThrow(/over the limit of 1000 bytes/);
  });

  it('refuses a consumed Response and unknown options', async () => {
    const used = new Response(bytes);
    await used.arrayBuffer();
    await expect(loadModel(used)).rejects.toThrow(/already read/);
    await expect(loadModel(bytes, { bogus: 1 } as never)).rejects.toThrow(/Unknown loadModel option\(s\): bogus/);
    await expect(loadModel(bytes, { limits: { maxFileBytes: -1 } })).rejects.toThrow(/must be a positive integer/);
  });

  it('names what it expected when bytes are not a model file', async () => {
    await expect(loadModel(new TextEncoder().encode('hello'))).rejects.toThrow(
      /expected a \.keras archive \(zip\), an HDF5 file .* starts with bytes 68 65 6c 6c 6f/,
    );
  });
});

describe('TF.js layers models: shards are found beside model.json', () => {
  it('from a path', async () => {
    const model = await loadModel(join(TFJS_DIR, 'model.json'));
    expectClose(await model.predict(tfjsRef.input), tfjsRef.expected[0]);
  });

  it('from bytes, with the shards given as a map or as a function', async () => {
    const json = readBytes(join(TFJS_DIR, 'model.json'));
    const files = Object.fromEntries(SHARDS.map((s) => [s, readBytes(join(TFJS_DIR, s))]));
    expectClose(await (await loadModel(json, { files })).predict(tfjsRef.input), tfjsRef.expected[0]);
    const asked: string[] = [];
    const reader = async (path: string) => {
      asked.push(path);
      return files[path].slice().buffer;
    };
    expectClose(await (await loadModel(json, { files: reader })).predict(tfjsRef.input), tfjsRef.expected[0]);
    expect(asked).toEqual(SHARDS);
  });

  it('from bytes without shards: says how to pass them', async () => {
    const json = readBytes(join(TFJS_DIR, 'model.json'));
    await expect(loadModel(json)).rejects.toThrow(/pass the shards as options\.files/);
    await expect(loadModel(json, { files: {} })).rejects.toThrow(/Weight shard 'group1-shard1of2\.bin' named by model\.json was not given/);
  });

  it('refuses shards that hold more or fewer bytes than the manifest declares', async () => {
    const json = readBytes(join(TFJS_DIR, 'model.json'));
    const files = Object.fromEntries(SHARDS.map((s) => [s, readBytes(join(TFJS_DIR, s))]));
    await expect(loadModel(json, { files: { ...files, [SHARDS[1]]: files[SHARDS[1]].subarray(4) } })).rejects.toThrow(
      /should hold 948 bytes, its shards hold 944/,
    );
    await expect(loadModel(json, { files: { ...files, [SHARDS[1]]: new Uint8Array(files[SHARDS[1]].length + 4) } })).rejects.toThrow(/its shards hold more/);
  });

  it('refuses shard paths that leave the model folder, before reading anything', async () => {
    const manifest = JSON.parse(readFileSync(join(TFJS_DIR, 'model.json'), 'utf8'));
    for (const bad of [...['../secret.bin', '/etc/passwd', 'https://evil.example/x.bin', 'a\\..\\b.bin'], ...ENCODED_ESCAPES]) {
      manifest.weightsManifest[0].paths = [bad];
      const asked: string[] = [];
      const files = async (p: string) => {
        asked.push(p);
        return new Uint8Array();
      };
      await expect(loadModel(new TextEncoder().encode(JSON.stringify(manifest)), { files })).rejects.toThrow(/not a plain relative path beside model\.json/);
      expect(asked).toEqual([]);
    }
  });

  it('a shard path that passes the check always resolves inside the model folder', () => {
    const base = 'https://models.example/a/b/model.json';
    expect(siblingUrl('group1-shard1of2.bin', base)).toBe('https://models.example/a/b/group1-shard1of2.bin');
    expect(siblingUrl('sub/./x%20y.bin', base)).toBe('https://models.example/a/b/sub/x%20y.bin');
    // Every combination of dots, escapes and separators up to 4 pieces: refused, or resolved inside a/b/.
    const pieces = ['.', '..', '%2e', '%2E', '%2e%2e', '%252e', '/', '\\', '%2f', '%5c', 'x', ''];
    let allowed = 0;
    const grow = (path: string, depth: number) => {
      if (path) {
        let url: string | undefined;
        try {
          checkRelativePath(path, 'p');
          url = siblingUrl(path, base);
        } catch (err) {
          expect(err).toBeInstanceOf(KerasFileError);
        }
        if (url !== undefined) {
          allowed++;
          expect(url.startsWith('https://models.example/a/b/'), `${path} -> ${url}`).toBe(true);
        }
      }
      if (depth < 4) for (const p of pieces) grow(path + p, depth + 1);
    };
    grow('', 0);
    expect(allowed).toBeGreaterThan(100);
  });

  describe('over HTTP (fetch, as in a browser)', () => {
    let server: Server;
    let base = '';
    const requests: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        requests.push(req.url ?? '');
        if (req.url === '/secret.bin') {
          res.end('secret'); // reachable: a loader that escaped the folder would get it
          return;
        }
        const name = (req.url ?? '').replace(/^\/models\//, '');
        if (name.startsWith('escape') && name.endsWith('.json')) {
          const manifest = JSON.parse(readFileSync(join(TFJS_DIR, 'model.json'), 'utf8'));
          manifest.weightsManifest[0].paths = [decodeURIComponent(name.slice('escape'.length, -'.json'.length))];
          res.end(JSON.stringify(manifest));
          return;
        }
        const allowed = ['model.json', ...SHARDS];
        if (!allowed.includes(name)) {
          res.statusCode = 404;
          res.end('not found');
          return;
        }
        res.end(readFileSync(join(TFJS_DIR, name)));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('a URL string: model.json, then its shards relative to it', async () => {
      const model = await loadModel(`${base}model.json`);
      expectClose(await model.predict(tfjsRef.input), tfjsRef.expected[0]);
      expect(requests.slice(-3)).toEqual(['/models/model.json', ...SHARDS.map((s) => `/models/${s}`)]);
    });

    it('a fetch Response: shards are fetched relative to response.url', async () => {
      const model = await loadModel(await fetch(`${base}model.json`));
      expectClose(await model.predict(tfjsRef.input), tfjsRef.expected[0]);
    });

    it('a model.json whose shard path escapes with percent-encoded dots is refused without fetching outside its folder', async () => {
      for (const bad of ENCODED_ESCAPES) {
        const start = requests.length;
        await expect(loadModel(`${base}escape${encodeURIComponent(bad)}.json`)).rejects.toThrow(/not a plain relative path beside model\.json/);
        expect(requests.slice(start)).toEqual([`/models/escape${encodeURIComponent(bad)}.json`]);
      }
      expect(requests).not.toContain('/secret.bin');
    });

    it('an HTTP error names the URL and status', async () => {
      await expect(loadModel(`${base}missing.json`)).rejects.toThrow(KerasFileError);
      await expect(loadModel(`${base}missing.json`)).rejects.toThrow(/HTTP 404/);
    });
  });
});

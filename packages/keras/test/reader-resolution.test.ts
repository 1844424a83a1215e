import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadModel } from '../src/index.js';
import { FIXTURES } from './helpers.js';

// What Parcel 2 bundles by default: jsfive's `browser` field, a script whose module exports nothing
// (vitest's mock must name the export it lacks, or reading it throws).
vi.mock('jsfive', () => ({ File: undefined }));

describe("jsfive resolved to its browser script (a bundler that ignores package.json's exports)", () => {
  it('every HDF5 read says so and how to fix the bundler, instead of calling the file unreadable', async () => {
    for (const file of ['k3_functional.keras', 'k3_functional.h5']) {
      await expect(loadModel(join(FIXTURES, file))).rejects.toThrow(
        /^@gru\/keras: its HDF5 reader 'jsfive' was bundled as its browser script, which exports nothing: the bundler ignored package\.json "exports" \(Parcel 2 does by default: add "@parcel\/resolver-default": \{ "packageExports": true \}/,
      );
    }
  });
});

import { describe, expect, it } from 'vitest';
import { type LoadLimits, LimitError, loadModel, modelFromParsed, parseModel, PredictLimitError } from '../src/index.js';

/**
 * A small file can make predict allocate without bound (50 ZeroPadding1D(2^20) on a 4-step input:
 * ~1 GB, 20 s). Output shapes that cannot fit are refused at load; what a predict allocates is
 * bounded by limits.maxPredictBytes, checked before each array is made.
 */
const input = (shape: (number | null)[]) => ({ class_name: 'InputLayer', config: { batch_input_shape: [null, ...shape], dtype: 'float32', name: 'in' } });
const pad = (i: number, padding: number) => ({ class_name: 'ZeroPadding1D', config: { name: `z${i}`, padding } });

function sequential(layers: Record<string, unknown>[], limits?: Partial<LoadLimits>) {
  return loadModel(sequentialBytes(layers), { files: {}, ...(limits ? { limits } : {}) });
}

function sequentialBytes(layers: Record<string, unknown>[]): Uint8Array {
  const modelJson = {
    format: 'layers-model',
    modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: { class_name: 'Sequential', config: { name: 's', layers } } },
    weightsManifest: [],
  };
  return new TextEncoder().encode(JSON.stringify(modelJson));
}

async function failure(run: () => Promise<unknown>): Promise<Error> {
  const err = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('output shapes checked at load', () => {
  it('three UpSampling1D(2^20): refused naming the layer, its shape and the limit', async () => {
    const up = (i: number) => ({ class_name: 'UpSampling1D', config: { name: `u${i}`, size: 1 << 20 } });
    const err = await failure(() => sequential([input([4, 1]), up(1), up(2), up(3)]));
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).limit).toBe('maxPredictBytes');
    expect(err.message).toContain("layer 'u2' (UpSampling1D): its output shape [null, 4398046511104, 1] needs 4398046511104 values");
    expect(err.message).toContain('beyond the 2147483647 values one typed array may hold');
  });

  it('a per-sample output over maxPredictBytes is refused, and loads once the limit is raised', async () => {
    const layers = [input([4]), { class_name: 'RepeatVector', config: { name: 'r', n: 1 << 20 } }];
    const err = await failure(() => sequential(layers, { maxPredictBytes: 1 << 20 }));
    expect(err).toBeInstanceOf(LimitError);
    expect(err.message).toContain(
      "layer 'r' (RepeatVector): its output shape [null, 1048576, 4] needs 4194304 values (16.0 MiB) for one sample, over the 1048576 bytes (1.0 MiB) allowed by limits.maxPredictBytes.",
    );
    expect(err.message).toContain('limits: { maxPredictBytes: 67108864 }');
    const model = await sequential(layers, { maxPredictBytes: 64 << 20 });
    expect(model.outputShapes).toEqual([[null, 1 << 20, 4]]);
  });

  it('maxPredictBytes must be a positive integer', async () => {
    const err = await failure(() => sequential([input([4])], { maxPredictBytes: -1 }));
    expect(err.message).toBe('Limit `maxPredictBytes` must be a positive integer, received -1.');
  });
});

describe('predict bounded by limits.maxPredictBytes', () => {
  // Steps of unknown size: nothing can be checked at load, the bound holds at predict.
  const chain = Array.from({ length: 50 }, (_, i) => pad(i, 1 << 20));
  const x = { shape: [1, 4, 1], data: new Float32Array(4) };

  it('50 x ZeroPadding1D(2^20): refused before the first large array, on both paths', async () => {
    const model = await sequential([input([null, 1]), ...chain], { maxPredictBytes: 4 << 20 });
    for (const run of [() => model.predict(x), async () => model.predictSync(x)]) {
      const err = await failure(run);
      expect(err).toBeInstanceOf(PredictLimitError);
      expect(err.message).toBe(
        "Layer 'z0' (ZeroPadding1D), called on shape [1, 4, 1]: an array of 2097156 values (8.0 MiB) would bring this predict's intermediate arrays to 8.0 MiB, " +
          'over the 4194304 bytes (4.0 MiB) allowed by limits.maxPredictBytes. If the model is trusted, raise the bound: loadModel(source, { limits: { maxPredictBytes: 67108864 } }) (or parseModel / modelFromParsed with the same limits).',
      );
    }
  });

  it('with the default limit, 256 features padded by 2^20 steps each side are refused before allocating 2 GiB', async () => {
    const model = await sequential([input([null, 256]), pad(0, 1 << 20)]);
    const err = await failure(() => model.predict({ shape: [1, 4, 256], data: new Float32Array(1024) }));
    expect(err).toBeInstanceOf(PredictLimitError);
    expect(err.message).toContain("Layer 'z0' (ZeroPadding1D), called on shape [1, 4, 256]: an array of 536871936 values (2048.0 MiB)");
    expect(err.message).toContain('over the 1073741824 bytes (1024.0 MiB) allowed by limits.maxPredictBytes');
  });

  it('arrays live together count together: each fits, the second beside the first does not', async () => {
    // z0's output is 4 MiB + 16 bytes; z1 makes another while reading it.
    const model = await sequential([input([null, 1]), pad(0, 1 << 19), pad(1, 0)], { maxPredictBytes: 6 << 20 });
    const err = await failure(() => model.predict(x));
    expect(err.message).toContain("Layer 'z1' (ZeroPadding1D), called on shape [1, 1048580, 1]: an array of 1048580 values (4.0 MiB) would bring");
    expect(err.message).toContain('to 8.0 MiB, over the 6291456 bytes');
    const roomy = await sequential([input([null, 1]), pad(0, 1 << 19), pad(1, 0)], { maxPredictBytes: 9 << 20 });
    const y = await roomy.predict(x);
    expect(y.shape).toEqual([1, 1048580, 1]);
  });

  it('a model within the limit runs as before, every time (the count starts afresh)', async () => {
    const model = await sequential([input([null, 1]), pad(0, 2), pad(1, 1)], { maxPredictBytes: 1024 });
    for (let i = 0; i < 3; i++) {
      const y = model.predictSync({ shape: [1, 2, 1], data: Float32Array.of(5, 6) });
      expect(y.shape).toEqual([1, 8, 1]);
      expect([...y.data]).toEqual([0, 0, 0, 5, 6, 0, 0, 0]);
    }
  });
});

describe('configs checked at load whatever the input steps', () => {
  // With steps of unknown size the config was never read at load, and predict used it unchecked.
  for (const [className, config, message] of [
    ['UpSampling1D', { size: 2 ** 60 }, '`size` must be a positive integer'],
    ['UpSampling1D', { size: (1 << 20) + 1 }, "`size` is 1048577, over gru's bound of 1048576."],
    ['ZeroPadding1D', { padding: 2 ** 60 }, '`padding` must be a non-negative int or a pair of them'],
    ['ZeroPadding1D', { padding: -1 }, '`padding` must be a non-negative int or a pair of them'],
    ['Cropping1D', { cropping: [2 ** 40, 0] }, '`cropping` must be a non-negative int or a pair of them'],
  ] as const) {
    it(`${className}(${JSON.stringify(config)}) on [null, null, 1]`, async () => {
      const err = await failure(() => sequential([input([null, 1]), { class_name: className, config: { name: 'l', ...config } }]));
      expect(err.message).toContain(`layer 'l' (${className}): ${message}`);
    });
  }
});

describe('a broadcast op is counted before it allocates', () => {
  const tensorRef = (layer: string, shape: (number | null)[]) => ({
    class_name: '__keras_tensor__',
    config: { shape, dtype: 'float32', keras_history: [layer, 0, 0] },
  });
  const inputLayer = (name: string, shape: (number | null)[]) => ({
    module: 'keras.layers',
    class_name: 'InputLayer',
    config: { batch_shape: shape, dtype: 'float32', name },
    registered_name: null,
    name,
    inbound_nodes: [],
  });

  it('x + y of (1, 4096, 1) and (1, 1, 4096): 64 MiB refused under a 16 MiB bound, naming the op', async () => {
    const add = {
      module: 'keras.src.ops.numpy',
      class_name: 'Add',
      config: { name: 'add' },
      registered_name: 'Add',
      name: 'add',
      inbound_nodes: [{ args: [tensorRef('a', [null, null, 1]), tensorRef('b', [null, 1, null])], kwargs: {} }],
    };
    const config = {
      name: 'f',
      layers: [inputLayer('a', [null, null, 1]), inputLayer('b', [null, 1, null]), add],
      input_layers: [
        ['a', 0, 0],
        ['b', 0, 0],
      ],
      output_layers: [['add', 0, 0]],
    };
    const modelJson = {
      format: 'layers-model',
      modelTopology: { keras_version: '3.15.1', backend: 'tensorflow', model_config: { class_name: 'Functional', config } },
      weightsManifest: [],
    };
    const model = await loadModel(new TextEncoder().encode(JSON.stringify(modelJson)), { files: {}, limits: { maxPredictBytes: 16 << 20 } });
    const x = [
      { shape: [1, 4096, 1], data: new Float32Array(4096) },
      { shape: [1, 1, 4096], data: new Float32Array(4096) },
    ];
    const err = await failure(() => model.predictOutputs(x));
    expect(err).toBeInstanceOf(PredictLimitError);
    expect(err.message).toContain("Layer 'add' (Add), called on shape [1, 4096, 1], [1, 1, 4096]: an array of 16777216 values (64.0 MiB) would bring");
  });
});

describe('bounded config sizes say what the bound is', () => {
  it('a pool_size over 2^20 names the bound, not only "positive integer"', async () => {
    const err = await failure(() =>
      sequential([input([null, 1]), { class_name: 'MaxPooling1D', config: { name: 'p', pool_size: 2 ** 30, strides: 1, padding: 'same' } }]),
    );
    expect(err.message).toContain(
      "layer 'p' (MaxPooling1D): `pool_size` must be a positive integer up to 1048576 (gru's bound) or a 1-tuple of one, found 1073741824.",
    );
  });

  it('a size over 2^31 names the bound', async () => {
    const err = await failure(() => sequential([input([null, 1]), { class_name: 'UpSampling1D', config: { name: 'u', size: 2 ** 32 } }]));
    expect(err.message).toContain("layer 'u' (UpSampling1D): `size` must be a positive integer up to 2^31 (gru's bound), found 4294967296.");
  });
});

describe('maxPredictBytes holds for each sample of the batch the caller chose', () => {
  // One ZeroPadding1D(2^16) on 4 steps of 4 features: 2 x 65,540 x 4 x 4 bytes = 2 MiB per sample.
  const layers = [input([null, 4]), pad(0, 1 << 16)];
  const x = (batch: number) => ({ shape: [batch, 4, 4], data: new Float32Array(batch * 16) });

  it('a batch of 8 may hold 8 times the bound; one sample over it is still refused', async () => {
    const model = await sequential(layers, { maxPredictBytes: 3 << 20 });
    expect(model.predictSync(x(8)).shape).toEqual([8, 131076, 4]);
    const strict = await sequential(layers, { maxPredictBytes: 1 << 20 });
    const err = await failure(async () => strict.predictSync(x(8)));
    expect(err).toBeInstanceOf(PredictLimitError);
    expect(err.message).toContain('allowed by limits.maxPredictBytes: 1048576 bytes per sample x 8 samples');
    expect(err.message).toContain('maxPredictBytes: 67108864');
  });

  it('modelFromParsed keeps the limits parseModel was given, unless it is given its own', async () => {
    const parsed = await parseModel(sequentialBytes(layers), { files: {}, limits: { maxPredictBytes: 1 << 20 } });
    expect(parsed.maxPredictBytes).toBe(1 << 20);
    await expect(failure(async () => modelFromParsed(parsed).predictSync(x(1)))).resolves.toBeInstanceOf(PredictLimitError);
    expect(modelFromParsed(parsed, { limits: { maxPredictBytes: 4 << 20 } }).predictSync(x(1)).shape).toEqual([1, 131076, 4]);
    const plain = await parseModel(sequentialBytes(layers), { files: {} });
    expect(plain.maxPredictBytes).toBeUndefined();
    expect(modelFromParsed(plain).predictSync(x(1)).shape).toEqual([1, 131076, 4]);
  });
});

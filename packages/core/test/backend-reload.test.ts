import { afterEach, describe, expect, it } from 'vitest';
import { GRU, GRU_BACKEND_SPEC_VERSION, referenceBackend, registerBackend, unregisterBackend, type GruBackend, type PreparedGru } from '../src/index.js';

// A backend whose prepared layers die with it (wasm frees its module, webgpu destroys its device):
// after the application disposes the backend and loads it again, or after a GPU device loss, a
// layer that ran on it must prepare its weights again, not fail every call from then on.

/** The reference backend, but dispose() kills what it prepared (as wasm's does), and load() revives the backend. */
function mortalBackend(name: string, withIsDisposed: boolean | 'throws' = true) {
  let generation = 0;
  let loaded = true;
  const prepares = { count: 0 };
  const wrap = (p: PreparedGru): PreparedGru => {
    const born = generation;
    const check = () => {
      if (born !== generation) throw new Error(`${name}: the backend this layer was prepared on was disposed`);
    };
    const prepared: PreparedGru = {
      spec: p.spec,
      setWeights: (w) => {
        check();
        return p.setWeights(w);
      },
      dispose: () => p.dispose(),
      forward: async (r) => {
        check();
        return p.forwardSync!(r);
      },
      forwardSync: (r) => {
        check();
        return p.forwardSync!(r);
      },
    };
    if (withIsDisposed === 'throws') {
      prepared.isDisposed = () => {
        if (born !== generation) throw new Error(`${name}: isDisposed() failed`);
        return false;
      };
    } else if (withIsDisposed) {
      prepared.isDisposed = () => born !== generation;
    }
    return prepared;
  };
  const backend: GruBackend = {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name,
    priority: 100,
    load: async () => {
      loaded = true;
    },
    isLoaded: () => loaded,
    supports: (spec, call) => referenceBackend.supports(spec, call),
    prepare: async (spec, weights) => {
      if (!loaded) throw new Error(`${name}: not loaded`);
      prepares.count++;
      return wrap(referenceBackend.prepareSync!(spec, weights));
    },
    prepareSync: (spec, weights) => {
      if (!loaded) throw new Error(`${name}: not loaded`);
      prepares.count++;
      return wrap(referenceBackend.prepareSync!(spec, weights));
    },
    dispose: () => {
      generation++;
      loaded = false;
    },
  };
  return { backend, prepares };
}

const x = { shape: [2, 3, 4], data: Array.from({ length: 24 }, (_, i) => Math.sin(i)) };
const registered: string[] = [];
afterEach(() => {
  while (registered.length) unregisterBackend(registered.pop() as string);
});

function register(b: GruBackend): void {
  registerBackend(b);
  registered.push(b.name);
}

describe('a layer outlives a dispose() and load() of its backend', () => {
  it('forward prepares again on the reloaded backend, with the same weights and result', async () => {
    const { backend, prepares } = mortalBackend('mortal-async');
    register(backend);
    const gru = new GRU({ units: 3, seed: 1, backend: 'mortal-async' });
    const before = await gru.forward(x);
    backend.dispose!();
    await backend.load();
    const after = await gru.forward(x);
    expect(after.backend).toBe('mortal-async');
    expect(Array.from(after.output.data)).toEqual(Array.from(before.output.data));
    expect(prepares.count).toBe(2);
  });

  it('forwardSync after the reload, and a setWeights in between', async () => {
    const { backend, prepares } = mortalBackend('mortal-sync');
    register(backend);
    const gru = new GRU({ units: 3, seed: 2, backend: 'mortal-sync' });
    const before = gru.forwardSync(x);
    backend.dispose!();
    await backend.load();
    const after = gru.forwardSync(x);
    expect(Array.from(after.output.data)).toEqual(Array.from(before.output.data));
    expect(prepares.count).toBe(2);
    backend.dispose!();
    await backend.load();
    gru.setWeights(gru.getWeights());
    expect(Array.from(gru.forwardSync(x).output.data)).toEqual(Array.from(before.output.data));
  });

  it('a new stream of a stateful layer after the reload steps as the first one did', async () => {
    const { backend } = mortalBackend('mortal-stream');
    register(backend);
    const gru = new GRU({ units: 3, seed: 5, stateful: true, backend: 'mortal-stream' });
    const input = Float32Array.from(x.data.slice(0, 8));
    const first = gru.stream({ batch: 2, features: 4 });
    const before = Array.from(first.step(input));
    first.close();
    gru.resetStates();
    backend.dispose!();
    await backend.load();
    const second = gru.stream({ batch: 2, features: 4 });
    expect(Array.from(second.step(input))).toEqual(before);
    second.close();
  });

  it('a stream made before the reload steps on after it (it binds again), continuing the state', async () => {
    const { backend } = mortalBackend('mortal-live-stream');
    register(backend);
    const gru = new GRU({ units: 3, seed: 6, stateful: true, backend: 'mortal-live-stream' });
    const twin = new GRU({ units: 3, seed: 6, stateful: true, backend: 'reference' });
    const steps = [0, 1].map((t) => Float32Array.from(x.data.slice(t * 8, t * 8 + 8)));
    const stream = gru.stream({ batch: 2, features: 4 });
    twin.build([2, 1, 4]);
    twin.setWeights(gru.getWeights());
    stream.step(steps[0]);
    twin.forwardSync({ shape: [2, 1, 4], data: steps[0] });
    backend.dispose!();
    await backend.load();
    const after = Array.from(stream.step(steps[1]));
    expect(after).toEqual(Array.from(twin.forwardSync({ shape: [2, 1, 4], data: steps[1] }).output.data));
    stream.close();
  });

  it('a prepared layer whose isDisposed() throws is taken as gone: the layer prepares again', async () => {
    const { backend, prepares } = mortalBackend('mortal-throws', 'throws');
    register(backend);
    const gru = new GRU({ units: 3, seed: 8, backend: 'mortal-throws' });
    const before = await gru.forward(x);
    backend.dispose!();
    await backend.load();
    expect(Array.from((await gru.forward(x)).output.data)).toEqual(Array.from(before.output.data));
    expect(Array.from(gru.forwardSync(x).output.data)).toEqual(Array.from(before.output.data));
    expect(prepares.count).toBe(2);
  });

  it('automatic selection uses the reloaded backend rather than failing', async () => {
    const { backend } = mortalBackend('mortal-auto');
    register(backend);
    const gru = new GRU({ units: 3, seed: 3 });
    expect((await gru.forward(x)).backend).toBe('mortal-auto');
    backend.dispose!();
    await backend.load();
    expect((await gru.forward(x)).backend).toBe('mortal-auto');
  });

  it('a prepared layer that does not implement isDisposed() is used as before', async () => {
    const { backend, prepares } = mortalBackend('mortal-silent', false);
    register(backend);
    const gru = new GRU({ units: 3, seed: 4, backend: 'mortal-silent' });
    await gru.forward(x);
    await gru.forward(x);
    expect(prepares.count).toBe(1);
  });
});

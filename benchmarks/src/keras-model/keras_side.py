"""Keras's half of benchmarks/src/keras-model/run.mjs: builds the benchmark model with a fixed seed,
saves it as .keras, and times Keras's own model.predict on it (jax backend, CPU).

usage: python keras_side.py OUT_DIR BATCH STEPS FEATURES REPS
Writes OUT_DIR/model.keras and OUT_DIR/keras.json: {input, output (float32 lists), timesMs, keras,
backend}. Run with KERAS_BACKEND=jax JAX_PLATFORMS=cpu (run.mjs sets both).
"""
import json
import os
import sys
import time

import numpy as np

import keras


def main():
    out_dir, batch, steps, features, reps = sys.argv[1], *map(int, sys.argv[2:6])
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((steps, features)),
            keras.layers.Conv1D(64, 3, padding='same', activation='relu'),
            keras.layers.GRU(128),
            keras.layers.Dense(10),
        ],
        name='conv_gru_dense',
    )
    x = np.random.default_rng(1).uniform(-1, 1, (batch, steps, features)).astype(np.float32)
    path = os.path.join(out_dir, 'model.keras')
    model.save(path)
    # Warm-up compiles the predict function for this batch size; the timed calls reuse it.
    y = model.predict(x, batch_size=batch, verbose=0)
    model.predict(x, batch_size=batch, verbose=0)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        model.predict(x, batch_size=batch, verbose=0)
        times.append((time.perf_counter() - t) * 1000)
    with open(os.path.join(out_dir, 'keras.json'), 'w') as f:
        json.dump(
            {
                'input': x.ravel().tolist(),
                'shape': list(x.shape),
                'output': y.ravel().tolist(),
                'timesMs': times,
                'keras': keras.__version__,
                'backend': keras.backend.backend(),
            },
            f,
        )


if __name__ == '__main__':
    main()

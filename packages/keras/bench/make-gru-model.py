"""Writes a Keras 3 GRU model of a chosen size without Keras: config.json (copied from the
conformance case gru_small, with `units` changed), model.weights.h5 laid out as Keras 3 writes it
(h5py, contiguous datasets), and a .keras archive of both. Used by test fixtures (zero weights,
which compress to almost nothing) and by bench/load-memory.mjs (random weights, a real size).

usage: python make-gru-model.py OUT_PREFIX UNITS {zeros|random} [--deflate] [--gzip]
"""
import json
import os
import sys
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SAVED = os.path.join(HERE, '..', '..', '..', 'conformance', 'cases', 'keras-3.15.1-saved', 'gru_small.json')


def main():
    prefix, units, fill = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    deflate = '--deflate' in sys.argv
    gzip = '--gzip' in sys.argv
    inner = json.load(open(SAVED))['model_config']
    config = {'module': 'keras.src.models.sequential', 'class_name': 'Sequential', 'config': inner, 'registered_name': None}
    gru = next(l for l in config['config']['layers'] if l['class_name'] == 'GRU')
    gru['config']['units'] = units
    features = config['config']['layers'][0]['config']['batch_shape'][-1]
    dense = next(l for l in config['config']['layers'] if l['class_name'] == 'Dense')
    out = dense['config']['units']
    rng = np.random.default_rng(0)

    def values(*shape):
        if fill == 'zeros':
            return np.zeros(shape, np.float32)
        return (rng.standard_normal(shape, dtype=np.float32) * 0.05).astype(np.float32)

    weights = prefix + '.weights.h5'
    with h5py.File(weights, 'w') as f:
        f.create_group('vars').attrs['name'] = 'sequential'
        cell = f.create_group('layers/gru/cell/vars')
        cell.attrs['name'] = 'gru_cell'
        f.create_group('layers/gru/vars').attrs['name'] = 'gru'
        def put(group, name, data):
            # --gzip: chunked, gzip-compressed datasets (Keras never writes them; the loader refuses them)
            group.create_dataset(name, data=data, chunks=True if gzip else None, compression='gzip' if gzip else None)

        put(cell, '0', values(features, 3 * units))
        put(cell, '1', values(units, 3 * units))
        put(cell, '2', values(2, 3 * units))
        d = f.create_group('layers/dense/vars')
        d.attrs['name'] = 'dense'
        put(d, '0', values(units, out))
        put(d, '1', values(out))
    with open(prefix + '.json', 'w') as f:
        json.dump(config, f)
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(prefix + '.keras', 'w', compression=method) as z:
        z.writestr('metadata.json', json.dumps({'keras_version': '3.15.1'}))
        z.writestr('config.json', json.dumps(config))
        z.write(weights, 'model.weights.h5')


if __name__ == '__main__':
    main()

"""Writes the fixtures for test/kernels: real Keras 3.15.1 layers (numpy backend) run eagerly on
small random inputs with random weights, several configs per layer, with masks where they apply.

Masks are attached to the input tensors (`set_keras_mask`) and the layer is called without a
`mask=` argument, as a Functional graph calls it: Keras itself decides which mask reaches `call`
(GlobalMaxPooling1D's call takes none) and which mask the output carries (`out_mask`).

Run from the repository root:
    $(bash scripts/keras-venv.sh) packages/keras/test/kernels/generate_kernel_fixtures.py
"""

import json
import os
import sys

# LayerNormalization's cases come from the jax backend (see layer_normalization below); the
# script re-runs itself for them.
BACKEND = "jax" if "--layer-normalization" in sys.argv else "numpy"
os.environ["KERAS_BACKEND"] = BACKEND

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras.src import backend  # noqa: E402
from keras.src.backend.common import dtypes  # noqa: E402

# float64 layers compute in float64, as on the TensorFlow backend: stock Keras's numpy and jax
# backends demote float64 to float32 inside ops (see shared/keras-refs/README.md, "float64"), and
# the conformance generator disables that mapping the same way. float32 cases are unaffected.
dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"
if BACKEND == "jax":
    import jax  # noqa: E402

    jax.config.update("jax_enable_x64", True)

assert keras.__version__ == "3.15.1", keras.__version__

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
rng = np.random.default_rng(20261206)


def short(v, dtype):
    # The shortest repr of the value in its own dtype: JSON.parse then the typed array give it back.
    return float(np.format_float_positional(np.dtype(dtype).type(v), unique=True, trim="-"))


def t(a, dtype=None):
    a = np.asarray(a)
    if a.dtype == bool:
        return {"shape": list(a.shape), "data": [int(v) for v in a.reshape(-1)]}
    dtype = dtype or str(a.dtype)
    return {"shape": list(a.shape), "data": [short(v, dtype) for v in a.reshape(-1)]}


def rand(shape, dtype="float32", scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def rand_mask(batch, steps, full_row=None, empty_row=None):
    m = rng.random((batch, steps)) > 0.35
    m[:, 0] = True
    if full_row is not None:
        m[full_row] = True
    if empty_row is not None:
        m[empty_row] = False
    return m


def randomize(layer, dtype):
    # Random weights in place of Keras's initializers (ones/zeros would hide mistakes).
    ws = []
    for w in layer.get_weights():
        ws.append(rand(w.shape, dtype, 0.6))
    layer.set_weights(ws)
    return [np.asarray(w) for w in layer.get_weights()]


def with_mask(x, mask):
    if mask is not None:
        backend.set_keras_mask(x, mask)
    return x


def out_mask(y):
    m = backend.get_keras_mask(y)
    return None if m is None else t(np.asarray(m).astype(bool))


def clean_config(cfg):
    drop = {"name", "trainable", "dtype", "kernel_initializer", "bias_initializer", "kernel_regularizer",
            "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
            "beta_initializer", "gamma_initializer", "beta_regularizer", "gamma_regularizer",
            "beta_constraint", "gamma_constraint", "moving_mean_initializer", "moving_variance_initializer"}
    return {k: v for k, v in cfg.items() if k not in drop}


def single(cls, config, x, mask=None, dtype="float32", weights_fn=None):
    layer = cls(**config, dtype=dtype)
    layer.build(x.shape)
    weights = weights_fn(layer) if weights_fn else randomize(layer, dtype)
    xin = with_mask(x.copy(), mask)
    y = layer(xin)
    return {
        "config": clean_config(layer.get_config()),
        "dtype": dtype,
        "x": t(x),
        "mask": None if mask is None else t(mask),
        "weights": [t(w) for w in weights],
        "y": t(np.asarray(y), dtype),
        "out_mask": out_mask(y),
    }


def write(name, cases):
    path = os.path.join(OUT, f"{name}.json")
    with open(path, "w") as f:
        json.dump({"keras_version": keras.__version__, "backend": BACKEND, "cases": cases}, f,
                  separators=(",", ":"))
    print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes", file=sys.stderr)


def conv1d():
    cases = []
    specs = [
        ("valid_relu", dict(filters=4, kernel_size=3, activation="relu"), (2, 7, 3), False),
        ("same_even_kernel_strides2", dict(filters=3, kernel_size=4, strides=2, padding="same"), (2, 9, 3), False),
        ("causal_dilation2", dict(filters=3, kernel_size=3, dilation_rate=2, padding="causal"), (2, 8, 2), True),
        ("same_dilation2_tanh", dict(filters=2, kernel_size=3, dilation_rate=2, padding="same", activation="tanh"), (1, 6, 3), False),
        ("valid_strides3_groups2_nobias", dict(filters=6, kernel_size=2, strides=3, groups=2, use_bias=False), (2, 10, 4), False),
        ("same_strides2_groups3", dict(filters=3, kernel_size=5, strides=2, padding="same", groups=3), (2, 7, 6), False),
        ("causal_strides2", dict(filters=2, kernel_size=3, strides=2, padding="causal"), (1, 7, 2), False),
        ("channels_first_valid", dict(filters=3, kernel_size=2, data_format="channels_first"), (2, 3, 5), False),
        ("channels_first_same_groups", dict(filters=4, kernel_size=3, padding="same", groups=2, data_format="channels_first"), (1, 4, 6), False),
        ("kernel_longer_than_input_same", dict(filters=2, kernel_size=6, padding="same"), (1, 3, 2), False),
    ]
    for name, cfg, shape, masked in specs:
        x = rand(shape)
        mask = rand_mask(shape[0], shape[1]) if masked else None
        cases.append({"name": name, **single(keras.layers.Conv1D, cfg, x, mask)})
    x = rand((2, 6, 3), "float64")
    cases.append({"name": "float64_same", **single(keras.layers.Conv1D, dict(filters=3, kernel_size=3, padding="same"), x, None, "float64")})
    write("conv1d", cases)


def pooling1d():
    cases = []
    specs = [
        ("max_valid_default", keras.layers.MaxPooling1D, dict(), (2, 7, 3), True),
        ("max_same_pool3_strides2", keras.layers.MaxPooling1D, dict(pool_size=3, strides=2, padding="same"), (2, 8, 2), False),
        ("max_valid_pool2_strides1", keras.layers.MaxPooling1D, dict(pool_size=2, strides=1), (1, 5, 2), False),
        ("max_same_strides_over_pool", keras.layers.MaxPooling1D, dict(pool_size=2, strides=3, padding="same"), (1, 8, 2), False),
        ("avg_valid_pool3", keras.layers.AveragePooling1D, dict(pool_size=3), (2, 10, 2), True),
        ("avg_same_pool3_strides1", keras.layers.AveragePooling1D, dict(pool_size=3, strides=1, padding="same"), (2, 6, 3), False),
        ("avg_same_pool4_strides3", keras.layers.AveragePooling1D, dict(pool_size=4, strides=3, padding="same"), (1, 11, 2), False),
        ("avg_same_pool_longer_than_input", keras.layers.AveragePooling1D, dict(pool_size=5, strides=1, padding="same"), (1, 3, 2), False),
        ("max_channels_first", keras.layers.MaxPooling1D, dict(pool_size=2, data_format="channels_first"), (2, 3, 6), False),
        ("avg_channels_first_same", keras.layers.AveragePooling1D, dict(pool_size=3, strides=2, padding="same", data_format="channels_first"), (1, 2, 7), False),
    ]
    for name, cls, cfg, shape, masked in specs:
        x = rand(shape)
        mask = rand_mask(shape[0], shape[1]) if masked else None
        cases.append({"name": name, "layer": cls.__name__, **single(cls, cfg, x, mask)})
    write("pooling1d", cases)


def global_pooling1d():
    cases = []
    G_AVG, G_MAX = keras.layers.GlobalAveragePooling1D, keras.layers.GlobalMaxPooling1D
    specs = [
        ("avg_plain", G_AVG, dict(), (2, 5, 3), None),
        ("avg_masked", G_AVG, dict(), (3, 6, 2), dict()),
        ("avg_masked_keepdims", G_AVG, dict(keepdims=True), (2, 5, 3), dict()),
        ("avg_masked_channels_first", G_AVG, dict(data_format="channels_first"), (2, 3, 5), "cf"),
        ("max_plain_keepdims", G_MAX, dict(keepdims=True), (2, 4, 3), None),
        ("max_masked_mask_ignored", G_MAX, dict(), (2, 6, 3), dict()),
        ("max_channels_first", G_MAX, dict(data_format="channels_first"), (2, 3, 4), None),
    ]
    for name, cls, cfg, shape, masked in specs:
        x = rand(shape)
        steps = shape[2] if masked == "cf" else shape[1]
        mask = None if masked is None else rand_mask(shape[0], steps, full_row=0)
        cases.append({"name": name, "layer": cls.__name__, **single(cls, cfg, x, mask)})
    write("global_pooling1d", cases)


def layer_normalization():
    # Keras's numpy backend computes the variance as mean(x^2) - mean^2 in float32, which loses
    # digits for inputs away from zero (9.5e-5 from the exact value on axis_last_offset_input, where
    # the jax backend is within 1.6e-6): these cases are taken from the jax backend.
    assert BACKEND == "jax"
    cases = []
    LN = keras.layers.LayerNormalization
    specs = [
        ("axis_last", dict(), (2, 4, 5), True, "float32", 1.0),
        ("axis_last_offset_input", dict(epsilon=1e-5), (2, 3, 6), False, "float32", 1.0),
        ("axes_1_2", dict(axis=[1, 2]), (2, 3, 4), False, "float32", 1.0),
        ("axes_neg1_1_unsorted_positions", dict(axis=[-1, 1]), (2, 3, 4), False, "float32", 1.0),
        ("axis_1_time", dict(axis=1), (2, 5, 3), False, "float32", 1.0),
        ("no_center", dict(center=False), (2, 3, 4), False, "float32", 1.0),
        ("no_scale_no_center", dict(center=False, scale=False), (2, 3, 4), False, "float32", 1.0),
        ("rms_scaling", dict(rms_scaling=True), (2, 3, 5), True, "float32", 1.0),
        ("rank2", dict(), (4, 6), False, "float32", 1.0),
        ("float64", dict(epsilon=1e-6), (2, 3, 4), False, "float64", 1.0),
    ]
    for name, cfg, shape, masked, dtype, _ in specs:
        x = rand(shape, dtype)
        if name == "axis_last_offset_input":
            x = (x * 0.5 + 3.0).astype(dtype)
        mask = rand_mask(shape[0], shape[1]) if masked else None
        cases.append({"name": name, **single(LN, cfg, x, mask, dtype)})
    write("layer_normalization", cases)


def batch_normalization():
    cases = []
    BN = keras.layers.BatchNormalization

    def stats(layer):
        ws = []
        for w in layer.weights:
            if "variance" in w.path:
                ws.append((rng.random(w.shape) * 2 + 0.05).astype(layer.dtype))
            else:
                ws.append(rand(w.shape, layer.dtype, 0.8))
        layer.set_weights(ws)
        return [np.asarray(w) for w in layer.get_weights()]

    specs = [
        ("axis_last_masked", dict(), (2, 4, 3), True, "float32"),
        ("axis_1_time", dict(axis=1), (2, 4, 3), False, "float32"),
        ("no_center", dict(center=False, epsilon=1e-5), (2, 3, 4), False, "float32"),
        ("no_scale", dict(scale=False), (2, 3, 4), False, "float32"),
        ("neither", dict(center=False, scale=False), (2, 3, 2), False, "float32"),
        ("rank2", dict(), (5, 3), False, "float32"),
        ("float64", dict(epsilon=1e-4), (2, 3, 3), False, "float64"),
    ]
    for name, cfg, shape, masked, dtype in specs:
        x = rand(shape, dtype)
        mask = rand_mask(shape[0], shape[1]) if masked and len(shape) == 3 else None
        cases.append({"name": name, **single(BN, cfg, x, mask, dtype, stats)})
    write("batch_normalization", cases)


def reshaping1d():
    cases = []
    specs = [
        ("upsampling_3", keras.layers.UpSampling1D, dict(size=3), (2, 3, 2), True),
        ("zeropadding_1_2", keras.layers.ZeroPadding1D, dict(padding=(1, 2)), (2, 3, 2), True),
        ("zeropadding_channels_first", keras.layers.ZeroPadding1D, dict(padding=2, data_format="channels_first"), (1, 2, 3), False),
        ("cropping_1_2", keras.layers.Cropping1D, dict(cropping=(1, 2)), (2, 6, 2), True),
        ("cropping_0_1", keras.layers.Cropping1D, dict(cropping=(0, 1)), (1, 3, 2), False),
    ]
    for name, cls, cfg, shape, masked in specs:
        x = rand(shape)
        mask = rand_mask(shape[0], shape[1]) if masked else None
        cases.append({"name": name, "layer": cls.__name__, **single(cls, cfg, x, mask)})
    write("reshaping1d", cases)


def attention_family():
    cases = []
    # (name, class, config, B, Tq, Tv, dim, key?, q_mask?, v_mask?, causal, return_scores, empty_row)
    specs = [
        ("dot", keras.layers.Attention, dict(), 2, 3, 4, 3, False, False, False, False, False),
        ("dot_scale_masks_scores", keras.layers.Attention, dict(use_scale=True), 2, 4, 5, 3, False, True, True, False, True),
        ("dot_key_causal", keras.layers.Attention, dict(), 2, 4, 4, 2, True, False, False, True, True),
        ("dot_causal_vmask", keras.layers.Attention, dict(), 2, 5, 5, 3, False, False, True, True, False),
        ("dot_empty_value_row", keras.layers.Attention, dict(), 2, 3, 4, 2, False, True, "empty", False, True),
        ("concat", keras.layers.Attention, dict(score_mode="concat"), 2, 3, 4, 3, False, True, True, False, False),
        ("concat_scale_key_dropout", keras.layers.Attention, dict(score_mode="concat", use_scale=True, dropout=0.3), 1, 3, 5, 2, True, False, True, False, True),
        ("additive", keras.layers.AdditiveAttention, dict(), 2, 3, 4, 3, False, True, True, False, True),
        ("additive_noscale_key_causal", keras.layers.AdditiveAttention, dict(use_scale=False), 2, 4, 4, 2, True, True, False, True, False),
        # float64 keeps the score under Keras's "score - 1e9": a fully masked row is softmax(score), not uniform.
        ("float64_dot_empty_value_row", keras.layers.Attention, dict(use_scale=True), 2, 3, 4, 2, False, False, "empty", False, True, "float64"),
        ("float64_additive_empty_value_row", keras.layers.AdditiveAttention, dict(), 2, 3, 4, 2, False, True, "empty", False, True, "float64"),
    ]
    for name, cls, cfg, B, Tq, Tv, dim, has_key, qm, vm, causal, scores, *rest in specs:
        dtype = rest[0] if rest else "float32"
        q, v = rand((B, Tq, dim), dtype), rand((B, Tv, dim), dtype)
        k = rand((B, Tv, dim), dtype) if has_key else None
        q_mask = rand_mask(B, Tq) if qm else None
        v_mask = rand_mask(B, Tv, empty_row=1) if vm == "empty" else rand_mask(B, Tv) if vm else None
        # A key mask is given to Keras too: Attention ignores it (it reads mask[0] and mask[1] only).
        k_mask = rand_mask(B, Tv) if has_key else None
        layer = cls(**cfg, dtype=dtype)
        inputs = [with_mask(q.copy(), q_mask), with_mask(v.copy(), v_mask)]
        shapes = [q.shape, v.shape]
        if has_key:
            inputs.append(with_mask(k.copy(), k_mask))
            shapes.append(k.shape)
        layer.build(shapes)
        weights = randomize(layer, dtype)
        masks = [q_mask, v_mask] + ([k_mask] if has_key else [])
        any_mask = any(m is not None for m in masks)
        res = layer(inputs, mask=masks if any_mask else None, return_attention_scores=scores, use_causal_mask=causal)
        y, s = (res if scores else (res, None))
        cases.append({
            "name": name, "layer": cls.__name__, "config": clean_config(layer.get_config()), "dtype": dtype,
            "q": t(q), "v": t(v), "k": t(k) if has_key else None,
            "q_mask": t(q_mask) if q_mask is not None else None,
            "v_mask": t(v_mask) if v_mask is not None else None,
            "k_mask": t(k_mask) if k_mask is not None else None,
            "use_causal_mask": causal, "return_attention_scores": scores,
            "weights": [t(w) for w in weights],
            "y": t(np.asarray(y), dtype), "scores": t(np.asarray(s), dtype) if scores else None,
            "out_mask": out_mask(y),
        })
    write("attention", cases)


def multi_head_attention():
    cases = []
    MHA = keras.layers.MultiHeadAttention
    # (name, config, B, Tq, Tv, dq, dv, dk|None, masks: subset of "qvka", causal, scores, dtype)
    specs = [
        ("self_default", dict(num_heads=2, key_dim=3), 2, 4, 4, 5, 5, None, "", False, False, "float32"),
        ("cross_key_value_dim_output_shape", dict(num_heads=3, key_dim=2, value_dim=4, output_shape=6), 2, 3, 5, 4, 3, 2, "", False, False, "float32"),
        ("output_shape_tuple_nobias", dict(num_heads=2, key_dim=2, use_bias=False, output_shape=(2, 3)), 1, 3, 4, 3, 2, None, "", False, False, "float32"),
        ("masks_q_v_fused", dict(num_heads=2, key_dim=3), 2, 4, 5, 3, 3, None, "qv", False, False, "float32"),
        ("masks_q_v_k_attention_scores", dict(num_heads=2, key_dim=2), 2, 4, 5, 3, 3, 3, "qvka", False, True, "float32"),
        ("empty_row_fused_uniform", dict(num_heads=2, key_dim=2), 2, 3, 4, 3, 3, None, "qv!", False, False, "float32"),
        ("empty_row_scores_zeroed", dict(num_heads=2, key_dim=2), 2, 3, 4, 3, 3, None, "qv!", False, True, "float32"),
        ("empty_row_dropout_path", dict(num_heads=2, key_dim=2, dropout=0.25), 2, 3, 4, 3, 3, None, "qv!", False, False, "float32"),
        ("causal_only", dict(num_heads=2, key_dim=3), 2, 5, 5, 4, 4, None, "", True, False, "float32"),
        ("causal_with_masks_scores", dict(num_heads=1, key_dim=4), 2, 4, 4, 3, 3, None, "qv", True, True, "float32"),
        ("gate_sliding_window", dict(num_heads=2, key_dim=2, use_gate=True, sliding_window=2), 2, 5, 5, 3, 3, None, "v", False, False, "float32"),
        ("float64_masks", dict(num_heads=2, key_dim=3), 2, 3, 4, 4, 2, None, "qva", False, False, "float64"),
    ]
    for name, cfg, B, Tq, Tv, dq, dv, dk, masks, causal, scores, dtype in specs:
        q, v = rand((B, Tq, dq), dtype), rand((B, Tv, dv), dtype)
        k = rand((B, Tv, dk), dtype) if dk else None
        q_mask = rand_mask(B, Tq) if "q" in masks else None
        v_mask = (rand_mask(B, Tv, empty_row=1) if "!" in masks else rand_mask(B, Tv)) if "v" in masks else None
        k_mask = rand_mask(B, Tv) if "k" in masks else None
        att = (rng.random((B, Tq, Tv)) > 0.3) if "a" in masks else None
        if att is not None:
            att[:, :, 0] = True
        layer = MHA(**cfg, dtype=dtype)
        layer.build(q.shape, v.shape, k.shape if k is not None else None)
        weights = randomize(layer, dtype)
        kwargs = dict(return_attention_scores=scores, use_causal_mask=causal)
        if k is not None:
            kwargs["key"] = with_mask(k.copy(), k_mask)
        if att is not None:
            kwargs["attention_mask"] = att
        res = layer(with_mask(q.copy(), q_mask), with_mask(v.copy(), v_mask), **kwargs)
        y, s = (res if scores else (res, None))
        cases.append({
            "name": name, "config": clean_config(layer.get_config()), "dtype": dtype,
            "q": t(q), "v": t(v), "k": t(k) if k is not None else None,
            "q_mask": t(q_mask) if q_mask is not None else None,
            "v_mask": t(v_mask) if v_mask is not None else None,
            "k_mask": t(k_mask) if k_mask is not None else None,
            "attention_mask": t(att) if att is not None else None,
            "use_causal_mask": causal, "return_attention_scores": scores,
            "weight_paths": [w.path.split("/", 1)[1] for w in layer.weights],
            "weights": [t(w) for w in weights],
            "y": t(np.asarray(y), dtype), "scores": t(np.asarray(s), dtype) if scores else None,
            "out_mask": out_mask(y),
        })
    write("multi_head_attention", cases)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    if BACKEND == "jax":
        layer_normalization()
        sys.exit(0)
    import subprocess

    subprocess.run([sys.executable, os.path.abspath(__file__), "--layer-normalization"], check=True)
    conv1d()
    pooling1d()
    global_pooling1d()
    batch_normalization()
    reshaping1d()
    attention_family()
    multi_head_attention()

"""errors.json and config_cases.json: tables of checks, run against real Keras.

Imported by generate_cases.py (which has already imported Keras on the numpy
backend and passes the module in).  Nothing is read from the shipped files:
the two tables below are the definitions, committed as Python source.  They
were derived once from the shipped keras-3.15.1 errors.json / config_cases.json.

errors.json entries
-------------------
Each row of ERROR_TABLE is ``E(name, code, stage, run, result=None)``:

* ``name``, ``code``, ``stage`` are written as they are.  ``code`` is the
  human-readable text of the shipped file: for most entries it is valid
  Keras code, for some it is prose ("GRU(4): set_weights with 2 arrays",
  "... -> clamped").  It is NOT executed; it is carried from the table (a
  hand-written field, like ``stage``).
* ``run`` is the Python that IS executed, in a fresh Keras session
  (``keras.backend.clear_session()``, so the first GRU is named ``gru``),
  in a namespace with ``keras``, ``np``, ``GRU``, ``GRUCell``, ``zeros``,
  ``ones`` and the standard inputs ``x`` (float32, shape (B, T, F) =
  (2, 5, 3)) and ``x_t`` (float32, (B, F)).  The values of ``x`` do not
  matter for any recorded field.
* ``result`` is a Python expression evaluated after ``run`` when ``run`` did
  not raise; its value is the entry's ``result``.  Two entries record a fixed
  text ("ok", "ok (no-op)") that only says that Keras accepted the code: that
  text is hand-written, not something Keras returned.

Whether the entry ``raises`` is decided by running it.  When it raises,
``exception_type`` / ``exception_module`` are the exception's class and module,
``message`` is ``str(exception)`` and ``message_core`` is the original message
inside Keras's "Exception encountered when calling ..." wrapper (the text
between the bold escape codes, stripped), or the whole message when there is
no wrapper.  An entry whose outcome disagrees with its ``result`` expression
(raises although a result is expected, or the reverse) is reported as a
warning by the generator.

config_cases.json
-----------------
Each row of CONFIG_TABLE is ``Cfg(name, description, layer, kwargs)``.  The
layer is constructed as ``GRU(**kwargs)`` / ``GRUCell(**kwargs)`` (the name
``gru`` / ``gru_cell`` is passed explicitly unless kwargs has one), and the
generator records ``config`` (get_config() after building on (2, 3, 4) /
(2, 4)), ``config_equal_before_and_after_build``,
``from_config_get_config_equal``, ``serialize`` (``keras.layers.serialize`` of
a fresh layer, unbuilt or built on ``serialize_built_on``, which then appears
as the ``build_config``) and ``deserialize_get_config_equal``.  ``kwargs``
values that are not JSON (``keras.regularizers.L2(1e-4)``, a callable
activation) are Python expressions in ``kwargs_py``.  ``description`` is
hand-written.  ``activation_serialization`` maps each identifier of
ACTIVATION_IDENTIFIERS (``"None"`` stands for ``None``) to what
``GRU(2, activation=identifier).get_config()["activation"]`` is.
"""

import json
from dataclasses import dataclass, field

B, T, F = 2, 5, 3


@dataclass
class E:
    name: str
    code: str  # hand-written text, carried verbatim
    stage: str  # hand-written, carried verbatim
    run: str  # executed
    result: str = None  # expression evaluated when run did not raise


CONFIG_SUBSET = "{k: layer.get_config()[k] for k in ('units', 'dropout', 'recurrent_dropout', " \
                "'activation', 'recurrent_activation', 'use_bias', 'reset_after')}"

ERROR_TABLE = [
    E("units_0", "GRU(units=0)", "constructor", "GRU(units=0)"),
    E("units_-1", "GRU(units=-1)", "constructor", "GRU(units=-1)"),
    E("units_none", "GRU(units=None)", "constructor", "GRU(units=None)"),
    E("units_str", "GRU(units='4')", "constructor", "GRU(units='4')"),
    E("units_float_2.5", "GRU(units=2.5); layer(x)", "constructor+call", "layer = GRU(units=2.5); layer(x)"),
    E("units_float_2.0", "GRU(units=2.0); layer(x)", "constructor+call", "layer = GRU(units=2.0); layer(x)"),
    E("cell_units_0", "GRUCell(units=0)", "constructor", "GRUCell(units=0)"),
    E("dropout_1.5", "GRU(4, dropout=1.5) -> clamped", "constructor", "layer = GRU(4, dropout=1.5)", CONFIG_SUBSET),
    E("dropout_-0.1", "GRU(4, dropout=-0.1) -> clamped", "constructor", "layer = GRU(4, dropout=-0.1)", CONFIG_SUBSET),
    E("recurrent_dropout_2", "GRU(4, recurrent_dropout=2)", "constructor", "layer = GRU(4, recurrent_dropout=2)",
      CONFIG_SUBSET),
    E("recurrent_dropout_-1", "GRU(4, recurrent_dropout=-1)", "constructor", "layer = GRU(4, recurrent_dropout=-1)",
      CONFIG_SUBSET),
    E("dropout_str", "GRU(4, dropout='0.5')", "constructor", "GRU(4, dropout='0.5')"),
    E("activation_nope", "GRU(4, activation='nope')", "constructor", "GRU(4, activation='nope')"),
    E("recurrent_activation_nope", "GRU(4, recurrent_activation='nope')", "constructor",
      "GRU(4, recurrent_activation='nope')"),
    E("activation_int", "GRU(4, activation=3)", "constructor", "GRU(4, activation=3)"),
    E("kernel_initializer_nope", "GRU(4, kernel_initializer='nope')", "constructor",
      "GRU(4, kernel_initializer='nope')"),
    E("kernel_regularizer_nope", "GRU(4, kernel_regularizer='nope')", "constructor",
      "GRU(4, kernel_regularizer='nope')"),
    E("use_cudnn_invalid", "GRU(4, use_cudnn='maybe')", "constructor", "GRU(4, use_cudnn='maybe')"),
    E("use_cudnn_true_numpy", "GRU(4, use_cudnn=True)(x) on the numpy backend", "call", "GRU(4, use_cudnn=True)(x)"),
    E("reset_after_true_use_bias_false", "GRU(4, reset_after=True, use_bias=False)(x) -> accepted",
      "constructor+call", "layer = GRU(4, reset_after=True, use_bias=False); layer(x)",
      "[list(w.shape) for w in layer.get_weights()]"),
    E("implementation_kwarg", "GRU(4, implementation=1) -> accepted, not in config", "constructor",
      "layer = GRU(4, implementation=1)", "'implementation' in layer.get_config()"),
    E("unknown_kwarg", "GRU(4, foo=1)", "constructor", "GRU(4, foo=1)"),
    E("input_1d", "GRU(4)(x of shape (F,))", "call", "GRU(4)(x[0, 0])"),
    E("input_2d", "GRU(4)(x of shape (B, F))", "call", "GRU(4)(x[:, 0])"),
    E("input_4d", "GRU(4)(x of shape (B, T, F, 1))", "call", "GRU(4)(x[..., None])"),
    E("feature_change_after_build", "l = GRU(4); l(x (B,T,F)); l(x (B,T,F+1))", "call",
      "l = GRU(4); l(x); l(np.concatenate([x, x[..., :1]], axis=-1))"),
    E("timesteps_change_after_build", "l(x (B,T,F)); l(x (B,T+3,F))", "call",
      "l = GRU(4); l(x); out = l(np.concatenate([x, x[:, :3]], axis=1))", "list(out.shape)"),
    E("batch_change_after_build", "l(x (B,T,F)); l(x (B+1,T,F))", "call",
      "l = GRU(4); l(x); out = l(np.concatenate([x, x[:1]], axis=0))", "list(out.shape)"),
    E("initial_state_units_mismatch", "GRU(4)(x, initial_state=[zeros((B, 5))])", "call",
      "GRU(4)(x, initial_state=[zeros((B, 5))])"),
    E("initial_state_batch_mismatch", "GRU(4)(x, initial_state=[zeros((B+1, 4))])", "call",
      "GRU(4)(x, initial_state=[zeros((B + 1, 4))])"),
    E("initial_state_rank3", "GRU(4)(x, initial_state=[zeros((B, 1, 4))])", "call",
      "GRU(4)(x, initial_state=[zeros((B, 1, 4))])"),
    E("initial_state_batch_1_broadcast", "GRU(4)(x, initial_state=[zeros((1, 4))])", "call",
      "out = GRU(4)(x, initial_state=[zeros((1, 4))])", "[list(o.shape) for o in (out if isinstance(out, (list, tuple)) else [out])]"),
    E("initial_state_two_tensors", "GRU(4)(x, initial_state=[s, s])", "call",
      "s = zeros((B, 4)); out = GRU(4)(x, initial_state=[s, s])", "list(out.shape)"),
    E("mask_wrong_timesteps", "GRU(4)(x, mask=ones((B, T+1)))", "call",
      "out = GRU(4)(x, mask=ones((B, T + 1), bool))", "list(out.shape)"),
    E("mask_wrong_batch", "GRU(4)(x, mask=ones((B+1, T)))", "call", "GRU(4)(x, mask=ones((B + 1, T), bool))"),
    E("mask_3d", "GRU(4)(x, mask=ones((B, T, 1)))", "call",
      "out = GRU(4)(x, mask=ones((B, T, 1), bool))", "list(out.shape)"),
    E("mask_float_0_1", "float 0/1 mask is accepted (cast to bool); result: difference vs bool mask", "call",
      "layer = GRU(4, return_sequences=True); m = np.array([[1, 1, 1, 0, 0], [0, 1, 0, 1, 1]]); "
      "diff = np.asarray(layer(x, mask=m.astype('float32'))) - np.asarray(layer(x, mask=m.astype(bool)))",
      "tensor(diff)"),
    E("set_weights_bias_2d_on_reset_before", "GRU(4, reset_after=False): set_weights with bias (2, 12)",
      "set_weights", "l = GRU(4, reset_after=False); l.build((B, T, F)); "
      "l.set_weights([ones((F, 12)), ones((4, 12)), ones((2, 12))])"),
    E("set_weights_bias_1d_on_reset_after", "GRU(4, reset_after=True): set_weights with bias (12,)",
      "set_weights", "l = GRU(4, reset_after=True); l.build((B, T, F)); "
      "l.set_weights([ones((F, 12)), ones((4, 12)), ones((12,))])"),
    E("set_weights_count", "GRU(4): set_weights with 2 arrays", "set_weights",
      "l = GRU(4); l.build((B, T, F)); l.set_weights([ones((F, 12)), ones((4, 12))])"),
    E("set_weights_kernel_shape", "GRU(4): kernel (F+1, 12)", "set_weights",
      "l = GRU(4); l.build((B, T, F)); l.set_weights([ones((F + 1, 12)), ones((4, 12)), ones((2, 12))])"),
    E("stateful_batch_change", "GRU(4, stateful=True): call with batch B then B+1", "call",
      "l = GRU(4, stateful=True); l(x); l(np.concatenate([x, x[:1]], axis=0))"),
    E("stateful_reset_states_with_values", "GRU(4, stateful=True).reset_states(values)", "reset_states",
      "l = GRU(4, stateful=True); l(x); l.reset_states([zeros((B, 4))])"),
    E("stateful_reset_state_with_values", "GRU(4, stateful=True).reset_state(states=[...])", "reset_states",
      "l = GRU(4, stateful=True); l(x); l.reset_state(states=[zeros((B, 4))])"),
    E("stateful_dynamic_batch", "GRU(4, stateful=True) on keras.Input(shape=(T, F)) (batch None)", "build",
      "GRU(4, stateful=True)(keras.Input(shape=(T, F)))"),
    E("unroll_dynamic_timesteps", "GRU(4, unroll=True) on keras.Input(shape=(None, F))", "call",
      "GRU(4, unroll=True)(keras.Input(shape=(None, F)))", "'ok'"),
    E("reset_states_non_stateful", "GRU(4).reset_states() on a non-stateful layer", "reset_states",
      "l = GRU(4); l(x); l.reset_states()", "'ok (no-op)'"),
    E("zero_timesteps", "GRU(4)(x of shape (B, 0, F))", "call", "GRU(4)(x[:, :0])"),
    E("zero_timesteps_unroll", "GRU(4, unroll=True)(x of shape (B, 0, F))", "call", "GRU(4, unroll=True)(x[:, :0])"),
    E("zero_batch", "GRU(4, return_sequences=True)(x of shape (0, T, F))", "call",
      "out = GRU(4, return_sequences=True)(x[:0])", "list(out.shape)"),
    E("int_input", "GRU(4)(int32 ones)", "call", "out = GRU(4)(ones((B, T, F), 'int32'))",
      "{'shape': list(out.shape), 'dtype': str(out.dtype)}"),
    E("float64_input_float32_layer", "GRU(4)(float64 x) -> output dtype", "call",
      "out = GRU(4)(x.astype('float64'))", "{'dtype': str(out.dtype)}"),
    E("cell_state_units_mismatch", "GRUCell(4)(x_t, [zeros((B, 3))])", "call", "GRUCell(4)(x_t, [zeros((B, 3))])"),
    E("cell_3d_input", "GRUCell(4)(x (B,T,F), [zeros((B,4))])", "call", "GRUCell(4)(x, [zeros((B, 4))])"),
    E("cell_bare_state_tensor", "GRUCell(4)(x_t, zeros((B,4))) (state not wrapped in a list)", "call",
      "h, s = GRUCell(4)(x_t, zeros((B, 4)))", "{'new_state_is_list': isinstance(s, list)}"),
    E("from_config_unknown_key", "GRU.from_config(cfg + {'bogus': 1})", "from_config",
      "GRU.from_config({**GRU(4).get_config(), 'bogus': 1})"),
]


@dataclass
class Cfg:
    name: str
    description: str  # hand-written, carried verbatim
    layer: str
    kwargs: dict = field(default_factory=dict)
    kwargs_py: dict = field(default_factory=dict)  # values given as Python expressions
    # When set, the layer given to keras.layers.serialize is first built on this
    # input shape, so the serialization has a build_config.
    serialize_built_on: tuple = None


CONFIG_TABLE = [
    Cfg("gru_default", "GRU(units) defaults.", "GRU", {"units": 4}),
    Cfg("gru_cell_default", "GRUCell(units) defaults.", "GRUCell", {"units": 3}),
    Cfg("gru_non_default", "GRU with regularizers, constraints, initializers and non-default flags.", "GRU",
        {"units": 5, "name": "my_gru", "trainable": False, "activation": "relu",
         "recurrent_activation": "hard_sigmoid", "return_sequences": True, "go_backwards": True,
         "unroll": True, "zero_output_for_mask": True, "dropout": 0.2, "recurrent_dropout": 0.1,
         "reset_after": False, "seed": 42},
        {"activity_regularizer": "keras.regularizers.L2(1e-5)",
         "kernel_initializer": "keras.initializers.RandomNormal(mean=0.0, stddev=0.05, seed=3)",
         "recurrent_initializer": "keras.initializers.Orthogonal(gain=0.5, seed=4)",
         "bias_initializer": "keras.initializers.Constant(0.1)",
         "kernel_regularizer": "keras.regularizers.L1L2(l1=0.01, l2=0.02)",
         "recurrent_regularizer": "keras.regularizers.L2(1e-4)",
         "bias_regularizer": "keras.regularizers.L1(0.001)",
         "kernel_constraint": "keras.constraints.MaxNorm(2.0)",
         "recurrent_constraint": "keras.constraints.UnitNorm()",
         "bias_constraint": "keras.constraints.NonNeg()"},
        serialize_built_on=(2, 5, 3)),
    Cfg("gru_cell_non_default", "GRUCell with non-default arguments.", "GRUCell",
        {"units": 3, "dtype": "float64", "activation": "softsign", "recurrent_activation": "linear",
         "use_bias": False, "kernel_initializer": "he_normal", "recurrent_initializer": "glorot_normal",
         "bias_initializer": "ones", "dropout": 0.3, "seed": 7},
        {"kernel_regularizer": "keras.regularizers.L2(0.01)",
         "recurrent_constraint": "keras.constraints.NonNeg()"},
        serialize_built_on=(2, 3)),
    Cfg("gru_float64_policy", "GRU with dtype='float64'.", "GRU", {"units": 2, "dtype": "float64"}),
    Cfg("gru_mixed_policy", "GRU with dtype='mixed_float16' (config only).", "GRU",
        {"units": 2, "dtype": "mixed_float16"}),
    Cfg("gru_activation_aliases", "activation=None -> 'linear', recurrent_activation='swish' -> 'silu'.", "GRU",
        {"units": 2, "activation": None, "recurrent_activation": "swish"}),
    Cfg("gru_activation_callable", "activation=keras.activations.gelu (callable) serializes to its name.", "GRU",
        {"units": 2},
        {"activation": "keras.activations.gelu", "recurrent_activation": "keras.activations.hard_silu"}),
    Cfg("gru_clamped_dropout", "dropout=1.5, recurrent_dropout=-0.5 are clamped to 1.0 and 0.0 in the config.",
        "GRU", {"units": 2, "dropout": 1.5, "recurrent_dropout": -0.5}),
]

ACTIVATION_IDENTIFIERS = ["None", "linear", "swish", "silu", "gelu", "hard_sigmoid", "hard_swish", "hard_silu",
                          "relu", "elu", "selu", "softsign", "sigmoid", "tanh", "softplus", "relu6",
                          "leaky_relu", "mish", "celu", "exponential"]

WRAPPER_START, WRAPPER_END = "\x1b[1m", "\x1b[0m"


def message_core(message):
    """The original message inside Keras's "Exception encountered when calling
    X.call()" wrapper, or the message itself."""
    if message.startswith("Exception encountered when calling") and WRAPPER_START in message:
        inner = message.split(WRAPPER_START, 1)[1].split(WRAPPER_END, 1)[0]
        return inner.strip()
    return message


def tensor(a):
    import numpy as np

    a = np.asarray(a)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


def namespace(keras):
    import numpy as np

    x = np.sin(np.arange(B * T * F, dtype=np.float64)).reshape(B, T, F).astype(np.float32)
    return {
        "keras": keras, "np": np, "GRU": keras.layers.GRU, "GRUCell": keras.layers.GRUCell,
        "zeros": lambda shape, dtype="float32": np.zeros(shape, dtype),
        "ones": lambda shape, dtype="float32": np.ones(shape, dtype),
        "x": x, "x_t": x[:, 0].copy(), "B": B, "T": T, "F": F, "tensor": tensor,
    }


def run_error_entry(keras, e, warn):
    keras.backend.clear_session()
    ns = namespace(keras)
    out = {"name": e.name, "code": e.code, "stage": e.stage}
    try:
        exec(e.run, ns)
        result = eval(e.result, ns) if e.result is not None else None
    except Exception as exc:  # noqa: BLE001 -- recording what Keras raises is the point
        if e.result is not None:
            warn(f"errors.json {e.name}: raises {type(exc).__name__} although the table expects a result")
        msg = str(exc)
        out.update(raises=True, exception_type=type(exc).__name__, exception_module=type(exc).__module__,
                   message=msg, message_core=message_core(msg))
        return out
    if e.result is None:
        warn(f"errors.json {e.name}: Keras accepted it, but the table has no result expression")
    out.update(raises=False, result=json.loads(json.dumps(result)))
    return out


def errors_file(keras, meta, warn):
    entries = [run_error_entry(keras, e, warn) for e in ERROR_TABLE]
    return {"format_version": meta["format_version"], "keras_version": meta["keras_version"],
            "keras_commit": meta["keras_commit"], "set": meta["set"], "backend": "numpy", "entries": entries}


def run_config_case(keras, c):
    keras.backend.clear_session()
    cls = {"GRU": keras.layers.GRU, "GRUCell": keras.layers.GRUCell}[c.layer]
    ns = namespace(keras)

    def make():
        kwargs = dict(c.kwargs)
        kwargs.setdefault("name", "gru" if c.layer == "GRU" else "gru_cell")
        kwargs.update({k: eval(v, ns) for k, v in c.kwargs_py.items()})
        return cls(**kwargs)

    layer = make()
    before = layer.get_config()
    layer.build((2, 3, 4) if c.layer == "GRU" else (2, 4))
    config = layer.get_config()
    roundtrip = cls.from_config(config).get_config()
    fresh = make()
    if c.serialize_built_on is not None:
        fresh.build(c.serialize_built_on)
    serialized = keras.layers.serialize(fresh)
    back = keras.layers.deserialize(serialized).get_config()
    out = {"name": c.name, "description": c.description, "layer": c.layer, "config": config,
           "config_equal_before_and_after_build": before == config,
           "from_config_get_config_equal": roundtrip == config,
           "serialize": serialized, "deserialize_get_config_equal": back == config}
    return json.loads(json.dumps(out))


def config_cases_file(keras, meta):
    cases = [run_config_case(keras, c) for c in CONFIG_TABLE]
    aliases = {}
    for ident in ACTIVATION_IDENTIFIERS:
        keras.backend.clear_session()
        value = None if ident == "None" else ident
        aliases[ident] = keras.layers.GRU(2, activation=value).get_config()["activation"]
    return {"format_version": meta["format_version"], "keras_version": meta["keras_version"],
            "keras_commit": meta["keras_commit"], "set": meta["set"], "cases": cases,
            "activation_serialization": aliases}

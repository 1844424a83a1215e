#!/usr/bin/env python3
"""Keras GRU reference-case generator.

Drives real Keras (3.15.1 pinned, numpy backend) and writes case files in the
format of the shipped reference cases (shared/keras-refs/README.md):

    python3 generate_cases.py --out DIR [--seed N] [--only a,b] [--list]
    python3 generate_cases.py --replay CASE.json [CASE.json ...]

It also writes errors.json and config_cases.json from the tables in
errors_configs.py, by running each entry against the same Keras.

Nothing here re-implements the GRU: every number written is what Keras
returned.  Two helper processes are used where the stock numpy backend cannot
give the number:

* "true_f64": the numpy backend with exactly one mapping changed,
  ``keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE["float64"] =
  "float64"``.  Stock Keras computes float64 layers in float32 on numpy/jax;
  the float64 cases' ``outputs``, the finite-difference gradients and the
  large cases' ``outputs_float64_reference`` come from this process.  It is a
  separate process so that the main (stock) process is never affected.
* "tensorflow" (optional, only if tensorflow is installed): the TensorFlow
  backend, which honours float64; it gives the autodiff gradients that the
  ``grads.tensorflow_autodiff_vs_fd_max_abs_diff`` check compares with.
"""

import argparse
import json
import math
import os
import pickle
import subprocess
import sys
import time
import traceback
import zlib
from dataclasses import dataclass, field

import numpy as np

# Importing the sibling module must not leave a __pycache__ in the generator
# directory (it is part of the published package).
sys.dont_write_bytecode = True
import errors_configs  # noqa: E402

FORMAT_VERSION = 1
DEFAULT_SEED = 20250611
# The git commit of each Keras release tag the generator has been used with;
# a release not listed here is recorded as "unknown" unless --keras-commit.
KERAS_COMMITS = {"3.15.1": "250b42181ce9f37df68319d8f4753ec89a349a43"}
# Files besides the cases, by --only name (tables in errors_configs.py).
CORE_FILES = {"errors": "errors.json: invalid arguments, raises? exception and message",
              "config_cases": "config_cases.json: get_config / from_config / serialize round trips"}
FD_STEP = 1e-6  # central differences, as in the shipped cases

keras = None  # imported by import_keras() once KERAS_BACKEND is chosen

# ---------------------------------------------------------------------------
# Notes copied verbatim (modulo the Keras version) from the shipped cases.
# ---------------------------------------------------------------------------

DROPOUT_MASK_NOTE = (
    "Masks drawn by Keras itself (seeded); values are the multipliers Keras "
    "applies: 0 or 1/(1-rate) cast to dtype. A single tensor (batch, features) "
    "multiplies the step input before the fused matmul (implementation 2, "
    "recurrent_dropout == 0). A list of 3 (implementation 1, used whenever "
    "recurrent_dropout > 0) gives the per-gate masks in order z, r, h: "
    "inputs_z = x_t*m[0], inputs_r = x_t*m[1], inputs_h = x_t*m[2]; likewise "
    "h_tm1_z/r/h = h_tm1*rm[i]. The same masks are used at every timestep of "
    "one call. Masks are only applied when training and 0 < rate < 1."
)
INITIAL_STATE_NOTE = (
    "GRUCell: 'initial_state' holds the `states` argument of cell(inputs, "
    "states); outputs = [output, *new_states]"
)
F64_REFERENCE_NOTE = (
    "Same weights/inputs (float32 values widened exactly) run with dtype "
    "float64 on the numpy backend with the float64 demotion disabled (true "
    "float64)."
)
STATEFUL_DESCRIPTION = (
    "stateful=True: sequence of operations in 'steps' (call/reset_states/"
    "assign_states). Top-level inputs/mask/outputs are those of the first call."
)
ASSIGN_NOTE = (
    "Keras 3 reset_states()/reset_state() take no values; a given state is set "
    "with layer.states[0].assign(value)"
)
SPARSEMAX_CELL_NOTE = (
    "Keras's numpy sparsemax returns float64 for float32 inputs and a bare GRUCell passes that "
    "on; 'outputs' are rounded to float32, the layer's dtype, as the GRU layer does with the same cell"
)
BACKEND_STOCK = "numpy"
BACKEND_TRUE_F64 = "numpy (float64 demotion disabled)"


def float64_note(version):
    return (
        f"Stock Keras {version} numpy (and jax) backend silently computes "
        "float64 layers in float32: keras.src.backend.common.dtypes.result_type "
        "maps float64->float32 on every backend except TensorFlow "
        "(BIT64_TO_BIT32_DTYPE), and the numpy ops (matmul, add, sigmoid, tanh, "
        "...) cast to that type; only the final outputs are cast back to "
        "float64. 'outputs' here are from the same numpy-backend code with "
        "exactly that one mapping disabled (true float64; cross-checked against "
        "the TensorFlow backend, which honours float64, in cross_backend.json). "
        "'outputs_numpy_backend_stock' is what stock Keras returns (float64 "
        "dtype, ~1e-7 accuracy)."
    )


def grads_method(version):
    return (
        f"central finite differences (NOT autodiff) on the float64 forward pass "
        f"of Keras {version}, numpy backend with the float64->float32 demotion "
        "disabled (true float64)"
    )


# ---------------------------------------------------------------------------
# The case table.
# ---------------------------------------------------------------------------


@dataclass
class Spec:
    """One reference case: what to build, what data to draw, what to record."""

    name: str
    description: str
    shape: tuple  # GRU: (batch, timesteps, features); GRUCell: (batch, features)
    units: int
    layer: str = "GRU"
    dtype: str = "float32"
    kwargs: dict = field(default_factory=dict)  # constructor args (not units/dtype/name)
    mask: str = None  # mask pattern name, see make_mask()
    initial_state: bool = False
    initial_state_rows: int = None  # first dim of the initial state; None = batch (1 broadcasts)
    training: bool = False
    weight_scale: float = 0.5  # weights ~ U(-s, s)
    input_scale: float = 1.0  # inputs ~ s * N(0, 1)
    grads: bool = False
    float64_reference: bool = False
    paired: str = None  # same data, one flag changed
    paired_note: str = None
    paired_equal: bool = None  # what the README documents (checked, warned)
    equals: str = None  # same data, expected equal (dropout_inference)
    data_from: str = None  # draw the data from this case's RNG stream
    # stateful=True: the operations, in order (see STATEFUL_PLAN); None = the table's plan.
    stateful_plan: tuple = None
    # GRUCell: calls of Keras's cell, step by step from the drawn state, that give the recorded
    # step its `states` argument (0 = the drawn state itself).
    cell_prior_steps: int = 0

    @property
    def stateful(self):
        return bool(self.kwargs.get("stateful", False))


def G(name, desc, shape, units, seq=True, state=False, **kw):
    """A GRU layer case; seq/state are return_sequences/return_state.  Keyword
    arguments that are Spec fields go to the Spec, the rest to the constructor."""
    spec_fields = {k: kw.pop(k) for k in list(kw) if k in Spec.__dataclass_fields__}
    kwargs = {"return_sequences": seq, "return_state": state, **kw}
    return Spec(name, desc, tuple(shape), units, kwargs=kwargs, **spec_fields)


def C(name, desc, shape, units, **kw):
    """A GRUCell case (always called with a `states` argument)."""
    spec_fields = {k: kw.pop(k) for k in list(kw) if k in Spec.__dataclass_fields__}
    return Spec(name, desc, tuple(shape), units, layer="GRUCell", kwargs=kw,
                initial_state=True, **spec_fields)


def act_desc(**kw):
    """Descriptions of the activation cases print the constructor args."""
    return f"Activation variant {dict(kw, return_sequences=True)!r}."


NOTE_FIRST_MASKED = ("DIFFERENT on purpose: masked leading steps output the "
                     "initial state (unroll=False) vs zeros (unroll=True); "
                     "final states agree")
NOTE_ZERO_OUTPUT = ("DIFFERENT on purpose: the unrolled numpy path ignores "
                    "zero_output_for_mask")
NOTE_UNROLL_SAME = "unroll=True and unroll=False give identical results here"
NOTE_UNROLL_BACKWARDS = ("identical: leading masked steps give zeros in both "
                         "paths because the initial state is zero")


def case_table():
    """The public case list of shared/keras-refs/README.md (same names,
    configs, shapes, flags; own seeds)."""
    A = 2.0  # input scale of the activation cases: drives the nonlinearities
    t = [
        G("defaults_last", "Default GRU (reset_after=True, tanh/sigmoid), return_sequences=False.", (3, 5, 3), 3, seq=False),
        G("defaults_seq", "Default GRU, return_sequences=True.", (4, 8, 5), 7),
        G("defaults_state", "Default GRU, return_state=True (outputs = [last_output, final_state]).", (3, 4, 4), 7, seq=False, state=True),
        G("defaults_seq_state", "Default GRU, return_sequences=True and return_state=True (outputs = [sequence, final_state]).", (3, 9, 6), 7, state=True),
        G("edge_tiny", "Degenerate shapes: batch=1, timesteps=1, units=1, features 1.", (1, 1, 1), 1, state=True),
        G("edge_t1_last", "timesteps=1, return_sequences=False.", (3, 1, 5), 2, seq=False),
        G("edge_b1_long", "batch=1, timesteps=12.", (1, 12, 5), 4),
        G("input_scale_large", "Inputs scaled by 4 to drive gates into saturation.", (4, 5, 5), 4, input_scale=4.0),
        G("reset_before_last", "reset_after=False (bias shape (3*units,)).", (3, 3, 2), 8, seq=False, reset_after=False),
        G("reset_before_seq_state", "reset_after=False, return_sequences and return_state.", (4, 9, 3), 8, state=True, reset_after=False),
        G("nobias_reset_after", "use_bias=False, reset_after=True.", (2, 7, 6), 5, use_bias=False),
        G("nobias_reset_before", "use_bias=False, reset_after=False.", (3, 8, 2), 8, use_bias=False, reset_after=False),
        # Activation variants.
        G("act_rec_hard_sigmoid", act_desc(recurrent_activation="hard_sigmoid"), (4, 5, 6), 4, recurrent_activation="hard_sigmoid", input_scale=A),
        # Linear/None recurrent activation leaves the gates unbounded: keep the
        # pre-activations small so the state stays finite.
        G("act_rec_linear", act_desc(recurrent_activation="linear"), (3, 5, 6), 5, recurrent_activation="linear", weight_scale=0.25, input_scale=0.5),
        G("act_rec_none", act_desc(recurrent_activation=None), (3, 5, 4), 2, recurrent_activation=None, weight_scale=0.25, input_scale=0.5),
        G("act_rec_tanh", act_desc(recurrent_activation="tanh"), (2, 3, 5), 3, recurrent_activation="tanh", input_scale=A),
        G("act_relu", act_desc(activation="relu"), (3, 9, 6), 8, activation="relu", input_scale=A),
        G("act_linear", act_desc(activation="linear"), (3, 3, 6), 3, activation="linear", input_scale=A),
        G("act_none", act_desc(activation=None), (3, 6, 2), 5, activation=None, input_scale=A),
        G("act_sigmoid", act_desc(activation="sigmoid"), (3, 3, 4), 6, activation="sigmoid", input_scale=A),
        G("act_softsign", act_desc(activation="softsign"), (2, 6, 3), 2, activation="softsign", input_scale=A),
        G("act_elu", act_desc(activation="elu"), (3, 4, 4), 6, activation="elu", input_scale=A),
        G("act_selu", act_desc(activation="selu"), (4, 7, 6), 3, activation="selu", input_scale=A),
        G("act_swish", act_desc(activation="swish"), (2, 5, 6), 6, activation="swish", input_scale=A),
        G("act_silu", act_desc(activation="silu"), (4, 9, 4), 5, activation="silu", input_scale=A),
        G("act_gelu", act_desc(activation="gelu"), (2, 8, 2), 2, activation="gelu", input_scale=A),
        G("act_hard_sigmoid_both", act_desc(activation="hard_sigmoid", recurrent_activation="hard_sigmoid"), (2, 9, 6), 7, activation="hard_sigmoid", recurrent_activation="hard_sigmoid", input_scale=A),
        G("act_relu_reset_before", act_desc(activation="relu", reset_after=False), (4, 6, 4), 3, activation="relu", reset_after=False, input_scale=A),
        G("act_gelu_rec_hard_sigmoid_reset_before", act_desc(activation="gelu", recurrent_activation="hard_sigmoid", reset_after=False), (4, 8, 2), 4, activation="gelu", recurrent_activation="hard_sigmoid", reset_after=False, input_scale=A),
        G("act_hard_sigmoid_saturated", "recurrent_activation=hard_sigmoid with inputs scaled by 4 so that many gate pre-activations fall outside [-3, 3] (clipping region of Keras 3's x/6+0.5).", (3, 6, 6), 4, activation="hard_sigmoid", recurrent_activation="hard_sigmoid", input_scale=4.0),
        # go_backwards.
        G("backwards_last", "go_backwards=True, return_sequences=False.", (3, 9, 3), 5, seq=False, go_backwards=True),
        G("backwards_seq", "go_backwards=True, return_sequences=True (output sequence is in processing order, i.e. reversed time).", (3, 3, 5), 5, go_backwards=True),
        G("backwards_seq_state_reset_before", "go_backwards=True, return_sequences, return_state, reset_after=False.", (4, 8, 3), 3, state=True, go_backwards=True, reset_after=False),
    ]
    # Masks: each pattern x {last, seq_state, backwards_seq}.
    mask_shapes = {
        "right_pad": [(4, 7, 2, 2), (4, 7, 4, 6), (4, 7, 3, 5)],
        "left_pad": [(4, 7, 6, 4), (4, 7, 6, 4), (4, 7, 6, 5)],
        "holes": [(4, 7, 5, 4), (4, 7, 5, 8), (4, 7, 6, 4)],
        "all_false_row": [(4, 7, 4, 7), (4, 7, 6, 6), (4, 7, 3, 2)],
    }
    for pattern, (s_last, s_ss, s_bs) in mask_shapes.items():
        t += [
            G(f"mask_{pattern}_last", f"Mask '{pattern}', return_sequences=False.", s_last[:3], s_last[3], seq=False, mask=pattern),
            G(f"mask_{pattern}_seq_state", f"Mask '{pattern}', return_sequences=True, return_state=True (masked steps repeat the previous state).", s_ss[:3], s_ss[3], state=True, mask=pattern),
            G(f"mask_{pattern}_backwards_seq", f"Mask '{pattern}', go_backwards=True, return_sequences=True.", s_bs[:3], s_bs[3], go_backwards=True, mask=pattern),
        ]
    t += [
        G("mask_holes_reset_before_nobias", "Mask with holes, reset_after=False, use_bias=False, return_sequences.", (3, 8, 2), 6, use_bias=False, reset_after=False, mask="holes"),
        G("mask_holes_backwards_last_reset_before", "Mask with holes, go_backwards, return_sequences=False, reset_after=False.", (2, 8, 3), 8, seq=False, go_backwards=True, reset_after=False, mask="holes"),
        G("mask_zero_output_for_mask", "zero_output_for_mask=True with return_sequences: masked steps output zeros (unroll=False path). States still carry over.", (2, 7, 6), 5, state=True, zero_output_for_mask=True, mask="holes",
          paired="mask_zero_output_for_mask_unroll", paired_note=NOTE_ZERO_OUTPUT, paired_equal=False),
        G("mask_zero_output_for_mask_unroll", "Same data as mask_zero_output_for_mask but unroll=True: the unrolled numpy path IGNORES zero_output_for_mask and repeats the previous output.", (2, 7, 6), 5, state=True, unroll=True, zero_output_for_mask=True, mask="holes",
          data_from="mask_zero_output_for_mask", paired="mask_zero_output_for_mask", paired_note=NOTE_ZERO_OUTPUT, paired_equal=False),
        # Initial states.
        G("init_state_last", "initial_state given, return_sequences=False.", (2, 9, 3), 5, seq=False, initial_state=True),
        G("init_state_seq_state_reset_before", "initial_state given, reset_after=False, return_sequences, return_state.", (2, 7, 2), 8, state=True, reset_after=False, initial_state=True),
        G("init_state_mask_right_pad", "initial_state + right-padded mask, return_sequences, return_state.", (4, 4, 2), 4, state=True, mask="right_pad", initial_state=True),
        G("init_state_mask_first_masked", "initial_state + mask whose first steps are masked (one row fully masked), unroll=False: masked leading outputs equal the initial state.", (4, 6, 2), 4, state=True, mask="first_masked", initial_state=True,
          paired="init_state_mask_first_masked_unroll", paired_note=NOTE_FIRST_MASKED, paired_equal=False),
        G("init_state_mask_first_masked_unroll", "Same data as init_state_mask_first_masked with unroll=True: masked leading outputs are ZEROS (unrolled path starts prev_output at zeros), final states equal the non-unrolled ones.", (4, 6, 2), 4, state=True, unroll=True, mask="first_masked", initial_state=True,
          data_from="init_state_mask_first_masked", paired="init_state_mask_first_masked", paired_note=NOTE_FIRST_MASKED, paired_equal=False),
        G("init_state_mask_first_masked_last_unroll", "Same data, unroll=True, return_sequences=False: last output of the fully masked row is zeros while its returned state is the initial state.", (4, 6, 2), 4, seq=False, state=True, unroll=True, mask="first_masked", initial_state=True,
          data_from="init_state_mask_first_masked"),
        G("init_state_backwards_mask_holes", "initial_state + holes mask + go_backwards, return_sequences, return_state.", (2, 3, 4), 8, state=True, go_backwards=True, mask="holes", initial_state=True),
        # unroll pairs.
        G("unroll_false_seq_state", "unroll=False reference for unroll_true_seq_state (same data).", (4, 3, 4), 4, state=True,
          paired="unroll_true_seq_state", paired_note=NOTE_UNROLL_SAME, paired_equal=True),
        G("unroll_true_seq_state", "unroll=True, same data as unroll_false_seq_state; outputs equal.", (4, 3, 4), 4, state=True, unroll=True,
          data_from="unroll_false_seq_state", paired="unroll_false_seq_state", paired_note=NOTE_UNROLL_SAME, paired_equal=True),
        G("unroll_false_backwards_mask", "unroll=False, go_backwards, right-pad mask (pair with unroll_true_backwards_mask).", (4, 7, 4), 3, go_backwards=True, reset_after=False, mask="right_pad",
          paired="unroll_true_backwards_mask", paired_note=NOTE_UNROLL_BACKWARDS, paired_equal=True),
        G("unroll_true_backwards_mask", "unroll=True, go_backwards, right-pad mask, same data as unroll_false_backwards_mask. With go_backwards the padded (masked) steps are processed FIRST; with a zero initial state both paths agree.", (4, 7, 4), 3, go_backwards=True, unroll=True, reset_after=False, mask="right_pad",
          data_from="unroll_false_backwards_mask", paired="unroll_false_backwards_mask", paired_note=NOTE_UNROLL_BACKWARDS, paired_equal=True),
        # GRUCell.
        C("cell_reset_after_true", "GRUCell single step, reset_after=True. outputs = [h, new_h].", (3, 6), 2),
        C("cell_reset_after_false", "GRUCell single step, reset_after=False. outputs = [h, new_h].", (2, 3), 3, reset_after=False),
        C("cell_nobias_rec_hard_sigmoid", "GRUCell, use_bias=False, recurrent_activation=hard_sigmoid, activation=relu.", (4, 6), 2, activation="relu", recurrent_activation="hard_sigmoid", use_bias=False, input_scale=A),
        # Dropout.
        G("dropout_input_only_training", "dropout>0, recurrent_dropout=0, training=True: implementation 2, one input mask (batch, features).", (2, 7, 4), 4, state=True, dropout=0.3, seed=1234, training=True),
        G("dropout_recurrent_only_training", "dropout=0, recurrent_dropout>0, training=True: implementation 1, 3 recurrent masks (batch, units); dropout_mask is null.", (3, 3, 5), 2, recurrent_dropout=0.4, seed=99, training=True),
        G("dropout_both_training_reset_before", "dropout and recurrent_dropout > 0, reset_after=False, training=True: 3 input masks and 3 recurrent masks.", (4, 8, 6), 5, state=True, dropout=0.25, recurrent_dropout=0.25, reset_after=False, seed=7, training=True),
        G("dropout_both_training_mask_backwards", "dropout + recurrent_dropout, training=True, with a holes mask and go_backwards.", (3, 4, 5), 6, go_backwards=True, dropout=0.2, recurrent_dropout=0.3, seed=5, mask="holes", training=True),
        G("dropout_inference", "dropout and recurrent_dropout > 0 but training=False: dropout ignored; outputs equal dropout_inference_reference.", (4, 6, 5), 4, dropout=0.5, recurrent_dropout=0.5, seed=3,
          equals="dropout_inference_reference"),
        G("dropout_inference_reference", "Same data as dropout_inference with dropout=0.", (4, 6, 5), 4, data_from="dropout_inference"),
        # dropout=1.5 is passed on purpose: Keras clamps it to 1.0 (see config).
        G("dropout_clamped_1_training", "dropout=1.5 is silently clamped to 1.0 (see config) and, since Keras only applies dropout when 0 < rate < 1, training=True output equals no dropout.", (4, 3, 5), 8, dropout=1.5, seed=11, training=True),
        G("dropout_clamped_1_reference", "Same data as dropout_clamped_1_training, dropout=0.", (4, 3, 5), 8, data_from="dropout_clamped_1_training"),
        C("cell_dropout_training", "GRUCell single step with dropout and recurrent_dropout, training=True (masks recorded).", (4, 3), 2, dropout=0.4, recurrent_dropout=0.3, seed=21, training=True),
        # float64 (outputs from the true-float64 helper).
        G("f64_defaults_seq_state", "float64 dtype policy; defaults, return_sequences + return_state.", (3, 8, 2), 8, state=True, dtype="float64"),
        G("f64_reset_before_mask", "float64, reset_after=False, holes mask.", (4, 7, 4), 5, reset_after=False, mask="holes", dtype="float64"),
        G("f64_backwards_init", "float64, go_backwards + initial_state.", (4, 6, 6), 5, seq=False, state=True, go_backwards=True, initial_state=True, dtype="float64"),
        C("f64_cell", "float64 GRUCell.", (2, 6), 3, reset_after=False, dtype="float64"),
        # Finite-difference gradients (float64).
        G("grad_defaults_seq", "FD gradients: defaults, return_sequences.", (2, 4, 3), 3, dtype="float64", grads=True),
        G("grad_reset_before_init", "FD gradients: reset_after=False, initial_state, return_sequences=False.", (2, 4, 3), 3, seq=False, reset_after=False, initial_state=True, dtype="float64", grads=True),
        G("grad_mask_backwards", "FD gradients: right-pad mask, go_backwards, return_sequences, initial_state.", (3, 4, 2), 2, go_backwards=True, mask="right_pad", initial_state=True, dtype="float64", grads=True),
        G("grad_nobias_state", "FD gradients: use_bias=False, return_state (loss only on outputs[0]).", (2, 3, 3), 3, seq=False, state=True, use_bias=False, dtype="float64", grads=True),
        G("grad_activations", "FD gradients: activation=softsign, recurrent_activation=tanh.", (2, 3, 2), 3, activation="softsign", recurrent_activation="tanh", dtype="float64", grads=True),
        C("grad_cell", "FD gradients: GRUCell single step (grads w.r.t. inputs, states, weights).", (3, 4), 3, dtype="float64", grads=True),
        # Issue 13 regressions, found by random configurations.
        # softmax / log_softmax / sparsemax as recurrent_activation: applied to z and to r
        # separately (`units` values each), never across both gates.
        G("act_rec_softmax_tiny", "recurrent_activation=softmax, units=1, one step, one feature: softmax of one value is 1, so both gates are 1 and the output is exactly 0.", (1, 1, 1), 1, state=True, recurrent_activation="softmax"),
        G("act_rec_softmax", act_desc(recurrent_activation="softmax"), (3, 5, 4), 4, recurrent_activation="softmax", input_scale=A),
        G("act_rec_log_softmax_reset_before", act_desc(recurrent_activation="log_softmax", reset_after=False), (3, 4, 3), 3, state=True, recurrent_activation="log_softmax", reset_after=False, weight_scale=0.25, input_scale=0.5),
        G("act_rec_sparsemax", act_desc(recurrent_activation="sparsemax", activation="softmax"), (3, 5, 4), 4, recurrent_activation="sparsemax", activation="softmax", input_scale=A),
        # glu: Keras runs it only at units=2, where its one-value half broadcasts over both units.
        G("act_glu_units2", act_desc(activation="glu") + " units=2: the candidate glu(x)[0] is broadcast over both units.", (3, 5, 3), 2, state=True, activation="glu", input_scale=A),
        G("act_rec_glu_units2_reset_before", act_desc(recurrent_activation="glu", reset_after=False) + " units=2: each gate's glu value is broadcast over both units.", (3, 5, 3), 2, recurrent_activation="glu", reset_after=False, input_scale=A),
        # recurrent_dropout with a (1, units) initial state: Keras draws (1, units) masks from the
        # state's shape and broadcasts them over the batch.
        G("dropout_recurrent_batch1_state", "recurrent_dropout>0, training=True, initial_state of shape (1, units) for a batch of 3: Keras draws the 3 recurrent masks from the state's shape, (1, units), and broadcasts them over the batch (masks recorded).", (3, 5, 4), 3, state=True, recurrent_dropout=0.4, seed=17, training=True, initial_state=True, initial_state_rows=1),
        G("grad_rec_softmax", "FD gradients: recurrent_activation=softmax (per gate), return_sequences.", (2, 3, 2), 3, recurrent_activation="softmax", dtype="float64", grads=True),
        G("grad_glu_units2", "FD gradients: activation=glu and recurrent_activation=glu at units=2 (half-width results broadcast), reset_after=False.", (2, 3, 2), 2, activation="glu", recurrent_activation="glu", reset_after=False, dtype="float64", grads=True),
        G("grad_unroll_mask", "FD gradients: unroll=True, holes mask, reset_after=False.", (2, 5, 2), 2, unroll=True, reset_after=False, mask="holes", dtype="float64", grads=True),
        # float32 gradient cases (issue 13): float32 data; `grads` are float64 finite differences
        # of the float64 layer on that data widened exactly (the true gradient a float32 backend
        # approximates); Keras's own float32 autodiff error against them is recorded as evidence.
        G("grad_f32_defaults_seq", "float32 gradients: defaults, return_sequences.", (3, 6, 4), 5, grads=True),
        G("grad_f32_reset_before_init", "float32 gradients: reset_after=False, initial_state, return_sequences=False.", (2, 5, 3), 4, seq=False, reset_after=False, initial_state=True, grads=True),
        G("grad_f32_mask_backwards", "float32 gradients: right-pad mask, go_backwards, initial_state.", (3, 5, 2), 3, go_backwards=True, mask="right_pad", initial_state=True, grads=True),
        G("grad_f32_nobias_state", "float32 gradients: use_bias=False, return_state (loss only on outputs[0]).", (2, 4, 3), 3, seq=False, state=True, use_bias=False, grads=True),
        G("grad_f32_saturated", "float32 gradients: inputs scaled by 4 (saturated gates), reset_after=True.", (2, 5, 3), 4, input_scale=4.0, grads=True),
        G("grad_f32_long", "float32 gradients over 16 steps (accumulation), return_sequences.", (2, 16, 2), 3, grads=True),
        C("grad_f32_cell", "float32 gradients: GRUCell single step.", (3, 4), 3, grads=True),
        # Large / long (float32 with a true-float64 reference).
        G("large_seq", "Large: batch 8, timesteps 50, features 32, units 64, return_sequences; includes the float64 Keras output for the same (float32-valued) data to calibrate tolerances.", (8, 50, 32), 64, state=True, weight_scale=0.25, float64_reference=True),
        G("long_seq", "Long: timesteps 200, units 16, return_sequences; float64 reference included (accumulated error check).", (4, 200, 6), 16, float64_reference=True),
        G("long_seq_mask_backwards", "Long with random mask and go_backwards, float64 reference included.", (3, 200, 4), 16, go_backwards=True, mask="random", float64_reference=True),
        # Stateful: a sequence of operations recorded in 'steps'.
        G("stateful_seq", STATEFUL_DESCRIPTION, (2, 5, 6), 7, stateful=True),
        G("stateful_last_reset_before_mask", STATEFUL_DESCRIPTION, (2, 3, 5), 3, seq=False, state=True, stateful=True, reset_after=False, mask="right_pad"),
    ]
    names = [s.name for s in t]
    assert len(names) == len(set(names)), "duplicate case names"
    by_name = {s.name: s for s in t}
    for s in t:
        for ref in (s.paired, s.equals, s.data_from):
            assert ref is None or ref in by_name, (s.name, ref)
    return t


# ---------------------------------------------------------------------------
# Seeded data.
# ---------------------------------------------------------------------------


def case_rng(base_seed, key):
    """One independent stream per case (keyed by name), so a case's data does
    not depend on which other cases are generated (--only)."""
    return np.random.default_rng([base_seed, zlib.crc32(key.encode())])


def make_mask(rng, pattern, batch, timesteps):
    """0/1 masks of the kinds used by the shipped cases (1 = keep)."""
    m = np.ones((batch, timesteps), dtype=bool)
    if pattern == "right_pad":  # row 0 full, the others padded at the end
        for i in range(1, batch):
            length = int(rng.integers(1, timesteps)) if timesteps > 1 else 1
            m[i, length:] = False
    elif pattern == "left_pad":  # row 0 full, the others padded at the start
        for i in range(1, batch):
            start = int(rng.integers(1, timesteps)) if timesteps > 1 else 0
            m[i, :start] = False
    elif pattern in ("holes", "all_false_row"):
        m = rng.random((batch, timesteps)) < 0.6
        m[:, 0] = True  # every row keeps its first step ...
        if pattern == "all_false_row":
            m[1, :] = False  # ... except one fully masked row
    elif pattern == "first_masked":  # leading masked steps, last row all masked
        for i in range(batch):
            lead = timesteps if i == batch - 1 else int(rng.integers(1, timesteps)) if timesteps > 1 else 0
            m[i, :lead] = False
    elif pattern == "random":
        m = rng.random((batch, timesteps)) < 0.7
    else:
        raise ValueError(f"unknown mask pattern {pattern!r}")
    return m


def weight_shapes(spec, features):
    u = spec.units
    shapes = [(features, 3 * u), (u, 3 * u)]
    if spec.kwargs.get("use_bias", True):
        reset_after = spec.kwargs.get("reset_after", True)
        shapes.append((2, 3 * u) if reset_after else (3 * u,))
    return shapes


def output0_shape(spec):
    if spec.layer == "GRUCell":
        return (spec.shape[0], spec.units)
    b, t, _ = spec.shape
    seq = spec.kwargs.get("return_sequences", False)
    return (b, t, spec.units) if seq else (b, spec.units)


def draw_data(spec, base_seed):
    """Weights, inputs, mask, initial state and cotangent for one case.  Draws
    happen in a fixed order from the stream of `data_from` (or the case
    itself), so paired cases get bit-identical data."""
    rng = case_rng(base_seed, spec.data_from or spec.name)
    dt = np.dtype(spec.dtype)
    batch, features = spec.shape[0], spec.shape[-1]
    d = {}
    d["weights"] = [
        rng.uniform(-spec.weight_scale, spec.weight_scale, s).astype(dt)
        for s in weight_shapes(spec, features)
    ]
    d["inputs"] = (spec.input_scale * rng.standard_normal(spec.shape)).astype(dt)
    d["mask"] = (
        make_mask(rng, spec.mask, batch, spec.shape[1]) if spec.mask else None
    )
    d["initial_state"] = (
        [rng.uniform(-0.9, 0.9, (spec.initial_state_rows or batch, spec.units)).astype(dt)]
        if spec.initial_state
        else None
    )
    d["cotangent"] = (
        rng.uniform(-1.0, 1.0, output0_shape(spec)).astype(dt)
        if spec.grads
        else None
    )
    if spec.stateful:
        d["steps_rng"] = rng  # the stateful run draws its per-call data
    if spec.cell_prior_steps:
        d["prior_inputs"] = [(spec.input_scale * rng.standard_normal(spec.shape)).astype(dt)
                             for _ in range(spec.cell_prior_steps)]
    return d


# ---------------------------------------------------------------------------
# JSON encoding.
# ---------------------------------------------------------------------------


def T(a):
    """{"shape", "data"} with data flat row-major.  Floats are widened to
    binary64 exactly, so json writes Python's shortest repr of the exact value
    (a float32 parses back to exactly itself); bool/int become 0/1 ints."""
    a = np.asarray(a)
    if a.dtype == np.bool_ or np.issubdtype(a.dtype, np.integer):
        data = a.astype(np.int64).ravel().tolist()
    elif a.dtype in (np.float32, np.float64):
        if not np.all(np.isfinite(a)):
            raise ValueError("non-finite value in a tensor")
        data = a.astype(np.float64).ravel().tolist()
    else:
        raise TypeError(f"unexpected dtype {a.dtype}")
    return {"shape": list(a.shape), "data": data}


def T_or_list(x):
    """None -> null, array -> T, list of arrays -> [T]."""
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [T(e) for e in x]
    return T(x)


def from_T(t, dtype):
    return np.array(t["data"], dtype=np.float64).reshape(t["shape"]).astype(dtype)


def mask_from_T(t):
    return None if t is None else np.array(t["data"]).reshape(t["shape"]).astype(bool)


def dump_case(case, path):
    text = json.dumps(case, separators=(",", ":"), allow_nan=False) + "\n"
    with open(path, "w") as f:
        f.write(text)
    return len(text.encode())


def max_abs_diff(a_list, b_list):
    return float(max(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))
                     for a, b in zip(a_list, b_list)))


# ---------------------------------------------------------------------------
# Running Keras (shared by the main process and the helpers).
# ---------------------------------------------------------------------------


def import_keras(backend, true_float64=False):
    """Import Keras on `backend`; optionally disable the float64->float32
    demotion (the one change that makes float64 layers compute in float64)."""
    global keras
    os.environ["KERAS_BACKEND"] = backend
    # Keras' get_config() imports tensorflow when it is installed (an
    # isinstance check only); keep TF's C++ INFO logs out of the output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras as k

    if k.backend.backend() != backend:
        raise RuntimeError(f"wanted backend {backend}, got {k.backend.backend()}")
    if true_float64:
        from keras.src.backend.common import dtypes

        dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"
    keras = k
    return k


def to_np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def layer_class(kind):
    return {"GRU": keras.layers.GRU, "GRUCell": keras.layers.GRUCell}[kind]


def new_layer(spec):
    """Construct from the spec's constructor args (the name is fixed so that
    every config reads "gru"/"gru_cell", not "gru_7")."""
    name = "gru" if spec.layer == "GRU" else "gru_cell"
    return layer_class(spec.layer)(spec.units, dtype=spec.dtype, name=name, **spec.kwargs)


def layer_from_config(kind, config, dtype=None):
    config = json.loads(json.dumps(config))  # deep copy
    if dtype is not None:  # same layer, another dtype policy
        config["dtype"]["config"]["name"] = dtype
    return layer_class(kind).from_config(config)


def build_with_weights(layer, input_shape, weights):
    layer.build(tuple(input_shape))
    layer.set_weights([np.asarray(w) for w in weights])
    return layer


def call_layer(layer, kind, inputs, mask=None, initial_state=None, training=False):
    """One call; returns the list of outputs exactly as Keras returned them:
    GRU -> [output] or [output, *states]; GRUCell -> [output, *new_states]."""
    if kind == "GRUCell":
        h, new_states = layer(inputs, list(initial_state), training=training)
        return [to_np(h)] + [to_np(s) for s in new_states]
    out = layer(inputs, initial_state=initial_state, mask=mask, training=training)
    if isinstance(out, (list, tuple)):
        return [to_np(o) for o in out]
    return [to_np(out)]


def inject_dropout_masks(layer, kind, dropout_mask, recurrent_dropout_mask):
    """Make Keras use the given masks instead of drawing new ones: it only
    draws when the cached mask attribute is None."""
    cell = layer if kind == "GRUCell" else layer.cell
    cell._dropout_mask = dropout_mask
    cell._recurrent_dropout_mask = recurrent_dropout_mask


def call_recording_dropout_masks(layer, kind, inputs, mask, initial_state):
    """training=True call that also returns the dropout masks Keras drew.
    GRU clears the cell's cached masks at the end of call(), so the reset
    methods are wrapped to snapshot them first; a bare GRUCell keeps them."""
    cell = layer if kind == "GRUCell" else layer.cell
    seen = {}
    if kind == "GRU":
        reset_dp, reset_rdp = cell.reset_dropout_mask, cell.reset_recurrent_dropout_mask

        def snap_dp():
            seen["dp"] = getattr(cell, "_dropout_mask", None)
            reset_dp()

        def snap_rdp():
            seen["rdp"] = getattr(cell, "_recurrent_dropout_mask", None)
            reset_rdp()

        cell.reset_dropout_mask, cell.reset_recurrent_dropout_mask = snap_dp, snap_rdp
    outputs = call_layer(layer, kind, inputs, mask, initial_state, training=True)
    if kind == "GRU":
        del cell.reset_dropout_mask, cell.reset_recurrent_dropout_mask
        dp, rdp = seen["dp"], seen["rdp"]
    else:
        dp = getattr(cell, "_dropout_mask", None)
        rdp = getattr(cell, "_recurrent_dropout_mask", None)
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()

    def np_mask(m):
        if m is None:
            return None
        if isinstance(m, (list, tuple)):
            return [to_np(e) for e in m]
        return to_np(m)

    return outputs, np_mask(dp), np_mask(rdp)


# ---------------------------------------------------------------------------
# Helper processes (true float64 numpy; tensorflow).
# ---------------------------------------------------------------------------


def job_layer(job, dtype=None):
    layer = layer_from_config(job["layer"], job["config"], dtype)
    return build_with_weights(layer, job["inputs"].shape, job["weights"])


def job_forward(job):
    layer = job_layer(job, job.get("dtype"))
    if job.get("dropout_masks") is not None:
        inject_dropout_masks(layer, job["layer"], *job["dropout_masks"])
    return call_layer(layer, job["layer"], job["inputs"], job["mask"],
                      job["initial_state"], job["training"])


def job_fd_grads(job):
    """Central finite differences of L = sum(outputs[0] * cotangent) w.r.t.
    inputs, initial_state and each weight, at h and h/2 (the difference
    between the two is recorded as an accuracy estimate).  A job with
    dtype float64 (widened float32 data) differentiates the float64 layer."""
    layer = job_layer(job, job.get("dtype"))
    kind, C_ = job["layer"], job["cotangent"]
    x = job["inputs"].copy()
    h0 = None if job["initial_state"] is None else [job["initial_state"][0].copy()]
    weights = [w.copy() for w in job["weights"]]
    names = ["kernel", "recurrent_kernel", "bias"][: len(weights)]
    params = [("inputs", x)] + ([("initial_state", h0[0])] if h0 else [])
    params += list(zip(names, weights))

    def loss(is_weight):
        if is_weight:
            layer.set_weights(weights)
        out0 = call_layer(layer, kind, x, job["mask"], h0, False)[0]
        return float(np.sum(out0 * C_))

    grads, halving = {}, {}
    for pname, arr in params:
        is_weight = pname in names
        flat = arr.reshape(-1)  # a view: perturbs the array in place
        g = {}
        for step in (job["h"], job["h"] / 2):
            gs = np.empty_like(flat)
            for i in range(flat.size):
                orig = flat[i]
                flat[i] = orig + step
                lp = loss(is_weight)
                flat[i] = orig - step
                lm = loss(is_weight)
                flat[i] = orig
                gs[i] = (lp - lm) / (2 * step)
            g[step] = gs.reshape(arr.shape)
        if is_weight:
            layer.set_weights(weights)
        grads[pname] = g[job["h"]]
        halving[pname] = float(np.max(np.abs(g[job["h"]] - g[job["h"] / 2])))
    return {"grads": grads, "halving": halving}


def job_autodiff(job):
    """TensorFlow-backend GradientTape gradients of the same loss."""
    import tensorflow as tf

    layer = job_layer(job)
    kind = job["layer"]
    x = tf.constant(job["inputs"])
    h0 = None if job["initial_state"] is None else [tf.constant(job["initial_state"][0])]
    with tf.GradientTape() as tape:
        tape.watch(x)
        if h0:
            tape.watch(h0[0])
        if kind == "GRUCell":
            out0 = layer(x, h0, training=False)[0]
        else:
            out = layer(x, initial_state=h0, mask=job["mask"], training=False)
            out0 = out[0] if isinstance(out, (list, tuple)) else out
        loss = tf.reduce_sum(out0 * tf.constant(job["cotangent"]))
    targets = [x] + (h0 or []) + [w.value for w in layer.trainable_weights]
    names = ["inputs"] + (["initial_state"] if h0 else [])
    names += ["kernel", "recurrent_kernel", "bias"][: len(layer.trainable_weights)]
    grads = tape.gradient(loss, targets)
    return {n: np.asarray(g) for n, g in zip(names, grads)}


def job_autodiff_jax(job):
    """Keras's own autodiff on the JAX backend (jax.grad through
    `stateless_call`) of the same loss, in the layer's dtype: the float32
    evidence for the float32 gradient tolerance (JAX is what CI installs)."""
    import jax
    import jax.numpy as jnp

    layer = job_layer(job)
    kind = job["layer"]
    trainable = [v.value for v in layer.trainable_variables]
    fixed = [v.value for v in layer.non_trainable_variables]
    cot = jnp.asarray(job["cotangent"])
    mask = None if job["mask"] is None else jnp.asarray(job["mask"])

    def loss(x, h0, weights):
        if kind == "GRUCell":
            out, _ = layer.stateless_call(weights, fixed, x, [h0], training=False)
        else:
            extra = {} if h0 is None else {"initial_state": [h0]}
            out, _ = layer.stateless_call(weights, fixed, x, mask=mask, training=False, **extra)
        out0 = out[0] if isinstance(out, (list, tuple)) else out
        return jnp.sum(out0 * cot)

    h0 = None if job["initial_state"] is None else jnp.asarray(job["initial_state"][0])
    gx, gh, gw = jax.grad(loss, argnums=(0, 1, 2))(jnp.asarray(job["inputs"]), h0, trainable)
    out = {"inputs": np.asarray(gx)}
    if h0 is not None:
        out["initial_state"] = np.asarray(gh)
    for n, g in zip(["kernel", "recurrent_kernel", "bias"], gw):
        out[n] = np.asarray(g)
    return out


def job_stateful(job):
    """A stateful case's operations on a fresh layer (true float64 in the helper)."""
    layer = job_layer(job, job.get("dtype"))
    return run_stateful_ops(layer, job["ops"])


JOBS = {"stateful": job_stateful, "forward": job_forward, "fd_grads": job_fd_grads, "autodiff": job_autodiff, "autodiff_jax": job_autodiff_jax}


def helper_main(mode):
    """Serve pickled jobs on stdin/stdout.  stdout is kept for the protocol;
    anything Keras/TF prints goes to stderr."""
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    if mode == "true_f64":
        import_keras("numpy", true_float64=True)
    elif mode == "jax":
        import_keras("jax")
    elif mode == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
        import_keras("tensorflow")
    else:
        raise SystemExit(f"unknown helper mode {mode}")
    stdin = sys.stdin.buffer
    while True:
        try:
            job = pickle.load(stdin)
        except EOFError:
            return
        try:
            reply = {"ok": JOBS[job["op"]](job)}
        except Exception:
            reply = {"error": traceback.format_exc()}
        pickle.dump(reply, proto_out)
        proto_out.flush()


class Helper:
    """A lazily started helper process running this script in --helper mode."""

    def __init__(self, mode):
        self.mode, self.proc = mode, None

    def run(self, job):
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--helper", self.mode],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            pickle.dump(job, self.proc.stdin)
            self.proc.stdin.flush()
            reply = pickle.load(self.proc.stdout)
        except (EOFError, BrokenPipeError) as exc:
            raise RuntimeError(f"the {self.mode} helper process died "
                               "(its traceback is on stderr above)") from exc
        if "error" in reply:
            raise RuntimeError(f"{self.mode} helper failed:\n{reply['error']}")
        return reply["ok"]

    def close(self):
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait()
            self.proc = None


def tensorflow_available():
    import importlib.util

    return importlib.util.find_spec("tensorflow") is not None


# ---------------------------------------------------------------------------
# Generating one case.
# ---------------------------------------------------------------------------


def case_header(spec, meta):
    return {
        "format_version": FORMAT_VERSION,
        "name": spec.name,
        "keras_version": meta["keras_version"],
        "keras_commit": meta["keras_commit"],
        "backend": "numpy",
        "set": meta["set"],
        "description": spec.description,
        "layer": spec.layer,
    }


def job_for(spec, config, weights, data, **extra):
    job = {"layer": spec.layer, "config": config, "weights": weights,
           "inputs": data["inputs"], "mask": data["mask"],
           "initial_state": data["initial_state"], "training": spec.training}
    job.update(extra)
    return job


def widened_job(job):
    """The same job as a float64 layer on the float32 values widened exactly
    (for outputs_float64_reference)."""
    wide = lambda a: None if a is None else a.astype(np.float64)  # noqa: E731
    return dict(job, dtype="float64", inputs=wide(job["inputs"]),
                weights=[wide(w) for w in job["weights"]],
                initial_state=None if job["initial_state"] is None
                else [wide(h) for h in job["initial_state"]])


@dataclass(frozen=True)
class Op:
    """One operation of a stateful case's plan: `call` (its note says where the state it starts
    from comes from), `reset_states` or `assign_states` (`layer.states[0].assign`)."""

    op: str
    note: str = None
    initial_state: str = None  # call: an explicit initial_state, "batch" or "one" row (broadcast)
    masked: bool = True  # call: keeps the mask drawn for it (the case's pattern)


# The table's plan: call x3, reset, call, assign, call, then a call with an explicit initial_state.
STATEFUL_PLAN = (
    Op("call", "call 1 (state starts at zeros)"),
    Op("call", "call 2 (continues from call 1's final state)"),
    Op("call", "call 3"),
    Op("reset_states"),
    Op("call", "call 4 after reset_states (zeros again)"),
    Op("assign_states", ASSIGN_NOTE),
    Op("call", "call 5 after assigning the state"),
    Op("call", "call 6 with explicit initial_state: it overrides the stored state; "
       "the stored state is then overwritten by the final state", initial_state="batch", masked=False),
)


def draw_stateful_ops(spec, data):
    """The data of every operation of the case's plan, drawn in plan order from the case's
    stream; the first call takes the case's own inputs and mask."""
    rng = data["steps_rng"]
    B, Tn, _ = spec.shape
    ops = []
    for plan in spec.stateful_plan or STATEFUL_PLAN:
        if plan.op == "reset_states":
            ops.append({"op": "reset_states"})
        elif plan.op == "assign_states":
            ops.append({"op": "assign_states", "note": plan.note,
                        "states": [rng.uniform(-0.9, 0.9, (B, spec.units)).astype(spec.dtype)]})
        elif not ops:
            ops.append({"op": "call", "note": plan.note, "inputs": data["inputs"], "mask": data["mask"]})
        else:
            x = (spec.input_scale * rng.standard_normal(spec.shape)).astype(spec.dtype)
            m = make_mask(rng, spec.mask, B, Tn) if spec.mask else None
            op = {"op": "call", "note": plan.note, "inputs": x, "mask": m if plan.masked else None}
            if plan.initial_state:
                rows = 1 if plan.initial_state == "one" else B
                op["initial_state"] = [rng.uniform(-0.9, 0.9, (rows, spec.units)).astype(spec.dtype)]
            ops.append(op)
    return ops


def run_stateful_ops(layer, ops):
    """Runs the operations on a built stateful layer; per operation, the call's outputs (None
    for the others) and the stored state after it."""
    results = []
    for op in ops:
        outs = None
        if op["op"] == "call":
            outs = call_layer(layer, "GRU", op["inputs"], op["mask"], op.get("initial_state"), False)
        elif op["op"] == "reset_states":
            layer.reset_states()
        elif op["op"] == "assign_states":
            layer.states[0].assign(op["states"][0])
        else:
            raise ValueError(f"unknown stateful operation {op['op']!r}")
        results.append({"outputs": outs, "states_after": [to_np(layer.states[0].value)]})
    return results


def stateful_steps_json(ops, results):
    """The case's `steps`: what each operation was given and, for calls and resets, what Keras
    returned and left in the state (the shipped key order)."""
    steps = []
    for op, res in zip(ops, results):
        if op["op"] == "call":
            step = {"op": "call", "note": op["note"], "inputs": T(op["inputs"]), "mask": T_or_list(op["mask"])}
            if op.get("initial_state") is not None:
                step["initial_state"] = T_or_list(op["initial_state"])
            step.update({"outputs": T_or_list(res["outputs"]), "states_after": T_or_list(res["states_after"])})
        elif op["op"] == "reset_states":
            step = {"op": "reset_states", "states_after": T_or_list(res["states_after"])}
        else:
            step = {"op": "assign_states", "note": op["note"], "states": T_or_list(op["states"])}
        steps.append(step)
    return steps


def stateful_ops_of_case(case, dtype):
    """A stateful case's steps back as operations (data in `dtype`)."""
    ops = []
    for st in case["steps"]:
        op = {"op": st["op"], "note": st.get("note")}
        if st["op"] == "call":
            op.update(inputs=from_T(st["inputs"], dtype), mask=mask_from_T(st["mask"]))
            if st.get("initial_state") is not None:
                op["initial_state"] = [from_T(t, dtype) for t in st["initial_state"]]
        elif st["op"] == "assign_states":
            op["states"] = [from_T(t, dtype) for t in st["states"]]
        ops.append(op)
    return ops


def cell_state_after_prior_steps(spec, config, weights, data, helpers):
    """GRUCell called step by step (inference) from the drawn state over the prior inputs, in a
    cell of its own (the recorded cell draws its dropout masks afresh): the state it reaches is
    the recorded step's `states` argument. float64 steps run in true float64."""
    states = data["initial_state"]
    for x in data["prior_inputs"]:
        job = {"layer": "GRUCell", "config": config, "weights": weights, "inputs": x, "mask": None,
               "initial_state": states, "training": False}
        outs = helpers["true_f64"].run(dict(job, op="forward")) if spec.dtype == "float64" else job_forward(job)
        states = [np.asarray(outs[1], dtype=spec.dtype)]
    return states


def outputs_on_same_data(spec, data):
    """Stock outputs of `spec` (another case of the table) on given data."""
    layer = build_with_weights(new_layer(spec), data["inputs"].shape, data["weights"])
    return call_layer(layer, spec.layer, data["inputs"], data["mask"],
                      data["initial_state"], spec.training)


def generate_case(spec, table, meta, helpers, warn):
    data = draw_data(spec, meta["base_seed"])
    layer = build_with_weights(new_layer(spec), data["inputs"].shape, data["weights"])
    # Record what Keras holds (set_weights casts to the variable dtype).
    weights = [np.asarray(w) for w in layer.get_weights()]
    names = ["kernel", "recurrent_kernel", "bias"]
    extras = {}
    if spec.cell_prior_steps:
        data["initial_state"] = cell_state_after_prior_steps(spec, layer.get_config(), weights, data, helpers)

    if spec.stateful:
        extras["states_initial"] = T_or_list([to_np(layer.states[0].value)])
        ops = draw_stateful_ops(spec, data)
        results = run_stateful_ops(layer, ops)
        outputs = results[0]["outputs"]
        if spec.dtype == "float64":  # stock Keras computed them in float32: the steps' numbers come from true float64
            results = helpers["true_f64"].run(job_for(spec, layer.get_config(), weights, data, op="stateful", ops=ops))
        extras["steps"] = stateful_steps_json(ops, results)
    elif spec.training:
        outputs, dp, rdp = call_recording_dropout_masks(
            layer, spec.layer, data["inputs"], data["mask"], data["initial_state"])
        # Replay in a fresh layer with the recorded masks injected.
        fresh = build_with_weights(new_layer(spec), data["inputs"].shape, weights)
        inject_dropout_masks(fresh, spec.layer, dp, rdp)
        replay = call_layer(fresh, spec.layer, data["inputs"], data["mask"],
                            data["initial_state"], True)
        identical = all(np.array_equal(a, b) for a, b in zip(outputs, replay))
        if not identical:
            warn(f"{spec.name}: replay with the recorded dropout masks differs")
        extras.update({
            "dropout_mask": T_or_list(dp),
            "recurrent_dropout_mask": T_or_list(rdp),
            "dropout_mask_note": DROPOUT_MASK_NOTE,
            "replay_with_recorded_masks_identical": identical,
        })
    else:
        outputs = call_layer(layer, spec.layer, data["inputs"], data["mask"],
                             data["initial_state"], spec.training)
    if (spec.layer == "GRUCell" and spec.dtype == "float32" and "sparsemax" in (spec.kwargs.get("activation"), spec.kwargs.get("recurrent_activation"))
            and any(o.dtype == np.float64 for o in outputs)):
        outputs = [o.astype(np.float32) for o in outputs]
        extras["outputs_dtype_note"] = SPARSEMAX_CELL_NOTE
    for o in outputs:
        assert o.dtype == np.dtype(spec.dtype), (spec.name, o.dtype)
    config = layer.get_config()

    case = case_header(spec, meta)
    case.update({
        "config": config,
        "dtype": spec.dtype,
        "weights": {n: T(w) for n, w in zip(names, weights)},
        "inputs": T(data["inputs"]),
        "mask": T_or_list(data["mask"]),
        "initial_state": T_or_list(data["initial_state"]),
        "training": spec.training,
    })

    if spec.dtype == "float64":
        # Stock Keras demotes float64 to float32 internally: the recorded
        # outputs come from the true-float64 helper, the stock ones are kept.
        stock = outputs
        outputs = helpers["true_f64"].run(job_for(spec, config, weights, data, op="forward"))
    case["outputs"] = T_or_list(outputs)

    if spec.layer == "GRUCell":
        case["initial_state_note"] = INITIAL_STATE_NOTE
    if spec.float64_reference:
        ref = helpers["true_f64"].run(widened_job(
            job_for(spec, config, weights, data, op="forward")))
        o32, o64 = outputs[0], ref[0]
        extras.update({
            "outputs_float64_reference": T_or_list(ref),
            "outputs_float64_reference_note": F64_REFERENCE_NOTE,
            "float32_vs_float64_max_abs_diff": [max_abs_diff([a], [b]) for a, b in zip(outputs, ref)],
            "float32_vs_float64_max_abs_diff_per_timestep":
                np.max(np.abs(o32.astype(np.float64) - o64), axis=(0, 2)).tolist(),
        })
    if spec.paired:
        other = outputs_on_same_data(table[spec.paired], data)
        diff = max_abs_diff(outputs, other)
        if spec.paired_equal is not None and (diff == 0.0) != spec.paired_equal:
            warn(f"{spec.name}: paired diff {diff} vs documented "
                 f"{'equal' if spec.paired_equal else 'different'}")
        extras.update({"paired_case": spec.paired, "paired_max_abs_diff": diff,
                       "paired_note": spec.paired_note})
    if spec.equals:
        ref = outputs_on_same_data(table[spec.equals], data)
        equal = all(np.array_equal(a, b) for a, b in zip(outputs, ref))
        if not equal:
            warn(f"{spec.name}: outputs differ from {spec.equals}")
        extras.update({"equals_case": spec.equals, "equal_to_reference": equal})
    if spec.grads:
        case["cotangent"] = T(data["cotangent"])

    # Key order follows the shipped files.
    for k in ("dropout_mask", "recurrent_dropout_mask", "dropout_mask_note",
              "replay_with_recorded_masks_identical", "outputs_float64_reference",
              "outputs_float64_reference_note", "float32_vs_float64_max_abs_diff",
              "float32_vs_float64_max_abs_diff_per_timestep", "paired_case",
              "paired_max_abs_diff", "paired_note", "equals_case",
              "equal_to_reference", "states_initial", "steps", "outputs_dtype_note"):
        if k in extras:
            case[k] = extras[k]
    if spec.dtype == "float64":
        case["outputs_numpy_backend_stock"] = T_or_list(stock)
        case["outputs_backend"] = BACKEND_TRUE_F64
        case["float64_note"] = float64_note(meta["keras_version"])
        case["stock_numpy_vs_true_float64_max_abs_diff"] = max_abs_diff(stock, outputs)
    else:
        case["outputs_backend"] = BACKEND_STOCK
    if spec.grads:
        case["grads"] = gradient_block(spec, config, weights, data, helpers, meta, warn)
    return case


def gradient_block(spec, config, weights, data, helpers, meta, warn):
    job = job_for(spec, config, weights, data, cotangent=data["cotangent"], h=FD_STEP)
    if spec.dtype == "float32":
        return float32_gradient_block(job, meta, helpers, spec)
    fd = helpers["true_f64"].run(dict(job, op="fd_grads"))
    g = {
        "method": grads_method(meta["keras_version"]),
        "loss": "L = sum(outputs[0] * cotangent)",
        "h": FD_STEP,
        "fd_halving_max_abs_diff": fd["halving"],
    }
    g.update({k: T(v) for k, v in fd["grads"].items()})
    if helpers.get("tensorflow") is not None:
        ad = helpers["tensorflow"].run(dict(job, op="autodiff"))
        g["tensorflow_autodiff_vs_fd_max_abs_diff"] = {
            k: float(np.max(np.abs(ad[k] - fd["grads"][k]))) for k in fd["grads"]}
    else:
        warn(f"{spec.name}: TensorFlow helper not used (not installed or --no-tensorflow), "
             "grads.tensorflow_autodiff_vs_fd_max_abs_diff left out")
    return g


def float32_gradient_block(job, meta, helpers, spec):
    """A float32 case's gradients: float64 central differences of the float64
    layer on the float32 data widened exactly (what every float32 backend's
    backward approximates), plus the evidence for the float32 tolerance: how
    far Keras's own float32 autodiff (TensorFlow backend, float32 layer) is
    from them, absolutely and relative to each gradient's largest magnitude."""
    wide = widened_job(job)
    wide["cotangent"] = job["cotangent"].astype(np.float64)
    fd = helpers["true_f64"].run(dict(wide, op="fd_grads"))
    g = {
        "method": grads_method(meta["keras_version"]) + ", on the float32 data widened exactly",
        "loss": "L = sum(outputs[0] * cotangent)",
        "h": FD_STEP,
        "fd_halving_max_abs_diff": fd["halving"],
    }
    g.update({k: T(v) for k, v in fd["grads"].items()})
    ad = helpers["jax"].run(dict(job, op="autodiff_jax"))
    g["keras_float32_autodiff_backend"] = "jax"
    g["keras_float32_autodiff_vs_fd_max_abs_diff"] = {
        k: float(np.max(np.abs(ad[k].astype(np.float64) - fd["grads"][k]))) for k in fd["grads"]}
    g["keras_float32_autodiff_vs_fd_max_rel_diff"] = {
        k: float(np.max(np.abs(ad[k].astype(np.float64) - fd["grads"][k]))
                 / max(1e-30, float(np.max(np.abs(fd["grads"][k])))))
        for k in fd["grads"]}
    return g


def index_entry(case, nbytes):
    return {
        "name": case["name"],
        "layer": case["layer"],
        "dtype": case["dtype"],
        "inputs_shape": case["inputs"]["shape"],
        "units": case["config"]["units"],
        "outputs_shapes": [o["shape"] for o in case["outputs"]],
        "mask": case["mask"] is not None,
        "initial_state": case["initial_state"] is not None,
        "training": case["training"],
        "grads": "grads" in case,
        "stateful": "steps" in case,
        "outputs_backend": case["outputs_backend"],
        "bytes": nbytes,
        "description": case["description"],
    }


def generate(args):
    table = {s.name: s for s in case_table()}
    names = list(table)
    core_files = list(CORE_FILES)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in table and n not in CORE_FILES]
        if unknown:
            raise SystemExit(f"unknown case(s): {', '.join(unknown)} (see --list)")
        core_files = [n for n in names if n in CORE_FILES]
        names = [n for n in names if n in table]
    import_keras("numpy")
    version = keras.__version__
    meta = {
        "keras_version": version,
        "keras_commit": args.keras_commit or KERAS_COMMITS.get(version, "unknown"),
        "set": "generated",
        "base_seed": args.seed,
    }
    warnings = []

    def warn(msg):
        warnings.append(msg)
        print(f"WARNING: {msg}", file=sys.stderr)

    use_tf = not args.no_tensorflow and tensorflow_available()
    helpers = {"true_f64": Helper("true_f64"), "jax": Helper("jax"),
               "tensorflow": Helper("tensorflow") if use_tf else None}
    os.makedirs(args.out, exist_ok=True)
    entries, timings = [], {}
    t_all = time.perf_counter()
    try:
        for name in names:
            t0 = time.perf_counter()
            case = generate_case(table[name], table, meta, helpers, warn)
            nbytes = dump_case(case, os.path.join(args.out, f"{name}.json"))
            entries.append(index_entry(case, nbytes))
            timings[name] = time.perf_counter() - t0
            print(f"{name:45s} {timings[name]:7.2f}s {nbytes:9d} bytes", flush=True)
    finally:
        for h in helpers.values():
            if h is not None:
                h.close()
    # errors.json / config_cases.json: seed-independent checks from the tables
    # in errors_configs.py, run in this (stock numpy) process.
    for core in core_files:
        t0 = time.perf_counter()
        core_meta = {**meta, "format_version": FORMAT_VERSION}
        if core == "errors":
            data = errors_configs.errors_file(keras, core_meta, warn)
        else:
            data = errors_configs.config_cases_file(keras, core_meta)
        nbytes = dump_case(data, os.path.join(args.out, f"{core}.json"))
        print(f"{core + '.json':45s} {time.perf_counter() - t0:7.2f}s {nbytes:9d} bytes", flush=True)
    index = {
        "format_version": FORMAT_VERSION,
        "keras_version": meta["keras_version"],
        "keras_commit": meta["keras_commit"],
        "backend": "numpy",
        "numpy_version": np.__version__,
        "set": meta["set"],
        "base_seed": args.seed,
        "cases": entries,
        "saved_models": [],  # this generator writes no saved/ models
    }
    with open(os.path.join(args.out, "index.json"), "w") as f:
        f.write(json.dumps(index, indent=1, allow_nan=False) + "\n")
    total = time.perf_counter() - t_all
    print(f"{len(entries)} cases{''.join(f' + {c}.json' for c in core_files)} in {total:.1f}s -> {args.out}"
          f" (tensorflow autodiff check: {'on' if use_tf else 'off'})")
    if warnings:
        print(f"{len(warnings)} warning(s):", *warnings, sep="\n  ")
    return 0


# ---------------------------------------------------------------------------
# --replay: re-run a case file through Keras and report max abs diffs.
# ---------------------------------------------------------------------------


def replay_case(path, helpers, tol):
    with open(path) as f:
        case = json.load(f)
    if "layer" not in case:  # index.json etc. (a glob of a directory)
        print(f"skipped  {path}: not a case file")
        return True
    kind, dt = case["layer"], case["dtype"]
    weights = [from_T(case["weights"][k], dt)
               for k in ("kernel", "recurrent_kernel", "bias") if k in case["weights"]]
    inputs = from_T(case["inputs"], dt)
    mask = mask_from_T(case["mask"])
    h0 = None if case["initial_state"] is None else [from_T(t, dt) for t in case["initial_state"]]
    job = {"layer": kind, "config": case["config"], "weights": weights,
           "inputs": inputs, "mask": mask, "initial_state": h0,
           "training": case["training"]}
    if case["training"] and "dropout_mask" in case:
        def masks(x):
            if x is None:
                return None
            return [from_T(t, dt) for t in x] if isinstance(x, list) else from_T(x, dt)
        job["dropout_masks"] = (masks(case["dropout_mask"]), masks(case["recurrent_dropout_mask"]))
    results = {}  # what -> max abs diff

    def outs(ts):
        return [from_T(t, np.float64) for t in ts]

    if "steps" in case:
        ops = stateful_ops_of_case(case, dt)
        if dt == "float64":  # the recorded steps are true float64
            got = helpers["true_f64"].run(dict(job, op="stateful", ops=ops))
        else:
            got = run_stateful_ops(build_with_weights(layer_from_config(kind, case["config"]), inputs.shape, weights), ops)
        for i, (st, res) in enumerate(zip(case["steps"], got)):
            if "outputs" in st:
                results[f"steps[{i}].outputs"] = max_abs_diff(res["outputs"], outs(st["outputs"]))
            if "states_after" in st:
                results[f"steps[{i}].states_after"] = max_abs_diff(res["states_after"], outs(st["states_after"]))
    else:
        if "dropout_masks" in job:
            # Also let Keras draw the masks itself from the config's seed: a
            # fresh layer's first call must give the recorded masks again.
            fresh = build_with_weights(layer_from_config(kind, case["config"]), inputs.shape, weights)
            got, dp, rdp = call_recording_dropout_masks(fresh, kind, inputs, mask, h0)
            results["outputs (masks redrawn from seed)"] = max_abs_diff(got, outs(case["outputs"]))
            for key, m in (("dropout_mask", dp), ("recurrent_dropout_mask", rdp)):
                same = json.dumps(T_or_list(m)) == json.dumps(case[key])
                results[f"{key} redrawn (0 = identical)"] = 0.0 if same else math.inf
        stock = job_forward(job)  # this (stock numpy) process
        if dt == "float64":
            results["outputs_numpy_backend_stock"] = max_abs_diff(stock, outs(case["outputs_numpy_backend_stock"]))
            results["outputs"] = max_abs_diff(helpers["true_f64"].run(dict(job, op="forward")), outs(case["outputs"]))
        else:
            results["outputs"] = max_abs_diff(stock, outs(case["outputs"]))
        if "outputs_float64_reference" in case:
            ref = helpers["true_f64"].run(widened_job(dict(job, op="forward")))
            results["outputs_float64_reference"] = max_abs_diff(ref, outs(case["outputs_float64_reference"]))
        if "grads" in case:
            fd = helpers["true_f64"].run(dict(job, op="fd_grads", cotangent=from_T(case["cotangent"], dt),
                                              h=case["grads"]["h"]))
            for k, g in fd["grads"].items():
                results[f"grads.{k}"] = max_abs_diff([g], [from_T(case["grads"][k], np.float64)])
    worst = max(results.values()) if results else 0.0
    status = "OK" if worst <= tol else "MISMATCH"
    print(f"{status:8s} {case['name']}: max abs diff {worst:.3g}")
    for k, v in results.items():
        print(f"           {k}: {v:.3g}")
    return worst <= tol


def replay(args):
    import_keras("numpy")
    helpers = {"true_f64": Helper("true_f64")}
    ok = True
    try:
        for path in args.replay:
            ok &= replay_case(path, helpers, args.tol)
    finally:
        helpers["true_f64"].close()
    return 0 if ok else 1


# ---------------------------------------------------------------------------
# --random N: seeded draws over the argument space (issue 13).
# ---------------------------------------------------------------------------

RANDOM_ACTIVATIONS = ["tanh", "sigmoid", "relu", "linear", "hard_sigmoid", "elu", "selu", "gelu",
                      "silu", "swish", "softsign", "softmax", "log_softmax", "sparsemax"]
RANDOM_MASKS = [None, None, "right_pad", "left_pad", "holes", "all_false_row", "first_masked"]
# A float32 draw is kept only when Keras's float32 result is this far inside the float32
# tolerance of its float64 result (on the same float32-valued data), elementwise: what a
# float32 backend may be held to without inheriting float32's own error. A twentieth, not a
# quarter: another float32 evaluation order (a backend's fused GEMMs) has been measured 6x
# further from float64 than Keras's own on a near-chaotic draw (seed 2024), and Keras's own
# ratio varies run to run near the threshold (multithreaded float32 sums).
RANDOM_KEEP_FRACTION = 0.05
FLOAT32_ATOL, FLOAT32_RTOL = 5e-6, 1e-5
# A stateful draw is kept only when starting call 2 from zeros instead of call 1's final state
# moves its outputs this many float32 tolerances: else a backend that drops the carried state
# passes it (saturated or zero gates can make the state irrelevant).
RANDOM_STATE_EFFECT = 2.0


def random_layer_kwargs(rng, units):
    """What a GRU and a GRUCell share: every activation as either activation (glu where Keras
    runs it), bias, reset_after."""
    acts = RANDOM_ACTIVATIONS + (["glu"] if units == 2 else [])
    return {
        "activation": str(rng.choice(acts)),
        "recurrent_activation": str(rng.choice(acts)),
        "use_bias": bool(rng.random() < 0.8),
        "reset_after": bool(rng.random() < 0.6),
    }


def random_sequence_draw(rng):
    """What a GRU draw and a stateful draw share, in this order (the seeds' streams depend on it):
    the sizes, the layer's arguments and the mask pattern (a fully masked row only where a second
    row is left). Returns ((batch, timesteps, features), units, layer kwargs, mask name or None)."""
    units = int(rng.integers(1, 7))
    batch = int(rng.integers(1, 5))
    timesteps = int(rng.integers(1, 8))
    features = int(rng.integers(1, 5))
    kw = {
        **random_layer_kwargs(rng, units),
        "go_backwards": bool(rng.random() < 0.3),
        "unroll": bool(rng.random() < 0.2),
        "zero_output_for_mask": bool(rng.random() < 0.3),
    }
    mask = rng.choice(RANDOM_MASKS)
    if mask in ("all_false_row",) and batch < 2:
        mask = "holes"
    return (batch, timesteps, features), units, kw, None if mask is None else str(mask)


def random_dropout(rng, name):
    """The dropout rates of a training draw (GRU or GRUCell), and the seed Keras draws its masks
    from: taken from the draw's name, not from rng (the streams stay as they were), so that
    --random N --seed S writes the same files on every run."""
    return {"dropout": float(rng.choice([0.0, 0.2, 0.5])), "recurrent_dropout": float(rng.choice([0.0, 0.3])),
            "seed": zlib.crc32(name.encode()) & 0x7FFFFFFF}


def random_returns(rng):
    """return_sequences and return_state of a GRU or stateful draw."""
    return {"seq": bool(rng.random() < 0.6), "state": bool(rng.random() < 0.4)}


def random_scales(rng):
    """Every draw's last choices, in this order: weight scale, input scale, dtype."""
    return {"weight_scale": float(rng.choice([0.5, 0.5, 2.0, 6.0])),
            "input_scale": float(rng.choice([1.0, 1.0, 4.0])),
            "dtype": "float64" if rng.random() < 0.25 else "float32"}


def random_spec(rng, name):
    """One seeded draw: every activation as either activation (glu where Keras runs it),
    masks of every kind, initial states incl. one-row ones, dropout with Keras's drawn masks,
    float32 and float64, weights and inputs large enough to saturate, unroll,
    zero_output_for_mask, go_backwards, return_sequences/return_state."""
    shape, units, kw, mask = random_sequence_draw(rng)
    training = bool(rng.random() < 0.3)
    if training:
        kw.update(random_dropout(rng, name))
    initial_state = bool(rng.random() < 0.4)
    rows = 1 if initial_state and rng.random() < 0.3 else None
    return G(name, f"Random configuration {name} (generate_cases.py --random).", shape, units,
             **random_returns(rng), mask=mask, initial_state=initial_state,
             initial_state_rows=rows, training=training, **random_scales(rng), **kw)


def random_stateful_plan(rng):
    """Consecutive calls carrying the state (the second call always continues from the first),
    assignments and calls with an explicit initial state (of batch rows or one row) among them,
    then reset_states and a call from zeros, sometimes continued once more."""
    kinds = ["call", "call"]
    kinds += [str(rng.choice(["call", "call", "assign_states", "initial_state", "initial_state_one"]))
              for _ in range(int(rng.integers(0, 3)))]
    kinds += ["reset_states", "call"] + (["call"] if rng.random() < 0.5 else [])
    plan, calls, previous = [], 0, None
    for kind in kinds:
        if kind == "reset_states":
            plan.append(Op("reset_states"))
        elif kind == "assign_states":
            plan.append(Op("assign_states", ASSIGN_NOTE))
        else:
            calls += 1
            if kind.startswith("initial_state"):
                rows = "one" if kind == "initial_state_one" else "batch"
                note = (f"call {calls} with explicit initial_state ({'1 row, broadcast' if rows == 'one' else 'batch rows'}): "
                        "it overrides the stored state; the stored state is then overwritten by the final state")
                plan.append(Op("call", note, initial_state=rows))
            else:
                note = {None: f"call {calls} (state starts at zeros)",
                        "reset_states": f"call {calls} after reset_states (zeros again)",
                        "assign_states": f"call {calls} after assigning the state"}.get(
                            previous, f"call {calls} (continues from call {calls - 1}'s final state)")
                plan.append(Op("call", note))
        previous = kind if kind in ("reset_states", "assign_states") else "call"
    return tuple(plan)


def random_stateful_spec(rng, name):
    """A stateful GRU draw: the GRU draw's argument space (no dropout: the calls are inference)
    over a seeded sequence of calls, resets and assignments."""
    shape, units, kw, mask = random_sequence_draw(rng)
    kw["stateful"] = True
    plan = random_stateful_plan(rng)
    return G(name, f"Random stateful configuration {name} (generate_cases.py --random): " + STATEFUL_DESCRIPTION,
             shape, units, **random_returns(rng), mask=mask, stateful_plan=plan,
             **random_scales(rng), **kw)


def random_cell_spec(rng, name):
    """A GRUCell draw: Keras's cell called step by step (0-3 earlier steps from the drawn state);
    the last step is the case, with the state the cell reached as its `states` argument."""
    units = int(rng.integers(1, 7))
    batch = int(rng.integers(1, 5))
    features = int(rng.integers(1, 5))
    kw = random_layer_kwargs(rng, units)
    training = bool(rng.random() < 0.3)
    if training:
        kw.update(random_dropout(rng, name))
    prior = int(rng.integers(0, 4))
    # A one-row state broadcasts over the batch (Keras draws recurrent dropout masks of its shape);
    # the earlier steps would widen it to the batch, so only a first step gets one.
    rows = 1 if prior == 0 and rng.random() < 0.3 else None
    where = f"step {prior + 1}, from the state the cell reached after {prior} earlier step(s)" if prior else "one step from the drawn state"
    return C(name, f"Random GRUCell configuration {name} (generate_cases.py --random): {where}.",
             (batch, features), units, training=training, initial_state_rows=rows, cell_prior_steps=prior,
             **random_scales(rng), **kw)


# Which kind the k-th kept draw is: every run of 4 or more keeps stateful and GRUCell draws.
RANDOM_KINDS = (("gru", random_spec), ("stateful", random_stateful_spec), ("gru", random_spec), ("cell", random_cell_spec))


def checked_tensors(case):
    """What the kit compares, in order: the outputs, or every step's outputs and stored state."""
    if "steps" not in case:
        return case["outputs"]
    return [t for st in case["steps"] for key in ("outputs", "states_after") for t in st.get(key) or []]


def step_results_tensors(case, results):
    """A stateful run's results, in the order of checked_tensors."""
    return [t for st, res in zip(case["steps"], results) for key in ("outputs", "states_after") if key in st for t in res[key]]


def float64_of_case(case, helpers):
    """Keras's float64 results (checked_tensors' order) on a float32 case's data widened
    exactly, with the same dropout masks (true-float64 helper)."""
    f64 = lambda t: None if t is None else from_T(t, np.float64)  # noqa: E731
    masks = lambda m: None if m is None else ([f64(x) for x in m] if isinstance(m, list) else f64(m))  # noqa: E731
    w = case["weights"]
    job = {"layer": case["layer"], "config": case["config"], "dtype": "float64",
           "weights": [f64(w[k]) for k in ("kernel", "recurrent_kernel", "bias") if k in w],
           "inputs": f64(case["inputs"]), "mask": mask_from_T(case["mask"]),
           "initial_state": None if case["initial_state"] is None else [f64(t) for t in case["initial_state"]],
           "training": case["training"], "op": "forward"}
    if case["training"]:
        job["dropout_masks"] = (masks(case.get("dropout_mask")), masks(case.get("recurrent_dropout_mask")))
    if "steps" in case:
        return step_results_tensors(case, helpers["true_f64"].run(dict(job, op="stateful", ops=stateful_ops_of_case(case, np.float64))))
    return helpers["true_f64"].run(job)


def stock_of_float64_case(case):
    """What stock Keras (float32 arithmetic) gives on a float64 case, in checked_tensors' order."""
    if "steps" not in case:
        stock = case["outputs_numpy_backend_stock"]
        return [from_T(t, np.float64) for t in (stock if isinstance(stock, list) else [stock])]
    weights = [from_T(case["weights"][k], np.float64) for k in ("kernel", "recurrent_kernel", "bias") if k in case["weights"]]
    layer = build_with_weights(layer_from_config("GRU", case["config"]), case["inputs"]["shape"], weights)
    return step_results_tensors(case, run_stateful_ops(layer, stateful_ops_of_case(case, np.float64)))


def carried_state_effect(case):
    """How far (tolerance_ratio) call 2 of a stateful draw moves when it starts from zeros instead
    of from call 1's final state: a draw whose carried state has no effect checks nothing about
    carrying it (stock Keras, a fresh stateful layer starts at zeros)."""
    dt = case["dtype"]
    weights = [from_T(case["weights"][k], dt) for k in ("kernel", "recurrent_kernel", "bias") if k in case["weights"]]
    layer = build_with_weights(layer_from_config("GRU", case["config"]), case["inputs"]["shape"], weights)
    call2 = case["steps"][1]
    from_zeros = call_layer(layer, "GRU", from_T(call2["inputs"], dt), mask_from_T(call2["mask"]), None, False)
    return tolerance_ratio(from_zeros, call2["outputs"])


def tolerance_ratio(got, want):
    """The worst elementwise |got - want| / (atol + rtol |want|) at the float32 tolerance."""
    worst = 0.0
    for g, w in zip(got, want):
        g = np.asarray(g["data"] if isinstance(g, dict) else g, dtype=np.float64).reshape(-1)
        w = np.asarray(w["data"] if isinstance(w, dict) else w, dtype=np.float64).reshape(-1)
        worst = max(worst, float(np.max(np.abs(g - w) / (FLOAT32_ATOL + FLOAT32_RTOL * np.abs(w)), initial=0.0)))
    return worst


def generate_random(args):
    """Draws until `--random N` configurations are kept (at most 12N draws), the k-th kept one
    of kind RANDOM_KINDS[k % 4] (GRU, stateful GRU, GRU, GRUCell); writes random_<seed>_<i>.json
    and prints what was dropped and why."""
    import_keras("numpy")
    meta = {"keras_version": keras.__version__,
            "keras_commit": args.keras_commit or KERAS_COMMITS.get(keras.__version__, "unknown"),
            "set": "random", "base_seed": args.seed}
    helpers = {"true_f64": Helper("true_f64")}
    rng = np.random.default_rng([args.seed, zlib.crc32(b"random")])
    os.makedirs(args.out, exist_ok=True)
    kept, dropped = 0, []
    try:
        for i in range(12 * args.random):
            if kept == args.random:
                break
            kind, draw = RANDOM_KINDS[kept % len(RANDOM_KINDS)]
            spec = draw(rng, f"random_{args.seed}_{i:03d}")
            try:
                case = generate_case(spec, {}, meta, helpers, lambda msg: dropped.append(msg))
            except Exception as exc:  # a draw Keras refuses, or NaN/Inf outputs
                dropped.append(f"{spec.name} ({kind}): {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
                continue
            if spec.dtype == "float32":
                ratio = tolerance_ratio(checked_tensors(case), float64_of_case(case, helpers))
                if not ratio <= RANDOM_KEEP_FRACTION:
                    dropped.append(f"{spec.name} ({kind}): float32 is {ratio:.2f}x the tolerance from float64")
                    continue
            else:
                # A float64 draw is only exact where the recurrence is well conditioned: the same
                # draw in float32 arithmetic (stock Keras) must stay well inside the float32
                # tolerance of true float64, else rounding is amplified (chaotic dynamics) and
                # float64's own rounding would be too, past the float64 tolerance.
                ratio = tolerance_ratio(stock_of_float64_case(case), checked_tensors(case))
                if not ratio <= RANDOM_KEEP_FRACTION:
                    dropped.append(f"{spec.name} ({kind}): float64 draw is ill-conditioned (float32 arithmetic is {ratio:.2f}x the float32 tolerance from it)")
                    continue
            if kind == "stateful":
                effect = carried_state_effect(case)
                if not effect >= RANDOM_STATE_EFFECT:
                    dropped.append(f"{spec.name} ({kind}): call 2 from zeros is within {effect:.2f}x the float32 tolerance "
                                   "of call 2 from call 1's final state: the carried state has no effect")
                    continue
            case["float32_vs_float64_tolerance_ratio"] = ratio
            case["random_seed"] = args.seed
            dump_case(case, os.path.join(args.out, f"{spec.name}.json"))
            kept += 1
            print(f"{spec.name} kept: {kind} {spec.dtype} {'x'.join(map(str, spec.shape))} units={spec.units} {spec.kwargs}"
                  + (f" plan={[p.op + ('+h0' if p.initial_state else '') for p in spec.stateful_plan]}" if spec.stateful_plan else "")
                  + (f" prior_steps={spec.cell_prior_steps}" if spec.layer == "GRUCell" else ""), flush=True)
    finally:
        helpers["true_f64"].close()
    print(f"{kept} random configurations kept (seed {args.seed}) -> {args.out}; {len(dropped)} dropped:",
          *dropped, sep="\n  ")
    return 0 if kept == args.random else 1


# ---------------------------------------------------------------------------


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", help="directory to write <name>.json and index.json into")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="base seed (default %(default)s)")
    p.add_argument("--only", help="comma-separated case names (and/or errors, config_cases)")
    p.add_argument("--list", action="store_true", help="list the case table and exit")
    p.add_argument("--replay", nargs="+", metavar="CASE.json",
                   help="re-run case files through Keras and report max abs diffs")
    p.add_argument("--tol", type=float, default=1e-6, help="--replay tolerance (default %(default)s)")
    p.add_argument("--keras-commit", help="git commit of the installed Keras release")
    p.add_argument("--no-tensorflow", action="store_true",
                   help="skip the TensorFlow autodiff check of the FD gradients")
    p.add_argument("--random", type=int, metavar="N",
                   help="write N seeded random configurations (with --seed and --out) instead of the table")
    p.add_argument("--helper", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.helper:
        helper_main(args.helper)
        return 0
    if args.list:
        for s in case_table():
            print(f"{s.name:45s} {s.layer:7s} {s.dtype:7s} {'x'.join(map(str, s.shape)):9s} "
                  f"units={s.units:<3d} {s.description}")
        for name, what in CORE_FILES.items():
            print(f"{name:45s} {what}")
        return 0
    if args.replay:
        return replay(args)
    if not args.out:
        p.error("--out is required (or --list / --replay)")
    if args.random:
        return generate_random(args)
    return generate(args)


if __name__ == "__main__":
    sys.exit(main())

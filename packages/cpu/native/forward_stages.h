// The GRU forward's GEMM stages (see tile_gemm.h): the input projection of a chunk of steps, and
// the recurrence step (one fused tile for resetAfter, gates then candidate otherwise), with the
// epilogues that finish a step in registers and keep what backward needs.
#pragma once

#include "gru_types.h"
#include "tile_gemm.h"
#include "vec_activations.h"

namespace GRU_ISA_NS {

using gru::CallArgs;
using gru::PackedWeights;
using gru::Scratch;

// Input projection of one chunk of tc timesteps: P[kk B + b] = x[b, t(k0 + kk)] . Wx + bias. The
// GEMM's rows run batch-major (r = b tc + kk), so a tile's rows of x are adjacent in memory; the
// results land in the step-major rows the recurrence reads. With per-gate input dropout each gate
// reads its own masked copy (rows in the same order).
template <bool SEP_>
struct ProjectStage {
  static constexpr int NG = 3;
  static constexpr bool SEP = SEP_;
  Panels pan;
  int K;
  const float* x;
  const float* const* xm;
  int B, T, k0, tc;
  bool backwards;
  float* P;
  size_t ldP;
  const float* biasP;

  const float* row(int g, int r) const {
    if constexpr (SEP) return xm[g] + static_cast<size_t>(r) * K;
    const int b = r / tc, k = k0 + (r - b * tc);
    const int t = backwards ? T - 1 - k : k;
    return x + (static_cast<size_t>(b) * T + t) * K;
  }

  size_t outRow(int r) const {
    const int b = r / tc;
    return static_cast<size_t>(r - b * tc) * B + b;
  }

  template <int MR, int NB>
  void finish(vf (&acc)[MR][NB][NG], int r0, int u0) const {
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NB; ++j)
#pragma GCC unroll 4
        for (int g = 0; g < NG; ++g) {
          const size_t col = (static_cast<size_t>(u0 + j) * 3 + g) * W;
          store(P + outRow(r0 + i) * ldP + col, acc[i][j][g] + load(biasP + col));
        }
  }
};

// Stores what backward needs from one step (when the call keeps it): rows k * B + b.
struct Keeper {
  const gru::SavedBuffers* sv;  // null: nothing is kept
  size_t row0;                  // k * B
  int Hp;

  // Gate-major [row][3][Hp] buffers (pre, act).
  void gate(float* base, int b, int g, int u, vf v) const { store(base + ((row0 + b) * 3 + g) * Hp + static_cast<size_t>(u) * W, v); }
  // [row][Hp] buffers (states, rec).
  void unit(float* base, int b, int u, vf v) const { store(base + (row0 + b) * Hp + static_cast<size_t>(u) * W, v); }
};

// Writes the new state of W units of one row: state buffers, recurrent-masked copies, outputs.
struct StateWriter {
  const CallArgs* c;
  const Scratch* s;
  int H, Hp, T;
  int cur, k, t;
  bool recDrop;
  Keeper keep;
  const float* prev;  // the state this step reads (s->h[cur], or s->h0 at the first step)

  bool active(int b) const { return !c->mask || c->mask[static_cast<size_t>(b) * T + t] != 0; }

  void write(int b, int u, vf z, vf hh, bool isActive) const {
    const size_t off = static_cast<size_t>(b) * Hp + static_cast<size_t>(u) * W;
    const vf hp = load(prev + off);
    if (keep.sv) keep.unit(keep.sv->states, b, u, hp);
    // A masked step carries the state, and outputs it.
    const vf hn = isActive ? z * hp + (splat(1.0f) - z) * hh : hp;
    store(s->h[cur ^ 1] + off, hn);
    if (recDrop) {
      for (int g = 0; g < 3; ++g) store(s->hm[g][cur ^ 1] + off, hn * load(s->recMaskP[g] + off));
    }
    const int n = imin(W, H - u * W);
    const size_t col = static_cast<size_t>(u) * W;
    auto put = [&](float* dst) {
      if (n == W)
        store(dst, hn);
      else
        storePartial(dst, hn, n);
    };
    if (c->sequences) put(c->out + (static_cast<size_t>(b) * T + k) * H + col);
    if (k == T - 1) {
      put(c->last + static_cast<size_t>(b) * H + col);
      if (!c->sequences) put(c->out + static_cast<size_t>(b) * H + col);
    }
  }
};

// One recurrence step, resetAfter = true: [z r h] = h_prev . U in one tile, then
// z, r = recAct(P + .), hh = act(P_h + r * (. + b_rh)), h = z h_prev + (1 - z) hh.
template <bool SEP_>
struct StepResetAfter {
  static constexpr int NG = 3;
  static constexpr bool SEP = SEP_;
  Panels pan;
  int K;
  const float* hsrc[3];  // state rows per gate (the same pointer three times without dropout)
  int Hp;
  const float* Pstep;  // P rows of this step, [B][3 Hp]
  size_t ldP;
  const float* biasRh;
  int act, recAct;
  StateWriter out;

  const float* row(int g, int b) const { return hsrc[g] + static_cast<size_t>(b) * Hp; }

  template <int MR, int NB>
  void finish(vf (&acc)[MR][NB][NG], int r0, int u0) const {
    for (int i = 0; i < MR; ++i) {
      const int b = r0 + i;
      const float* p = Pstep + static_cast<size_t>(b) * ldP;
      const bool on = out.active(b);
      for (int j = 0; j < NB; ++j) {
        const int u = u0 + j;
        const float* pu = p + static_cast<size_t>(u) * 3 * W;
        const vf pz = load(pu) + acc[i][j][0];
        const vf pr = load(pu + W) + acc[i][j][1];
        const vf z = activate(recAct, pz);
        const vf r = activate(recAct, pr);
        const vf rec = acc[i][j][2] + load(biasRh + static_cast<size_t>(u) * W);
        const vf ph = load(pu + 2 * W) + r * rec;
        const vf hh = activate(act, ph);
        if (const Keeper& kp = out.keep; kp.sv) {
          kp.gate(kp.sv->pre, b, 0, u, pz);
          kp.gate(kp.sv->pre, b, 1, u, pr);
          kp.gate(kp.sv->pre, b, 2, u, ph);
          kp.gate(kp.sv->act, b, 0, u, z);
          kp.gate(kp.sv->act, b, 1, u, r);
          kp.gate(kp.sv->act, b, 2, u, hh);
          kp.unit(kp.sv->rec, b, u, rec);
        }
        out.write(b, u, z, hh, on);
      }
    }
  }
};

// resetAfter = false, first half: [z r] = h_prev . U_zr; keeps z and r * h_prev for the second.
template <bool SEP_>
struct StepGates {
  static constexpr int NG = 2;
  static constexpr bool SEP = SEP_;
  Panels pan;
  int K;
  const float* hsrc[3];
  int Hp;
  const float* Pstep;
  size_t ldP;
  int recAct;
  float* zbuf;
  float* rh;
  Keeper keep;

  const float* row(int g, int b) const { return hsrc[g] + static_cast<size_t>(b) * Hp; }

  template <int MR, int NB>
  void finish(vf (&acc)[MR][NB][NG], int r0, int u0) const {
    for (int i = 0; i < MR; ++i) {
      const int b = r0 + i;
      const float* p = Pstep + static_cast<size_t>(b) * ldP;
      for (int j = 0; j < NB; ++j) {
        const int u = u0 + j;
        const float* pu = p + static_cast<size_t>(u) * 3 * W;
        const size_t off = static_cast<size_t>(b) * Hp + static_cast<size_t>(u) * W;
        const vf pz = load(pu) + acc[i][j][0];
        const vf pr = load(pu + W) + acc[i][j][1];
        const vf z = activate(recAct, pz);
        const vf r = activate(recAct, pr);
        store(zbuf + off, z);
        store(rh + off, r * load(hsrc[2] + off));
        if (keep.sv) {
          keep.gate(keep.sv->pre, b, 0, u, pz);
          keep.gate(keep.sv->pre, b, 1, u, pr);
          keep.gate(keep.sv->act, b, 0, u, z);
          keep.gate(keep.sv->act, b, 1, u, r);
        }
      }
    }
  }
};

// resetAfter = false, second half: hh = act(P_h + (r * h_prev) . U_h), then the new state.
struct StepCandidate {
  static constexpr int NG = 1;
  static constexpr bool SEP = false;
  Panels pan;
  int K;
  const float* rh;
  int Hp;
  const float* Pstep;
  size_t ldP;
  const float* zbuf;
  int act;
  StateWriter out;

  const float* row(int, int b) const { return rh + static_cast<size_t>(b) * Hp; }

  template <int MR, int NB>
  void finish(vf (&acc)[MR][NB][NG], int r0, int u0) const {
    for (int i = 0; i < MR; ++i) {
      const int b = r0 + i;
      const float* p = Pstep + static_cast<size_t>(b) * ldP;
      const bool on = out.active(b);
      for (int j = 0; j < NB; ++j) {
        const int u = u0 + j;
        const size_t off = static_cast<size_t>(b) * Hp + static_cast<size_t>(u) * W;
        const vf ph = load(p + static_cast<size_t>(u) * 3 * W + 2 * W) + acc[i][j][0];
        const vf hh = activate(act, ph);
        if (const Keeper& kp = out.keep; kp.sv) {
          kp.gate(kp.sv->pre, b, 2, u, ph);
          kp.gate(kp.sv->act, b, 2, u, hh);
        }
        out.write(b, u, load(zbuf + off), hh, on);
      }
    }
  }
};

}  // namespace GRU_ISA_NS

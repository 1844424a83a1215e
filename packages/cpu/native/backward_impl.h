// Backpropagation through time for one vector width (included after kernels_impl.h by each ISA
// translation unit). The mirror image of the forward pass, as core's referenceBackward spells it:
//
//   per step, last to first (all rows at once):
//     A   elementwise: from dh and what forward kept, the gradients of the gate pre-activations
//         (dGx: of the input projection, dGh: of the recurrent GEMM outputs); a masked step
//         passes dh through untouched
//     (A2 resetAfter false: dRh = dP_h . U_h^T, then the reset gate's gradient)
//     B   dh_prev = dh z + sum_g (dGh_g . U_g^T) * recurrent mask_g        (one fused GEMM)
//   then, for the whole sequence at once: dKernel = x^T dGx, dRecurrentKernel = h^T dGh,
//   dx = dGx K^T, dBias = column sums.
//
// As in the forward pass every output element is one FMA chain in a fixed order, so gradients
// are bitwise identical for any thread count.
#pragma once

#include "kernels_impl.h"

namespace GRU_ISA_NS {

using gru::BackScratch;
using gru::BackwardArgs;

// dy/dx at x given y = f(x); the common ones in vector code, the rest per element.
static inline vf activationGrad(int id, vf x, vf y) {
  const vf one = splat(1.0f), zero = splat(0.0f);
  switch (id) {
    case gru::ACT_LINEAR:
      return one;
    case gru::ACT_TANH:
      return one - y * y;
    case gru::ACT_SIGMOID:
      return y * (one - y);
    case gru::ACT_HARD_SIGMOID:
      return select((x > splat(-3.0f)) & (x < splat(3.0f)), splat(1.0f / 6.0f), zero);
    case gru::ACT_HARD_SIGMOID_K2:
      return select((x >= splat(-2.5f)) & (x <= splat(2.5f)), splat(0.2f), zero);  // inclusive, as TensorFlow
    case gru::ACT_RELU:
      return select(x > zero, one, zero);
    default: {
      float xs[W], ys[W], gs[W];
      store(xs, x);
      store(ys, y);
      gru::scalarActivationGradInPlace(id, xs, ys, gs, W);
      return load(gs);
    }
  }
}

static inline vf loadN(const float* p, int n) { return n == W ? load(p) : loadPartial(p, n); }
static inline void storeN(float* p, vf v, int n) {
  if (n == W)
    store(p, v);
  else
    storePartial(p, v, n);
}

// What every backward stage needs to find its rows.
struct BackView {
  const BackwardArgs* a;
  const BackScratch* s;
  const PackedWeights* w;
  int B, T, D, H, Hp;
  size_t rows;  // T * B

  size_t gateRow(size_t row) const { return row * 3 * Hp; }
  int timeOf(int k) const { return a->backwards ? T - 1 - k : k; }
  bool active(int b, int k) const { return !a->mask || a->mask[static_cast<size_t>(b) * T + timeOf(k)] != 0; }
  vf recMask(int g, int b, int u) const {
    return s->recMaskP[g] ? load(s->recMaskP[g] + static_cast<size_t>(b) * Hp + static_cast<size_t>(u) * W) : splat(1.0f);
  }
};

// resetAfter false, A2: dRh = dP_h . U_h^T for the step's rows; then the reset gate's gradient
// and the candidate's path back to the state.
struct BackCandidate {
  static constexpr int NG = 1;
  static constexpr bool SEP = false;
  Panels pan;
  int K;
  BackView v;
  int k;

  const float* row(int, int b) const { return v.s->dGh + v.gateRow(static_cast<size_t>(k) * v.B + b) + 2 * static_cast<size_t>(v.Hp); }

  template <int MR, int NB>
  void finish(vf (&acc)[MR][NB][NG], int r0, int u0) const {
    const gru::SavedBuffers& sv = v.a->saved;
    for (int i = 0; i < MR; ++i) {
      const int b = r0 + i;
      const size_t row = static_cast<size_t>(k) * v.B + b;
      const bool on = v.active(b, k);
      for (int j = 0; j < NB; ++j) {
        const int u = u0 + j;
        const size_t col = static_cast<size_t>(u) * W;
        const size_t g1 = v.gateRow(row) + v.Hp + col;
        float* rhr = v.s->dRhr + static_cast<size_t>(b) * v.Hp + col;
        if (!on) {
          store(v.s->dGx + g1, splat(0.0f));
          store(v.s->dGh + g1, splat(0.0f));
          store(rhr, splat(0.0f));
          continue;
        }
        const vf dRh = acc[i][j][0];
        const vf m2 = v.recMask(2, b, u);
        const vf hp = load(sv.states + row * v.Hp + col);
        const vf r = load(sv.act + g1);
        const vf dPr = dRh * (hp * m2) * activationGrad(v.w->recAct, load(sv.pre + g1), r);
        store(v.s->dGx + g1, dPr);
        store(v.s->dGh + g1, dPr);
        store(rhr, dRh * r * m2);
      }
    }
  }
};

// B: dh_prev = dh z + sum_g (dGh_g . U_g^T) * recurrent mask_g (+ the candidate path when
// resetAfter is false).
template <int NG_>
struct BackState {
  static constexpr int NG = NG_;
  static constexpr bool SEP = true;
  Panels pan;
  int K;
  BackView v;
  int k;

  const float* row(int g, int b) const { return v.s->dGh + v.gateRow(static_cast<size_t>(k) * v.B + b) + static_cast<size_t>(g) * v.Hp; }

  template <int MR, int NB>
  void finish(vf (&acc)[MR][NB][NG], int r0, int u0) const {
    for (int i = 0; i < MR; ++i) {
      const int b = r0 + i;
      for (int j = 0; j < NB; ++j) {
        const int u = u0 + j;
        const size_t off = static_cast<size_t>(b) * v.Hp + static_cast<size_t>(u) * W;
        vf dh = load(v.s->dhNext + off);
#pragma GCC unroll 4
        for (int g = 0; g < NG; ++g) dh += acc[i][j][g] * v.recMask(g, b, u);
        if constexpr (NG == 2) dh += load(v.s->dRhr + off);
        store(v.s->dh + off, dh);
      }
    }
  }
};

// dKernel (rows: input features, A = x^T per gate) or dRecurrentKernel (rows: units, A = what
// each gate's GEMM multiplied, transposed): sums over every (step, row) of A^T dG.
struct BackWeights {
  static constexpr int NG = 3;
  static constexpr bool SEP = true;
  Panels pan;
  int K;                   // rows of the sequence
  const float* const* aT;  // [3] of [M][rows]
  float* out;              // [M][3H]
  int H;

  const float* row(int g, int m) const { return aT[g] + static_cast<size_t>(m) * K; }

  template <int MR, int NB>
  void finish(vf (&acc)[MR][NB][NG], int r0, int u0) const {
    for (int i = 0; i < MR; ++i) {
      for (int j = 0; j < NB; ++j) {
        const int u = u0 + j;
        const int n = imin(W, H - u * W);
#pragma GCC unroll 4
        for (int g = 0; g < NG; ++g) {
          storeN(out + static_cast<size_t>(r0 + i) * 3 * H + static_cast<size_t>(g) * H + static_cast<size_t>(u) * W, acc[i][j][g], n);
        }
      }
    }
  }
};

// dx = sum_g (dGx_g . K_g^T) * input mask_g, written in x's layout.
struct BackInput {
  static constexpr int NG = 3;
  static constexpr bool SEP = true;
  Panels pan;
  int K;  // units
  BackView v;
  size_t base;  // the chunk's first row (gemm() numbers rows from 0)

  const float* row(int g, int r) const { return v.s->dGx + v.gateRow(base + r) + static_cast<size_t>(g) * v.Hp; }

  template <int MR, int NB>
  void finish(vf (&acc)[MR][NB][NG], int r0, int u0) const {
    for (int i = 0; i < MR; ++i) {
      const size_t r = base + r0 + i;
      const int k = static_cast<int>(r / v.B), b = static_cast<int>(r - static_cast<size_t>(k) * v.B);
      float* dst = v.a->dx + (static_cast<size_t>(b) * v.T + v.timeOf(k)) * v.D;
      for (int j = 0; j < NB; ++j) {
        const int u = u0 + j;
        const int n = imin(W, v.D - u * W);
        const size_t col = static_cast<size_t>(u) * W;
        vf dx = splat(0.0f);
#pragma GCC unroll 4
        for (int g = 0; g < NG; ++g) {
          const float* m = v.a->inMask[g];
          dx += m ? acc[i][j][g] * loadN(m + static_cast<size_t>(b) * v.D + col, n) : acc[i][j][g];
        }
        storeN(dst + col, dx, n);
      }
    }
  }
};

static void runBackward(const PackedWeights& w, const BackwardArgs& a, const BackScratch& s, int tid, int nth, gru::Phaser& phaser) {
  gru::PhaseWalker walk(phaser, tid, nth);
  const int B = a.B, T = a.T, H = w.H, Hp = w.Hp, D = w.D, nblk = w.nblk;
  const size_t rows = static_cast<size_t>(T) * B;
  const BackView v{&a, &s, &w, B, T, D, H, Hp, rows};
  const gru::SavedBuffers& sv = a.saved;
  const bool resetAfter = w.resetAfter;
  const int per = 4;  // unit blocks per chunk of the elementwise phases

  // dh starts from the gradient of the last state (and of the output, when it is the last state).
  walk.phase(chunksOf(nblk, per), [&](int chunk) {
    for (int u = chunk * per; u < imin(nblk, chunk * per + per); ++u) {
      const int n = imin(W, H - u * W);
      const size_t col = static_cast<size_t>(u) * W;
      for (int b = 0; b < B; ++b) {
        const size_t src = static_cast<size_t>(b) * H + col;
        const size_t off = static_cast<size_t>(b) * Hp + col;
        vf dh = a.dLast ? loadN(a.dLast + src, n) : splat(0.0f);
        if (!a.sequences) dh += loadN(a.dOut + src, n);
        store(s.dh + off, dh);
        for (int g = 0; g < 3; ++g) {
          if (s.recMaskP[g]) store(s.recMaskP[g] + off, loadN(a.recMask[g] + src, n));
        }
      }
    }
  });

  const int ngR = resetAfter ? 3 : 2;
  const Panels rT{s.rT, static_cast<size_t>(H) * ngR * W, static_cast<size_t>(ngR) * W, W};
  const Panels rTh{s.rTh, static_cast<size_t>(H) * W, W, W};
  for (int k = T - 1; k >= 0; --k) {
    // A: the gate gradients of this step, elementwise.
    walk.phase(chunksOf(nblk, per), [&](int chunk) {
      for (int u = chunk * per; u < imin(nblk, chunk * per + per); ++u) {
        const int n = imin(W, H - u * W);
        const size_t col = static_cast<size_t>(u) * W;
        for (int b = 0; b < B; ++b) {
          const size_t row = static_cast<size_t>(k) * B + b;
          const size_t off = static_cast<size_t>(b) * Hp + col;
          const size_t gr = v.gateRow(row) + col;
          vf dh = load(s.dh + off);
          if (a.sequences) dh += loadN(a.dOut + (static_cast<size_t>(b) * T + k) * H + col, n);
          if (!v.active(b, k)) {
            // The state was carried: its gradient passes through, and the step adds nothing.
            store(s.dhNext + off, dh);
            for (int g = 0; g < 3; ++g) {
              store(s.dGx + gr + static_cast<size_t>(g) * Hp, splat(0.0f));
              store(s.dGh + gr + static_cast<size_t>(g) * Hp, splat(0.0f));
            }
            continue;
          }
          const vf z = load(sv.act + gr), hh = load(sv.act + gr + 2 * Hp);
          const vf hp = load(sv.states + row * Hp + col);
          store(s.dhNext + off, dh * z);
          const vf dPz = dh * (hp - hh) * activationGrad(w.recAct, load(sv.pre + gr), z);
          const vf dPh = dh * (splat(1.0f) - z) * activationGrad(w.act, load(sv.pre + gr + 2 * Hp), hh);
          store(s.dGx + gr, dPz);
          store(s.dGh + gr, dPz);
          store(s.dGx + gr + 2 * Hp, dPh);
          if (resetAfter) {
            const vf r = load(sv.act + gr + Hp);
            const vf rec = load(sv.rec + row * Hp + col);
            const vf dPr = dPh * rec * activationGrad(w.recAct, load(sv.pre + gr + Hp), r);
            store(s.dGx + gr + Hp, dPr);
            store(s.dGh + gr + Hp, dPr);
            store(s.dGh + gr + 2 * Hp, dPh * r);
          } else {
            store(s.dGh + gr + 2 * Hp, dPh);
          }
        }
      }
    });
    if (!resetAfter) {
      const int cper = chunkBlocks(B, 1);
      walk.phase(chunksOf(nblk, cper), [&](int chunk) {
        BackCandidate st{rTh, H, v, k};
        gemm(st, B, chunk * cper, imin(nblk, chunk * cper + cper));
      });
    }
    // B: the gradient of the previous state.
    const int sper = chunkBlocks(B, ngR);
    walk.phase(chunksOf(nblk, sper), [&](int chunk) {
      const int u0 = chunk * sper, u1 = imin(nblk, u0 + sper);
      if (resetAfter) {
        BackState<3> st{rT, H, v, k};
        gemm(st, B, u0, u1);
      } else {
        BackState<2> st{rT, H, v, k};
        gemm(st, B, u0, u1);
      }
    });
  }

  // The initial state's gradient; the transposed operands of the weight gradients.
  const bool inDrop = a.inMask[0] != nullptr;
  const bool recDrop = a.recMask[0] != nullptr;
  const int tper = 8;  // rows of a transpose per chunk
  const int xChunks = chunksOf(D, tper), aChunks = chunksOf(H, tper);
  walk.phase(chunksOf(nblk, per) + xChunks + aChunks, [&](int chunk) {
    if (chunk < chunksOf(nblk, per)) {
      for (int u = chunk * per; u < imin(nblk, chunk * per + per); ++u) {
        const int n = imin(W, H - u * W);
        for (int b = 0; b < B; ++b) {
          storeN(a.dInit + static_cast<size_t>(b) * H + static_cast<size_t>(u) * W, load(s.dh + static_cast<size_t>(b) * Hp + static_cast<size_t>(u) * W), n);
        }
      }
      return;
    }
    chunk -= chunksOf(nblk, per);
    if (chunk < xChunks) {
      for (int d = chunk * tper; d < imin(D, chunk * tper + tper); ++d) {
        for (int g = 0; g < (inDrop ? 3 : 1); ++g) {
          float* dst = s.xT[g] + static_cast<size_t>(d) * rows;
          for (int k = 0; k < T; ++k) {
            const int t = v.timeOf(k);
            for (int b = 0; b < B; ++b) {
              const float xv = a.x[(static_cast<size_t>(b) * T + t) * D + d];
              dst[static_cast<size_t>(k) * B + b] = inDrop ? xv * a.inMask[g][static_cast<size_t>(b) * D + d] : xv;
            }
          }
        }
      }
      return;
    }
    chunk -= xChunks;
    for (int j = chunk * tper; j < imin(H, chunk * tper + tper); ++j) {
      // z and r multiplied h_prev * mask; the candidate h_prev * mask (resetAfter) or r * that.
      const int distinct = recDrop ? 3 : resetAfter ? 1 : 2;
      for (int q = 0; q < distinct; ++q) {
        const int g = recDrop ? q : (q == 0 ? 0 : 2);
        float* dst = s.aT[q] + static_cast<size_t>(j) * rows;
        for (size_t row = 0; row < rows; ++row) {
          const int b = static_cast<int>(row % B);
          float hv = sv.states[row * Hp + j];
          if (recDrop) hv *= a.recMask[g][static_cast<size_t>(b) * H + j];
          if (g == 2 && !resetAfter) hv *= sv.act[v.gateRow(row) + Hp + j];
          dst[row] = hv;
        }
      }
    }
  });

  const float* xT[3] = {s.xT[0], inDrop ? s.xT[1] : s.xT[0], inDrop ? s.xT[2] : s.xT[0]};
  const float* aT[3] = {s.aT[0], recDrop ? s.aT[1] : s.aT[0], recDrop ? s.aT[2] : resetAfter ? s.aT[0] : s.aT[1]};
  const Panels dGxPanels{s.dGx, static_cast<size_t>(W), 3 * static_cast<size_t>(Hp), static_cast<size_t>(Hp)};
  const Panels dGhPanels{s.dGh, static_cast<size_t>(W), 3 * static_cast<size_t>(Hp), static_cast<size_t>(Hp)};
  const int wper = chunkBlocks(imin(D, H), 3);
  walk.phase(2 * chunksOf(nblk, wper), [&](int chunk) {
    const bool kernel = chunk < chunksOf(nblk, wper);
    const int c = kernel ? chunk : chunk - chunksOf(nblk, wper);
    const int u0 = c * wper, u1 = imin(nblk, u0 + wper);
    if (kernel) {
      BackWeights st{dGxPanels, static_cast<int>(rows), xT, a.dK, H};
      gemm(st, D, u0, u1);
    } else {
      BackWeights st{dGhPanels, static_cast<int>(rows), aT, a.dR, H};
      gemm(st, H, u0, u1);
    }
  });

  // dx, in row groups (a chunk is enough rows for full tiles over every input block); none
  // when the caller wants no input gradients (every thread sees the same a.dx).
  const int dblk = chunksOf(D, W);
  const int xrows = 64;
  walk.phase(a.dx ? static_cast<int>((rows + xrows - 1) / xrows) : 0, [&](int chunk) {
    const size_t r0 = static_cast<size_t>(chunk) * xrows;
    const int m = static_cast<int>(rows - r0 < static_cast<size_t>(xrows) ? rows - r0 : xrows);
    BackInput st{Panels{s.kT, static_cast<size_t>(H) * 3 * W, 3 * W, W}, H, v, r0};
    gemm(st, m, 0, dblk);
  });

  if (a.useBias) {
    walk.phase(chunksOf(nblk, per), [&](int chunk) {
      for (int u = chunk * per; u < imin(nblk, chunk * per + per); ++u) {
        const int n = imin(W, H - u * W);
        const size_t col = static_cast<size_t>(u) * W;
        for (int g = 0; g < 3; ++g) {
          vf sx = splat(0.0f), sh = splat(0.0f);
          for (size_t row = 0; row < rows; ++row) {
            const size_t at = v.gateRow(row) + static_cast<size_t>(g) * Hp + col;
            sx += load(s.dGx + at);
            if (resetAfter) sh += load(s.dGh + at);
          }
          storeN(a.dBias + static_cast<size_t>(g) * H + col, sx, n);
          if (resetAfter) storeN(a.dBias + 3 * static_cast<size_t>(H) + static_cast<size_t>(g) * H + col, sh, n);
        }
      }
    });
  }
}

}  // namespace GRU_ISA_NS

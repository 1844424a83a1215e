// The whole-sequence GRU forward for one vector width, included once per ISA translation unit
// (isa_*.cc) with GRU_ISA_NS, GRU_VW (floats per vector), GRU_MR (rows per tile) and GRU_REGS
// (vector registers) defined.
//
// Every output element of every GEMM here is one FMA chain over k = 0..K-1 starting from zero,
// whatever the tile shape, so results do not depend on how rows and unit blocks are split between
// tiles or threads.
#pragma once

#include "gru_types.h"
#include "scalar_activations.h"
#include "thread_pool.h"
#include "vec.h"

namespace GRU_ISA_NS {

using gru::CallArgs;
using gru::PackedWeights;
using gru::Scratch;

constexpr int MRMAX = GRU_MR;
constexpr int REGS = GRU_REGS;

// Unit blocks per tile: as many as fit the registers (accumulators, one weight vector per
// block and gate, one broadcast), at most 4.
constexpr int nbMax(int mr, int ng) {
  int nb = (REGS - 1) / (ng * (mr + 1));
  return nb < 1 ? 1 : nb > 4 ? 4 : nb;
}

static inline int imin(int a, int b) { return a < b ? a : b; }

// The activations without vector code, out of line (rare, and heavy).
__attribute__((noinline)) static vf activateScalar(int id, vf x) {
  float tmp[W];
  store(tmp, x);
  gru::scalarActivationInPlace(id, tmp, W);
  return load(tmp);
}

// Inlined into every epilogue: a call there would spill the accumulator tile.
__attribute__((always_inline)) static inline vf activate(int id, vf x) {
  switch (id) {
    case gru::ACT_LINEAR:
      return x;
    case gru::ACT_TANH:
      return vtanh(x);
    case gru::ACT_SIGMOID:
      return vsigmoid(x);
    case gru::ACT_HARD_SIGMOID:
      return vmin(vmax(x * splat(1.0f / 6.0f) + splat(0.5f), splat(0.0f)), splat(1.0f));
    case gru::ACT_HARD_SIGMOID_K2:
      return vmin(vmax(x * splat(0.2f) + splat(0.5f), splat(0.0f)), splat(1.0f));
    case gru::ACT_RELU:
      return select(x < splat(0.0f), splat(0.0f), x);  // NaN stays NaN, as in Keras
    default:
      return activateScalar(id, x);
  }
}

// Where a GEMM's right-hand side is: unit block u starts at base + u * blockStride, and element
// (k, gate g, lane l) of it at + k * ldk + g * ldg + l. Packed weights have ldk = NG * W and
// ldg = W; the backward pass also reads gradient buffers (gate-major rows) in place.
struct Panels {
  const float* base;
  size_t blockStride, ldk, ldg;
};

// acc[i][j][g] = sum_k a(g, row i)[k] * panel_j(k, g, :) for MR rows, NB unit blocks, NG gates.
// `a` holds MR row pointers per gate source (one source unless SEP, then NG sources). The sums
// live in locals, so the compiler keeps them in registers (`acc` may alias the loads).
template <int MR, int NB, int NG, bool SEP>
static inline void accumulate(vf (&acc)[MR][NB][NG], const float* const (&a)[SEP ? NG : 1][MR], int K, const float* const (&panel)[NB], size_t ldk,
                              size_t ldg) {
  vf c[MR][NB][NG];
  const float* ap[SEP ? NG : 1][MR];
  const float* wp[NB];
#pragma GCC unroll 8
  for (int j = 0; j < NB; ++j) wp[j] = panel[j];
#pragma GCC unroll 4
  for (int g = 0; g < (SEP ? NG : 1); ++g)
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i) ap[g][i] = a[g][i];
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j)
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g) c[i][j][g] = vf{};
  for (int k = 0; k < K; ++k) {
    vf w[NB][NG];
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j)
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g) w[j][g] = load(wp[j] + static_cast<size_t>(k) * ldk + static_cast<size_t>(g) * ldg);
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i) {
      if constexpr (SEP) {
#pragma GCC unroll 4
        for (int g = 0; g < NG; ++g) {
          const vf av = splat(ap[g][i][k]);
#pragma GCC unroll 8
          for (int j = 0; j < NB; ++j) c[i][j][g] += av * w[j][g];
        }
      } else {
        const vf av = splat(ap[0][i][k]);
#pragma GCC unroll 8
        for (int j = 0; j < NB; ++j)
#pragma GCC unroll 4
          for (int g = 0; g < NG; ++g) c[i][j][g] += av * w[j][g];
      }
    }
  }
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j)
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g) acc[i][j][g] = c[i][j][g];
}

template <int MR, int NB, class Stage>
static inline void tile(Stage& st, int r0, int u0) {
  constexpr int NG = Stage::NG;
  constexpr bool SEP = Stage::SEP;
  const float* a[SEP ? NG : 1][MR];
#pragma GCC unroll 4
  for (int g = 0; g < (SEP ? NG : 1); ++g)
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i) a[g][i] = st.row(g, r0 + i);
  const float* panel[NB];
#pragma GCC unroll 8
  for (int j = 0; j < NB; ++j) panel[j] = st.pan.base + static_cast<size_t>(u0 + j) * st.pan.blockStride;
  vf acc[MR][NB][NG];
  accumulate<MR, NB, NG, SEP>(acc, a, st.K, panel, st.pan.ldk, st.pan.ldg);
  st.template finish<MR, NB>(acc, r0, u0);
}

template <int MR, class Stage>
static inline void tileRows(Stage& st, int nb, int r0, int u0) {
  constexpr int NBM = nbMax(MR, Stage::NG);
  if (nb >= 4) {
    if constexpr (NBM >= 4) return tile<MR, 4>(st, r0, u0);
  }
  if (nb >= 3) {
    if constexpr (NBM >= 3) return tile<MR, 3>(st, r0, u0);
  }
  if (nb >= 2) {
    if constexpr (NBM >= 2) return tile<MR, 2>(st, r0, u0);
  }
  tile<MR, 1>(st, r0, u0);
}

template <class Stage>
static inline void tileDispatch(Stage& st, int mr, int nb, int r0, int u0) {
  switch (mr) {
    case 1:
      return tileRows<1>(st, nb, r0, u0);
    case 2:
      if constexpr (MRMAX >= 2) return tileRows<2>(st, nb, r0, u0);
      break;
    case 3:
      if constexpr (MRMAX >= 3) return tileRows<3>(st, nb, r0, u0);
      break;
    case 4:
      if constexpr (MRMAX >= 4) return tileRows<4>(st, nb, r0, u0);
      break;
    case 5:
      if constexpr (MRMAX >= 5) return tileRows<5>(st, nb, r0, u0);
      break;
    case 6:
      if constexpr (MRMAX >= 6) return tileRows<6>(st, nb, r0, u0);
      break;
    case 7:
      if constexpr (MRMAX >= 7) return tileRows<7>(st, nb, r0, u0);
      break;
    case 8:
      if constexpr (MRMAX >= 8) return tileRows<8>(st, nb, r0, u0);
      break;
    default:
      break;
  }
}

// The blocks-times-rows tile loop over blocks [u0, u1) and rows [0, M): blocks outside so a
// panel stays in L1 while the rows stream past it.
template <class Stage>
static void gemm(Stage& st, int M, int u0, int u1) {
  if (M <= 0 || u0 >= u1) return;
  const int group = nbMax(imin(M, MRMAX), Stage::NG);
  for (int u = u0; u < u1; u += group) {
    const int nb = imin(group, u1 - u);
    for (int r = 0; r < M; r += MRMAX) tileDispatch(st, imin(MRMAX, M - r), nb, r, u);
  }
}

// ---- stages: where a GEMM's rows come from and what its epilogue does with a tile ----

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

  bool active(int b) const { return !c->mask || c->mask[static_cast<size_t>(b) * T + t] != 0; }

  void write(int b, int u, vf z, vf hh, bool isActive) const {
    const size_t off = static_cast<size_t>(b) * Hp + static_cast<size_t>(u) * W;
    const vf hp = load(s->h[cur] + off);
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

// Unit blocks per chunk of a phase: the blocks one tile takes for this many rows, so chunks cut
// along the tiles the kernel would use anyway.
static inline int chunkBlocks(int rows, int ng) { return nbMax(imin(rows, MRMAX), ng); }
static inline int chunksOf(int n, int per) { return (n + per - 1) / per; }

// Rows of x copied (times the per-gate input dropout masks) per chunk.
constexpr int kRowsPerChunk = 64;

// One thread's part of a whole call. Every phase is split into chunks that any thread may take
// (see thread_pool.h); phases run in order, and each waits for the previous one.
static void run(const PackedWeights& w, const CallArgs& c, const Scratch& s, int tid, int nth, gru::Phaser& phaser) {
  gru::PhaseWalker walk(phaser, tid, nth);
  const int B = c.B, T = c.T, H = w.H, Hp = w.Hp, D = w.D, nblk = w.nblk;
  const bool recDrop = c.recMask[0] != nullptr;
  const bool inDrop = c.inMask[0] != nullptr;
  const size_t ldP = static_cast<size_t>(3) * Hp;
  const Panels wxPanels{w.wx, static_cast<size_t>(D) * 3 * W, 3 * W, W};
  const int ngR = w.resetAfter ? 3 : 2;
  const Panels rPanels{w.rzrh, static_cast<size_t>(H) * ngR * W, static_cast<size_t>(ngR) * W, W};
  const Panels rhPanels{w.rh, static_cast<size_t>(H) * W, W, W};

  // The initial state, padded, and its recurrent-masked copies.
  const int initPer = 4;
  walk.phase(chunksOf(nblk, initPer), [&](int chunk) {
    const int u0 = chunk * initPer, u1 = imin(nblk, u0 + initPer);
    for (int b = 0; b < B; ++b) {
      for (int u = u0; u < u1; ++u) {
        const int n = imin(W, H - u * W);
        const size_t src = static_cast<size_t>(b) * H + static_cast<size_t>(u) * W;
        const size_t off = static_cast<size_t>(b) * Hp + static_cast<size_t>(u) * W;
        const vf h = !c.h0 ? splat(0.0f) : n == W ? load(c.h0 + src) : loadPartial(c.h0 + src, n);
        store(s.h[0] + off, h);
        if (recDrop) {
          for (int g = 0; g < 3; ++g) {
            const vf m = n == W ? load(c.recMask[g] + src) : loadPartial(c.recMask[g] + src, n);
            store(s.recMaskP[g] + off, m);
            store(s.hm[g][0] + off, h * m);
          }
        }
      }
    }
  });

  const int projPer = chunkBlocks(imin(s.Tc * B, MRMAX), 3);
  const int stepPer = chunkBlocks(B, w.resetAfter ? 3 : 2);
  const int candPer = chunkBlocks(B, 1);
  int cur = 0;
  for (int k0 = 0; k0 < T; k0 += s.Tc) {
    const int tc = imin(s.Tc, T - k0);
    const int M = tc * B;
    if (inDrop) {
      walk.phase(chunksOf(M, kRowsPerChunk), [&](int chunk) {
        const int r0 = chunk * kRowsPerChunk, r1 = imin(M, r0 + kRowsPerChunk);
        for (int r = r0; r < r1; ++r) {
          const int b = r / tc, k = k0 + (r - b * tc);
          const int t = c.backwards ? T - 1 - k : k;
          const float* xr = c.x + (static_cast<size_t>(b) * T + t) * D;
          for (int g = 0; g < 3; ++g) {
            const float* m = c.inMask[g] + static_cast<size_t>(b) * D;
            float* dst = s.xm[g] + static_cast<size_t>(r) * D;
            for (int d = 0; d < D; ++d) dst[d] = xr[d] * m[d];
          }
        }
      });
    }
    walk.phase(chunksOf(nblk, projPer), [&](int chunk) {
      const int u0 = chunk * projPer, u1 = imin(nblk, u0 + projPer);
      if (inDrop) {
        ProjectStage<true> st{wxPanels, D, c.x, s.xm, B, T, k0, tc, c.backwards, s.P, ldP, w.biasP};
        gemm(st, M, u0, u1);
      } else {
        ProjectStage<false> st{wxPanels, D, c.x, s.xm, B, T, k0, tc, c.backwards, s.P, ldP, w.biasP};
        gemm(st, M, u0, u1);
      }
    });

    for (int kk = 0; kk < tc; ++kk) {
      const int k = k0 + kk;
      const int t = c.backwards ? T - 1 - k : k;
      const float* Pstep = s.P + static_cast<size_t>(kk) * B * ldP;
      const Keeper keep{c.saved, static_cast<size_t>(k) * B, Hp};
      const StateWriter out{&c, &s, H, Hp, T, cur, k, t, recDrop, keep};
      const float* hsrc[3] = {s.h[cur], s.h[cur], s.h[cur]};
      if (recDrop) {
        for (int g = 0; g < 3; ++g) hsrc[g] = s.hm[g][cur];
      }
      if (w.resetAfter) {
        walk.phase(chunksOf(nblk, stepPer), [&](int chunk) {
          const int u0 = chunk * stepPer, u1 = imin(nblk, u0 + stepPer);
          if (recDrop) {
            StepResetAfter<true> st{rPanels, H, {hsrc[0], hsrc[1], hsrc[2]}, Hp, Pstep, ldP, w.biasRh, w.act, w.recAct, out};
            gemm(st, B, u0, u1);
          } else {
            StepResetAfter<false> st{rPanels, H, {hsrc[0], hsrc[1], hsrc[2]}, Hp, Pstep, ldP, w.biasRh, w.act, w.recAct, out};
            gemm(st, B, u0, u1);
          }
        });
      } else {
        walk.phase(chunksOf(nblk, stepPer), [&](int chunk) {
          const int u0 = chunk * stepPer, u1 = imin(nblk, u0 + stepPer);
          if (recDrop) {
            StepGates<true> st{rPanels, H, {hsrc[0], hsrc[1], hsrc[2]}, Hp, Pstep, ldP, w.recAct, s.z, s.rh, keep};
            gemm(st, B, u0, u1);
          } else {
            StepGates<false> st{rPanels, H, {hsrc[0], hsrc[1], hsrc[2]}, Hp, Pstep, ldP, w.recAct, s.z, s.rh, keep};
            gemm(st, B, u0, u1);
          }
        });
        walk.phase(chunksOf(nblk, candPer), [&](int chunk) {
          const int u0 = chunk * candPer, u1 = imin(nblk, u0 + candPer);
          StepCandidate st{rhPanels, H, s.rh, Hp, Pstep, ldP, s.z, w.act, out};
          gemm(st, B, u0, u1);
        });
      }
      cur ^= 1;
    }
  }
}

}  // namespace GRU_ISA_NS

// The whole-sequence GRU forward for one vector width, included once per ISA translation unit
// (isa_*.cc) with GRU_ISA_NS, GRU_VW (floats per vector), GRU_MR (rows per tile) and GRU_REGS
// (vector registers) defined. The GEMM engine is tile_gemm.h, the GRU's stages forward_stages.h;
// this file schedules them over a call's phases.
#pragma once

#include "forward_stages.h"
#include "gru_types.h"
#include "thread_pool.h"

namespace GRU_ISA_NS {

// Rows of x copied (times the per-gate input dropout masks) per chunk.
constexpr int kRowsPerChunk = 64;

// The state rows a step reads were mostly written by other threads in the step before: ask for
// all of their cache lines at once, rather than take one miss after another as the product walks
// along them (a small state only: a large one is read over a long time anyway).
static inline void prefetchState(const float* const* rows, int count, size_t floats) {
#if defined(__GNUC__)
  if (floats * sizeof(float) > 16384) return;
  for (int g = 0; g < count; ++g) {
    if (g > 0 && rows[g] == rows[g - 1]) continue;
    for (size_t i = 0; i < floats; i += 64 / sizeof(float)) __builtin_prefetch(rows[g] + i);
  }
#else
  (void)rows;
  (void)count;
  (void)floats;
#endif
}

// One thread's part of a whole call. Every phase is split into chunks that any thread may take
// (see thread_pool.h); phases run in order, and each waits for the previous one. The caller laid
// out the initial state (Layer::forward).
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

  // Alone, a phase is one chunk of every unit block: the GEMM walks the same tiles in the same
  // order itself (a chunk is whole tiles, so the arithmetic is the same), without a call and a
  // stage per chunk (~1,000 instructions of a 128-unit streamed step).
  const bool alone = nth == 1;
  const int projPer = alone ? nblk : chunkBlocks(imin(s.Tc * B, MRMAX), 3);
  const int stepPer = alone ? nblk : chunkBlocks(B, w.resetAfter ? 3 : 2);
  const int candPer = alone ? nblk : chunkBlocks(B, 1);
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
    // A call of one step (a streamed step) projects each chunk's unit blocks inside the step's
    // own phase, right before the step reads them: one phase, so no barrier but the last.
    const bool fused = T == 1;
    auto project = [&](int u0, int u1) {
      if (inDrop) {
        ProjectStage<true> st{wxPanels, D, c.x, s.xm, B, T, k0, tc, c.backwards, s.P, ldP, w.biasP};
        gemm(st, M, u0, u1);
      } else {
        ProjectStage<false> st{wxPanels, D, c.x, s.xm, B, T, k0, tc, c.backwards, s.P, ldP, w.biasP};
        gemm(st, M, u0, u1);
      }
    };
    if (!fused) {
      walk.phase(chunksOf(nblk, projPer), [&](int chunk) {
        const int u0 = chunk * projPer;
        project(u0, imin(nblk, u0 + projPer));
      });
    }

    for (int kk = 0; kk < tc; ++kk) {
      const int k = k0 + kk;
      const int t = c.backwards ? T - 1 - k : k;
      const float* Pstep = s.P + static_cast<size_t>(kk) * B * ldP;
      const Keeper keep{c.saved, static_cast<size_t>(k) * B, Hp};
      const float* prev = k == 0 ? s.h0 : s.h[cur];
      const StateWriter out{&c, &s, H, Hp, T, cur, k, t, recDrop, keep, prev};
      const float* hsrc[3] = {prev, prev, prev};
      if (recDrop) {
        for (int g = 0; g < 3; ++g) hsrc[g] = s.hm[g][cur];
      }
      if (nth > 1) prefetchState(hsrc, 3, static_cast<size_t>(B) * Hp);
      if (w.resetAfter) {
        walk.phase(chunksOf(nblk, stepPer), [&](int chunk) {
          const int u0 = chunk * stepPer, u1 = imin(nblk, u0 + stepPer);
          if (fused) project(u0, u1);
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
          if (fused) project(u0, u1);
          if (recDrop) {
            StepGates<true> st{rPanels, H, {hsrc[0], hsrc[1], hsrc[2]}, Hp, Pstep, ldP, w.recAct, s.z, s.rh, keep};
            gemm(st, B, u0, u1);
          } else {
            StepGates<false> st{rPanels, H, {hsrc[0], hsrc[1], hsrc[2]}, Hp, Pstep, ldP, w.recAct, s.z, s.rh, keep};
            gemm(st, B, u0, u1);
          }
        });
        if (nth > 1) prefetchState(&s.rh, 1, static_cast<size_t>(B) * Hp);
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

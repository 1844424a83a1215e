// The general tile-GEMM engine for one vector width (included once per ISA translation unit, with
// GRU_ISA_NS, GRU_VW, GRU_MR and GRU_REGS defined; see kernels_impl.h). A GEMM is described by a
// Stage: where its rows come from (`row`), its right-hand side (`pan`, packed panels or gradient
// buffers read in place), its depth (`K`), and what its epilogue does with a tile (`finish`).
//
// Every output element is one FMA chain over k = 0..K-1 starting from zero, whatever the tile
// shape, so results do not depend on how rows and unit blocks are split between tiles or threads.
#pragma once

#include <cstddef>

#include "vec.h"

namespace GRU_ISA_NS {

constexpr int MRMAX = GRU_MR;
constexpr int REGS = GRU_REGS;

// Unit blocks per tile: as many as fit the registers (accumulators, one weight vector per
// block and gate, one broadcast), at most 4.
constexpr int nbMax(int mr, int ng) {
  int nb = (REGS - 1) / (ng * (mr + 1));
  return nb < 1 ? 1 : nb > 4 ? 4 : nb;
}

static inline int imin(int a, int b) { return a < b ? a : b; }

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

// Unit blocks per chunk of a phase: the blocks one tile takes for this many rows, so chunks cut
// along the tiles the kernel would use anyway.
static inline int chunkBlocks(int rows, int ng) { return nbMax(imin(rows, MRMAX), ng); }
static inline int chunksOf(int n, int per) { return (n + per - 1) / per; }

}  // namespace GRU_ISA_NS

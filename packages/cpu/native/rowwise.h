// The forward pass for layers with a row-wise activation (softmax, log_softmax, sparsemax, and glu
// at units = 2), which acts on one gate's `units` values together: z and r each over their own
// row, the candidate over its row (Keras's GRUCell). The fused kernels finish a step W units at a
// time, so these layers take this plain path instead, one thread, reading the same packed weights.
// Included once per ISA translation unit (isa_*.cc) after kernels_impl.h, like backward_impl.h:
// everything here has internal linkage, so no copy compiled with wider -m flags is shared.
// Keeps nothing for backward: the backend declines gradients for these layers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "gru_types.h"
#include "scalar_activations.h"

namespace GRU_ISA_NS {

static inline bool isRowwise(int id) { return id >= gru::ACT_SOFTMAX && id <= gru::ACT_GLU; }

// Keras 3.15.1's sparsemax as @gru/core's sparsemaxTau: over the inputs sorted descending, input
// i is in the support when x_i > (cumsum_i - 1) / (i + 1), and tau = (sum of the support's
// cumsums - 1) / k (not the textbook threshold; Keras computes this one).
static void sparsemaxRow(double* v, int n, std::vector<int>& order) {
  order.resize(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return v[a] > v[b]; });
  double cumsum = 0, supportCumsums = 0;
  int k = 0;
  for (int i = 0; i < n; ++i) {
    cumsum += v[order[i]];
    if (v[order[i]] - (cumsum - 1) / (i + 1) > 0) {
      ++k;
      supportCumsums += cumsum;
    }
  }
  const double tau = (supportCumsums - 1) / k;
  for (int i = 0; i < n; ++i) v[i] = std::max(v[i] - tau, 0.0);
}

// Activation `id` over one row of n values, in double, in place.
static void activateRowD(int id, double* v, int n, std::vector<int>& order) {
  switch (id) {
    case gru::ACT_SOFTMAX:
    case gru::ACT_LOG_SOFTMAX: {
      const double mx = *std::max_element(v, v + n);
      double sum = 0;
      for (int i = 0; i < n; ++i) sum += std::exp(v[i] - mx);
      const double lse = std::log(sum);
      for (int i = 0; i < n; ++i) v[i] = id == gru::ACT_SOFTMAX ? std::exp(v[i] - mx) / sum : v[i] - mx - lse;
      return;
    }
    case gru::ACT_SPARSEMAX:
      return sparsemaxRow(v, n, order);
    case gru::ACT_GLU: {
      // Keras's GRU runs glu only at units = 2: x0 sigmoid(x1), broadcast back over both.
      const double g = v[0] / (1 + std::exp(-v[1]));
      v[0] = v[1] = g;
      return;
    }
    default:
      for (int i = 0; i < n; ++i) v[i] = static_cast<float>(gru::scalarActivation(id, static_cast<float>(v[i])));
  }
}

static void runRowwise(const PackedWeights& w, const CallArgs& c) {
  const int B = c.B, T = c.T, D = w.D, H = w.H, W = w.W;
  const int ngR = w.resetAfter ? 3 : 2;
  // Packed element addresses (layer.cc's packPanels): unit j lives in block j / W, lane j % W.
  auto wx = [&](int k, int g, int j) { return w.wx[static_cast<size_t>(j / W) * D * 3 * W + static_cast<size_t>(k) * 3 * W + g * W + j % W]; };
  auto ur = [&](int i, int g, int j) {
    if (g < ngR) return w.rzrh[static_cast<size_t>(j / W) * H * ngR * W + static_cast<size_t>(i) * ngR * W + g * W + j % W];
    return w.rh[static_cast<size_t>(j / W) * H * W + static_cast<size_t>(i) * W + j % W];
  };
  auto biasP = [&](int g, int j) { return w.biasP[static_cast<size_t>(j / W) * 3 * W + g * W + j % W]; };

  std::vector<float> h(static_cast<size_t>(B) * H), hm(3 * static_cast<size_t>(H)), xm(static_cast<size_t>(D));
  std::vector<double> z(H), r(H), hh(H), rec(H), rh(H);
  std::vector<int> order;
  if (c.h0) std::memcpy(h.data(), c.h0, sizeof(float) * h.size());
  for (int k = 0; k < T; ++k) {
    const int t = c.backwards ? T - 1 - k : k;
    for (int b = 0; b < B; ++b) {
      float* hb = h.data() + static_cast<size_t>(b) * H;
      const bool on = !c.mask || c.mask[static_cast<size_t>(b) * T + t] != 0;
      if (on) {
        const float* x = c.x + (static_cast<size_t>(b) * T + t) * D;
        // The state as each gate sees it (recurrent dropout masks).
        for (int g = 0; g < 3; ++g) {
          for (int i = 0; i < H; ++i) hm[static_cast<size_t>(g) * H + i] = c.recMask[g] ? hb[i] * c.recMask[g][static_cast<size_t>(b) * H + i] : hb[i];
        }
        double* pre[3] = {z.data(), r.data(), hh.data()};
        for (int g = 0; g < 3; ++g) {
          for (int d = 0; d < D; ++d) xm[d] = c.inMask[g] ? x[d] * c.inMask[g][static_cast<size_t>(b) * D + d] : x[d];
          for (int j = 0; j < H; ++j) {
            double s = biasP(g, j);
            for (int d = 0; d < D; ++d) s += static_cast<double>(xm[d]) * wx(d, g, j);
            if (g < 2) {
              for (int i = 0; i < H; ++i) s += static_cast<double>(hm[static_cast<size_t>(g) * H + i]) * ur(i, g, j);
            }
            pre[g][j] = static_cast<float>(s);
          }
        }
        activateRowD(w.recAct, z.data(), H, order);
        activateRowD(w.recAct, r.data(), H, order);
        if (w.resetAfter) {
          for (int j = 0; j < H; ++j) {
            double s = w.biasRh[j];
            for (int i = 0; i < H; ++i) s += static_cast<double>(hm[2 * static_cast<size_t>(H) + i]) * ur(i, 2, j);
            hh[j] = static_cast<float>(hh[j] + static_cast<float>(r[j]) * static_cast<float>(s));
          }
        } else {
          for (int i = 0; i < H; ++i) rh[i] = static_cast<float>(r[i]) * hm[2 * static_cast<size_t>(H) + i];
          for (int j = 0; j < H; ++j) {
            double s = hh[j];
            for (int i = 0; i < H; ++i) s += rh[i] * ur(i, 2, j);
            hh[j] = static_cast<float>(s);
          }
        }
        activateRowD(w.act, hh.data(), H, order);
        for (int j = 0; j < H; ++j) {
          const float zj = static_cast<float>(z[j]);
          hb[j] = zj * hb[j] + (1.0f - zj) * static_cast<float>(hh[j]);
        }
      }
      // A masked step carries the state, and outputs it.
      if (c.sequences) std::memcpy(c.out + (static_cast<size_t>(b) * T + k) * H, hb, sizeof(float) * H);
    }
  }
  std::memcpy(c.last, h.data(), sizeof(float) * h.size());
  if (!c.sequences) std::memcpy(c.out, h.data(), sizeof(float) * h.size());
}

}  // namespace GRU_ISA_NS

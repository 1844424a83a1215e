// The forward kernels for the architecture's baseline: SSE2 on x86-64, NEON on arm64 (both are
// always present there), plain scalar code elsewhere (the compiler lowers the 4-float vectors).
#if defined(__aarch64__) || defined(__ARM_NEON)
#define GRU_BASE_NAME "neon"
#define GRU_MR 8
#define GRU_REGS 32
#elif defined(__x86_64__) || defined(__SSE2__)
#define GRU_BASE_NAME "sse"
#define GRU_MR 4
#define GRU_REGS 16
#else
#define GRU_BASE_NAME "generic"
#define GRU_MR 4
#define GRU_REGS 16
#endif
#define GRU_ISA_NS isa_base
#define GRU_VW 4
#include "backward_impl.h"
#include "fma_peak_impl.h"
#include "rowwise.h"

namespace GRU_ISA_NS {

// Layers with a row-wise activation take the plain path (rowwise.h) as one chunk of one phase.
static void runAny(const PackedWeights& w, const CallArgs& c, const Scratch& s, int tid, int nth, gru::Phaser& phaser) {
  if (!isRowwise(w.act) && !isRowwise(w.recAct)) return run(w, c, s, tid, nth, phaser);
  gru::PhaseWalker(phaser, tid, nth).phase(1, [&](int) { runRowwise(w, c); });
}

}  // namespace GRU_ISA_NS

namespace gru {

const IsaKernels* kernels_base() {
  static const IsaKernels k{GRU_BASE_NAME, GRU_VW, &GRU_ISA_NS::runAny, &GRU_ISA_NS::runBackward, &GRU_ISA_NS::fmaChains, GRU_ISA_NS::kFmaChains};
  return &k;
}

}  // namespace gru

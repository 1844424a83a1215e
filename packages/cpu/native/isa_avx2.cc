// The forward kernels for avx2 (8 floats per vector); binding.gyp compiles this file with the
// matching -m flags, and cpu_features.cc only hands it out when the CPU has them.
#define GRU_ISA_NS isa_avx2
#define GRU_VW 8
#define GRU_MR 4
#define GRU_REGS 16
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

const IsaKernels* kernels_avx2() {
  static const IsaKernels k{"avx2", GRU_VW, &GRU_ISA_NS::runAny, &GRU_ISA_NS::runBackward, &GRU_ISA_NS::fmaChains, GRU_ISA_NS::kFmaChains};
  return &k;
}

}  // namespace gru

// The forward kernels for avx2 (8 floats per vector); binding.gyp compiles this file with the
// matching -m flags, and cpu_features.cc only hands it out when the CPU has them.
#define GRU_ISA_NS isa_avx2
#define GRU_VW 8
#define GRU_MR 4
#define GRU_REGS 16
#include "backward_impl.h"
#include "fma_peak_impl.h"

namespace gru {

const IsaKernels* kernels_avx2() {
  static const IsaKernels k{"avx2", GRU_VW, &GRU_ISA_NS::run, &GRU_ISA_NS::runBackward, &GRU_ISA_NS::fmaChains, GRU_ISA_NS::kFmaChains};
  return &k;
}

}  // namespace gru

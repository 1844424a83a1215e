#include "cpu_features.h"

namespace gru {

const IsaKernels* kernels_base();
#if defined(GRU_HAVE_X86_KERNELS)
const IsaKernels* kernels_avx2();
const IsaKernels* kernels_avx512();
#endif

std::vector<const IsaKernels*> availableKernels() {
  std::vector<const IsaKernels*> list;
#if defined(GRU_HAVE_X86_KERNELS)
  // libgcc's checks include the OS saving the wider registers (XCR0), not only CPUID.
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) list.push_back(kernels_avx512());
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) list.push_back(kernels_avx2());
#endif
  list.push_back(kernels_base());
  return list;
}

const IsaKernels* findKernels(const std::string& name) {
  for (const IsaKernels* k : availableKernels()) {
    if (name == k->name) return k;
  }
  return nullptr;
}

}  // namespace gru

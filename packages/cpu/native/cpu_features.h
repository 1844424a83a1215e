// Which kernel sets this CPU can run, chosen at run time.
#pragma once

#include <string>
#include <vector>

#include "gru_types.h"

namespace gru {

// Kernel sets this CPU and build can run, fastest first.
std::vector<const IsaKernels*> availableKernels();

// The named set if this CPU can run it, else null.
const IsaKernels* findKernels(const std::string& name);

}  // namespace gru

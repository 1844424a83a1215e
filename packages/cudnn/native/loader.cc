#include "loader.h"

#ifndef _WIN32
#include <dlfcn.h>
#include <unistd.h>
#endif

namespace gru_cudnn {

void* OpenFirst(const std::string& library, const std::vector<Candidate>& candidates, bool global, std::vector<Attempt>& log, size_t* chosen) {
  for (size_t i = 0; i < candidates.size(); i++) {
    const Candidate& c = candidates[i];
    Attempt a{library, c.path, c.source, ""};
#ifdef _WIN32
    a.result = "not supported on Windows (the cuDNN backend loads Linux shared libraries)";
    log.push_back(a);
    continue;
#else
    if (c.path.find('/') != std::string::npos && access(c.path.c_str(), F_OK) != 0) {
      a.result = "not found";
      log.push_back(a);
      continue;
    }
    // RTLD_NOW surfaces missing dependencies here, with the linker's message, instead of at
    // the first call into the library.
    void* handle = dlopen(c.path.c_str(), RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
    if (!handle) {
      const char* err = dlerror();
      a.result = err ? err : "dlopen failed";
      log.push_back(a);
      continue;
    }
    a.result = "loaded";
    log.push_back(a);
    if (chosen) *chosen = i;
    return handle;
#endif
  }
  return nullptr;
}

void* Symbol(void* handle, const char* name, std::vector<std::string>& missing) {
#ifdef _WIN32
  missing.push_back(name);
  return nullptr;
#else
  void* p = dlsym(handle, name);
  if (!p) missing.push_back(name);
  return p;
#endif
}

}  // namespace gru_cudnn

// Finding and opening the shared libraries (driver, cuDNN, cuBLASLt) with a record of every
// place looked at, so a failed load can tell the user exactly what is missing and where.
#pragma once

#include <string>
#include <vector>

namespace gru_cudnn {

/** One place to try: an absolute path, or a bare soname left to the dynamic linker's search. */
struct Candidate {
  std::string path;
  /** Where the candidate came from ("option cudnnPath", "GRU_CUDNN_PATH", "LD_LIBRARY_PATH", ...). */
  std::string source;
  /** Directories to look for cuBLASLt in when this candidate is the cuDNN that loads. */
  std::vector<std::string> cublasLtDirs;
};

struct Attempt {
  std::string library;
  std::string path;
  std::string source;
  /** "loaded", "not found", or the dynamic linker's error. */
  std::string result;
};

/**
 * Opens the first candidate that loads (paths that do not exist are logged as "not found"
 * without calling dlopen). Returns the handle, or nullptr; `chosen` gets the index.
 */
void* OpenFirst(const std::string& library, const std::vector<Candidate>& candidates, bool global, std::vector<Attempt>& log, size_t* chosen);

/** dlsym for every name; the names that are missing are appended to `missing`. */
void* Symbol(void* handle, const char* name, std::vector<std::string>& missing);

}  // namespace gru_cudnn

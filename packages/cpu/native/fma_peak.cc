#include "fma_peak.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "thread_pool.h"

namespace gru {

namespace {

// Chunks per thread: the pool's threads join a job when they wake, and one that wakes late must
// find work left, or the caller would have to do its share alone (see ThreadPool::run).
constexpr int kChunksPerThread = 8;

struct FmaJob {
  const IsaKernels* kernels;
  int64_t iterationsPerChunk;
  int chunks;
  std::atomic<int> next{0};
  std::atomic<uint32_t> sink{0};
};

void runFmaJob(void* ctx, int, int) {
  auto* job = static_cast<FmaJob*>(ctx);
  for (int c = job->next.fetch_add(1, std::memory_order_relaxed); c < job->chunks; c = job->next.fetch_add(1, std::memory_order_relaxed)) {
    const float r = job->kernels->fmaChains(job->iterationsPerChunk);
    // Keeps every result observable (nothing reads it for ordering).
    uint32_t bits;
    std::memcpy(&bits, &r, sizeof bits);
    job->sink.fetch_xor(bits, std::memory_order_relaxed);
  }
}

}  // namespace

double runFmaChains(const IsaKernels& kernels, double flops, int threads) {
  threads = std::max(1, threads);
  const double perRound = 2.0 * kernels.W * kernels.fmaChainCount;
  const int chunks = threads * kChunksPerThread;
  const auto perChunk = static_cast<int64_t>(std::ceil(std::max(0.0, flops) / (perRound * chunks)));
  FmaJob job{&kernels, std::max<int64_t>(perChunk, 1), chunks};
  ThreadPool::shared().run(threads, &runFmaJob, &job);
  return perRound * static_cast<double>(job.iterationsPerChunk) * chunks;
}

}  // namespace gru

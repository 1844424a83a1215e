// A small persistent thread pool, and the phase protocol its jobs use.
//
// A call is a sequence of phases (the projection of a chunk of timesteps, then one phase per
// recurrence step); each phase is split into chunks (groups of unit blocks, i.e. output columns).
// Threads claim chunks, their own share first and then whatever is left, so a thread that the OS
// has descheduled (a busy shared machine) does not hold the others up: they do its share. Which
// thread computes a chunk never changes the result: a chunk's arithmetic is fixed, and no sum is
// ever split between chunks.
//
// Phases are a few microseconds, so waiting threads spin (with a pause instruction) for a while
// and only then sleep (a futex on Linux, with a timeout so that no lost wakeup can hang a call).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace gru {

void cpuRelax();

class Phaser {
 public:
  explicit Phaser(int maxChunks);
  Phaser(const Phaser&) = delete;
  Phaser& operator=(const Phaser&) = delete;

  // Takes chunk c of phase p if no other thread has; phases are numbered 0, 1, 2, ... A
  // compare-and-swap, never a plain exchange: a thread that lags phases behind must not be able
  // to write its older phase number over a newer claim (the chunk would then run twice).
  bool claim(int c, int p) {
    int seen = claims_[c].load(std::memory_order_relaxed);
    while (seen < p) {
      if (claims_[c].compare_exchange_weak(seen, p, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  // Marks a claimed chunk done; `target` is the number of chunks in phases 0..p together.
  void finished(int64_t target, int p);
  // Returns once every chunk of phase p is done (and its results visible).
  void waitPhase(int p);

 private:
  // Claim slots: inline for the common sizes, so a small call (a streamed step) allocates nothing.
  static constexpr int kInlineClaims = 64;
  std::atomic<int> inline_[kInlineClaims];
  std::unique_ptr<std::atomic<int>[]> heap_;
  std::atomic<int>* claims_;
  alignas(64) std::atomic<int64_t> done_{0};
  alignas(64) std::atomic<uint32_t> phasesDone_{0};
  std::atomic<int> sleepers_{0};
};

// One thread's walk through the phases of a call.
class PhaseWalker {
 public:
  PhaseWalker(Phaser& phaser, int tid, int nthreads) : ph_(phaser), tid_(tid), n_(nthreads) {}

  // Runs work(c) for the chunks of the next phase this thread claims, then waits for the phase.
  template <class Work>
  void phase(int chunks, Work&& work) {
    if (chunks <= 0) return;
    target_ += chunks;
    const int c0 = static_cast<int>(static_cast<int64_t>(chunks) * tid_ / n_);
    const int c1 = static_cast<int>(static_cast<int64_t>(chunks) * (tid_ + 1) / n_);
    for (int c = c0; c < c1; ++c) take(c, work);
    // Then help with the others' shares, from the far end of each (least contended).
    for (int c = chunks - 1; c >= 0; --c) {
      if (c < c0 || c >= c1) take(c, work);
    }
    ph_.waitPhase(p_);
    ++p_;
  }

 private:
  template <class Work>
  void take(int c, Work& work) {
    if (!ph_.claim(c, p_)) return;
    work(c);
    ph_.finished(target_, p_);
  }

  Phaser& ph_;
  int tid_, n_;
  int p_ = 0;
  int64_t target_ = 0;
};

class ThreadPool {
 public:
  using Job = void (*)(void* ctx, int tid, int nthreads);

  // The process-wide pool (created on first use, never destroyed).
  static ThreadPool& shared();

  // Each Node environment that loads the addon (the main thread, every worker thread) is a user
  // of the pool, from its start to its cleanup hook. When the last user goes, the pool's threads
  // are stopped and joined: Node may unload the addon with that environment, and a thread left
  // running would then execute unmapped code. The next user starts threads afresh.
  static void addUser();
  static void removeUser();

  // Runs job(ctx, tid, n) on the calling thread (tid 0) and on up to n - 1 pool threads. The job
  // must finish its work even if no pool thread ever joins (the phase protocol does): a pool
  // thread that wakes after the caller finished does not join at all. If another call holds the
  // pool, runs job(ctx, 0, 1) alone.
  void run(int n, Job job, void* ctx);

 private:
  ThreadPool() = default;
  void ensureWorkers(int count);
  void workerLoop(int index);
  // Stops and joins every pool thread (between jobs: holds the pool like a caller does).
  void stop();

  std::mutex busy_;
  std::vector<std::thread> workers_;
  // Written before the generation moves; read only by a thread that joined the open job.
  Job job_ = nullptr;
  void* ctx_ = nullptr;
  int jobThreads_ = 0;
  alignas(64) std::atomic<uint32_t> generation_{0};
  // (generation << 1) | open: a pool thread joins a job only while it is open.
  alignas(64) std::atomic<uint64_t> state_{0};
  alignas(64) std::atomic<uint32_t> active_{0};
  std::atomic<int> idleSleepers_{0};
  std::atomic<int> callerSleeping_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace gru

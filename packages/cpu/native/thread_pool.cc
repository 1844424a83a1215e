#include "thread_pool.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif

namespace gru {

namespace {

// Waiting for another thread: first spin with a pause instruction (a phase on an idle core takes
// microseconds), then keep checking while yielding the core (on a busy machine the thread we
// wait for may need exactly this core), and only then sleep. Spinning long would burn the time
// slices a descheduled peer needs.
constexpr auto kPauseSpin = std::chrono::microseconds(30);
constexpr auto kYieldSpin = std::chrono::microseconds(300);
// A pool thread between jobs: spins on the pause instruction briefly (a streamed step's caller
// posts the next one within a microsecond or two), then yields the core while it keeps looking,
// and sleeps after kIdleSpin in all. Pause-spinning all that time burned the caller's own core
// when a woken pool thread landed on it (a loaded machine: the other core busy), so the caller
// could not post the next job for ~0.1 ms; on this 2-vCPU VM that cost two-thread streams about
// 10% against one thread, in the ~1% of steps around each wakeup.
constexpr auto kIdlePauseSpin = std::chrono::microseconds(10);
constexpr auto kIdleSpin = std::chrono::microseconds(100);

template <class Done>
bool spinUntil(Done done, std::chrono::microseconds pauseBudget, std::chrono::microseconds yieldBudget = std::chrono::microseconds(0)) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpuRelax();
    }
    const auto spent = std::chrono::steady_clock::now() - start;
    if (spent > pauseBudget + yieldBudget) return done();
    if (spent > pauseBudget) std::this_thread::yield();
  }
}

// Sleeps while *word == expected, for at most a few milliseconds (callers re-check in a loop, so a
// wakeup that is ever lost costs a little time, never a hang). A futex on Linux; elsewhere a
// short sleep.
void sleepWhile(const std::atomic<uint32_t>& word, uint32_t expected) {
#if defined(__linux__)
  struct timespec timeout {
    0, 5 * 1000 * 1000
  };
  syscall(SYS_futex, reinterpret_cast<const uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, &timeout, nullptr, 0);
#else
  if (word.load(std::memory_order_acquire) == expected) std::this_thread::sleep_for(std::chrono::microseconds(50));
#endif
}

// The low half of a 64-bit counter as a futex word (little-endian: where Linux runs here).
const std::atomic<uint32_t>& lowHalf(const std::atomic<int64_t>& c) { return *reinterpret_cast<const std::atomic<uint32_t>*>(&c); }

void sleepWhile(const std::atomic<int64_t>& counter, int64_t expected) { sleepWhile(lowHalf(counter), static_cast<uint32_t>(expected)); }

void wakeAll(std::atomic<uint32_t>& word) {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
#else
  (void)word;
#endif
}

void wakeAll(std::atomic<int64_t>& counter) { wakeAll(const_cast<std::atomic<uint32_t>&>(lowHalf(counter))); }

}  // namespace

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

Phaser::Phaser(int threads) : n_(threads > 0 ? threads : 1), stride_((n_ + kLine - 1) / kLine * kLine) {
  if (n_ > kInlineShares) {
    heap_.reset(new Share[n_]);
    heapBases_.reset(new Line[static_cast<size_t>(n_) * (stride_ / kLine)]());
    heapStartBases_.reset(new int64_t[n_]());
  }
  shares_ = heap_ ? heap_.get() : inline_;
  bases_ = heapBases_ ? heapBases_[0].v : inlineBases_[0].v;
  startBases_ = heapStartBases_ ? heapStartBases_.get() : inlineStartBases_;
}

void Phaser::nextJob() {
  if (start_.callerThreads > 1) {
    // Shares past the last job's threads kept their counts (none of their chunks were taken).
    start_.phase = start_.callerPhase;
    for (int s = 0; s < start_.callerThreads; ++s) startBases_[s] = bases_[s];
  }
  ++start_.job;
  start_.callerThreads = 1;
}

void Phaser::finished(int s, int64_t count) {
  Share& sh = shares_[s];
  // Release: a thread that reads the count also sees the chunks' results.
  sh.done.fetch_add(count, std::memory_order_seq_cst);
  if (sh.sleepers.load(std::memory_order_seq_cst) > 0) wakeAll(sh.done);
}

void Phaser::sleepUntil(int s, int64_t end) {
  Share& sh = shares_[s];
  // Either the finisher sees our sleeper count or we see its count (both seq_cst).
  sh.sleepers.fetch_add(1, std::memory_order_seq_cst);
  for (int64_t seen; (seen = sh.done.load(std::memory_order_seq_cst)) < end;) sleepWhile(sh.done, seen);
  sh.sleepers.fetch_sub(1, std::memory_order_relaxed);
}

int64_t monoNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

namespace {
// A waiting thread helps with a share whose owner took no chunk and finished none for this long:
// longer than one of a small step's chunks takes (so a running owner keeps its share and its
// weights stay in its own cache), short next to a time slice of a descheduled thread.
constexpr int64_t kHelpAfterNs = 3000;
}  // namespace

Phaser::Waiter::Waiter(Share& sh, int64_t job, int64_t phase)
    : sh_(sh),
      job_(job),
      phase_(phase),
      start_(monoNs()),
      lastChange_(start_),
      lastTaken_(sh.taken.load(std::memory_order_relaxed)),
      lastDone_(sh.done.load(std::memory_order_relaxed)) {}

void Phaser::Waiter::progressed() { lastChange_ = monoNs(); }

Phaser::Waiter::Step Phaser::Waiter::next(int64_t end) {
  // An owner that never joined the job (a pool thread not woken yet, or none at all) makes no
  // progress: help at once.
  const bool joined = sh_.joined.load(std::memory_order_relaxed) == job_;
  // (Cheap to ask again: the owner writes `joined` once.)
  for (int i = 0; i < (joined ? 32 : 1); ++i) {
    if (sh_.done.load(std::memory_order_acquire) >= end) return kDone;
    cpuRelax();
  }
  const int64_t now = monoNs();
  const int64_t t = sh_.taken.load(std::memory_order_relaxed), d = sh_.done.load(std::memory_order_relaxed);
  if (t != lastTaken_ || d != lastDone_) {
    lastTaken_ = t;
    lastDone_ = d;
    lastChange_ = now;
  }
  const int64_t spent = now - start_;
  sleepy_ = spent > std::chrono::duration_cast<std::chrono::nanoseconds>(kPauseSpin + kYieldSpin).count();
  if (!joined || sh_.beat.load(std::memory_order_relaxed) < phase_) {
    sawAway_ = true;
    return kHelp;
  }
  if (sleepy_ || now - lastChange_ > kHelpAfterNs) return kHelp;
  if (spent > std::chrono::duration_cast<std::chrono::nanoseconds>(kPauseSpin).count()) std::this_thread::yield();
  return kSpin;
}

PhaseWalker::PhaseWalker(Phaser& phaser, int tid, int nthreads)
    : ph_(phaser), tid_(tid), n_(nthreads), job_(phaser.start_.job), p_(phaser.start_.phase), base_(nullptr) {
  if (nthreads < 1 || nthreads > phaser.n_ || tid < 0 || tid >= nthreads) throw std::invalid_argument("PhaseWalker: thread outside the Phaser's room");
  base_ = phaser.bases_ + static_cast<size_t>(tid) * phaser.stride_;
  // Alone, a walker reads and writes no counts.
  if (nthreads == 1) return;
  for (int s = 0; s < nthreads; ++s) base_[s] = phaser.startBases_[s];
  phaser.shares_[tid].joined.store(job_, std::memory_order_relaxed);
}

PhaseWalker::~PhaseWalker() {
  if (tid_ != 0) return;
  ph_.start_.callerPhase = p_;
  ph_.start_.callerThreads = n_;
}

ThreadPool& ThreadPool::shared() {
  // Leaked on purpose: joining threads from a static destructor at exit can deadlock or abort.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

namespace {
std::mutex gUsersMutex;
int gUsers = 0;
}  // namespace

void ThreadPool::addUser() {
  std::lock_guard<std::mutex> lock(gUsersMutex);
  ++gUsers;
}

void ThreadPool::removeUser() {
  std::lock_guard<std::mutex> lock(gUsersMutex);
  if (gUsers > 0 && --gUsers == 0) shared().stop();
}

void ThreadPool::stop() {
  std::lock_guard<std::mutex> lock(busy_);
  if (workers_.empty()) return;
  stopping_.store(true, std::memory_order_seq_cst);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  wakeAll(generation_);
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  stopping_.store(false, std::memory_order_seq_cst);
}

void ThreadPool::ensureWorkers(int count) {
  // Joinable threads (stop() joins them); the pool is never destroyed, so none is left
  // joinable in a destructor.
  while (static_cast<int>(workers_.size()) < count) {
    const int index = static_cast<int>(workers_.size());
    workers_.emplace_back([this, index] { workerLoop(index); });
  }
}

bool ThreadPool::run(int n, Job job, void* ctx) {
  auto alone = [&] {
    job(ctx, 0, 1);
    return false;
  };
  if (n <= 1) return alone();
  std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
  if (!lock.owns_lock()) {
    busyAlone_.fetch_add(1, std::memory_order_relaxed);
    return alone();
  }
  try {
    ensureWorkers(n - 1);
  } catch (...) {
    // No threads to be had (resource limits): the result is the same on one.
    busyAlone_.fetch_add(1, std::memory_order_relaxed);
    return alone();
  }
  job_ = job;
  ctx_ = ctx;
  jobThreads_ = n;
  const uint32_t gen = generation_.load(std::memory_order_relaxed) + 1;
  state_.store((static_cast<uint64_t>(gen) << 1) | 1, std::memory_order_seq_cst);
  generation_.store(gen, std::memory_order_seq_cst);
  const bool wokeSleepers = idleSleepers_.load(std::memory_order_seq_cst) > 0;
  if (wokeSleepers) wakeAll(generation_);
  job(ctx, 0, n);
  // Close the job; wait only for the threads that joined it.
  state_.store(static_cast<uint64_t>(gen) << 1, std::memory_order_seq_cst);
  auto idle = [&] { return active_.load(std::memory_order_acquire) == 0; };
  if (!spinUntil(idle, kPauseSpin, kYieldSpin)) {
    callerSleeping_.fetch_add(1, std::memory_order_seq_cst);
    for (uint32_t left; (left = active_.load(std::memory_order_seq_cst)) != 0;) sleepWhile(active_, left);
    callerSleeping_.fetch_sub(1, std::memory_order_relaxed);
  }
  // Still holding the pool: no other caller writes these.
  // sharedJobs_ is published after wokeJobs_ (release), and stats() reads it first (acquire):
  // a reader on another thread never sees more woken jobs than shared ones.
  if (wokeSleepers) wokeJobs_.store(wokeJobs_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  sharedJobs_.store(sharedJobs_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  return wokeSleepers;
}

ThreadPool::Stats ThreadPool::stats() const {
  Stats s;
  s.sharedJobs = sharedJobs_.load(std::memory_order_acquire);
  s.wokeSleepers = wokeJobs_.load(std::memory_order_relaxed);
  s.busyAlone = busyAlone_.load(std::memory_order_relaxed);
  s.crowdedAlone = crowdedAlone_.load(std::memory_order_relaxed);
  s.crowdedWindows = windows_.load(std::memory_order_relaxed);
  return s;
}

namespace {
constexpr int64_t kCrowdedNs = 20 * 1000 * 1000;
// After a crowded window: at most this many woken jobs let off, each away in at most
// kWakeAwayPhases phases (a futex wakeup, ~25 us, spans about six 4-us steps of a streamed
// 128-unit layer; a job kept waiting in more phases than that was held up by more than a wakeup).
constexpr int kWakeGraceJobs = 16;
constexpr int64_t kWakeAwayPhases = 8;
}  // namespace

bool ThreadPool::noteSharing(int64_t awayPhases, int steps, bool wokeSleepers) {
  if (int64_t until = crowdedUntil_.load(std::memory_order_relaxed); until != 0 && monoNs() >= until) {
    // The window is over (a CAS: another caller may have just started the next one).
    if (crowdedUntil_.compare_exchange_strong(until, 0, std::memory_order_relaxed)) wakeGrace_.store(kWakeGraceJobs, std::memory_order_relaxed);
  }
  if (wakeGrace_.load(std::memory_order_relaxed) > 0) {
    if (wokeSleepers && awayPhases <= kWakeAwayPhases) {
      wakeGrace_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    // The burst is over: the threads are awake (or this job was held up by more than a wakeup).
    if (!wokeSleepers) wakeGrace_.store(0, std::memory_order_relaxed);
  }
  const bool keptWaiting = awayPhases * 4 > std::max(steps, 3);
  int score = waitScore_.load(std::memory_order_relaxed);
  score = score - (score + 7) / 8 + (keptWaiting ? 128 : 0);
  const bool starts = score > 512;
  if (starts) {
    windows_.fetch_add(1, std::memory_order_relaxed);
    crowdedUntil_.store(monoNs() + kCrowdedNs, std::memory_order_relaxed);
    wakeGrace_.store(0, std::memory_order_relaxed);
    score = 0;
  }
  waitScore_.store(score, std::memory_order_relaxed);
  return starts;
}

bool ThreadPool::crowded() const {
  const int64_t until = crowdedUntil_.load(std::memory_order_relaxed);
  return until != 0 && monoNs() < until;
}

void ThreadPool::workerLoop(int index) {
  uint32_t seen = generation_.load(std::memory_order_acquire);
  for (;;) {
    // stop() is checked along with the generation: a thread that starts after stop() moved the
    // generation must not wait for a further move.
    auto posted = [&] { return generation_.load(std::memory_order_seq_cst) != seen || stopping_.load(std::memory_order_seq_cst); };
    if (!spinUntil(posted, kIdlePauseSpin, kIdleSpin - kIdlePauseSpin)) {
      idleSleepers_.fetch_add(1, std::memory_order_seq_cst);
      while (!posted()) sleepWhile(generation_, seen);
      idleSleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (stopping_.load(std::memory_order_seq_cst)) return;
    seen = generation_.load(std::memory_order_acquire);
    active_.fetch_add(1, std::memory_order_seq_cst);
    if (state_.load(std::memory_order_seq_cst) == ((static_cast<uint64_t>(seen) << 1) | 1)) {
      // Joined an open job: the caller waits for us before it posts another, so these fields
      // are this job's.
      const int n = jobThreads_;
      if (index + 1 < n) job_(ctx_, index + 1, n);
    }
    if (active_.fetch_sub(1, std::memory_order_seq_cst) == 1 && callerSleeping_.load(std::memory_order_seq_cst) > 0) wakeAll(active_);
  }
}

}  // namespace gru

// Stress test of the thread pool and the phase protocol (compiled and run by
// test/thread-pool.test.ts, under ThreadSanitizer when the compiler has it).
//
// Several callers post jobs to the shared pool at once (the losers run alone), threads join late
// or not at all, phases have varying numbers of chunks, and the pool is stopped and restarted as
// its users come and go; every chunk of every phase must run exactly once, and every job must
// finish. Also the pool's crowded hint, what run() says about sleeping threads, and its stats(). A failure prints
// what went wrong and exits 1.
#include "../thread_pool.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

using gru::Phaser;
using gru::PhaseWalker;
using gru::ThreadPool;

namespace {

// The most threads any job here runs with.
constexpr int kMaxThreads = 4;

struct Job {
  std::vector<int> chunks;             // chunks per phase
  std::vector<std::atomic<int>> hits;  // [phase][maxChunks]
  int maxChunks;
  Phaser phaser;
  std::atomic<bool> failed{false};
  std::atomic<bool> early{false};  // a chunk ran before the phase before it was done
  std::atomic<int> ranBy[kMaxThreads] = {};

  Job(unsigned seed, int phases, int maxc) : chunks(phases), hits(static_cast<size_t>(phases) * maxc), maxChunks(maxc), phaser(kMaxThreads) {
    std::mt19937 rng(seed);
    for (int& c : chunks) c = 1 + static_cast<int>(rng() % maxc);
  }

  static void run(void* ctx, int tid, int n) {
    auto* j = static_cast<Job*>(ctx);
    PhaseWalker walk(j->phaser, tid, n);
    std::minstd_rand rng(static_cast<unsigned>(tid * 7919 + j->chunks.size()));
    for (size_t p = 0; p < j->chunks.size(); ++p) {
      walk.phase(j->chunks[p], [&](int c) {
        // Phases run in order: every chunk of the one before is done.
        for (int q = 0; p > 0 && q < j->chunks[p - 1]; ++q) {
          if (j->hits[(p - 1) * j->maxChunks + q].load() != 1) j->early = true;
        }
        if (j->hits[p * j->maxChunks + c].fetch_add(1) != 0) j->failed = true;
        j->ranBy[tid].fetch_add(1);
        // Let threads fall behind one another now and then.
        if (rng() % 40 == 0) std::this_thread::yield();
      });
    }
  }

  // Ready to run the same phases again.
  void reset() {
    for (auto& h : hits) h.store(0);
    for (auto& r : ranBy) r.store(0);
    failed = false;
    early = false;
  }

  bool check() const {
    for (size_t p = 0; p < chunks.size(); ++p) {
      for (int c = 0; c < chunks[p]; ++c) {
        if (hits[p * maxChunks + c].load() != 1) {
          std::fprintf(stderr, "phase %zu chunk %d ran %d times\n", p, c, hits[p * maxChunks + c].load());
          return false;
        }
      }
    }
    if (early) std::fprintf(stderr, "a chunk ran before every chunk of the phase before it was done\n");
    return !failed && !early;
  }
};

}  // namespace

// Two threads walk the same phases, one starting late and yielding often, so it runs phases
// behind the other: its claims must never take (or disturb) chunks of phases already done.
bool lateJoiners(int trials) {
  for (int trial = 0; trial < trials; ++trial) {
    Job job(static_cast<unsigned>(trial), 200, 8);
    std::thread late([&] {
      std::this_thread::sleep_for(std::chrono::microseconds(trial % 7 * 30));
      Job::run(&job, 1, 2);
    });
    Job::run(&job, 0, 2);
    late.join();
    if (!job.check()) {
      std::fprintf(stderr, "late joiners: trial %d failed\n", trial);
      return false;
    }
  }
  return true;
}

// A walker alone (a one-thread call, or a caller that found the pool busy) runs every chunk once
// without claiming any through the shares: a streamed one-thread step touches no atomics.
bool aloneClaimsNothing() {
  Job job(42, 60, 9);
  Job::run(&job, 0, 1);
  if (!job.check()) return false;
  if (job.phaser.claimed() != 0) {
    std::fprintf(stderr, "alone: %lld chunks claimed through atomics\n", static_cast<long long>(job.phaser.claimed()));
    return false;
  }
  return true;
}

// A bound call keeps one Phaser for all its runs (Phaser::nextJob between them). Jobs of 1 to 4
// threads follow one another on it: through the pool (threads wake late or not at all, the pool
// may be busy), and by hand with a thread that sits a job out and joins the next one late, whose
// counts from two jobs ago must not let it take (or wait for) chunks already done.
bool onePhaserManyJobs(int jobs) {
  Job job(7, 30, 9);
  auto again = [&job](unsigned seed) {
    std::mt19937 rng(seed);
    for (int& c : job.chunks) c = 1 + static_cast<int>(rng() % job.maxChunks);
    job.reset();
  };
  for (int i = 0; i < jobs; ++i) {
    again(static_cast<unsigned>(i));
    if (i % 5 == 4) {
      // By hand: tid 1 skips every other of these jobs, and starts late in the others.
      const bool skip = i % 10 == 4;
      std::thread other([&, i] {
        if (skip) return;
        std::this_thread::sleep_for(std::chrono::microseconds(i % 7 * 20));
        Job::run(&job, 1, 2);
      });
      Job::run(&job, 0, 2);
      other.join();
    } else {
      ThreadPool::shared().run(1 + i % 4, &Job::run, &job);
    }
    job.phaser.nextJob();
    if (!job.check()) {
      std::fprintf(stderr, "one Phaser, many jobs: job %d failed\n", i);
      return false;
    }
  }
  return true;
}

// On a kept Phaser, a thread that sat a job out starts the next from that job's counts, not from
// its own of the job before: here it runs the whole job before the caller's thread joins, and must
// run every chunk (with stale counts it would see every phase as done, and run none).
bool satOutThenAlone() {
  Job job(11, 40, 6);
  auto twoThreads = [&job](bool other) {
    job.reset();
    std::thread t([&] {
      if (other) Job::run(&job, 1, 2);
    });
    Job::run(&job, 0, 2);
    t.join();
  };
  twoThreads(true);
  job.phaser.nextJob();
  twoThreads(false);  // thread 1 sits this one out
  job.phaser.nextJob();
  job.reset();
  std::thread first([&] { Job::run(&job, 1, 2); });
  first.join();
  Job::run(&job, 0, 2);
  int total = 0;
  for (int c : job.chunks) total += c;
  if (!job.check() || job.ranBy[1].load() != total) {
    std::fprintf(stderr, "sat out, then alone: thread 1 ran %d of %d chunks\n", job.ranBy[1].load(), total);
    return false;
  }
  return true;
}

// Users come and go (as Node environments do): when the last leaves, the pool stops and joins its
// threads; a user arriving meanwhile runs its jobs alone, then on fresh threads.
bool usersComeAndGo(int rounds) {
  std::atomic<bool> failed{false};
  std::atomic<bool> early{false};  // a chunk ran before the phase before it was done
  std::atomic<int> ranBy[kMaxThreads] = {};
  std::vector<std::thread> users;
  for (int u = 0; u < 3; ++u) {
    users.emplace_back([&, u] {
      for (int r = 0; r < rounds && !failed; ++r) {
        ThreadPool::addUser();
        for (int i = 0; i < 3; ++i) {
          Job job(static_cast<unsigned>(u * 7777 + r * 10 + i), 10 + i, 1 + (r + i) % 6);
          ThreadPool::shared().run(2 + (r + i) % 3, &Job::run, &job);
          if (!job.check()) failed = true;
        }
        ThreadPool::removeUser();
      }
    });
  }
  for (auto& t : users) t.join();
  if (failed) std::fprintf(stderr, "users come and go: a job failed\n");
  return !failed;
}

// Jobs of small steps that kept their threads waiting (a peer descheduled: more runnable threads
// than cores) make the pool crowded, and Layer::forward then runs such calls on one thread; jobs
// that did not never do, and the state ends with its window (a lower bound on time only). Right
// after a window, the burst of jobs that had to wake the pool threads is let off.
bool crowdedComesAndGoes() {
  ThreadPool& pool = ThreadPool::shared();
  auto fail = [](const char* what) {
    std::fprintf(stderr, "crowded: %s\n", what);
    return false;
  };
  // Notes jobs until one starts a window (at most `most`); whether one did.
  bool miscounted = false;
  auto startsWithin = [&](int most, int64_t away, int steps, bool woke) {
    for (int i = 0; i < most; ++i) {
      const int64_t windows = pool.stats().crowdedWindows;
      const bool starts = pool.noteSharing(away, steps, woke);
      if (pool.stats().crowdedWindows != windows + (starts ? 1 : 0)) miscounted = true;
      if (starts) return true;
    }
    return false;
  };
  auto windowPasses = [] { std::this_thread::sleep_for(std::chrono::milliseconds(40)); };
  if (startsWithin(100, 0, 1, false) || pool.crowded()) return fail("100 jobs that kept nobody waiting made the pool crowded");
  if (startsWithin(100, 1, 4, false)) return fail("100 jobs of 4 steps away in 1 made the pool crowded (a quarter is not more than a quarter)");
  if (!startsWithin(16, 1, 1, false)) return fail("16 jobs in a row that kept their threads waiting did not make the pool crowded");
  windowPasses();
  if (pool.crowded()) return fail("still crowded 40 ms later (the window is 20 ms)");
  // The threads slept through the window: the jobs that woke them and waited a wakeup's time are let off...
  if (startsWithin(16, 1, 1, true)) return fail("16 jobs that woke the pool threads after a window started another");
  // ...until one wakes nobody; then jobs kept waiting count again, woken or not.
  pool.noteSharing(0, 1, false);
  if (!startsWithin(16, 1, 1, true)) return fail("woken jobs kept waiting after the threads were up never made the pool crowded");
  windowPasses();
  // A woken job held up in more phases than a wakeup explains counts at once.
  if (!startsWithin(16, 100, 100, true)) return fail("woken jobs away in 100 of 100 steps never made the pool crowded");
  windowPasses();
  // At most 16 are let off.
  if (startsWithin(16, 1, 1, true)) return fail("16 woken jobs after a window started another");
  if (!startsWithin(16, 1, 1, true)) return fail("32 woken jobs after a window never made the pool crowded");
  windowPasses();
  startsWithin(100, 0, 1, false);
  if (miscounted) return fail("stats().crowdedWindows did not count exactly the windows started");
  return pool.crowded() ? fail("crowded after a window and 100 jobs that kept nobody waiting") : true;
}

// stats() counts every job that asked for several threads once: shared with the pool, or run alone
// because another caller held it; a one-thread job not at all.
bool countsWhatItDid() {
  ThreadPool& pool = ThreadPool::shared();
  auto fail = [](const char* what) {
    std::fprintf(stderr, "stats: %s\n", what);
    return false;
  };
  const ThreadPool::Stats s0 = pool.stats();
  Job shared(21, 3, 2), alone(22, 3, 2);
  const bool woke = pool.run(2, &Job::run, &shared);
  pool.run(1, &Job::run, &alone);
  const ThreadPool::Stats s1 = pool.stats();
  if (!shared.check() || !alone.check()) return false;
  if (s1.sharedJobs != s0.sharedJobs + 1 || s1.busyAlone != s0.busyAlone || s1.wokeSleepers != s0.wokeSleepers + (woke ? 1 : 0)) {
    return fail("a shared job and a one-thread job were not counted as one shared job");
  }
  // A caller holds the pool (its job waits for a flag) while another asks for two threads.
  struct Holder {
    std::atomic<bool> inside{false}, release{false};
    static void run(void* ctx, int tid, int) {
      auto* h = static_cast<Holder*>(ctx);
      if (tid != 0) return;
      h->inside.store(true);
      while (!h->release.load()) std::this_thread::yield();
    }
  } holder;
  std::thread first([&] { pool.run(2, &Holder::run, &holder); });
  while (!holder.inside.load()) std::this_thread::yield();
  Job second(23, 3, 2);
  const bool secondWoke = pool.run(2, &Job::run, &second);
  holder.release.store(true);
  first.join();
  const ThreadPool::Stats s2 = pool.stats();
  if (!second.check() || secondWoke) return false;
  if (s2.busyAlone != s1.busyAlone + 1 || s2.sharedJobs != s1.sharedJobs + 1) return fail("a job that found the pool held was not counted as busyAlone");
  return true;
}

// run() says whether posting the job woke sleeping pool threads (a woken thread joins late on any
// machine; see crowdedComesAndGoes for what noteSharing makes of that).
bool saysWhenItWokeSleepers() {
  ThreadPool& pool = ThreadPool::shared();
  Job first(7, 3, 2);
  pool.run(2, &Job::run, &first);
  // Pool threads sleep after spinning a while with no job; give a loaded machine seconds for it.
  for (int i = 0; i < 10000 && pool.sleepingWorkers() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (pool.sleepingWorkers() < 1) {
    std::fprintf(stderr, "woke: no pool thread went to sleep in 10 s without jobs\n");
    return false;
  }
  Job woken(8, 3, 2);
  if (!pool.run(2, &Job::run, &woken) || !woken.check()) {
    std::fprintf(stderr, "woke: a job that woke a sleeping pool thread did not say so\n");
    return false;
  }
  Job alone(9, 3, 2);
  if (pool.run(1, &Job::run, &alone) || !alone.check()) {
    std::fprintf(stderr, "woke: a job run alone said it woke a pool thread\n");
    return false;
  }
  // Jobs back to back: once the woken thread runs, it spins a while between them, and a job posted
  // then wakes nobody. A loaded machine may take long to run it at all: go on for seconds.
  bool sawAwake = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (unsigned i = 0; !sawAwake && std::chrono::steady_clock::now() < deadline; ++i) {
    Job j(10 + i, 3, 2);
    sawAwake = !pool.run(2, &Job::run, &j);
    if (!j.check()) return false;
  }
  if (!sawAwake) std::fprintf(stderr, "woke: for 20 s every job said it woke a sleeping pool thread\n");
  return sawAwake;
}

int main(int argc, char** argv) {
  // A chunk that runs twice pushes the done count past a phase's target, and that phase then
  // never completes: report a hang as the failure it is. The watch is long (argv[5] seconds) since
  // a loaded machine running this under ThreadSanitizer is slow, not hung.
  const int watchSeconds = argc > 5 ? std::atoi(argv[5]) : 90;
  std::thread([watchSeconds] {
    std::this_thread::sleep_for(std::chrono::seconds(watchSeconds));
    std::fprintf(stderr, "timed out: some phase never completed (a chunk ran twice, or never)\n");
    std::_Exit(1);
  }).detach();
  const int callers = 3, jobsPerCaller = argc > 1 ? std::atoi(argv[1]) : 300;
  if (!crowdedComesAndGoes()) return 1;
  if (!saysWhenItWokeSleepers()) return 1;
  if (!countsWhatItDid()) return 1;
  if (!aloneClaimsNothing()) return 1;
  if (!lateJoiners(argc > 2 ? std::atoi(argv[2]) : 1000)) return 1;
  if (!onePhaserManyJobs(argc > 4 ? std::atoi(argv[4]) : 2000)) return 1;
  if (!satOutThenAlone()) return 1;
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < callers; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < jobsPerCaller; ++i) {
        Job job(static_cast<unsigned>(t * 100000 + i), 40 + i % 50, 1 + i % 9);
        ThreadPool::shared().run(2 + (i % 3), &Job::run, &job);
        if (!job.check()) {
          std::fprintf(stderr, "caller %d job %d failed\n", t, i);
          ++bad;
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  if (bad) return 1;
  if (!usersComeAndGo(argc > 3 ? std::atoi(argv[3]) : 200)) return 1;
  std::printf(
      "ok: alone, late joiners, one Phaser for many jobs, and %d callers x %d jobs, and users coming and going; crowded and not; woken and not; counted\n",
      callers, jobsPerCaller);
  return 0;
}

// Barrier cost of the phase protocol alone (README "What bounds it"): a job of P phases of 2
// chunks with next to no work, on 1 or 2 threads; each chunk writes one cache line of a shared
// "state" and reads the line the other chunk wrote the phase before, as a step exchanges its
// state rows. Prints the min and median ns per phase over R jobs; with KEEP=1 every job reuses
// one Phaser (Phaser::nextJob, as a bound call does). Not run by the tests:
//   g++ -O2 -std=gnu++20 -pthread native/test/phase_bench.cc native/thread_pool.cc -o /tmp/pb
//   /tmp/pb THREADS PHASES R [KEEP]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../thread_pool.h"
using namespace gru;
struct alignas(64) Row {
  long v[8];
};
struct Ctx {
  Phaser* ph;
  int phases;
  Row rows[2][2];
};
static void job(void* p, int tid, int n) {
  auto* c = static_cast<Ctx*>(p);
  PhaseWalker w(*c->ph, tid, n);
  for (int k = 0; k < c->phases; ++k) {
    const int cur = k & 1;
    w.phase(2, [&](int ch) { c->rows[cur ^ 1][ch].v[0] = c->rows[cur][ch ^ 1].v[0] + 1; });
  }
}
int main(int argc, char** argv) {
  const int n = atoi(argv[1]), phases = atoi(argv[2]), reps = atoi(argv[3]);
  const bool keep = argc > 4 && atoi(argv[4]);
  ThreadPool::addUser();
  Phaser kept(2);
  std::vector<double> ns;
  for (int r = 0; r < reps; ++r) {
    Ctx c{};
    c.phases = phases;
    Phaser fresh(2);
    c.ph = keep ? &kept : &fresh;
    auto t0 = std::chrono::steady_clock::now();
    ThreadPool::shared().run(n, &job, &c);
    if (keep) kept.nextJob();
    ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / phases);
  }
  std::sort(ns.begin(), ns.end());
  printf("threads %d, %d phases: min %.1f ns/phase, median %.1f\n", n, phases, ns[0], ns[ns.size() / 2]);
  ThreadPool::removeUser();
}

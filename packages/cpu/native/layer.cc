#include "layer.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>

#include "ranges.h"
#include "thread_pool.h"

namespace gru {

namespace {

uint64_t nextLayerId() {
  static std::atomic<uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

// Rows of the projection GEMM per chunk of timesteps: enough rows for the micro-kernel to run at
// full speed, few enough that a thread's share of the chunk stays in its L2 cache next to its
// recurrent weights.
constexpr int kChunkRows = 256;

// Steps under this many multiply-adds per thread take a few microseconds: a thread that is
// descheduled holds up every step of them (see ThreadPool::crowded).
constexpr double kCrowdedStepMacs = 200000;

size_t roundUp(size_t n, size_t a) { return (n + a - 1) / a * a; }

// dst[u][k][g][l] = src[k][(g0 + g) H + u W + l], zero for padded units.
void packPanels(float* dst, const float* src, int K, int H, int W, int nblk, int g0, int ng) {
  const size_t ld = static_cast<size_t>(3) * H;
  for (int u = 0; u < nblk; ++u) {
    for (int k = 0; k < K; ++k) {
      for (int g = 0; g < ng; ++g) {
        float* d = dst + ((static_cast<size_t>(u) * K + k) * ng + g) * W;
        for (int l = 0; l < W; ++l) {
          const int j = u * W + l;
          d[l] = j < H ? src[static_cast<size_t>(k) * ld + static_cast<size_t>(g0 + g) * H + j] : 0.0f;
        }
      }
    }
  }
}

// The Keras-layout weights, read back from the packed panels (so a layer keeps one copy).
float kernelAt(const PackedWeights& w, int d, int col) {
  const int g = col / w.H, j = col - g * w.H, u = j / w.W, l = j - u * w.W;
  return w.wx[((static_cast<size_t>(u) * w.D + d) * 3 + g) * w.W + l];
}

float recurrentAt(const PackedWeights& w, int i, int col) {
  const int g = col / w.H, j = col - g * w.H, u = j / w.W, l = j - u * w.W;
  if (w.resetAfter) return w.rzrh[((static_cast<size_t>(u) * w.H + i) * 3 + g) * w.W + l];
  if (g < 2) return w.rzrh[((static_cast<size_t>(u) * w.H + i) * 2 + g) * w.W + l];
  return w.rh[(static_cast<size_t>(u) * w.H + i) * w.W + l];
}

// Transposed panels: dst[v][j][g][l] = M(v W + l, (g0 + g) H + j) for rows < limit, else 0.
template <class At>
void packTransposed(float* dst, At at, int limit, int H, int W, int g0, int ng) {
  const int vblocks = (limit + W - 1) / W;
  for (int v = 0; v < vblocks; ++v) {
    for (int j = 0; j < H; ++j) {
      for (int g = 0; g < ng; ++g) {
        float* d = dst + ((static_cast<size_t>(v) * H + j) * ng + g) * W;
        for (int l = 0; l < W; ++l) {
          const int row = v * W + l;
          d[l] = row < limit ? at(row, (g0 + g) * H + j) : 0.0f;
        }
      }
    }
  }
}

// Whether the first step can read the caller's initial state where it is: rows already whole
// vectors (no padding), no recurrent-masked copies to make, and no output written over it while
// other threads still read it. Then a streamed step copies no state before the threads start, and
// the thread that did not write a row last step fetches it once instead of twice (copied by the
// caller, then read from its cache).
bool readStateInPlace(const CallArgs& c, int H, int Hp) {
  if (!c.h0 || H != Hp || c.recMask[0]) return false;
  const size_t state = static_cast<size_t>(c.B) * H;
  const size_t outLen = c.sequences ? state * c.T : state;
  return !overlaps(c.h0, state, c.out, outLen) && !overlaps(c.h0, state, c.last, state);
}

// The initial state, padded to whole vectors with zeros, and its recurrent-masked copies, laid
// out before the threads start: a step reads all of it, so laying it out inside the job would
// cost every call a barrier (and B x H copies take next to no time).
void layOutInitialState(const CallArgs& c, const Scratch& s, int H, int Hp) {
  const bool recDrop = c.recMask[0] != nullptr;
  for (int b = 0; b < c.B; ++b) {
    const size_t src = static_cast<size_t>(b) * H, off = static_cast<size_t>(b) * Hp;
    float* h = s.h[0] + off;
    if (c.h0)
      std::memcpy(h, c.h0 + src, static_cast<size_t>(H) * sizeof(float));
    else
      std::fill(h, h + H, 0.0f);
    std::fill(h + H, h + Hp, 0.0f);
    if (!recDrop) continue;
    for (int g = 0; g < 3; ++g) {
      float* m = s.recMaskP[g] + off;
      float* hm = s.hm[g][0] + off;
      std::memcpy(m, c.recMask[g] + src, static_cast<size_t>(H) * sizeof(float));
      std::fill(m + H, m + Hp, 0.0f);
      for (int j = 0; j < Hp; ++j) hm[j] = h[j] * m[j];
    }
  }
}

struct BackJobContext {
  const IsaKernels* kernels;
  const PackedWeights* w;
  const BackwardArgs* a;
  const BackScratch* s;
  Phaser* phaser;
};

void runBackJob(void* ctx, int tid, int nthreads) {
  auto* j = static_cast<BackJobContext*>(ctx);
  j->kernels->runBackward(*j->w, *j->a, *j->s, tid, nthreads, *j->phaser);
}

struct JobContext {
  const IsaKernels* kernels;
  const PackedWeights* w;
  const CallArgs* c;
  const Scratch* s;
  Phaser* phaser;
};

void runJob(void* ctx, int tid, int nthreads) {
  auto* j = static_cast<JobContext*>(ctx);
  j->kernels->run(*j->w, *j->c, *j->s, tid, nthreads, *j->phaser);
}

}  // namespace

FloatBuffer ScratchCache::take(size_t n) {
  {
    std::lock_guard<std::mutex> lock(m_);
    if (buf_.size() >= n) return std::move(buf_);
    // Too small: let it go rather than hold two.
    FloatBuffer old = std::move(buf_);
  }
  return FloatBuffer(n);
}

void ScratchCache::give(FloatBuffer&& b) {
  std::lock_guard<std::mutex> lock(m_);
  if (b.size() > buf_.size()) buf_ = std::move(b);
}

Layer::Layer(const IsaKernels* kernels, const LayerSpec& spec, const float* kernel, const float* recurrentKernel, const float* bias)
    : spec_(spec), id_(nextLayerId()), kernels_(kernels) {
  const int W = kernels->W, D = spec.inputDim, H = spec.units;
  w_.W = W;
  w_.D = D;
  w_.H = H;
  w_.Hp = static_cast<int>(roundUp(static_cast<size_t>(H), W));
  w_.nblk = w_.Hp / W;
  w_.resetAfter = spec.resetAfter;
  w_.act = spec.act;
  w_.recAct = spec.recAct;

  const size_t Hp = w_.Hp;
  const size_t wxSize = static_cast<size_t>(D) * 3 * Hp;
  const size_t rSize = static_cast<size_t>(H) * 3 * Hp;  // both forms together hold 3 gates
  const size_t biasSize = 3 * Hp + Hp;
  storage_ = FloatBuffer(roundUp(wxSize, 16) + roundUp(rSize, 16) + biasSize);
  float* p = storage_.data();
  std::memset(p, 0, storage_.size() * sizeof(float));
  w_.wx = p;
  p += roundUp(wxSize, 16);
  w_.rzrh = p;
  w_.rh = spec.resetAfter ? nullptr : p + static_cast<size_t>(H) * 2 * Hp;
  p += roundUp(rSize, 16);
  w_.biasP = p;
  w_.biasRh = p + 3 * Hp;

  packPanels(w_.wx, kernel, D, H, W, w_.nblk, 0, 3);
  if (spec.resetAfter) {
    packPanels(w_.rzrh, recurrentKernel, H, H, W, w_.nblk, 0, 3);
  } else {
    packPanels(w_.rzrh, recurrentKernel, H, H, W, w_.nblk, 0, 2);
    packPanels(w_.rh, recurrentKernel, H, H, W, w_.nblk, 2, 1);
  }
  if (bias) {
    const size_t G = static_cast<size_t>(3) * H;
    for (int u = 0; u < w_.nblk; ++u) {
      for (int l = 0; l < W; ++l) {
        const int j = u * W + l;
        if (j >= H) continue;
        for (int g = 0; g < 3; ++g) {
          // z and r see the input and recurrent biases added together, so both go in here.
          float v = bias[static_cast<size_t>(g) * H + j];
          if (spec.resetAfter && g < 2) v += bias[G + static_cast<size_t>(g) * H + j];
          w_.biasP[(static_cast<size_t>(u) * 3 + g) * W + l] = v;
        }
        if (spec.resetAfter) w_.biasRh[static_cast<size_t>(u) * W + l] = bias[G + static_cast<size_t>(2) * H + j];
      }
    }
  }
}

int Layer::threadsFor(int batch, int requested, double minStepMacs) const {
  int n = std::max(1, std::min(requested, w_.nblk));
  const double stepMacs = static_cast<double>(batch) * spec_.units * 3.0 * w_.Hp;
  while (n > 1 && stepMacs / n < minStepMacs) --n;
  return n;
}

size_t Layer::scratchFloats(const CallArgs& c, int* Tc) const {
  const int B = c.B, T = c.T, D = w_.D;
  const size_t Hp = w_.Hp;
  *Tc = std::max(1, std::min(T, (kChunkRows + B - 1) / B));
  const size_t rows = static_cast<size_t>(*Tc) * B;
  const size_t pSize = roundUp(rows * 3 * Hp, 16);
  const size_t stSize = roundUp(static_cast<size_t>(B) * Hp, 16);
  const size_t xmSize = roundUp(rows * D, 16);
  const bool recDrop = c.recMask[0] != nullptr, inDrop = c.inMask[0] != nullptr;
  return pSize + 2 * stSize + (recDrop ? 9 * stSize : 0) + (w_.resetAfter ? 0 : 2 * stSize) + (inDrop ? 3 * xmSize : 0);
}

Scratch Layer::carveScratch(const CallArgs& c, int Tc, float* p) const {
  const int B = c.B, D = w_.D;
  const size_t Hp = w_.Hp, rows = static_cast<size_t>(Tc) * B;
  const size_t stSize = roundUp(static_cast<size_t>(B) * Hp, 16), xmSize = roundUp(rows * D, 16);
  auto take = [&p](size_t n) {
    float* r = p;
    p += n;
    return r;
  };
  Scratch s;
  s.Tc = Tc;
  s.P = take(roundUp(rows * 3 * Hp, 16));
  s.h[0] = take(stSize);
  s.h[1] = take(stSize);
  if (c.recMask[0]) {
    for (int g = 0; g < 3; ++g) {
      s.recMaskP[g] = take(stSize);
      s.hm[g][0] = take(stSize);
      s.hm[g][1] = take(stSize);
    }
  }
  if (!w_.resetAfter) {
    s.z = take(stSize);
    s.rh = take(stSize);
  }
  if (c.inMask[0]) {
    for (int g = 0; g < 3; ++g) s.xm[g] = take(xmSize);
  }
  s.h0 = readStateInPlace(c, w_.H, w_.Hp) ? c.h0 : s.h[0];
  return s;
}

int Layer::threadsNow(int B, int threads, double minStepMacs, bool* smallSteps) const {
  int n = threadsFor(B, threads, minStepMacs);
  // Threads meet at every step: where they were lately kept waiting for one another (more
  // runnable threads than cores), a call of small steps goes faster alone for a while.
  *smallSteps = static_cast<double>(B) * w_.H * 3.0 * w_.Hp < kCrowdedStepMacs * n;
  if (n > 1 && *smallSteps && ThreadPool::shared().crowded()) {
    n = 1;
    ThreadPool::shared().noteCrowdedAlone();
  }
  return n;
}

// A bound call's state: the job's fields (read by every thread, written when the call is first
// run or its threads outgrow the Phaser) apart from the Phaser's counts (written every run).
struct ForwardCache::State {
  alignas(64) JobContext ctx{};
  Scratch s;
  uint64_t layerId = 0;  // 0: never made
  const CallArgs* c = nullptr;
  FloatBuffer buffer;
  std::unique_ptr<Phaser> phaser;
};

ForwardCache::ForwardCache() = default;
ForwardCache::~ForwardCache() = default;
void ForwardCache::clear() { s_.reset(); }

void Layer::forward(const CallArgs& c, int threads, double minStepMacs, ForwardCache* bound) const {
  const int B = c.B, T = c.T, H = w_.H;
  if (B == 0) return;
  if (T == 0) {
    // No step ran: the state is the initial state, and so is the last output.
    for (size_t i = 0; i < static_cast<size_t>(B) * H; ++i) {
      c.last[i] = c.h0 ? c.h0[i] : 0.0f;
      if (!c.sequences) c.out[i] = c.last[i];
    }
    return;
  }
  bool smallSteps = false;
  const int n = threadsNow(B, threads, minStepMacs, &smallSteps);
  ThreadPool& pool = ThreadPool::shared();
  if (bound) {
    if (!bound->s_) bound->s_ = std::make_unique<ForwardCache::State>();
    ForwardCache::State& st = *bound->s_;
    // Made again only for another layer (new weights) or call, or more threads than it has room for.
    if (st.layerId != id_ || st.c != &c || !st.phaser || st.phaser->threads() < n) {
      int Tc = 0;
      const size_t total = scratchFloats(c, &Tc);
      if (st.buffer.size() < total) st.buffer = FloatBuffer(total);
      if (!st.phaser || st.phaser->threads() < n) st.phaser = std::make_unique<Phaser>(n);
      st.s = carveScratch(c, Tc, st.buffer.data());
      st.ctx = JobContext{kernels_, &w_, &c, &st.s, st.phaser.get()};
      st.layerId = id_;
      st.c = &c;
    }
    if (st.s.h0 != c.h0) layOutInitialState(c, st.s, H, w_.Hp);
    const int64_t away = st.phaser->awayHelps();
    const bool woke = pool.run(n, &runJob, &st.ctx);
    st.phaser->nextJob();
    if (n > 1 && smallSteps) pool.noteSharing(st.phaser->awayHelps() - away, T, woke);
    return;
  }
  int Tc = 0;
  FloatBuffer mem = scratch_.take(scratchFloats(c, &Tc));
  const Scratch s = carveScratch(c, Tc, mem.data());
  if (s.h0 != c.h0) layOutInitialState(c, s, H, w_.Hp);
  Phaser phaser(n);
  JobContext ctx{kernels_, &w_, &c, &s, &phaser};
  // (A call the busy pool ran alone notes that nobody was kept waiting, as a shared one would.)
  const bool woke = pool.run(n, &runJob, &ctx);
  if (n > 1 && smallSteps) pool.noteSharing(phaser.awayHelps(), T, woke);
  scratch_.give(std::move(mem));
}

namespace {

template <class T>
const T* copyInto(AlignedBuffer<T>& dst, const T* src, size_t n) {
  if (!src) return nullptr;
  dst = AlignedBuffer<T>(n);
  if (n) std::memcpy(dst.data(), src, n * sizeof(T));
  return dst.data();
}

}  // namespace

size_t SavedCall::bytes() const {
  size_t n = x.size() + states.size() + pre.size() + act.size() + rec.size() + mask.size() / sizeof(float);
  for (int g = 0; g < 3; ++g) n += inMask[g].size() + recMask[g].size();
  return n * sizeof(float);
}

BackwardArgs SavedCall::backwardArgs() const {
  BackwardArgs a;
  a.B = B;
  a.T = T;
  a.backwards = backwards;
  a.sequences = sequences;
  a.useBias = layer->spec().useBias;
  a.x = x.data();
  a.mask = mask.data();
  for (int g = 0; g < 3; ++g) {
    a.inMask[g] = inMask[g].data();
    a.recMask[g] = recMask[g].data();
  }
  a.saved = buffers;
  return a;
}

std::shared_ptr<SavedCall> keepForBackward(std::shared_ptr<const Layer> layer, CallArgs& c, size_t xLen, size_t stateLen, size_t maskLen, size_t inMaskLen,
                                           size_t recMaskLen) {
  auto s = std::make_shared<SavedCall>();
  s->B = c.B;
  s->T = c.T;
  s->backwards = c.backwards;
  s->sequences = c.sequences;
  c.x = copyInto(s->x, c.x, xLen);
  c.mask = copyInto(s->mask, c.mask, maskLen);
  for (int g = 0; g < 3; ++g) {
    c.inMask[g] = copyInto(s->inMask[g], c.inMask[g], inMaskLen);
    c.recMask[g] = copyInto(s->recMask[g], c.recMask[g], recMaskLen);
  }
  (void)stateLen;
  const size_t st = layer->savedStateFloats(c.B, c.T), gt = layer->savedGateFloats(c.B, c.T);
  s->states = FloatBuffer(st);
  s->pre = FloatBuffer(gt);
  s->act = FloatBuffer(gt);
  if (layer->spec().resetAfter) s->rec = FloatBuffer(st);
  s->buffers.states = s->states.data();
  s->buffers.pre = s->pre.data();
  s->buffers.act = s->act.data();
  s->buffers.rec = s->rec.data();
  s->layer = std::move(layer);
  c.saved = &s->buffers;
  return s;
}

void Layer::backward(const BackwardArgs& a, int threads, double minStepMacs) const {
  const int B = a.B, T = a.T, H = w_.H, D = w_.D, W = w_.W;
  const size_t Hp = w_.Hp, rows = static_cast<size_t>(T) * B;
  if (B == 0 || T == 0) {
    // No step ran: the gradient reaches the initial state untouched, and nothing else.
    for (size_t i = 0; i < static_cast<size_t>(B) * H; ++i) {
      a.dInit[i] = (a.dLast ? a.dLast[i] : 0.0f) + (!a.sequences ? a.dOut[i] : 0.0f);
    }
    if (a.dx) std::fill(a.dx, a.dx + rows * D, 0.0f);
    std::fill(a.dK, a.dK + static_cast<size_t>(D) * 3 * H, 0.0f);
    std::fill(a.dR, a.dR + static_cast<size_t>(H) * 3 * H, 0.0f);
    if (a.dBias) std::fill(a.dBias, a.dBias + (w_.resetAfter ? 6 : 3) * static_cast<size_t>(H), 0.0f);
    return;
  }
  const bool inDrop = a.inMask[0] != nullptr, recDrop = a.recMask[0] != nullptr;
  const int aCount = recDrop ? 3 : w_.resetAfter ? 1 : 2;
  const size_t dblk = (static_cast<size_t>(D) + W - 1) / W;
  const size_t grad = roundUp(rows * 3 * Hp, 16), state = roundUp(static_cast<size_t>(B) * Hp, 16);
  const size_t xT = roundUp(static_cast<size_t>(D) * rows, 16), aT = roundUp(static_cast<size_t>(H) * rows, 16);
  const size_t kT = a.dx ? dblk * H * 3 * W : 0, rT = static_cast<size_t>(w_.nblk) * H * 3 * W;
  FloatBuffer mem = scratch_.take(2 * grad + 3 * state + (recDrop ? 3 * state : 0) + (inDrop ? 3 : 1) * xT + aCount * aT + roundUp(kT, 16) + roundUp(rT, 16));
  float* p = mem.data();
  auto take = [&p](size_t n) {
    float* r = p;
    p += n;
    return r;
  };
  BackScratch s;
  s.dGx = take(grad);
  s.dGh = take(grad);
  s.dh = take(state);
  s.dhNext = take(state);
  s.dRhr = take(state);
  if (recDrop) {
    for (int g = 0; g < 3; ++g) s.recMaskP[g] = take(state);
  }
  for (int g = 0; g < (inDrop ? 3 : 1); ++g) s.xT[g] = take(xT);
  for (int q = 0; q < aCount; ++q) s.aT[q] = take(aT);
  s.kT = take(roundUp(kT, 16));
  s.rT = take(roundUp(rT, 16));
  // Padded lanes of the state gradients must be finite zeros (they meet zero weights).
  std::fill(s.dh, s.dh + 3 * state, 0.0f);

  const PackedWeights& w = w_;
  // The kernel transposed serves dx only.
  if (a.dx) {
    packTransposed(
        s.kT, [&w](int d, int col) { return kernelAt(w, d, col); }, D, H, W, 0, 3);
  }
  auto rec = [&w](int i, int col) { return recurrentAt(w, i, col); };
  if (w_.resetAfter) {
    packTransposed(s.rT, rec, H, H, W, 0, 3);
  } else {
    packTransposed(s.rT, rec, H, H, W, 0, 2);
    s.rTh = s.rT + static_cast<size_t>(w_.nblk) * H * 2 * W;
    packTransposed(s.rTh, rec, H, H, W, 2, 1);
  }

  const int n = threadsFor(B, threads, minStepMacs);
  Phaser phaser(n);
  BackJobContext ctx{kernels_, &w_, &a, &s, &phaser};
  ThreadPool::shared().run(n, &runBackJob, &ctx);
  scratch_.give(std::move(mem));
}

}  // namespace gru

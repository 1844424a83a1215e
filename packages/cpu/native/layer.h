// A prepared layer (weights packed once for one kernel set) and the whole-sequence forward.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "gru_types.h"
#include "memory.h"

namespace gru {

struct LayerSpec {
  int inputDim = 0, units = 0;
  bool resetAfter = true, useBias = true;
  int act = ACT_TANH, recAct = ACT_SIGMOID;
};

// Keeps the largest working buffer of past calls for the next one: fresh large allocations come
// from the OS untouched, and faulting their pages in costs as much as a small call.
class ScratchCache {
 public:
  // A buffer of at least n floats (the cached one when it is large enough).
  FloatBuffer take(size_t n);
  void give(FloatBuffer&& b);

 private:
  std::mutex m_;
  FloatBuffer buf_;
};

class Layer;
class Phaser;

// What a bound call keeps from run to run of the same call (the same CallArgs, by address): its
// working buffer carved up once, its Phaser and its job's fields, each on lines of its own. A
// streamed step's pool thread then reads fields that did not change since the last step (lines
// it still holds) and writes counts on lines it wrote last, instead of fetching every one of them
// from the caller's core, where a fresh Phaser, Scratch and job were built on the stack.
class ForwardCache {
 public:
  ForwardCache();
  ~ForwardCache();
  ForwardCache(const ForwardCache&) = delete;
  ForwardCache& operator=(const ForwardCache&) = delete;
  // Lets the memory go (the next run makes it again).
  void clear();

 private:
  friend class Layer;
  struct State;
  std::unique_ptr<State> s_;
};

class Layer {
 public:
  // kernel [D, 3H], recurrentKernel [H, 3H], bias [3H] / [2, 3H] / null, in Keras's layout; the
  // caller has checked the lengths.
  Layer(const IsaKernels* kernels, const LayerSpec& spec, const float* kernel, const float* recurrentKernel, const float* bias);

  const LayerSpec& spec() const { return spec_; }
  const IsaKernels& kernels() const { return *kernels_; }
  size_t bytes() const { return storage_.size() * sizeof(float); }

  // Runs a whole call on up to `threads` threads, each with at least `minStepMacs` multiply-adds
  // per recurrence step. Throws std::bad_alloc when scratch memory cannot be had. Every pointer in
  // `c` has been checked against its length by the caller.
  // `bound`, when given, holds what a call that runs again and again keeps between runs (its
  // working buffer, instead of taking the shared one under a lock, and its Phaser): each run
  // must pass the same `c`, unchanged.
  void forward(const CallArgs& c, int threads, double minStepMacs, ForwardCache* bound = nullptr) const;

  // How many threads forward() would use for a batch (fewer when a step is too small to split).
  int threadsFor(int batch, int requested, double minStepMacs) const;

  // A buffer for an async call's copies of its inputs, reused from call to call (a fresh one
  // would be page-faulted in every time); give it back when the call is done.
  FloatBuffer takeInputBuffer(size_t floats) const { return inputs_.take(floats); }
  void giveInputBuffer(FloatBuffer&& b) const { inputs_.give(std::move(b)); }

  // Floats of each buffer a call of this batch and length keeps for backward.
  size_t savedStateFloats(int batch, int timesteps) const { return static_cast<size_t>(batch) * timesteps * w_.Hp; }
  size_t savedGateFloats(int batch, int timesteps) const { return savedStateFloats(batch, timesteps) * 3; }

  // Backpropagation through time for a call that kept its buffers (a.saved), with these weights.
  // Throws std::bad_alloc when working memory cannot be had.
  void backward(const BackwardArgs& a, int threads, double minStepMacs) const;

 private:
  // The floats of a call's working memory, and its timesteps per projection chunk.
  size_t scratchFloats(const CallArgs& c, int* Tc) const;
  // Carves the working memory of a call out of p (scratchFloats() of them).
  Scratch carveScratch(const CallArgs& c, int Tc, float* p) const;
  // The threads a call runs on now (fewer while the pool is crowded), and whether its steps are
  // small enough to be held up by a descheduled thread.
  int threadsNow(int B, int threads, double minStepMacs, bool* smallSteps) const;

  LayerSpec spec_;
  // Unique per Layer made in this process: a bound call's cache is keyed on it, not on the
  // address (a Layer made by setWeights can land where a freed one was).
  const uint64_t id_;
  const IsaKernels* kernels_;
  PackedWeights w_;
  FloatBuffer storage_;
  mutable ScratchCache scratch_;
  mutable ScratchCache inputs_;
};

// What a forward call keeps for backward: its inputs (copied, so the caller may reuse its arrays),
// the weights it ran with, and the per-step buffers forward fills in.
struct SavedCall {
  std::shared_ptr<const Layer> layer;
  uint64_t owner = 0;  // the prepared layer (JavaScript object) that made the call
  int B = 0, T = 0;
  bool backwards = false, sequences = false;
  FloatBuffer x, inMask[3], recMask[3];
  AlignedBuffer<uint8_t> mask;
  FloatBuffer states, pre, act, rec;
  SavedBuffers buffers;  // points into the four above

  size_t bytes() const;
  // The backward arguments that come from the forward call (gradients and outputs not set).
  BackwardArgs backwardArgs() const;
};

// Copies a checked forward call's inputs and allocates its saved buffers; rewires `c` to read the
// copies and fill the buffers. Throws std::bad_alloc.
std::shared_ptr<SavedCall> keepForBackward(std::shared_ptr<const Layer> layer, CallArgs& c, size_t xLen, size_t stateLen, size_t maskLen, size_t inMaskLen,
                                           size_t recMaskLen);

}  // namespace gru

#include "workers.h"

#include <cstring>

#include "promise_worker.h"
#include "results.h"

namespace gru {
namespace {

// Copies a JavaScript array into native memory, so an async call cannot be hurt by the caller
// detaching or resizing it while the work runs.
template <class T>
const T* own(AlignedBuffer<T>& dst, const T* src, size_t n) {
  if (!src) return nullptr;
  dst = AlignedBuffer<T>(n);
  if (n) std::memcpy(dst.data(), src, n * sizeof(T));
  return dst.data();
}

class ForwardWorker : public PromiseWorker {
 public:
  // Copies every input into native memory here, on the JavaScript thread: the caller may change,
  // transfer or drop its arrays as soon as forward() returns.
  ForwardWorker(Napi::Env, std::shared_ptr<const Layer> layer, const Request& r, const Threading& threading, uint64_t owner)
      : PromiseWorker("gru.cpu.forward", "gru cpu backend: forward: out of memory while allocating its working memory"),
        layer_(std::move(layer)),
        threading_(threading) {
    c_ = r.c;
    if (r.keep) {
      // The saved call owns copies of the inputs, which this call reads too.
      c_.h0 = own(h0_, r.c.h0, r.stateLen);
      saved_ = keepForBackward(layer_, c_, r.xLen, r.stateLen, r.maskLen, r.inMaskLen, r.recMaskLen);
      saved_->owner = owner;
    } else {
      // One buffer (reused across calls) for the copies of every input.
      auto rounded = [](size_t n) { return (n + 15) / 16 * 16; };
      const size_t maskFloats = rounded((r.maskLen + sizeof(float) - 1) / sizeof(float));
      size_t total = rounded(r.xLen) + maskFloats;
      if (r.c.h0) total += rounded(r.stateLen);
      if (r.c.inMask[0]) total += 3 * rounded(r.inMaskLen);
      if (r.c.recMask[0]) total += 3 * rounded(r.recMaskLen);
      inputs_ = layer_->takeInputBuffer(total);
      float* p = inputs_.data();
      auto copy = [&p, &rounded](const float* src, size_t n) -> const float* {
        if (!src) return nullptr;
        float* dst = p;
        if (n) std::memcpy(dst, src, n * sizeof(float));
        p += rounded(n);
        return dst;
      };
      c_.x = copy(r.c.x, r.xLen);
      c_.h0 = copy(r.c.h0, r.stateLen);
      for (int g = 0; g < 3; ++g) {
        c_.inMask[g] = copy(r.c.inMask[g], r.inMaskLen);
        c_.recMask[g] = copy(r.c.recMask[g], r.recMaskLen);
      }
      if (r.c.mask) {
        if (r.maskLen) std::memcpy(p, r.c.mask, r.maskLen);
        c_.mask = reinterpret_cast<const uint8_t*>(p);
      }
    }
    out_ = FloatBuffer(r.outLen, false);
    last_ = FloatBuffer(r.stateLen, false);
    c_.out = out_.data();
    c_.last = last_.data();
  }

  ~ForwardWorker() override {
    if (inputs_.data()) layer_->giveInputBuffer(std::move(inputs_));
  }

 protected:
  void run() override { layer_->forward(c_, threading_.threads, threading_.minStepMacs); }

  Napi::Value result(Napi::Env env) override { return resultArray(env, adoptOutput(env, out_), adoptOutput(env, last_), std::move(saved_)); }

 private:
  std::shared_ptr<const Layer> layer_;
  Threading threading_;
  CallArgs c_;
  FloatBuffer inputs_, h0_, out_, last_;
  std::shared_ptr<SavedCall> saved_;
};

class BackwardWorker : public PromiseWorker {
 public:
  // Copies the output gradients here, on the JavaScript thread (see ForwardWorker).
  BackwardWorker(Napi::Env, const BackRequest& r, const Threading& threading)
      : PromiseWorker("gru.cpu.backward", "gru cpu backend: backward: out of memory while allocating its working memory"),
        saved_(r.saved),
        grads_(*r.saved->layer, r.saved->B, r.saved->T, r.inputGradients),
        threading_(threading) {
    a_ = saved_->backwardArgs();
    a_.dOut = own(dOut_, r.dOut, r.outLen);
    a_.dLast = own(dLast_, r.dLast, r.stateLen);
    grads_.into(a_);
  }

 protected:
  void run() override { saved_->layer->backward(a_, threading_.threads, threading_.minStepMacs); }

  Napi::Value result(Napi::Env env) override { return grads_.toJs(env, a_.useBias); }

 private:
  std::shared_ptr<SavedCall> saved_;
  Gradients grads_;
  Threading threading_;
  BackwardArgs a_;
  FloatBuffer dOut_, dLast_;
};

}  // namespace

Napi::Value startForward(Napi::Env env, std::shared_ptr<const Layer> layer, const Request& r, const Threading& threading, uint64_t owner) {
  return PromiseWorker::start<ForwardWorker>(env, std::move(layer), r, threading, owner);
}

Napi::Value startBackward(Napi::Env env, const BackRequest& r, const Threading& threading) { return PromiseWorker::start<BackwardWorker>(env, r, threading); }

}  // namespace gru

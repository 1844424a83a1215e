// The JavaScript class the addon exports: Layer, one prepared GRU layer (weights packed for one
// instruction set) with sync and async forward and backward.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

#include "args.h"
#include "cpu_features.h"
#include "layer.h"

namespace gru {

class LayerWrap : public Napi::ObjectWrap<LayerWrap> {
 public:
  static Napi::Function Init(Napi::Env env);

  // new Layer(spec, kernel, recurrentKernel, bias)
  explicit LayerWrap(const Napi::CallbackInfo& info);

  // The LayerWrap behind a JavaScript value, or null when it is not a Layer of this addon.
  static LayerWrap* FromValue(Napi::Env env, const Napi::Value& v);

  const LayerSpec& spec() const { return spec_; }

  // The prepared layer; a TypeError once disposed.
  std::shared_ptr<const Layer> live(const Checker& chk) const {
    if (!layer_) chk.typeError("this prepared layer has been disposed");
    return layer_;
  }

  // The prepared layer for a synchronous call on the JavaScript thread, which nothing can dispose
  // or replace (setWeights) until the call returns: no reference count to move, which costs two
  // atomic read-modify-writes per call.
  const Layer& inUse(const Checker& chk) const {
    if (!layer_) chk.typeError("this prepared layer has been disposed");
    return *layer_;
  }

 private:
  void build(const Checker& chk, const Napi::Value& kernel, const Napi::Value& recurrent, const Napi::Value& bias);

  // forwardSync and forward: (the request's fields (RequestArg), threads, minStepMacs): threads to
  // use at most, and the fewest multiply-adds per recurrence step worth a thread (smaller steps
  // use fewer threads: a barrier per step costs).

  Napi::Value ForwardSync(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value BackwardSync(const Napi::CallbackInfo& info);
  Napi::Value Backward(const Napi::CallbackInfo& info);
  Napi::Value SetWeights(const Napi::CallbackInfo& info);
  // threadsFor(batch, threads, minStepMacs): how many threads a call of this batch would use.
  Napi::Value ThreadsFor(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  Napi::Value Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), kernels_->name); }
  Napi::Value Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), layer_ ? static_cast<double>(layer_->bytes()) : 0.0); }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !layer_); }

  LayerSpec spec_;
  const IsaKernels* kernels_ = nullptr;
  std::shared_ptr<const Layer> layer_;
  // Identifies this prepared layer to the saved calls it makes.
  const uint64_t id_ = nextLayerId();

  static uint64_t nextLayerId() {
    static std::atomic<uint64_t> counter{0};
    return ++counter;
  }
};

}  // namespace gru

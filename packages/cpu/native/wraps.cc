#include "wraps.h"

#include <new>
#include <string>

#include "results.h"
#include "workers.h"

namespace gru {

namespace {

// Tags Layer objects, so a Bound can tell them from any other wrapped object.
constexpr napi_type_tag kLayerTag = {0x6772752d63707531ULL, 0x6c61796572000001ULL};

}  // namespace

LayerWrap* LayerWrap::FromValue(Napi::Env env, const Napi::Value& v) {
  bool tagged = false;
  if (!v.IsObject() || napi_check_object_type_tag(env, v, &kLayerTag, &tagged) != napi_ok || !tagged) return nullptr;
  return LayerWrap::Unwrap(v.As<Napi::Object>());
}

Napi::Function LayerWrap::Init(Napi::Env env) {
  return DefineClass(env, "Layer",
                     {
                         InstanceMethod<&LayerWrap::ForwardSync>("forwardSync"),
                         InstanceMethod<&LayerWrap::Forward>("forward"),
                         InstanceMethod<&LayerWrap::BackwardSync>("backwardSync"),
                         InstanceMethod<&LayerWrap::Backward>("backward"),
                         InstanceMethod<&LayerWrap::SetWeights>("setWeights"),
                         InstanceMethod<&LayerWrap::Dispose>("dispose"),
                         InstanceMethod<&LayerWrap::ThreadsFor>("threadsFor"),
                         InstanceAccessor<&LayerWrap::Isa>("isa"),
                         InstanceAccessor<&LayerWrap::Bytes>("bytes"),
                         InstanceAccessor<&LayerWrap::Disposed>("disposed"),
                     });
}

LayerWrap::LayerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LayerWrap>(info) {
  Napi::Env env = info.Env();
  Checker chk(env, "gru cpu backend: prepare");
  if (!info.IsConstructCall()) chk.typeError("Layer must be called with new");
  if (info.Length() < 4) chk.typeError("expected (spec, kernel, recurrentKernel, bias), received " + std::to_string(info.Length()) + " arguments");
  if (!info[0].IsObject()) chk.typeError("`spec` must be an object, received " + describe(info[0]));
  const Napi::Object s = info[0].As<Napi::Object>();
  spec_.units = static_cast<int>(chk.integer(s.Get("units"), "units", 1, kMaxUnits));
  spec_.inputDim = static_cast<int>(chk.integer(s.Get("inputDim"), "inputDim", 0, kMaxUnits));
  spec_.resetAfter = chk.boolean(s.Get("resetAfter"), "resetAfter");
  spec_.useBias = chk.boolean(s.Get("useBias"), "useBias");
  spec_.act = static_cast<int>(chk.integer(s.Get("activation"), "activation", 0, ACT_COUNT - 1));
  spec_.recAct = static_cast<int>(chk.integer(s.Get("recurrentActivation"), "recurrentActivation", 0, ACT_COUNT - 1));
  const Napi::Value isa = s.Get("isa");
  if (Checker::absent(isa)) {
    kernels_ = availableKernels().front();
  } else {
    if (!isa.IsString()) chk.typeError("`isa` must be a string, received " + describe(isa));
    const std::string name = isa.As<Napi::String>().Utf8Value();
    kernels_ = findKernels(name);
    if (!kernels_) {
      std::string list;
      for (const IsaKernels* k : availableKernels()) list += (list.empty() ? "" : ", ") + std::string(k->name);
      chk.rangeError("instruction set '" + name + "' is not available on this CPU (available: " + list + ")");
    }
  }
  build(chk, info[1], info[2], info[3]);
  napi_type_tag_object(env, info.This(), &kLayerTag);
}

void LayerWrap::build(const Checker& chk, const Napi::Value& kernel, const Napi::Value& recurrent, const Napi::Value& bias) {
  const WeightArgs w = parseWeights(chk, spec_, kernel, recurrent, bias);
  try {
    layer_ = std::make_shared<const Layer>(kernels_, spec_, w.kernel, w.recurrent, w.bias);
  } catch (const std::bad_alloc&) {
    throwOutOfMemory(Env(), chk.where(), "the packed weights");
  }
}

Napi::Value LayerWrap::SetWeights(const Napi::CallbackInfo& info) {
  Checker chk(info.Env(), "gru cpu backend: setWeights");
  live(chk);
  // A call in flight keeps the old weights (it holds its own reference to them).
  build(chk, info[0], info[1], info[2]);
  return info.Env().Undefined();
}

// threadsFor(batch, threads, minStepMacs): how many threads a call of this batch would use.
Napi::Value LayerWrap::ThreadsFor(const Napi::CallbackInfo& info) {
  Checker chk(info.Env(), "gru cpu backend: threadsFor");
  const std::shared_ptr<const Layer> layer = live(chk);
  const int batch = static_cast<int>(chk.integer(info[0], "batch", 0, kMaxDim));
  const Threading t = threadingArgs(chk, info, 1);
  return Napi::Number::New(info.Env(), layer->threadsFor(batch, t.threads, t.minStepMacs));
}

Napi::Value LayerWrap::Dispose(const Napi::CallbackInfo& info) {
  layer_.reset();
  return info.Env().Undefined();
}

// forwardSync(x, batch, timesteps, goBackwards, returnSequences, initialState, mask,
// inputDropoutMasks, recurrentDropoutMasks, keepForBackward, output, lastState, threads,
// minStepMacs) -> saved or undefined: runs on this thread (and the pool), filling `output` and
// `lastState` (fresh arrays the caller made: making them in JavaScript costs less than through
// Node-API, and the caller builds the result); `saved` where keepForBackward.
Napi::Value LayerWrap::ForwardSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Checker chk(env, "gru cpu backend: forwardSync");
  const std::shared_ptr<const Layer> layer = live(chk);
  constexpr int kOutput = RequestArg::count, kLastState = kOutput + 1, kThreading = kLastState + 1;
  checkArgumentCount(chk, info, kThreading + 2, "(" GRU_REQUEST_ARGS ", output, lastState, threads, minStepMacs)");
  Request r = parseRequest(chk, spec_, info, 0);
  parseOutputs(chk, spec_, r, info[kOutput], info[kLastState]);
  const Threading threading = threadingArgs(chk, info, kThreading);
  std::shared_ptr<SavedCall> saved;
  try {
    if (r.keep) {
      saved = keepForBackward(layer, r.c, r.xLen, r.stateLen, r.maskLen, r.inMaskLen, r.recMaskLen);
      saved->owner = id_;
    }
    layer->forward(r.c, threading.threads, threading.minStepMacs);
  } catch (const std::bad_alloc&) {
    throwOutOfMemory(env, chk.where(), r.keep ? "its working memory and what backward needs" : "its working memory");
  }
  return saved ? Napi::Value(wrapSaved(env, std::move(saved))) : env.Undefined();
}

// backwardSync(saved, dOutput, dLastState, threads, minStepMacs, inputGradients?) -> gradients, on
// this thread (and the pool). inputGradients false skips dx (an empty Float32Array comes back).
Napi::Value LayerWrap::BackwardSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Checker chk(env, "gru cpu backend: backwardSync");
  live(chk);
  const BackRequest r = parseBackward(chk, env, id_, info[0], info[1], info[2], info[5]);
  const Threading threading = threadingArgs(chk, info, 3);
  BackwardArgs a = r.saved->backwardArgs();
  a.dOut = r.dOut;
  a.dLast = r.dLast;
  try {
    Gradients g(*r.saved->layer, r.saved->B, r.saved->T, r.inputGradients);
    g.into(a);
    r.saved->layer->backward(a, threading.threads, threading.minStepMacs);
    return g.toJs(env, a.useBias);
  } catch (const std::bad_alloc&) {
    throwOutOfMemory(env, chk.where(), "the gradients and their working memory");
  }
}

// backward(saved, dOutput, dLastState, threads, minStepMacs, inputGradients?) -> Promise<gradients>, on a libuv
// worker thread (and the pool).
Napi::Value LayerWrap::Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Checker chk(env, "gru cpu backend: backward");
  live(chk);
  const BackRequest r = parseBackward(chk, env, id_, info[0], info[1], info[2], info[5]);
  const Threading threading = threadingArgs(chk, info, 3);
  try {
    return startBackward(env, r, threading);
  } catch (const std::bad_alloc&) {
    throwOutOfMemory(env, chk.where(), "the gradients and copies of the output gradients");
  }
}

// forward(x, batch, timesteps, goBackwards, returnSequences, initialState, mask,
// inputDropoutMasks, recurrentDropoutMasks, keepForBackward, threads, minStepMacs)
// -> Promise<[output, lastState, saved?]>: runs on a libuv worker thread (and the pool), so the
// event loop stays free; the outputs are native memory the worker fills, handed over at the end
// (the caller's arrays could be detached while it runs).
Napi::Value LayerWrap::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Checker chk(env, "gru cpu backend: forward");
  const std::shared_ptr<const Layer> layer = live(chk);
  checkArgumentCount(chk, info, RequestArg::count + 2, "(" GRU_REQUEST_ARGS ", threads, minStepMacs)");
  const Request r = parseRequest(chk, spec_, info, 0);
  const Threading threading = threadingArgs(chk, info, RequestArg::count);
  try {
    return startForward(env, layer, r, threading, id_);
  } catch (const std::bad_alloc&) {
    throwOutOfMemory(env, chk.where(), r.keep ? "copies of the inputs, the outputs and what backward needs" : "copies of the inputs and the outputs");
  }
}

}  // namespace gru

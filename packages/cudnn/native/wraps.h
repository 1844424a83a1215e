// The JavaScript objects the addon hands out: Runtime (loaded driver + cuDNN on one device),
// Layer (one prepared GRU) and Saved (a training forward pass kept for backward). Each holds a
// shared_ptr, so an async call in flight keeps what it uses alive after dispose() or GC.
#pragma once

#include <napi.h>

#include <memory>
#include <utility>

#include "args.h"
#include "layer.h"
#include "runtime.h"

namespace gru_cudnn {

/** Per-instance (per Node environment / worker thread) constructors: no process-wide JS state. */
struct AddonData {
  Napi::FunctionReference runtimeCtor, layerCtor, savedCtor;
};

class RuntimeWrap : public Napi::ObjectWrap<RuntimeWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Create(Napi::Env env, std::shared_ptr<Runtime> rt);
  explicit RuntimeWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value CreateLayer(const Napi::CallbackInfo& info);
  Napi::Value MemoryInUse(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  std::shared_ptr<Runtime> rt_;
};

class LayerWrap : public Napi::ObjectWrap<LayerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Create(Napi::Env env, std::shared_ptr<LayerCore> core);
  explicit LayerWrap(const Napi::CallbackInfo& info);

 private:
  std::shared_ptr<LayerCore> Live(const Napi::Env& env, const char* method) const;
  Napi::Value SetWeights(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value Backward(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Bytes(const Napi::CallbackInfo& info);
  std::shared_ptr<LayerCore> core_;
};

class SavedWrap : public Napi::ObjectWrap<SavedWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Create(Napi::Env env, std::shared_ptr<SavedCore> core);
  explicit SavedWrap(const Napi::CallbackInfo& info);
  ~SavedWrap() override;
  std::shared_ptr<SavedCore> core() const { return core_; }

 private:
  void Release();
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Bytes(const Napi::CallbackInfo& info);
  std::shared_ptr<SavedCore> core_;
  /** Device bytes reported to V8 as external memory, so GC runs when saved passes pile up. */
  int64_t reported_ = 0;
  napi_env env_ = nullptr;
};

/** Runs Runtime::Open off the main thread; resolves to {ok, attempts, problems, runtime?, info?}. */
Napi::Promise StartOpen(Napi::Env env, OpenOptions options);
/** Makes a LayerCore (cuDNN handle, descriptors, weight space) off the main thread; resolves to a Layer. */
Napi::Promise StartCreateLayer(Napi::Env env, std::shared_ptr<Runtime> rt, LayerDims dims);
/** Converts and uploads packed weights off the main thread. */
Napi::Promise StartSetWeights(Napi::Env env, std::shared_ptr<LayerCore> core, HostView packed);
/** Resolves to a Saved (training) or undefined. */
Napi::Promise StartForward(Napi::Env env, std::shared_ptr<LayerCore> core, ForwardArgs args);
Napi::Promise StartBackward(Napi::Env env, std::shared_ptr<LayerCore> core, std::shared_ptr<SavedCore> saved, BackwardArgs args);

}  // namespace gru_cudnn

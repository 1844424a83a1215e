// Async work: opening the runtime (dlopen + cuInit can take a second), making a layer (cuDNN
// handle, weight space), uploading weights, and every forward and backward call run on libuv's
// pool, so the event loop never waits for the GPU.
#include <vector>

#include "wraps.h"

namespace gru_cudnn {

namespace {

/** Keeps the caller's typed arrays alive while a worker thread reads or writes their memory. */
class KeepAlive {
 public:
  void Add(const HostView& v) {
    if (!v.array.IsEmpty()) refs_.push_back(Napi::Persistent(v.array));
  }

 private:
  std::vector<Napi::ObjectReference> refs_;
};

std::string GpuMessage(const std::string& what) { return "cuDNN backend: " + what; }

class OpenWorker : public Napi::AsyncWorker {
 public:
  OpenWorker(Napi::Env env, OpenOptions options)
      : Napi::AsyncWorker(env, "gru_cudnn.open"), deferred_(Napi::Promise::Deferred::New(env)), options_(std::move(options)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      rt_ = Runtime::Open(options_, report_);
    } catch (const std::exception& e) {
      report_.problems.push_back(std::string("opening the runtime threw: ") + e.what());
      rt_.reset();
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object out = Napi::Object::New(env);
    Napi::Array attempts = Napi::Array::New(env, report_.attempts.size());
    for (size_t i = 0; i < report_.attempts.size(); i++) {
      const Attempt& a = report_.attempts[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("library", a.library);
      o.Set("path", a.path);
      o.Set("source", a.source);
      o.Set("result", a.result);
      attempts.Set(i, o);
    }
    Napi::Array problems = Napi::Array::New(env, report_.problems.size());
    for (size_t i = 0; i < report_.problems.size(); i++) problems.Set(i, report_.problems[i]);
    out.Set("ok", Napi::Boolean::New(env, rt_ != nullptr));
    out.Set("attempts", attempts);
    out.Set("problems", problems);
    if (rt_) out.Set("runtime", RuntimeWrap::Create(env, rt_));
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  OpenOptions options_;
  OpenReport report_;
  std::shared_ptr<Runtime> rt_;
};

class ForwardWorker : public Napi::AsyncWorker {
 public:
  ForwardWorker(Napi::Env env, std::shared_ptr<LayerCore> core, ForwardArgs args)
      : Napi::AsyncWorker(env, "gru_cudnn.forward"), deferred_(Napi::Promise::Deferred::New(env)), core_(std::move(core)), args_(std::move(args)) {
    for (const HostView* v : {&args_.x, &args_.hx, &args_.y, &args_.hy}) keep_.Add(*v);
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      saved_ = core_->Forward(args_);
    } catch (const std::exception& e) {
      SetError(GpuMessage(e.what()));
    }
  }
  void OnOK() override { deferred_.Resolve(saved_ ? SavedWrap::Create(Env(), std::shared_ptr<SavedCore>(std::move(saved_))) : Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<LayerCore> core_;
  ForwardArgs args_;
  KeepAlive keep_;
  std::unique_ptr<SavedCore> saved_;
};

class BackwardWorker : public Napi::AsyncWorker {
 public:
  BackwardWorker(Napi::Env env, std::shared_ptr<LayerCore> core, std::shared_ptr<SavedCore> saved, BackwardArgs args)
      : Napi::AsyncWorker(env, "gru_cudnn.backward"),
        deferred_(Napi::Promise::Deferred::New(env)),
        core_(std::move(core)),
        saved_(std::move(saved)),
        args_(std::move(args)) {
    for (const HostView* v : {&args_.dy, &args_.dhy, &args_.dx, &args_.dhx, &args_.dw}) keep_.Add(*v);
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      core_->Backward(*saved_, args_);
    } catch (const std::exception& e) {
      SetError(GpuMessage(e.what()));
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<LayerCore> core_;
  std::shared_ptr<SavedCore> saved_;
  BackwardArgs args_;
  KeepAlive keep_;
};

class CreateLayerWorker : public Napi::AsyncWorker {
 public:
  CreateLayerWorker(Napi::Env env, std::shared_ptr<Runtime> rt, LayerDims dims)
      : Napi::AsyncWorker(env, "gru_cudnn.createLayer"), deferred_(Napi::Promise::Deferred::New(env)), rt_(std::move(rt)), dims_(dims) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      core_ = std::make_shared<LayerCore>(rt_, dims_);
    } catch (const std::exception& e) {
      SetError(GpuMessage(e.what()));
    }
  }
  void OnOK() override { deferred_.Resolve(LayerWrap::Create(Env(), core_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Runtime> rt_;
  LayerDims dims_;
  std::shared_ptr<LayerCore> core_;
};

class SetWeightsWorker : public Napi::AsyncWorker {
 public:
  SetWeightsWorker(Napi::Env env, std::shared_ptr<LayerCore> core, HostView packed)
      : Napi::AsyncWorker(env, "gru_cudnn.setWeights"), deferred_(Napi::Promise::Deferred::New(env)), core_(std::move(core)), packed_(packed) {
    keep_.Add(packed_);
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      core_->SetWeights(packed_.data);
    } catch (const std::exception& e) {
      SetError(GpuMessage(e.what()));
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<LayerCore> core_;
  HostView packed_;
  KeepAlive keep_;
};

}  // namespace

template <class W, class... A>
Napi::Promise Start(Napi::Env env, A&&... args) {
  auto* w = new W(env, std::forward<A>(args)...);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Promise StartCreateLayer(Napi::Env env, std::shared_ptr<Runtime> rt, LayerDims dims) { return Start<CreateLayerWorker>(env, std::move(rt), dims); }

Napi::Promise StartSetWeights(Napi::Env env, std::shared_ptr<LayerCore> core, HostView packed) {
  return Start<SetWeightsWorker>(env, std::move(core), packed);
}

Napi::Promise StartOpen(Napi::Env env, OpenOptions options) { return Start<OpenWorker>(env, std::move(options)); }

Napi::Promise StartForward(Napi::Env env, std::shared_ptr<LayerCore> core, ForwardArgs args) {
  return Start<ForwardWorker>(env, std::move(core), std::move(args));
}

Napi::Promise StartBackward(Napi::Env env, std::shared_ptr<LayerCore> core, std::shared_ptr<SavedCore> saved, BackwardArgs args) {
  return Start<BackwardWorker>(env, std::move(core), std::move(saved), std::move(args));
}

}  // namespace gru_cudnn

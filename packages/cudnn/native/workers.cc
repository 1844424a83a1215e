// Async work: opening the runtime (dlopen + cuInit can take a second), making a layer (cuDNN
// handle, weight space), uploading weights, and every forward and backward call run on libuv's
// pool, so the event loop never waits for the GPU. Each call copies its inputs when it is made
// and hands its outputs over when it completes (host_copies.h); completions never throw into
// Node (promise_worker.h).
#include <vector>

#include "host_copies.h"
#include "promise_worker.h"
#include "wraps.h"

namespace gru_cudnn {

namespace {

class OpenWorker : public PromiseWorker {
 public:
  OpenWorker(Napi::Env, OpenOptions options) : PromiseWorker("openRuntime"), options_(std::move(options)) {}

  void Execute() override {
    try {
      rt_ = Runtime::Open(options_, report_);
    } catch (const std::exception& e) {
      report_.problems.push_back(std::string("opening the runtime threw: ") + e.what());
      rt_.reset();
    }
  }

  Napi::Value Result(Napi::Env env) override {
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
    return out;
  }

 private:
  OpenOptions options_;
  OpenReport report_;
  std::shared_ptr<Runtime> rt_;
};

class ForwardWorker : public PromiseWorker {
 public:
  ForwardWorker(Napi::Env, std::shared_ptr<LayerCore> core, ForwardArgs args) : PromiseWorker("forward"), core_(std::move(core)), args_(std::move(args)) {
    const size_t e = HostSize(core_->dims.host);
    x_ = HostInput(args_.x, e);
    hx_ = HostInput(args_.hx, e);
    y_ = HostOutput(args_.y, e, "y");
    hy_ = HostOutput(args_.hy, e, "hy");
    args_.x.data = x_.data();
    args_.hx.data = hx_.data();
    args_.y.data = y_.data();
    args_.hy.data = hy_.data();
    // Handles are only valid during the call that made them; the worker thread gets none.
    args_.x.array = args_.hx.array = args_.y.array = args_.hy.array = Napi::Object();
  }

  void Execute() override { saved_ = core_->Forward(args_); }

  Napi::Value Result(Napi::Env env) override {
    y_.CopyOut(env);
    hy_.CopyOut(env);
    return saved_ ? Napi::Value(SavedWrap::Create(env, std::shared_ptr<SavedCore>(std::move(saved_)))) : env.Undefined();
  }

 private:
  std::shared_ptr<LayerCore> core_;
  ForwardArgs args_;
  HostInput x_, hx_;
  HostOutput y_, hy_;
  std::unique_ptr<SavedCore> saved_;
};

class BackwardWorker : public PromiseWorker {
 public:
  BackwardWorker(Napi::Env, std::shared_ptr<LayerCore> core, std::shared_ptr<SavedCore> saved, BackwardArgs args)
      : PromiseWorker("backward"), core_(std::move(core)), saved_(std::move(saved)), args_(std::move(args)) {
    const size_t e = HostSize(core_->dims.host);
    dy_ = HostInput(args_.dy, e);
    dhy_ = HostInput(args_.dhy, e);
    dx_ = HostOutput(args_.dx, e, "dx");
    dhx_ = HostOutput(args_.dhx, e, "dhx");
    dw_ = HostOutput(args_.dw, e, "dw");
    args_.dy.data = dy_.data();
    args_.dhy.data = dhy_.data();
    args_.dx.data = dx_.data();
    args_.dhx.data = dhx_.data();
    args_.dw.data = dw_.data();
    args_.dy.array = args_.dhy.array = args_.dx.array = args_.dhx.array = args_.dw.array = Napi::Object();
  }

  void Execute() override { core_->Backward(*saved_, args_); }

  Napi::Value Result(Napi::Env env) override {
    dx_.CopyOut(env);
    dhx_.CopyOut(env);
    dw_.CopyOut(env);
    return env.Undefined();
  }

 private:
  std::shared_ptr<LayerCore> core_;
  std::shared_ptr<SavedCore> saved_;
  BackwardArgs args_;
  HostInput dy_, dhy_;
  HostOutput dx_, dhx_, dw_;
};

class CreateLayerWorker : public PromiseWorker {
 public:
  CreateLayerWorker(Napi::Env, std::shared_ptr<Runtime> rt, LayerDims dims) : PromiseWorker("createLayer"), rt_(std::move(rt)), dims_(dims) {}

  void Execute() override { core_ = std::make_shared<LayerCore>(rt_, dims_); }

  Napi::Value Result(Napi::Env env) override { return LayerWrap::Create(env, core_); }

 private:
  std::shared_ptr<Runtime> rt_;
  LayerDims dims_;
  std::shared_ptr<LayerCore> core_;
};

class SetWeightsWorker : public PromiseWorker {
 public:
  SetWeightsWorker(Napi::Env, std::shared_ptr<LayerCore> core, HostView packed)
      : PromiseWorker("setWeights"), core_(std::move(core)), packed_(packed, HostSize(core_->dims.host)) {}

  void Execute() override { core_->SetWeights(packed_.data()); }

  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  std::shared_ptr<LayerCore> core_;
  HostInput packed_;
};

}  // namespace

Napi::Promise StartCreateLayer(Napi::Env env, std::shared_ptr<Runtime> rt, LayerDims dims) {
  return PromiseWorker::Start<CreateLayerWorker>(env, std::move(rt), dims);
}

Napi::Promise StartSetWeights(Napi::Env env, std::shared_ptr<LayerCore> core, HostView packed) {
  return PromiseWorker::Start<SetWeightsWorker>(env, std::move(core), packed);
}

Napi::Promise StartOpen(Napi::Env env, OpenOptions options) { return PromiseWorker::Start<OpenWorker>(env, std::move(options)); }

Napi::Promise StartForward(Napi::Env env, std::shared_ptr<LayerCore> core, ForwardArgs args) {
  return PromiseWorker::Start<ForwardWorker>(env, std::move(core), std::move(args));
}

Napi::Promise StartBackward(Napi::Env env, std::shared_ptr<LayerCore> core, std::shared_ptr<SavedCore> saved, BackwardArgs args) {
  return PromiseWorker::Start<BackwardWorker>(env, std::move(core), std::move(saved), std::move(args));
}

}  // namespace gru_cudnn

// Module entry: openRuntime (async), the validate* entry points (the exact argument checks the
// GPU path runs, callable without a GPU), fp16 conversion for tests, and the wrapped classes.
#include <napi.h>

#include "gru_napi/interface_tag.h"
#include "wraps.h"

namespace gru_cudnn {

// The JavaScript <-> native contract (ADDON_INTERFACE_VERSION in src/native.ts must match); written
// into the binary as text too, where the packing check reads it from every prebuilt binary.
constexpr int kInterfaceVersion = 1;
GRU_ADDON_INTERFACE_TAG("gru_cudnn", kInterfaceVersion);

namespace {

AddonData& Data(const Napi::Env& env) { return *env.GetInstanceData<AddonData>(); }

std::vector<std::string> StringList(const Napi::Value& v, const std::string& what) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), what + " must be an array of strings.");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value s = a.Get(i);
    if (!s.IsString()) throw Napi::TypeError::New(v.Env(), what + "[" + std::to_string(i) + "] must be a string.");
    out.push_back(s.As<Napi::String>().Utf8Value());
  }
  return out;
}

std::vector<Candidate> Candidates(const Napi::Object& o, const char* key) {
  const std::string what = std::string("openRuntime: `") + key + "`";
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), what + " must be an array of {path, source} objects.");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<Candidate> out;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsObject() || !e.As<Napi::Object>().Get("path").IsString() || !e.As<Napi::Object>().Get("source").IsString()) {
      throw Napi::TypeError::New(o.Env(), what + "[" + std::to_string(i) + "] must be an object with string `path` and `source`.");
    }
    Napi::Object c = e.As<Napi::Object>();
    Candidate cand{c.Get("path").As<Napi::String>().Utf8Value(), c.Get("source").As<Napi::String>().Utf8Value(), {}};
    if (cand.path.empty()) throw Napi::TypeError::New(o.Env(), what + "[" + std::to_string(i) + "].path must not be empty.");
    Napi::Value dirs = c.Get("cublasLtDirs");
    if (!dirs.IsUndefined()) cand.cublasLtDirs = StringList(dirs, what + "[" + std::to_string(i) + "].cublasLtDirs");
    out.push_back(std::move(cand));
  }
  return out;
}

Napi::Value OpenRuntime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "openRuntime expects {driver, cudnn, cublasLtDirs, device}.");
  }
  Napi::Object o = info[0].As<Napi::Object>();
  OpenOptions opts;
  opts.driver = Candidates(o, "driver");
  opts.cudnn = Candidates(o, "cudnn");
  opts.cublasLtDirs = StringList(o.Get("cublasLtDirs"), "openRuntime: `cublasLtDirs`");
  Napi::Value dev = o.Get("device");
  if (!dev.IsNumber()) throw Napi::TypeError::New(env, "openRuntime: `device` must be a non-negative integer.");
  double d = dev.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 1024) || d != static_cast<double>(static_cast<int>(d))) {
    throw Napi::RangeError::New(env, "openRuntime: `device` must be an integer from 0 to 1024; received " + dev.ToString().Utf8Value() + ".");
  }
  opts.device = static_cast<int>(d);
  return StartOpen(env, std::move(opts));
}

Napi::Value ValidateLayerDims(const Napi::CallbackInfo& info) {
  ParseLayerDims(info[0]);
  return info.Env().Undefined();
}

Napi::Value ValidateForwardArgs(const Napi::CallbackInfo& info) {
  ParseForwardArgs(info.Env(), ParseLayerDims(info[0]), info[1]);
  return info.Env().Undefined();
}

Napi::Value ValidateBackwardArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LayerDims dims = ParseLayerDims(info[0]);
  // The saved pass's batch and timesteps get the same checks as a forward call's.
  Napi::Object shape = Napi::Object::New(env);
  shape.Set("batch", info[1]);
  shape.Set("timesteps", info[2]);
  const int B = ParsePositiveInt(shape, "batch", "backward");
  const int T = ParsePositiveInt(shape, "timesteps", "backward");
  ParseBackwardArgs(env, dims, B, T, info[3]);
  return env.Undefined();
}

Napi::Value ValidateWeights(const Napi::CallbackInfo& info) {
  ParseWeights(info.Env(), ParseLayerDims(info[0]), info[1]);
  return info.Env().Undefined();
}

/** fp16 mode's host conversion, exposed so it is tested without a GPU. */
Napi::Value HalfRoundTrip(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "halfRoundTrip expects a Float32Array.");
  }
  Napi::Float32Array in = info[0].As<Napi::Float32Array>();
  Napi::Float32Array out = Napi::Float32Array::New(env, in.ElementLength());
  for (size_t i = 0; i < in.ElementLength(); i++) out[i] = HalfToFloat(FloatToHalf(in[i]));
  return out;
}

template <class T>
std::shared_ptr<T> FromExternal(const Napi::CallbackInfo& info, const char* made) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), std::string("This object cannot be constructed directly; it is made by ") + made + ".");
  }
  return *info[0].As<Napi::External<std::shared_ptr<T>>>().Data();
}

}  // namespace

// ---- Runtime ----

Napi::Function RuntimeWrap::Define(Napi::Env env) {
  return DefineClass(env, "CudnnRuntime",
                     {InstanceMethod("createLayer", &RuntimeWrap::CreateLayer), InstanceMethod("memoryInUse", &RuntimeWrap::MemoryInUse),
                      InstanceMethod("info", &RuntimeWrap::Info)});
}

Napi::Object RuntimeWrap::Create(Napi::Env env, std::shared_ptr<Runtime> rt) {
  return Data(env).runtimeCtor.New({Napi::External<std::shared_ptr<Runtime>>::New(env, &rt)});
}

RuntimeWrap::RuntimeWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RuntimeWrap>(info) { rt_ = FromExternal<Runtime>(info, "openRuntime()"); }

Napi::Value RuntimeWrap::CreateLayer(const Napi::CallbackInfo& info) { return StartCreateLayer(info.Env(), rt_, ParseLayerDims(info[0])); }

Napi::Value RuntimeWrap::MemoryInUse(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("device", Napi::Number::New(info.Env(), static_cast<double>(rt_->DeviceBytes())));
  o.Set("host", Napi::Number::New(info.Env(), static_cast<double>(rt_->HostBytes())));
  return o;
}

Napi::Value RuntimeWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const RuntimeInfo& r = rt_->info;
  Napi::Object o = Napi::Object::New(env);
  o.Set("driverPath", r.driverPath);
  o.Set("cudnnPath", r.cudnnPath);
  o.Set("cublasLtPath", r.cublasLtPath);
  o.Set("deviceName", r.deviceName);
  o.Set("device", r.device);
  o.Set("driverVersion", r.driverVersion);
  o.Set("computeCapability", std::to_string(r.computeMajor) + "." + std::to_string(r.computeMinor));
  o.Set("cudnnVersion", static_cast<double>(r.cudnnVersion));
  o.Set("cudnnCudartVersion", static_cast<double>(r.cudnnCudartVersion));
  o.Set("totalMemory", static_cast<double>(r.totalMemory));
  return o;
}

// ---- Layer ----

Napi::Function LayerWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "CudnnLayer",
      {InstanceMethod("setWeights", &LayerWrap::SetWeights), InstanceMethod("forward", &LayerWrap::Forward), InstanceMethod("backward", &LayerWrap::Backward),
       InstanceMethod("dispose", &LayerWrap::Dispose), InstanceMethod("bytes", &LayerWrap::Bytes)});
}

Napi::Object LayerWrap::Create(Napi::Env env, std::shared_ptr<LayerCore> core) {
  return Data(env).layerCtor.New({Napi::External<std::shared_ptr<LayerCore>>::New(env, &core)});
}

LayerWrap::LayerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LayerWrap>(info) {
  core_ = FromExternal<LayerCore>(info, "CudnnRuntime.createLayer()");
}

std::shared_ptr<LayerCore> LayerWrap::Live(const Napi::Env& env, const char* method) const {
  if (!core_) throw Napi::Error::New(env, std::string("cuDNN backend: ") + method + "() was called on a disposed layer.");
  return core_;
}

Napi::Value LayerWrap::SetWeights(const Napi::CallbackInfo& info) {
  auto core = Live(info.Env(), "setWeights");
  return StartSetWeights(info.Env(), core, ParseWeights(info.Env(), core->dims, info[0]));
}

Napi::Value LayerWrap::Forward(const Napi::CallbackInfo& info) {
  auto core = Live(info.Env(), "forward");
  return StartForward(info.Env(), core, ParseForwardArgs(info.Env(), core->dims, info[0]));
}

Napi::Value LayerWrap::Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto core = Live(env, "backward");
  if (info.Length() < 1 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(Data(env).savedCtor.Value())) {
    throw Napi::TypeError::New(env, "backward: the first argument must be the saved pass a training forward() returned.");
  }
  std::shared_ptr<SavedCore> saved = SavedWrap::Unwrap(info[0].As<Napi::Object>())->core();
  if (!saved) throw Napi::Error::New(env, "backward: the saved forward pass was disposed.");
  if (saved->owner != core->id) throw Napi::Error::New(env, "backward: the saved forward pass belongs to another layer.");
  BackwardArgs args = ParseBackwardArgs(env, core->dims, saved->batch, saved->timesteps, info[1]);
  return StartBackward(env, core, saved, std::move(args));
}

Napi::Value LayerWrap::Dispose(const Napi::CallbackInfo& info) {
  core_.reset();
  return info.Env().Undefined();
}

Napi::Value LayerWrap::Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), core_ ? static_cast<double>(core_->Bytes()) : 0); }

// ---- Saved ----

Napi::Function SavedWrap::Define(Napi::Env env) {
  return DefineClass(env, "CudnnSaved", {InstanceMethod("dispose", &SavedWrap::Dispose), InstanceMethod("bytes", &SavedWrap::Bytes)});
}

Napi::Object SavedWrap::Create(Napi::Env env, std::shared_ptr<SavedCore> core) {
  return Data(env).savedCtor.New({Napi::External<std::shared_ptr<SavedCore>>::New(env, &core)});
}

SavedWrap::SavedWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SavedWrap>(info), env_(info.Env()) {
  core_ = FromExternal<SavedCore>(info, "CudnnLayer.forward() in training mode");
  reported_ = static_cast<int64_t>(core_->Bytes());
  Napi::MemoryManagement::AdjustExternalMemory(info.Env(), reported_);
}

SavedWrap::~SavedWrap() {
  // A finalizer may not call into JavaScript, but adjusting external memory is allowed there
  // (it needs somewhere to write the new total: with a null pointer it does nothing).
  int64_t total = 0;
  if (reported_) napi_adjust_external_memory(env_, -reported_, &total);
  reported_ = 0;
}

void SavedWrap::Release() {
  core_.reset();
  if (reported_) Napi::MemoryManagement::AdjustExternalMemory(Env(), -reported_);
  reported_ = 0;
}

Napi::Value SavedWrap::Dispose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value SavedWrap::Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), core_ ? static_cast<double>(core_->Bytes()) : 0); }

// ---- Module ----

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  Napi::Function runtime = RuntimeWrap::Define(env);
  Napi::Function layer = LayerWrap::Define(env);
  Napi::Function saved = SavedWrap::Define(env);
  data->runtimeCtor = Napi::Persistent(runtime);
  data->layerCtor = Napi::Persistent(layer);
  data->savedCtor = Napi::Persistent(saved);
  env.SetInstanceData(data);
  exports.Set("openRuntime", Napi::Function::New(env, OpenRuntime, "openRuntime"));
  exports.Set("validateLayerDims", Napi::Function::New(env, ValidateLayerDims, "validateLayerDims"));
  exports.Set("validateForwardArgs", Napi::Function::New(env, ValidateForwardArgs, "validateForwardArgs"));
  exports.Set("validateBackwardArgs", Napi::Function::New(env, ValidateBackwardArgs, "validateBackwardArgs"));
  exports.Set("validateWeights", Napi::Function::New(env, ValidateWeights, "validateWeights"));
  exports.Set("halfRoundTrip", Napi::Function::New(env, HalfRoundTrip, "halfRoundTrip"));
  exports.Set("CudnnRuntime", runtime);
  exports.Set("CudnnLayer", layer);
  exports.Set("CudnnSaved", saved);
  exports.Set("interfaceVersion", Napi::Number::New(env, kInterfaceVersion));
  return exports;
}

}  // namespace gru_cudnn

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return gru_cudnn::Init(env, exports); }

NODE_API_MODULE(gru_cudnn, InitModule)

// The JavaScript face of the addon: argument checks, the Layer class, sync and async forward.
//
// Every value that crosses from JavaScript is checked here before native code touches memory:
// types (exactly Float32Array / Uint8Array), detached buffers, integer ranges, and each array's
// length against the shape it must have. Problems become TypeError / RangeError, never a crash.
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <thread>

#include "cpu_features.h"
#include "layer.h"
#include "memory.h"
#include "promise_worker.h"
#include "thread_pool.h"

namespace gru {
namespace {

// Bumped whenever the JavaScript <-> native contract changes; the loader refuses a stale binary.
constexpr int kAddonAbi = 1;
// Batch and timesteps stay far below int overflow inside the kernels (rows = chunk * batch).
constexpr int64_t kMaxDim = int64_t(1) << 30;
constexpr int64_t kMaxUnits = int64_t(1) << 20;
// Outputs are Float32Arrays; V8 aborts the process (not throws) past its typed array limit, so
// larger outputs are refused here. 2^31 - 1 elements (8 GiB) is below that limit everywhere.
constexpr size_t kMaxOutput = (size_t(1) << 31) - 1;

std::string typedArrayName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array:
      return "Int8Array";
    case napi_uint8_array:
      return "Uint8Array";
    case napi_uint8_clamped_array:
      return "Uint8ClampedArray";
    case napi_int16_array:
      return "Int16Array";
    case napi_uint16_array:
      return "Uint16Array";
    case napi_int32_array:
      return "Int32Array";
    case napi_uint32_array:
      return "Uint32Array";
    case napi_float32_array:
      return "Float32Array";
    case napi_float64_array:
      return "Float64Array";
    case napi_bigint64_array:
      return "BigInt64Array";
    case napi_biguint64_array:
      return "BigUint64Array";
    default:
      return "a typed array";
  }
}

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) return typedArrayName(v.As<Napi::TypedArray>().TypedArrayType());
  if (v.IsArrayBuffer()) return "an ArrayBuffer";
  if (v.IsArray()) return "an Array";
  if (v.IsNumber()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "the number %.17g", v.As<Napi::Number>().DoubleValue());
    return buf;
  }
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsFunction()) return "a function";
  return "an object";
}

class Checker {
 public:
  Checker(Napi::Env env, std::string where) : env_(env), where_(std::move(where)) {}

  [[noreturn]] void typeError(const std::string& msg) const { throw Napi::TypeError::New(env_, where_ + ": " + msg); }
  [[noreturn]] void rangeError(const std::string& msg) const { throw Napi::RangeError::New(env_, where_ + ": " + msg); }

  int64_t integer(const Napi::Value& v, const std::string& name, int64_t lo, int64_t hi) const {
    if (!v.IsNumber()) typeError("`" + name + "` must be an integer, received " + describe(v));
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d) typeError("`" + name + "` must be an integer, received " + describe(v));
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
      rangeError("`" + name + "` must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", received " + describe(v));
    }
    return static_cast<int64_t>(d);
  }

  bool boolean(const Napi::Value& v, const std::string& name) const {
    if (!v.IsBoolean()) typeError("`" + name + "` must be a boolean, received " + describe(v));
    return v.As<Napi::Boolean>().Value();
  }

  static bool absent(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }

  // The data of a typed array of the given type and exactly `expected` elements.
  void* typed(const Napi::Value& v, napi_typedarray_type type, const std::string& name, size_t expected, const std::string& shape) const {
    if (!v.IsTypedArray()) typeError("`" + name + "` must be a " + typedArrayName(type) + ", received " + describe(v));
    napi_typedarray_type actual;
    size_t length = 0;
    void* data = nullptr;
    napi_value buffer;
    size_t offset = 0;
    if (napi_get_typedarray_info(env_, v, &actual, &length, &data, &buffer, &offset) != napi_ok) {
      typeError("`" + name + "` could not be read as a typed array");
    }
    if (actual != type) typeError("`" + name + "` must be a " + typedArrayName(type) + ", received " + typedArrayName(actual));
    bool detached = false;
    // Fails (and stays false) for SharedArrayBuffer, which cannot be detached.
    if (napi_is_detached_arraybuffer(env_, buffer, &detached) == napi_ok && detached) {
      typeError("`" + name + "` is a " + typedArrayName(type) + " whose ArrayBuffer has been detached (transferred); pass an array that still owns its memory");
    }
    if (length != expected) {
      rangeError("`" + name + "` has " + std::to_string(length) + " elements, but its shape " + shape + " needs " + std::to_string(expected));
    }
    if (expected > 0 && data == nullptr) typeError("`" + name + "` has no data");
    return data;
  }

  float* f32(const Napi::Value& v, const std::string& name, size_t expected, const std::string& shape) const {
    return static_cast<float*>(typed(v, napi_float32_array, name, expected, shape));
  }

  // a * b * c with overflow checks (sizes come from user integers).
  size_t product(std::initializer_list<int64_t> dims, const std::string& what) const {
    uint64_t p = 1;
    for (int64_t d : dims) {
      if (d == 0) return 0;
    }
    for (int64_t d : dims) {
      if (__builtin_mul_overflow(p, static_cast<uint64_t>(d), &p) || p > (uint64_t(1) << 48)) {
        rangeError(what + " is too large to allocate");
      }
    }
    return static_cast<size_t>(p);
  }

  const std::string& where() const { return where_; }

 private:
  Napi::Env env_;
  std::string where_;
};

std::string shapeOf(std::initializer_list<int64_t> dims) {
  std::string s = "[";
  bool first = true;
  for (int64_t d : dims) {
    if (!first) s += ", ";
    s += std::to_string(d);
    first = false;
  }
  return s + "]";
}

// A forward request checked against a layer: CallArgs pointing into the JavaScript arrays.
struct Request {
  CallArgs c;
  size_t xLen = 0, stateLen = 0, maskLen = 0, inMaskLen = 0, recMaskLen = 0, outLen = 0;
  bool keep = false;  // keepForBackward
};

Request parseRequest(const Checker& chk, const LayerSpec& spec, const Napi::Value& value) {
  if (!value.IsObject() || value.IsArray() || value.IsTypedArray())
    chk.typeError("the request must be an object {x, batch, timesteps, ...}, received " + describe(value));
  const Napi::Object req = value.As<Napi::Object>();
  Request r;
  const int64_t B = chk.integer(req.Get("batch"), "batch", 0, kMaxDim);
  const int64_t T = chk.integer(req.Get("timesteps"), "timesteps", 0, kMaxDim);
  const int64_t D = spec.inputDim, H = spec.units;
  r.c.B = static_cast<int>(B);
  r.c.T = static_cast<int>(T);
  r.c.backwards = chk.boolean(req.Get("goBackwards"), "goBackwards");
  r.c.sequences = chk.boolean(req.Get("returnSequences"), "returnSequences");
  r.xLen = chk.product({B, T, D}, "x (batch * timesteps * inputDim)");
  r.stateLen = chk.product({B, H}, "the state (batch * units)");
  r.outLen = r.c.sequences ? chk.product({B, T, H}, "the output (batch * timesteps * units)") : r.stateLen;
  if (r.outLen > kMaxOutput || r.stateLen > kMaxOutput) {
    chk.rangeError("the output would have " + std::to_string(r.outLen > kMaxOutput ? r.outLen : r.stateLen) +
                   " elements, more than the largest Float32Array this backend returns (" + std::to_string(kMaxOutput) + ")");
  }
  r.c.x = chk.f32(req.Get("x"), "x", r.xLen, "[batch, timesteps, inputDim] = " + shapeOf({B, T, D}));

  const Napi::Value h0 = req.Get("initialState");
  if (!Checker::absent(h0)) r.c.h0 = chk.f32(h0, "initialState", r.stateLen, "[batch, units] = " + shapeOf({B, H}));

  const Napi::Value mask = req.Get("mask");
  if (!Checker::absent(mask)) {
    r.maskLen = chk.product({B, T}, "the mask (batch * timesteps)");
    r.c.mask = static_cast<const uint8_t*>(chk.typed(mask, napi_uint8_array, "mask", r.maskLen, "[batch, timesteps] = " + shapeOf({B, T})));
  }

  auto triple = [&](const char* name, const float** dst, int64_t width, const char* widthName, size_t& len) {
    const Napi::Value v = req.Get(name);
    if (Checker::absent(v)) return;
    if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) {
      chk.typeError(std::string("`") + name + "` must be an array of 3 Float32Arrays (z, r, h), received " + describe(v));
    }
    const Napi::Array a = v.As<Napi::Array>();
    len = chk.product({B, width}, std::string(name) + " (batch * " + widthName + ")");
    for (uint32_t g = 0; g < 3; ++g) {
      dst[g] = chk.f32(a.Get(g), std::string(name) + "[" + std::to_string(g) + "]", len, std::string("[batch, ") + widthName + "] = " + shapeOf({B, width}));
    }
  };
  triple("inputDropoutMasks", r.c.inMask, D, "inputDim", r.inMaskLen);
  triple("recurrentDropoutMasks", r.c.recMask, H, "units", r.recMaskLen);
  const Napi::Value keep = req.Get("keepForBackward");
  r.keep = !Checker::absent(keep) && chk.boolean(keep, "keepForBackward");
  return r;
}

// ---- what forward keeps for backward, as an opaque JavaScript object ----

// Tags the objects this addon made, so backward() can tell them from anything else.
constexpr napi_type_tag kSavedTag = {0x6772752d63707531ULL, 0x7361766564000001ULL};

Napi::Object wrapSaved(Napi::Env env, std::shared_ptr<SavedCall> saved) {
  Napi::Object o = Napi::Object::New(env);
  const int64_t bytes = static_cast<int64_t>(saved->bytes());
  auto* holder = new std::shared_ptr<SavedCall>(std::move(saved));
  napi_status st = napi_wrap(
      env, o, holder,
      [](napi_env e, void* data, void* hint) {
        delete static_cast<std::shared_ptr<SavedCall>*>(data);
        int64_t adjusted;
        napi_adjust_external_memory(e, -reinterpret_cast<intptr_t>(hint), &adjusted);
      },
      reinterpret_cast<void*>(static_cast<intptr_t>(bytes)), nullptr);
  if (st != napi_ok) {
    delete holder;
    throw Napi::Error::New(env, "gru cpu backend: could not attach the saved forward state to its object");
  }
  napi_type_tag_object(env, o, &kSavedTag);
  Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  // Read-only facts about the call, so callers can size and schedule the backward pass.
  const auto& call = **holder;
  o.DefineProperties({
      Napi::PropertyDescriptor::Value("batch", Napi::Number::New(env, call.B), napi_enumerable),
      Napi::PropertyDescriptor::Value("timesteps", Napi::Number::New(env, call.T), napi_enumerable),
      Napi::PropertyDescriptor::Value("bytes", Napi::Number::New(env, static_cast<double>(bytes)), napi_enumerable),
  });
  return o;
}

std::shared_ptr<SavedCall> unwrapSaved(const Checker& chk, Napi::Env env, const Napi::Value& v) {
  bool tagged = false;
  if (v.IsObject()) napi_check_object_type_tag(env, v, &kSavedTag, &tagged);
  if (!tagged) {
    chk.typeError("`saved` must be what forward() returned as `saved` for a call made with keepForBackward, received " + describe(v));
  }
  void* data = nullptr;
  if (napi_unwrap(env, v, &data) != napi_ok || !data) chk.typeError("`saved` has lost its native state");
  return *static_cast<std::shared_ptr<SavedCall>*>(data);
}

// Every weight array of a layer, checked against the spec.
struct WeightArgs {
  const float* kernel;
  const float* recurrent;
  const float* bias;
};

WeightArgs parseWeights(const Checker& chk, const LayerSpec& spec, const Napi::Value& kernel, const Napi::Value& recurrent, const Napi::Value& bias) {
  const int64_t D = spec.inputDim, H = spec.units;
  WeightArgs w{};
  w.kernel = chk.f32(kernel, "kernel", chk.product({D, 3 * H}, "kernel"), "[inputDim, 3 * units] = " + shapeOf({D, 3 * H}));
  w.recurrent = chk.f32(recurrent, "recurrentKernel", chk.product({H, 3 * H}, "recurrentKernel"), "[units, 3 * units] = " + shapeOf({H, 3 * H}));
  if (Checker::absent(bias) && spec.useBias) chk.typeError("`bias` is required: the layer has useBias true");
  if (!Checker::absent(bias) && !spec.useBias) chk.typeError("`bias` must be null: the layer has useBias false, received " + describe(bias));
  if (!Checker::absent(bias)) {
    w.bias = spec.resetAfter ? chk.f32(bias, "bias", chk.product({2, 3 * H}, "bias"), "[2, 3 * units] = " + shapeOf({2, 3 * H}))
                             : chk.f32(bias, "bias", chk.product({3 * H}, "bias"), "[3 * units] = " + shapeOf({3 * H}));
  }
  return w;
}

[[noreturn]] void throwOutOfMemory(Napi::Env env, const std::string& where, const std::string& what) {
  throw Napi::RangeError::New(env, where + ": out of memory while allocating " + what);
}

// Hands a native output to JavaScript without a copy; the garbage collector frees it. V8 is told
// about the memory so it collects promptly.
Napi::Float32Array adoptOutput(Napi::Env env, FloatBuffer& buf) {
  const size_t n = buf.size();
  if (n == 0) return Napi::Float32Array::New(env, 0);
  const size_t bytes = n * sizeof(float);
  auto* size = new size_t(bytes);
  Napi::ArrayBuffer ab;
  try {
    ab = Napi::ArrayBuffer::New(
        env, buf.data(), bytes,
        [](Napi::Env e, void* p, size_t* sz) {
          freeAligned(p, *sz, false);
          // The raw call: a finalizer (possibly at environment teardown) must not throw.
          int64_t adjusted;
          napi_adjust_external_memory(e, -static_cast<int64_t>(*sz), &adjusted);
          delete sz;
        },
        size);
  } catch (const Napi::Error&) {
    // Runtimes without external buffers: copy instead.
    delete size;
    Napi::Float32Array copy = Napi::Float32Array::New(env, n);
    std::memcpy(copy.Data(), buf.data(), bytes);
    return copy;
  }
  buf.release();
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
  return Napi::Float32Array::New(env, n, ab, 0);
}

Napi::Object resultObject(Napi::Env env, Napi::Float32Array output, Napi::Float32Array last, std::shared_ptr<SavedCall> saved) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("output", output);
  o.Set("lastState", last);
  if (saved) o.Set("saved", wrapSaved(env, std::move(saved)));
  return o;
}

// The gradients of one backward call, in native memory until they are handed to JavaScript.
struct Gradients {
  FloatBuffer dx, dInit, dK, dR, dBias;

  Gradients(const Layer& layer, int B, int T) {
    const LayerSpec& sp = layer.spec();
    const size_t D = sp.inputDim, H = sp.units;
    dx = FloatBuffer(static_cast<size_t>(B) * T * D, false);
    dInit = FloatBuffer(static_cast<size_t>(B) * H, false);
    dK = FloatBuffer(D * 3 * H, false);
    dR = FloatBuffer(H * 3 * H, false);
    if (sp.useBias) dBias = FloatBuffer((sp.resetAfter ? 6 : 3) * H, false);
  }

  void into(BackwardArgs& a) {
    a.dx = dx.data();
    a.dInit = dInit.data();
    a.dK = dK.data();
    a.dR = dR.data();
    a.dBias = dBias.data();
  }

  Napi::Object toJs(Napi::Env env, bool useBias) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("dx", adoptOutput(env, dx));
    o.Set("dInitialState", adoptOutput(env, dInit));
    o.Set("dKernel", adoptOutput(env, dK));
    o.Set("dRecurrentKernel", adoptOutput(env, dR));
    o.Set("dBias", useBias ? Napi::Value(adoptOutput(env, dBias)) : env.Null());
    return o;
  }
};

// A backward request: the saved forward call and the output gradients, checked.
struct BackRequest {
  std::shared_ptr<SavedCall> saved;
  const float* dOut = nullptr;
  const float* dLast = nullptr;
  size_t outLen = 0, stateLen = 0;
};

BackRequest parseBackward(const Checker& chk, Napi::Env env, uint64_t owner, const Napi::Value& savedV, const Napi::Value& dOut, const Napi::Value& dLast) {
  BackRequest r;
  r.saved = unwrapSaved(chk, env, savedV);
  const SavedCall& s = *r.saved;
  // The gradients are of the weights the forward call ran with (kept in `saved`), even if
  // setWeights() came since; but they must be this prepared layer's.
  if (s.owner != owner) chk.typeError("`saved` comes from a forward call on another prepared layer");
  const int64_t B = s.B, T = s.T, H = s.layer->spec().units;
  r.stateLen = chk.product({B, H}, "the state (batch * units)");
  r.outLen = s.sequences ? chk.product({B, T, H}, "the output (batch * timesteps * units)") : r.stateLen;
  r.dOut = chk.f32(dOut, "dOutput", r.outLen, s.sequences ? "[batch, timesteps, units] = " + shapeOf({B, T, H}) : "[batch, units] = " + shapeOf({B, H}));
  if (!Checker::absent(dLast)) r.dLast = chk.f32(dLast, "dLastState", r.stateLen, "[batch, units] = " + shapeOf({B, H}));
  return r;
}

// (..., threads, minStepMacs): threads to use at most, and the fewest multiply-adds per
// recurrence step worth a thread (smaller steps use fewer threads: threads meet every step).
struct Threading {
  int threads;
  double minStepMacs;
};
Threading threadingArgs(const Checker& chk, const Napi::CallbackInfo& info, int first) {
  Threading t;
  t.threads = static_cast<int>(chk.integer(info[first], "threads", 1, 1024));
  const Napi::Value m = info[first + 1];
  if (!m.IsNumber() || !(m.As<Napi::Number>().DoubleValue() >= 0)) chk.typeError("`minStepMacs` must be a non-negative number, received " + describe(m));
  t.minStepMacs = m.As<Napi::Number>().DoubleValue();
  return t;
}

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

  Napi::Value result(Napi::Env env) override { return resultObject(env, adoptOutput(env, out_), adoptOutput(env, last_), std::move(saved_)); }

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
        grads_(*r.saved->layer, r.saved->B, r.saved->T),
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

class LayerWrap : public Napi::ObjectWrap<LayerWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
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

  // new Layer(spec, kernel, recurrentKernel, bias)
  explicit LayerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LayerWrap>(info) {
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
  }

 private:
  void build(const Checker& chk, const Napi::Value& kernel, const Napi::Value& recurrent, const Napi::Value& bias) {
    const WeightArgs w = parseWeights(chk, spec_, kernel, recurrent, bias);
    try {
      layer_ = std::make_shared<const Layer>(kernels_, spec_, w.kernel, w.recurrent, w.bias);
    } catch (const std::bad_alloc&) {
      throwOutOfMemory(Env(), chk.where(), "the packed weights");
    }
  }

  std::shared_ptr<const Layer> live(const Checker& chk) const {
    if (!layer_) chk.typeError("this prepared layer has been disposed");
    return layer_;
  }

  // (request, threads, minStepMacs): threads to use at most, and the fewest multiply-adds per
  // recurrence step worth a thread (smaller steps use fewer threads: a barrier per step costs).

  Napi::Value ForwardSync(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value BackwardSync(const Napi::CallbackInfo& info);
  Napi::Value Backward(const Napi::CallbackInfo& info);

  Napi::Value SetWeights(const Napi::CallbackInfo& info) {
    Checker chk(info.Env(), "gru cpu backend: setWeights");
    live(chk);
    // A call in flight keeps the old weights (it holds its own reference to them).
    build(chk, info[0], info[1], info[2]);
    return info.Env().Undefined();
  }

  // threadsFor(batch, threads, minStepMacs): how many threads a call of this batch would use.
  Napi::Value ThreadsFor(const Napi::CallbackInfo& info) {
    Checker chk(info.Env(), "gru cpu backend: threadsFor");
    const std::shared_ptr<const Layer> layer = live(chk);
    const int batch = static_cast<int>(chk.integer(info[0], "batch", 0, kMaxDim));
    const Threading t = threadingArgs(chk, info, 1);
    return Napi::Number::New(info.Env(), layer->threadsFor(batch, t.threads, t.minStepMacs));
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    layer_.reset();
    return info.Env().Undefined();
  }

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

// forwardSync(request, threads, minStepMacs) -> {output, lastState}: runs on this thread (and the pool).
Napi::Value LayerWrap::ForwardSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Checker chk(env, "gru cpu backend: forwardSync");
  const std::shared_ptr<const Layer> layer = live(chk);
  Request r = parseRequest(chk, spec_, info[0]);
  const Threading threading = threadingArgs(chk, info, 1);
  Napi::Float32Array out, last;
  try {
    out = Napi::Float32Array::New(env, r.outLen);
    last = Napi::Float32Array::New(env, r.stateLen);
  } catch (const Napi::Error& e) {
    throwOutOfMemory(env, chk.where(), "the outputs (" + std::to_string(r.outLen) + " floats): " + e.Message());
  }
  r.c.out = out.Data();
  r.c.last = last.Data();
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
  return resultObject(env, out, last, std::move(saved));
}

// backwardSync(saved, dOutput, dLastState, threads, minStepMacs) -> gradients, on this thread
// (and the pool).
Napi::Value LayerWrap::BackwardSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Checker chk(env, "gru cpu backend: backwardSync");
  live(chk);
  const BackRequest r = parseBackward(chk, env, id_, info[0], info[1], info[2]);
  const Threading threading = threadingArgs(chk, info, 3);
  BackwardArgs a = r.saved->backwardArgs();
  a.dOut = r.dOut;
  a.dLast = r.dLast;
  try {
    Gradients g(*r.saved->layer, r.saved->B, r.saved->T);
    g.into(a);
    r.saved->layer->backward(a, threading.threads, threading.minStepMacs);
    return g.toJs(env, a.useBias);
  } catch (const std::bad_alloc&) {
    throwOutOfMemory(env, chk.where(), "the gradients and their working memory");
  }
}

// backward(saved, dOutput, dLastState, threads, minStepMacs) -> Promise<gradients>, on a libuv
// worker thread (and the pool).
Napi::Value LayerWrap::Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Checker chk(env, "gru cpu backend: backward");
  live(chk);
  const BackRequest r = parseBackward(chk, env, id_, info[0], info[1], info[2]);
  const Threading threading = threadingArgs(chk, info, 3);
  try {
    return PromiseWorker::start<BackwardWorker>(env, r, threading);
  } catch (const std::bad_alloc&) {
    throwOutOfMemory(env, chk.where(), "the gradients and copies of the output gradients");
  }
}

// forward(request, threads, minStepMacs) -> Promise<{output, lastState}>: runs on a libuv worker thread (and
// the pool), so the event loop stays free.
Napi::Value LayerWrap::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Checker chk(env, "gru cpu backend: forward");
  const std::shared_ptr<const Layer> layer = live(chk);
  const Request r = parseRequest(chk, spec_, info[0]);
  const Threading threading = threadingArgs(chk, info, 1);
  try {
    return PromiseWorker::start<ForwardWorker>(env, layer, r, threading, id_);
  } catch (const std::bad_alloc&) {
    throwOutOfMemory(env, chk.where(), r.keep ? "copies of the inputs, the outputs and what backward needs" : "copies of the inputs and the outputs");
  }
}

class CpuAddon : public Napi::Addon<CpuAddon> {
 public:
  CpuAddon(Napi::Env env, Napi::Object exports) {
    // This environment uses the process-wide thread pool until its cleanup hook runs (Node has
    // finished the calls in flight by then). A hook, not this object's finalizer: the hook is
    // guaranteed to run at teardown, before Node may unload the addon.
    ThreadPool::addUser();
    if (napi_add_env_cleanup_hook(env, &CpuAddon::leavePool, &poolToken_) != napi_ok) {
      ThreadPool::removeUser();
      throw Napi::Error::New(env, "gru cpu backend: could not register the environment's cleanup hook");
    }
    DefineAddon(exports, {
                             InstanceValue("abi", Napi::Number::New(env, kAddonAbi), napi_enumerable),
                             InstanceValue("Layer", LayerWrap::Init(env), napi_enumerable),
                             InstanceMethod<&CpuAddon::Info>("info", napi_enumerable),
                             InstanceMethod<&CpuAddon::BytesInUse>("bytesInUse", napi_enumerable),
                         });
  }

 private:
  // {isas: names this CPU can run, fastest first, cores: hardware threads}
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    Napi::Array isas = Napi::Array::New(env);
    uint32_t i = 0;
    for (const IsaKernels* k : availableKernels()) isas.Set(i++, Napi::String::New(env, k->name));
    o.Set("isas", isas);
    o.Set("cores", Napi::Number::New(env, std::thread::hardware_concurrency()));
    return o;
  }

  Napi::Value BytesInUse(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(bytesInUse())); }

  static void leavePool(void*) noexcept { ThreadPool::removeUser(); }

  // Distinct per instance: Node requires each (hook, argument) pair to be unique.
  char poolToken_ = 0;
};

}  // namespace
}  // namespace gru

using gru::CpuAddon;
NODE_API_ADDON(CpuAddon)

#include "args.h"

#include <string>

#include "cudnn_api.h"
#include "gru_napi/describe.h"

namespace gru_cudnn {

namespace {

constexpr double kMaxDim = 2147483647.0;  // cuDNN takes every dimension as a 32-bit int
constexpr uint64_t kMaxElements = uint64_t(1) << 40;

using gru_napi::describe;

Napi::Object RequireObject(const Napi::Value& value, const std::string& what) {
  if (!value.IsObject() || value.IsArray() || value.IsTypedArray() || value.IsFunction()) {
    throw Napi::TypeError::New(value.Env(), what + " must be an object; received " + describe(value) + ".");
  }
  return value.As<Napi::Object>();
}

// A plain copy of the properties `keys` of `o`, each read once: every getter a caller defined runs
// here, before any array is checked and its memory taken (a getter that ran later could detach
// an array already checked, and the copies to the GPU would read freed memory).
Napi::Object Snapshot(const Napi::Object& o, std::initializer_list<const char*> keys) {
  Napi::Object copy = Napi::Object::New(o.Env());
  for (const char* key : keys) copy.Set(key, o.Get(key));
  return copy;
}

}  // namespace

int ParsePositiveInt(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) {
    throw Napi::TypeError::New(o.Env(), where + ": `" + key + "` must be a positive integer; received " + describe(v) + ".");
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= kMaxDim) || d != static_cast<double>(static_cast<int64_t>(d))) {
    throw Napi::RangeError::New(o.Env(), where + ": `" + key + "` must be an integer from 1 to 2147483647; received " + describe(v) + ".");
  }
  return static_cast<int>(d);
}

namespace {

std::string StringField(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), where + ": `" + key + "` must be a string; received " + describe(v) + ".");
  return v.As<Napi::String>().Utf8Value();
}

/** Checks that `n` elements fit (and so do their bytes, in any element size we use). */
uint64_t Count(const Napi::Env& env, std::initializer_list<uint64_t> dims, const std::string& what) {
  uint64_t n = 1;
  for (uint64_t d : dims) {
    if (d != 0 && n > kMaxElements / d) throw Napi::RangeError::New(env, what + " would have more than 2^40 elements.");
    n *= d;
  }
  return n;
}

HostView Array(const Napi::Env& env, const Napi::Object& o, const char* key, HostType host, uint64_t count, const std::string& shape, bool optional,
               const std::string& where) {
  Napi::Value v = o.Get(key);
  const char* wanted = host == HostType::F64 ? "Float64Array" : "Float32Array";
  if (optional && (v.IsNull() || v.IsUndefined())) return {};
  const napi_typedarray_type type = host == HostType::F64 ? napi_float64_array : napi_float32_array;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(env, where + ": `" + key + "` must be a " + wanted + (optional ? " or null" : "") + " of " + shape + " = " +
                                        std::to_string(count) + " elements; received " + describe(v) + ".");
  }
  auto t = v.As<Napi::TypedArray>();
  if (t.ElementLength() != count) {
    throw Napi::RangeError::New(env, where + ": `" + key + "` must have " + shape + " = " + std::to_string(count) + " elements; received " + describe(v) + ".");
  }
  HostView h;
  // The typed array's own data pointer (not its ArrayBuffer's) also covers SharedArrayBuffers.
  h.data = host == HostType::F64 ? static_cast<void*>(v.As<Napi::Float64Array>().Data()) : static_cast<void*>(v.As<Napi::Float32Array>().Data());
  h.length = t.ElementLength();
  h.array = t;
  return h;
}

}  // namespace

size_t LayerDims::PackedCount() const {
  const size_t D = static_cast<size_t>(inputDim), H = static_cast<size_t>(units);
  return 3 * H * D + 3 * H * H + 6 * H;
}

LayerDims ParseLayerDims(const Napi::Value& value) {
  const std::string where = "layer dimensions";
  Napi::Object o = RequireObject(value, "The layer dimensions");
  LayerDims d;
  d.inputDim = ParsePositiveInt(o, "inputDim", where);
  d.units = ParsePositiveInt(o, "units", where);
  Count(value.Env(), {3, static_cast<uint64_t>(d.units), static_cast<uint64_t>(d.inputDim) + static_cast<uint64_t>(d.units) + 2}, "The layer's weights");
  const std::string dtype = StringField(o, "dtype", where);
  Napi::Value p = o.Get("precision");
  const std::string precision = p.IsUndefined() ? "fp32" : StringField(o, "precision", where);
  if (dtype == "float64") {
    if (precision != "fp32") {
      throw Napi::RangeError::New(
          value.Env(), where + ": `precision` '" + precision + "' needs dtype 'float32' (float64 layers compute in double); received dtype 'float64'.");
    }
    d.host = HostType::F64;
    d.device = DeviceType::F64;
    d.mathPrec = CUDNN_DATA_DOUBLE;
    d.mathType = CUDNN_DEFAULT_MATH;
  } else if (dtype == "float32") {
    d.host = HostType::F32;
    if (precision == "fp32") {
      // FMA_MATH keeps cuDNN off TF32 tensor cores: plain fp32, as PyTorch does unless allow_tf32.
      d.device = DeviceType::F32, d.mathPrec = CUDNN_DATA_FLOAT, d.mathType = CUDNN_FMA_MATH;
    } else if (precision == "tf32") {
      d.device = DeviceType::F32, d.mathPrec = CUDNN_DATA_FLOAT, d.mathType = CUDNN_DEFAULT_MATH;
    } else if (precision == "fp16") {
      // Half storage with float accumulation on tensor cores (PyTorch's choice for half RNNs).
      d.device = DeviceType::F16, d.mathPrec = CUDNN_DATA_FLOAT, d.mathType = CUDNN_TENSOR_OP_MATH;
    } else {
      throw Napi::RangeError::New(value.Env(), where + ": `precision` must be 'fp32', 'tf32' or 'fp16'; received '" + precision + "'.");
    }
  } else {
    throw Napi::RangeError::New(value.Env(), where + ": `dtype` must be 'float32' or 'float64'; received '" + dtype + "'.");
  }
  return d;
}

ForwardArgs ParseForwardArgs(const Napi::Env& env, const LayerDims& dims, const Napi::Value& value) {
  const std::string where = "forward";
  Napi::Object o = Snapshot(RequireObject(value, "The forward arguments"), {"batch", "timesteps", "seqLengths", "x", "hx", "y", "hy", "training"});
  ForwardArgs a;
  a.batch = ParsePositiveInt(o, "batch", where);
  a.timesteps = ParsePositiveInt(o, "timesteps", where);
  const uint64_t B = a.batch, T = a.timesteps, D = dims.inputDim, H = dims.units;
  const uint64_t nx = Count(env, {B, T, D}, "The input"), ny = Count(env, {B, T, H}, "The output"), nh = Count(env, {B, H}, "The state");
  if (nh > static_cast<uint64_t>(kMaxDim)) {
    // The state tensor's descriptor takes its strides as 32-bit ints.
    throw Napi::RangeError::New(env, where + ": batch*units must be at most 2147483647 for cuDNN's state descriptor; received " + std::to_string(B) + "*" +
                                         std::to_string(H) + " = " + std::to_string(nh) + ".");
  }

  Napi::Value lv = o.Get("seqLengths");
  if (!lv.IsTypedArray() || lv.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(env,
                               where + ": `seqLengths` must be an Int32Array of batch = " + std::to_string(B) + " elements; received " + describe(lv) + ".");
  }
  auto lengths = lv.As<Napi::Int32Array>();
  if (lengths.ElementLength() != B) {
    throw Napi::RangeError::New(env, where + ": `seqLengths` must have batch = " + std::to_string(B) + " elements; received " + describe(lv) + ".");
  }
  a.seqLengths.assign(lengths.Data(), lengths.Data() + B);
  for (uint64_t b = 0; b < B; b++) {
    // cuDNN fails on zero-length sequences; callers run fully masked rows as length 1.
    if (a.seqLengths[b] < 1 || a.seqLengths[b] > a.timesteps) {
      throw Napi::RangeError::New(env, where + ": `seqLengths[" + std::to_string(b) + "]` must be from 1 to timesteps = " + std::to_string(T) + "; received " +
                                           std::to_string(a.seqLengths[b]) + ".");
    }
  }
  a.x = Array(env, o, "x", dims.host, nx, "batch*timesteps*inputDim", false, where);
  a.hx = Array(env, o, "hx", dims.host, nh, "batch*units", true, where);
  a.y = Array(env, o, "y", dims.host, ny, "batch*timesteps*units", true, where);
  a.hy = Array(env, o, "hy", dims.host, nh, "batch*units", false, where);
  Napi::Value training = o.Get("training");
  if (!training.IsBoolean()) throw Napi::TypeError::New(env, where + ": `training` must be a boolean; received " + describe(training) + ".");
  a.training = training.As<Napi::Boolean>().Value();
  return a;
}

BackwardArgs ParseBackwardArgs(const Napi::Env& env, const LayerDims& dims, int batch, int timesteps, const Napi::Value& value) {
  const std::string where = "backward";
  Napi::Object o = Snapshot(RequireObject(value, "The backward arguments"), {"dy", "dhy", "dx", "dhx", "dw"});
  const uint64_t B = batch, T = timesteps, D = dims.inputDim, H = dims.units;
  BackwardArgs a;
  a.dy = Array(env, o, "dy", dims.host, Count(env, {B, T, H}, "dy"), "batch*timesteps*units", false, where);
  a.dhy = Array(env, o, "dhy", dims.host, Count(env, {B, H}, "dhy"), "batch*units", false, where);
  a.dx = Array(env, o, "dx", dims.host, Count(env, {B, T, D}, "dx"), "batch*timesteps*inputDim", false, where);
  a.dhx = Array(env, o, "dhx", dims.host, Count(env, {B, H}, "dhx"), "batch*units", false, where);
  a.dw = Array(env, o, "dw", dims.host, dims.PackedCount(), "3*units*inputDim + 3*units*units + 6*units", false, where);
  return a;
}

HostView ParseWeights(const Napi::Env& env, const LayerDims& dims, const Napi::Value& value) {
  Napi::Object holder = Napi::Object::New(env);
  holder.Set("weights", value);
  return Array(env, holder, "weights", dims.host, dims.PackedCount(), "3*units*inputDim + 3*units*units + 6*units", false, "setWeights");
}

}  // namespace gru_cudnn

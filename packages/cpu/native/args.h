// Argument checking for every entry point: each value that crosses from JavaScript is checked
// here before native code touches memory: types (exactly Float32Array / Uint8Array), detached
// buffers, integer ranges, and each array's length against the shape it must have. Problems
// become TypeError / RangeError naming the argument, never a crash.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "gru_napi/describe.h"
#include "layer.h"

namespace gru {

// Batch and timesteps stay far below int overflow inside the kernels (rows = chunk * batch).
constexpr int64_t kMaxDim = int64_t(1) << 30;
constexpr int64_t kMaxUnits = int64_t(1) << 20;
// Outputs are Float32Arrays; V8 aborts the process (not throws) past its typed array limit, so
// larger outputs are refused here. 2^31 - 1 elements (8 GiB) is below that limit everywhere.
constexpr size_t kMaxOutput = (size_t(1) << 31) - 1;

// How a value reads in an error message ("the string 'x'", "Float64Array(3)", "the number 3"),
// as in every gru addon.
using gru_napi::describe;
using gru_napi::typedArrayName;

// An array's expected shape as a message names it ("[batch, units] = [1, 128]"), formatted only
// when a check fails: every call checks its arrays, and formatting each shape every time cost more
// than the checks themselves.
struct ShapeText {
  const char* axes;  // "[batch, units]"
  int64_t dims[3] = {};
  int rank = 0;
  ShapeText(const char* axesNames, std::initializer_list<int64_t> sizes) : axes(axesNames) {
    for (int64_t d : sizes) {
      if (rank < 3) dims[rank++] = d;
    }
  }
  std::string str() const {
    std::string s = std::string(axes) + " = [";
    for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
  }
};

// A forward request's fields, passed positionally from index `first` of a call's arguments, in
// this order (the same for forwardSync, forward and new Bound):
//   (x, batch, timesteps, goBackwards, returnSequences, initialState, mask, inputDropoutMasks,
//    recurrentDropoutMasks, keepForBackward)
// An argument costs nothing to read; a request object's properties cost a property lookup each
// (about 1,400 instructions apiece through Node-API, more than half of a small call's own cost).
struct RequestArg {
  enum : int { x, batch, timesteps, goBackwards, returnSequences, initialState, mask, inputDropoutMasks, recurrentDropoutMasks, keepForBackward, count };
};
// The fields' names in order, for the message of a call with too few arguments (a literal, to be
// joined with the others of the call's list).
#define GRU_REQUEST_ARGS "x, batch, timesteps, goBackwards, returnSequences, initialState, mask, inputDropoutMasks, recurrentDropoutMasks, keepForBackward"

class Checker {
 public:
  // `where` names the entry point in messages; a literal, so a check that passes allocates nothing.
  Checker(Napi::Env env, const char* where) : env_(env), where_(where) {}

  [[noreturn]] void typeError(const std::string& msg) const { throw Napi::TypeError::New(env_, std::string(where_) + ": " + msg); }
  [[noreturn]] void rangeError(const std::string& msg) const { throw Napi::RangeError::New(env_, std::string(where_) + ": " + msg); }

  // Names are views: a check that passes builds no string.
  // (Each check asks Node-API once where it can: a call of the wrong type fails without side
  // effects, and each Node-API call costs ~100 instructions, many of them per forward call.)
  int64_t integer(const Napi::Value& v, std::string_view name, int64_t lo, int64_t hi) const {
    double d = 0;
    if (napi_get_value_double(env_, v, &d) != napi_ok) typeError(quoted(name) + " must be an integer, received " + describe(v));
    if (!std::isfinite(d) || std::floor(d) != d) typeError(quoted(name) + " must be an integer, received " + describe(v));
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
      rangeError(quoted(name) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", received " + describe(v));
    }
    return static_cast<int64_t>(d);
  }

  bool boolean(const Napi::Value& v, std::string_view name) const {
    bool b = false;
    if (napi_get_value_bool(env_, v, &b) != napi_ok) typeError(quoted(name) + " must be a boolean, received " + describe(v));
    return b;
  }

  static bool absent(const Napi::Value& v) {
    if (v.IsEmpty()) return true;
    napi_valuetype t;
    return napi_typeof(v.Env(), v, &t) == napi_ok && (t == napi_undefined || t == napi_null);
  }

  // The data of a typed array of the given type and exactly `expected` elements.
  void* typed(const Napi::Value& v, napi_typedarray_type type, std::string_view name, size_t expected, const ShapeText& shape) const {
    napi_typedarray_type actual;
    size_t length = 0;
    void* data = nullptr;
    napi_value buffer;
    size_t offset = 0;
    // Fails (napi_invalid_arg) for anything but a typed array.
    if (napi_get_typedarray_info(env_, v, &actual, &length, &data, &buffer, &offset) != napi_ok || actual != type)
      typeError(quoted(name) + " must be a " + typedArrayName(type) + ", received " + describe(v));
    bool detached = false;
    // Fails (and stays false) for SharedArrayBuffer, which cannot be detached.
    if (napi_is_detached_arraybuffer(env_, buffer, &detached) == napi_ok && detached) {
      typeError(quoted(name) + " is a " + typedArrayName(type) +
                " whose ArrayBuffer has been detached (transferred); pass an array that still owns its memory");
    }
    if (length != expected) {
      rangeError(quoted(name) + " has " + std::to_string(length) + " elements, but its shape " + shape.str() + " needs " + std::to_string(expected));
    }
    if (expected > 0 && data == nullptr) typeError(quoted(name) + " has no data");
    return data;
  }

  float* f32(const Napi::Value& v, std::string_view name, size_t expected, const ShapeText& shape) const {
    return static_cast<float*>(typed(v, napi_float32_array, name, expected, shape));
  }

  // a * b * c with overflow checks (sizes come from user integers).
  size_t product(std::initializer_list<int64_t> dims, std::string_view what) const {
    uint64_t p = 1;
    for (int64_t d : dims) {
      if (d == 0) return 0;
    }
    for (int64_t d : dims) {
      if (__builtin_mul_overflow(p, static_cast<uint64_t>(d), &p) || p > (uint64_t(1) << 48)) {
        rangeError(std::string(what) + " is too large to allocate");
      }
    }
    return static_cast<size_t>(p);
  }

  const char* where() const { return where_; }
  static std::string quoted(std::string_view name) {
    std::string s(1, '`');
    s.append(name);
    return s += '`';
  }

 private:
  Napi::Env env_;
  const char* where_;
};

// A forward request checked against a layer: CallArgs pointing into the JavaScript arrays.
struct Request {
  CallArgs c;
  size_t xLen = 0, stateLen = 0, maskLen = 0, inMaskLen = 0, recMaskLen = 0, outLen = 0;
  bool keep = false;  // keepForBackward
  // The dropout masks' elements as read (and checked), [input, recurrent][z, r, h]; empty where
  // absent. Read once: a getter on an element could answer another array on a second read.
  Napi::Value dropout[2][3];
};

// Checks the request in arguments first .. first + RequestArg::count - 1 of `info` (see
// RequestArg); the caller has checked their count (checkArgumentCount).
Request parseRequest(const Checker& chk, const LayerSpec& spec, const Napi::CallbackInfo& info, int first);

// Checks the arrays a call fills (`output`, `lastState`) against a checked request, and that they
// share no memory with each other or with its inputs (the kernel writes them while it reads the
// inputs: shared memory would be a silent wrong result); points r.c.out and r.c.last at them.
void parseOutputs(const Checker& chk, const LayerSpec& spec, Request& r, const Napi::Value& output, const Napi::Value& lastState);

// A TypeError naming the arguments a call expects (`expected`, "(x, ...)") when it has fewer than
// `count`: a caller of an older convention (one request object) is told what changed.
void checkArgumentCount(const Checker& chk, const Napi::CallbackInfo& info, size_t count, const char* expected);

// Every weight array of a layer, checked against the spec.
struct WeightArgs {
  const float* kernel;
  const float* recurrent;
  const float* bias;
};

WeightArgs parseWeights(const Checker& chk, const LayerSpec& spec, const Napi::Value& kernel, const Napi::Value& recurrent, const Napi::Value& bias);

// A backward request: the saved forward call and the output gradients, checked.
struct BackRequest {
  std::shared_ptr<SavedCall> saved;
  const float* dOut = nullptr;
  const float* dLast = nullptr;
  size_t outLen = 0, stateLen = 0;
  bool inputGradients = true;  // false: dx is not computed (it comes back empty)
};

// Checks `saved` (tagged, made by the prepared layer `owner`) and the output gradients against it;
// `inputGradients` is absent (true) or a boolean.
BackRequest parseBackward(const Checker& chk, Napi::Env env, uint64_t owner, const Napi::Value& savedV, const Napi::Value& dOut, const Napi::Value& dLast,
                          const Napi::Value& inputGradients);

// (..., threads, minStepMacs): threads to use at most, and the fewest multiply-adds per
// recurrence step worth a thread (smaller steps use fewer threads: threads meet every step).
struct Threading {
  int threads;
  double minStepMacs;
};
Threading threadingArgs(const Checker& chk, const Napi::CallbackInfo& info, int first);

[[noreturn]] void throwOutOfMemory(Napi::Env env, const std::string& where, const std::string& what);

}  // namespace gru

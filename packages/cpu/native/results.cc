#include "results.h"

#include <cstring>

namespace gru {
namespace {

// Tags the objects this addon made, so backward() can tell them from anything else.
constexpr napi_type_tag kSavedTag = {0x6772752d63707531ULL, 0x7361766564000001ULL};

}  // namespace

// ---- what forward keeps for backward, as an opaque JavaScript object ----

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

Napi::Array resultArray(Napi::Env env, Napi::Float32Array output, Napi::Float32Array last, std::shared_ptr<SavedCall> saved) {
  napi_value a;
  if (napi_create_array_with_length(env, saved ? 3 : 2, &a) != napi_ok) throw Napi::Error::New(env, "gru cpu backend: could not make the result");
  // Defined as own elements, not assigned: an assignment would run a setter someone put on
  // Array.prototype[0..2] and could lose an output.
  napi_value values[3] = {output, last, nullptr};
  const size_t count = saved ? 3 : 2;
  if (saved) values[2] = wrapSaved(env, std::move(saved));
  static const char* const kIndices[3] = {"0", "1", "2"};
  napi_property_descriptor d[3] = {};
  for (size_t i = 0; i < count; ++i) {
    d[i].utf8name = kIndices[i];
    d[i].value = values[i];
    d[i].attributes = napi_default_jsproperty;
  }
  if (napi_define_properties(env, a, count, d) != napi_ok) throw Napi::Error::New(env, "gru cpu backend: could not make the result");
  return Napi::Array(env, a);
}

}  // namespace gru

#include "bound.h"

#include <new>
#include <string>

#include "wraps.h"

namespace gru {

Napi::Function BoundWrap::Init(Napi::Env env) {
  return DefineClass(env, "Bound",
                     {
                         InstanceMethod<&BoundWrap::Run>("run"),
                         InstanceMethod<&BoundWrap::Configure>("configure"),
                         InstanceMethod<&BoundWrap::Dispose>("dispose"),
                     });
}

BoundWrap::BoundWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BoundWrap>(info) {
  Napi::Env env = info.Env();
  Checker chk(env, "gru cpu backend: bindForward");
  if (!info.IsConstructCall()) chk.typeError("Bound must be called with new");
  layer_ = LayerWrap::FromValue(env, info[0]);
  if (!layer_) chk.typeError("`layer` must be a prepared Layer of this addon, received " + describe(info[0]));
  layer_->live(chk);
  const LayerSpec& spec = layer_->spec();
  // (layer, the request's fields (RequestArg), output, lastState, threads, minStepMacs)
  constexpr int kRequest = 1, kOutput = kRequest + RequestArg::count, kLastState = kOutput + 1, kThreading = kLastState + 1;
  checkArgumentCount(chk, info, kThreading + 2, "(layer, " GRU_REQUEST_ARGS ", output, lastState, threads, minStepMacs)");
  Request r = parseRequest(chk, spec, info, kRequest);
  threading_ = threadingArgs(chk, info, kThreading);
  if (r.keep) chk.typeError("`keepForBackward` must be false: a bound call keeps nothing for backward");
  parseOutputs(chk, spec, r, info[kOutput], info[kLastState]);

  // The arrays held are the values checked: the arguments, and the dropout masks' elements as
  // parseRequest read them (a getter on an element may answer another array on a second read).
  hold(chk, info[kRequest + RequestArg::x], "x", r.c.x, r.xLen);
  hold(chk, info[kOutput], "output", r.c.out, r.outLen);
  hold(chk, info[kLastState], "lastState", r.c.last, r.stateLen);
  if (r.c.h0) hold(chk, info[kRequest + RequestArg::initialState], "initialState", r.c.h0, r.stateLen);
  if (r.c.mask) hold(chk, info[kRequest + RequestArg::mask], "mask", r.c.mask, r.maskLen);
  for (int m = 0; m < 2; ++m) {
    const bool in = m == 0;
    if (r.dropout[m][0].IsEmpty()) continue;  // absent
    const char* name = in ? "inputDropoutMasks" : "recurrentDropoutMasks";
    for (int g = 0; g < 3; ++g) {
      hold(chk, r.dropout[m][g], std::string(name) + "[" + std::to_string(g) + "]", in ? r.c.inMask[g] : r.c.recMask[g], in ? r.inMaskLen : r.recMaskLen);
    }
  }
  c_ = r.c;
  layerRef_ = Napi::Persistent(info[0].As<Napi::Object>());
}

void BoundWrap::hold(const Checker& chk, const Napi::Value& v, const std::string& name, const void* data, size_t length) {
  const napi_env env = v.Env();
  size_t now = 0;
  void* at = nullptr;
  napi_value ab = nullptr;
  if (!v.IsTypedArray() || napi_get_typedarray_info(env, v, nullptr, &now, &at, &ab, nullptr) != napi_ok || now != length || (length != 0 && at != data)) {
    chk.typeError("`" + name + "` changed while the call was being bound");
  }
  bool isBuffer = false;
  size_t bytes = 0;
  if (napi_is_arraybuffer(env, ab, &isBuffer) != napi_ok || (isBuffer && napi_get_arraybuffer_info(env, ab, nullptr, &bytes) != napi_ok)) {
    chk.typeError("`" + name + "`'s buffer could not be read");
  }
  if (!isBuffer) {
    held_.push_back(Held{Napi::Persistent(v.As<Napi::Object>()), "`" + name + "`", length, false});
    return;
  }
  for (Held& h : held_) {
    bool same = false;
    if (h.buffer && napi_strict_equals(env, h.ref.Value(), ab, &same) == napi_ok && same) {
      h.names += ", `" + name + "`";
      return;
    }
  }
  held_.push_back(Held{Napi::Persistent(Napi::Object(env, ab)), "`" + name + "`", bytes, true});
}

Napi::Value BoundWrap::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Checker chk(env, "gru cpu backend: bound forward");
  if (disposed_) chk.typeError("this bound call was disposed");
  const Layer& layer = layer_->inUse(chk);
  // Each array must still be the memory the call was bound to. Its buffer's byte length says so:
  // an ArrayBuffer's memory never moves while it stays attached (binding asked for the arrays'
  // data, which moved a small on-heap array off the heap for good; a resizable one grows and
  // shrinks in place, and any resize changes the length), and a detached (transferred) one has
  // none. Asking for the arrays' data again would make V8 look up each buffer, and arrays that
  // share one (a stream's do) are checked once.
  for (const Held& h : held_) {
    size_t now = 0;
    const napi_status st = h.buffer ? napi_get_arraybuffer_info(env, h.ref.Value(), nullptr, &now)
                                    : napi_get_typedarray_info(env, h.ref.Value(), nullptr, &now, nullptr, nullptr, nullptr);
    if (st != napi_ok || now != h.size) {
      chk.typeError((h.buffer ? "the buffer of " : "") + h.names + " was detached or resized since the call was bound (" + std::to_string(h.size) +
                    (h.buffer ? " bytes then, " : " elements then, ") + std::to_string(now) + " now); bind the call again");
    }
  }
  try {
    layer.forward(c_, threading_.threads, threading_.minStepMacs, &cache_);
  } catch (const std::bad_alloc&) {
    throwOutOfMemory(env, chk.where(), "its working memory");
  }
  return env.Undefined();
}

Napi::Value BoundWrap::Configure(const Napi::CallbackInfo& info) {
  Checker chk(info.Env(), "gru cpu backend: bound forward configure");
  threading_ = threadingArgs(chk, info, 0);
  return info.Env().Undefined();
}

Napi::Value BoundWrap::Dispose(const Napi::CallbackInfo& info) {
  disposed_ = true;
  held_.clear();
  cache_.clear();
  if (!layerRef_.IsEmpty()) layerRef_.Reset();
  return info.Env().Undefined();
}

}  // namespace gru

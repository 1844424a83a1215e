// What native code hands to JavaScript: outputs adopted without a copy, result arrays, the
// gradients of a backward call, and the tagged opaque object that carries a saved forward call.
#pragma once

#include <napi.h>

#include <memory>

#include "args.h"
#include "layer.h"
#include "memory.h"

namespace gru {

// Hands a native output to JavaScript without a copy; the garbage collector frees it. V8 is told
// about the memory so it collects promptly.
Napi::Float32Array adoptOutput(Napi::Env env, FloatBuffer& buf);

// What a forward call kept for backward, as the opaque object JavaScript holds (`saved`).
Napi::Object wrapSaved(Napi::Env env, std::shared_ptr<SavedCall> saved);

// [output, lastState] or [output, lastState, saved]: an array costs less to make than an object
// (whose properties are set through V8's runtime one by one); the JavaScript side names them.
Napi::Array resultArray(Napi::Env env, Napi::Float32Array output, Napi::Float32Array last, std::shared_ptr<SavedCall> saved);

// The saved call behind an object wrapSaved() made; a TypeError for anything else.
std::shared_ptr<SavedCall> unwrapSaved(const Checker& chk, Napi::Env env, const Napi::Value& v);

// The gradients of one backward call, in native memory until they are handed to JavaScript.
struct Gradients {
  FloatBuffer dx, dInit, dK, dR, dBias;
  bool withDx;  // false: the caller wants no input gradients; backward skips dx (null in BackwardArgs)

  Gradients(const Layer& layer, int B, int T, bool inputGradients) : withDx(inputGradients) {
    const LayerSpec& sp = layer.spec();
    const size_t D = sp.inputDim, H = sp.units;
    if (withDx) dx = FloatBuffer(static_cast<size_t>(B) * T * D, false);
    dInit = FloatBuffer(static_cast<size_t>(B) * H, false);
    dK = FloatBuffer(D * 3 * H, false);
    dR = FloatBuffer(H * 3 * H, false);
    if (sp.useBias) dBias = FloatBuffer((sp.resetAfter ? 6 : 3) * H, false);
  }

  void into(BackwardArgs& a) {
    a.dx = withDx ? dx.data() : nullptr;
    a.dInit = dInit.data();
    a.dK = dK.data();
    a.dR = dR.data();
    a.dBias = dBias.data();
  }

  Napi::Object toJs(Napi::Env env, bool useBias) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("dx", withDx ? adoptOutput(env, dx) : Napi::Float32Array::New(env, 0));
    o.Set("dInitialState", adoptOutput(env, dInit));
    o.Set("dKernel", adoptOutput(env, dK));
    o.Set("dRecurrentKernel", adoptOutput(env, dR));
    o.Set("dBias", useBias ? Napi::Value(adoptOutput(env, dBias)) : env.Null());
    return o;
  }
};

}  // namespace gru

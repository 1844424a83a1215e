#include "args.h"

#include "results.h"

namespace gru {

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

BackRequest parseBackward(const Checker& chk, Napi::Env env, uint64_t owner, const Napi::Value& savedV, const Napi::Value& dOut, const Napi::Value& dLast,
                          const Napi::Value& inputGradients) {
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
  if (!Checker::absent(inputGradients)) r.inputGradients = chk.boolean(inputGradients, "inputGradients");
  return r;
}

Threading threadingArgs(const Checker& chk, const Napi::CallbackInfo& info, int first) {
  Threading t;
  t.threads = static_cast<int>(chk.integer(info[first], "threads", 1, 1024));
  const Napi::Value m = info[first + 1];
  if (!m.IsNumber() || !(m.As<Napi::Number>().DoubleValue() >= 0)) chk.typeError("`minStepMacs` must be a non-negative number, received " + describe(m));
  t.minStepMacs = m.As<Napi::Number>().DoubleValue();
  return t;
}

}  // namespace gru

#include "args.h"

#include "ranges.h"
#include "results.h"

namespace gru {

void checkArgumentCount(const Checker& chk, const Napi::CallbackInfo& info, size_t count, const char* expected) {
  if (info.Length() < count) chk.typeError(std::string("expected ") + expected + ", received " + std::to_string(info.Length()) + " arguments");
}

Request parseRequest(const Checker& chk, const LayerSpec& spec, const Napi::CallbackInfo& info, int first) {
  Request r;
  // Every value (and each dropout mask of the arrays of three) is read before any array is
  // checked and its memory taken: a getter (an element of a mask array may be one) that ran later
  // could detach an array already checked, and the kernel would read freed memory. The arguments
  // themselves are values already; only the mask arrays' elements are read here.
  Napi::Value v[RequestArg::count];
  for (int i = 0; i < RequestArg::count; ++i) v[i] = info[static_cast<size_t>(first + i)];
  // Whether each list was an array of 3 when its elements were read: a getter on a later element
  // may lengthen or shorten it, and the check below must judge what was read, not the list now.
  bool triples[2] = {false, false};
  for (int m = 0; m < 2; ++m) {
    const Napi::Value& masks = v[m == 0 ? RequestArg::inputDropoutMasks : RequestArg::recurrentDropoutMasks];
    if (masks.IsArray() && masks.As<Napi::Array>().Length() == 3) {
      triples[m] = true;
      for (uint32_t g = 0; g < 3; ++g) r.dropout[m][g] = masks.As<Napi::Array>().Get(g);
    }
  }

  const int64_t B = chk.integer(v[RequestArg::batch], "batch", 0, kMaxDim);
  const int64_t T = chk.integer(v[RequestArg::timesteps], "timesteps", 0, kMaxDim);
  const int64_t D = spec.inputDim, H = spec.units;
  r.c.B = static_cast<int>(B);
  r.c.T = static_cast<int>(T);
  r.c.backwards = chk.boolean(v[RequestArg::goBackwards], "goBackwards");
  r.c.sequences = chk.boolean(v[RequestArg::returnSequences], "returnSequences");
  r.xLen = chk.product({B, T, D}, "x (batch * timesteps * inputDim)");
  r.stateLen = chk.product({B, H}, "the state (batch * units)");
  r.outLen = r.c.sequences ? chk.product({B, T, H}, "the output (batch * timesteps * units)") : r.stateLen;
  if (r.outLen > kMaxOutput || r.stateLen > kMaxOutput) {
    chk.rangeError("the output would have " + std::to_string(r.outLen > kMaxOutput ? r.outLen : r.stateLen) +
                   " elements, more than the largest Float32Array this backend returns (" + std::to_string(kMaxOutput) + ")");
  }
  r.c.x = chk.f32(v[RequestArg::x], "x", r.xLen, {"[batch, timesteps, inputDim]", {B, T, D}});

  const Napi::Value& h0 = v[RequestArg::initialState];
  if (!Checker::absent(h0)) r.c.h0 = chk.f32(h0, "initialState", r.stateLen, {"[batch, units]", {B, H}});

  const Napi::Value& mask = v[RequestArg::mask];
  if (!Checker::absent(mask)) {
    r.maskLen = chk.product({B, T}, "the mask (batch * timesteps)");
    r.c.mask = static_cast<const uint8_t*>(chk.typed(mask, napi_uint8_array, "mask", r.maskLen, {"[batch, timesteps]", {B, T}}));
  }

  auto triple = [&](int m, const char* name, const float** dst, int64_t width, const char* widthName, const char* axes, size_t& len) {
    const Napi::Value& masks = v[m == 0 ? RequestArg::inputDropoutMasks : RequestArg::recurrentDropoutMasks];
    if (Checker::absent(masks)) return;
    if (!triples[m]) {
      chk.typeError(std::string("`") + name + "` must be an array of 3 Float32Arrays (z, r, h), received " + describe(masks));
    }
    len = chk.product({B, width}, std::string(name) + " (batch * " + widthName + ")");
    for (uint32_t g = 0; g < 3; ++g) {
      dst[g] = chk.f32(r.dropout[m][g], std::string(name) + "[" + std::to_string(g) + "]", len, {axes, {B, width}});
    }
  };
  triple(0, "inputDropoutMasks", r.c.inMask, D, "inputDim", "[batch, inputDim]", r.inMaskLen);
  triple(1, "recurrentDropoutMasks", r.c.recMask, H, "units", "[batch, units]", r.recMaskLen);
  const Napi::Value& keep = v[RequestArg::keepForBackward];
  r.keep = !Checker::absent(keep) && chk.boolean(keep, "keepForBackward");
  return r;
}

void parseOutputs(const Checker& chk, const LayerSpec& spec, Request& r, const Napi::Value& output, const Napi::Value& lastState) {
  const int64_t B = r.c.B, T = r.c.T, H = spec.units;
  const ShapeText outShape = r.c.sequences ? ShapeText{"[batch, timesteps, units]", {B, T, H}} : ShapeText{"[batch, units]", {B, H}};
  r.c.out = chk.f32(output, "output", r.outLen, outShape);
  r.c.last = chk.f32(lastState, "lastState", r.stateLen, {"[batch, units]", {B, H}});

  struct Range {
    const char* name;
    const void* data;
    size_t bytes;
  };
  const Range out{"output", r.c.out, r.outLen * sizeof(float)}, last{"lastState", r.c.last, r.stateLen * sizeof(float)};
  const size_t in = r.inMaskLen * sizeof(float), rec = r.recMaskLen * sizeof(float);
  const Range ins[] = {
      {"x", r.c.x, r.xLen * sizeof(float)},
      {"initialState", r.c.h0, r.stateLen * sizeof(float)},
      {"mask", r.c.mask, r.maskLen},
      {"inputDropoutMasks", r.c.inMask[0], in},
      {"inputDropoutMasks", r.c.inMask[1], in},
      {"inputDropoutMasks", r.c.inMask[2], in},
      {"recurrentDropoutMasks", r.c.recMask[0], rec},
      {"recurrentDropoutMasks", r.c.recMask[1], rec},
      {"recurrentDropoutMasks", r.c.recMask[2], rec},
  };
  auto overlap = [](const Range& a, const Range& b) { return overlaps(a.data, a.bytes, b.data, b.bytes); };
  auto refuse = [&chk](const Range& o, const Range& i) {
    chk.typeError(std::string("`") + o.name + "` shares memory with `" + i.name + "`; pass separate arrays");
  };
  for (const Range& i : ins) {
    if (overlap(out, i)) refuse(out, i);
    if (overlap(last, i)) refuse(last, i);
  }
  if (overlap(out, last)) refuse(out, last);
}

WeightArgs parseWeights(const Checker& chk, const LayerSpec& spec, const Napi::Value& kernel, const Napi::Value& recurrent, const Napi::Value& bias) {
  const int64_t D = spec.inputDim, H = spec.units;
  WeightArgs w{};
  w.kernel = chk.f32(kernel, "kernel", chk.product({D, 3 * H}, "kernel"), {"[inputDim, 3 * units]", {D, 3 * H}});
  w.recurrent = chk.f32(recurrent, "recurrentKernel", chk.product({H, 3 * H}, "recurrentKernel"), {"[units, 3 * units]", {H, 3 * H}});
  if (Checker::absent(bias) && spec.useBias) chk.typeError("`bias` is required: the layer has useBias true");
  if (!Checker::absent(bias) && !spec.useBias) chk.typeError("`bias` must be null: the layer has useBias false, received " + describe(bias));
  if (!Checker::absent(bias)) {
    w.bias = spec.resetAfter ? chk.f32(bias, "bias", chk.product({2, 3 * H}, "bias"), {"[2, 3 * units]", {2, 3 * H}})
                             : chk.f32(bias, "bias", chk.product({3 * H}, "bias"), {"[3 * units]", {3 * H}});
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
  r.dOut = chk.f32(dOut, "dOutput", r.outLen, s.sequences ? ShapeText{"[batch, timesteps, units]", {B, T, H}} : ShapeText{"[batch, units]", {B, H}});
  if (!Checker::absent(dLast)) r.dLast = chk.f32(dLast, "dLastState", r.stateLen, {"[batch, units]", {B, H}});
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

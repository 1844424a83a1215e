// A forward call checked once and run again and again (streaming: one step per run): the
// JavaScript class Bound, made with `new Bound(layer, <the request's fields>, output, lastState,
// threads, minStepMacs)`: the request as forwardSync takes it (see RequestArg), the arrays to fill,
// and the threading to run with (`configure` changes it).
// A run takes no arguments and re-reads nothing but the arrays' identities (each must still be
// the same memory of the same length); it allocates nothing (its working buffer, Phaser and job
// fields are its own, made on the first run) and costs one N-API call on top of the kernel.
#pragma once

#include <napi.h>

#include <vector>

#include "args.h"
#include "gru_types.h"
#include "layer.h"
#include "memory.h"

namespace gru {

class LayerWrap;

class BoundWrap : public Napi::ObjectWrap<BoundWrap> {
 public:
  static Napi::Function Init(Napi::Env env);

  // new Bound(layer, x, batch, timesteps, goBackwards, returnSequences, initialState, mask,
  //           inputDropoutMasks, recurrentDropoutMasks, keepForBackward, output, lastState,
  //           threads, minStepMacs)
  explicit BoundWrap(const Napi::CallbackInfo& info);

 private:
  // What a run checks of the arrays the call reads or writes: the ArrayBuffer under them (once
  // however many arrays share it) and its byte length when the call was bound; or, for an array
  // on a SharedArrayBuffer, the array and its length.
  struct Held {
    Napi::ObjectReference ref;
    std::string names;  // the arrays on it, for messages
    size_t size = 0;    // bytes of the buffer, or elements of the array
    bool buffer = false;
  };

  // Holds `v`, which must be the very array the request was checked with (the value parseRequest
  // read, not a second read): its memory `data` then stays the call's for as long as its
  // buffer's size holds.
  void hold(const Checker& chk, const Napi::Value& v, const std::string& name, const void* data, size_t length);

  // run(): the bound call, on this thread (and the pool).
  Napi::Value Run(const Napi::CallbackInfo& info);
  // configure(threads, minStepMacs): the threading of the runs that follow.
  Napi::Value Configure(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  Napi::ObjectReference layerRef_;
  LayerWrap* layer_ = nullptr;
  std::vector<Held> held_;
  CallArgs c_;
  Threading threading_{1, 0.0};
  ForwardCache cache_;
  bool disposed_ = false;
};

}  // namespace gru

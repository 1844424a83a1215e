// Async forward and backward: each runs on a libuv worker thread (and the pool), so the event
// loop stays free; inputs are copied when the call is made, outputs handed over when it completes.
#pragma once

#include <napi.h>

#include <memory>

#include "args.h"
#include "layer.h"

namespace gru {

// A promise of [output, lastState, saved?]; `owner` identifies the prepared layer to saved calls.
Napi::Value startForward(Napi::Env env, std::shared_ptr<const Layer> layer, const Request& r, const Threading& threading, uint64_t owner);
// A promise of the gradients.
Napi::Value startBackward(Napi::Env env, const BackRequest& r, const Threading& threading);

}  // namespace gru

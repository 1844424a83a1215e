// Native memory for what an async call reads from and writes to JavaScript arrays. Inputs are
// copied in when the call is made and outputs copied out when it completes, both on the
// JavaScript thread, so the worker thread never touches JavaScript memory: the caller may change,
// transfer or drop its arrays (or share them with other threads) as soon as the call returns.
#pragma once

#include <napi.h>

#include <cstddef>
#include <memory>

#include "args.h"

namespace gru_cudnn {

/** A copy of an input array's elements (`elemSize` bytes each), taken now. */
class HostInput {
 public:
  HostInput() = default;
  HostInput(const HostView& view, size_t elemSize);
  void* data() const { return bytes_.get(); }

 private:
  std::unique_ptr<unsigned char[]> bytes_;
};

/** Native memory a call writes, copied into the caller's array when the call completes. */
class HostOutput {
 public:
  HostOutput() = default;
  HostOutput(const HostView& view, size_t elemSize, const char* name);
  void* data() const { return bytes_.get(); }
  /** On the JavaScript thread; throws if the array no longer has its elements (detached). */
  void CopyOut(Napi::Env env) const;

 private:
  std::unique_ptr<unsigned char[]> bytes_;
  size_t length_ = 0, elemSize_ = 0;
  const char* name_ = "";
  Napi::ObjectReference array_;
};

}  // namespace gru_cudnn

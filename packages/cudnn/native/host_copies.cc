#include "host_copies.h"

#include <cstring>
#include <string>

namespace gru_cudnn {

HostInput::HostInput(const HostView& view, size_t elemSize) {
  const size_t bytes = view.length * elemSize;
  if (!view.data || bytes == 0) return;
  bytes_.reset(new unsigned char[bytes]);
  std::memcpy(bytes_.get(), view.data, bytes);
}

HostOutput::HostOutput(const HostView& view, size_t elemSize, const char* name) : length_(view.length), elemSize_(elemSize), name_(name) {
  if (view.array.IsEmpty()) return;
  bytes_.reset(new unsigned char[length_ * elemSize_]);
  array_ = Napi::Persistent(view.array);
}

void HostOutput::CopyOut(Napi::Env env) const {
  if (array_.IsEmpty()) return;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  size_t offset = 0;
  bool detached = false;
  if (napi_get_typedarray_info(env, array_.Value(), &type, &length, &data, &buffer, &offset) != napi_ok) throw Napi::Error::New(env);
  // Fails (and stays false) for a SharedArrayBuffer, which cannot be detached.
  if (napi_is_detached_arraybuffer(env, buffer, &detached) == napi_ok && detached) length = 0;
  if (length != length_ || (length_ && !data)) {
    throw Napi::Error::New(env, std::string("cuDNN backend: the output array `") + name_ + "` was detached (transferred) while the call ran; it had " +
                                    std::to_string(length_) + " elements and now has " + std::to_string(length) + ".");
  }
  std::memcpy(data, bytes_.get(), length_ * elemSize_);
}

}  // namespace gru_cudnn

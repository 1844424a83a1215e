#include "promise_worker.h"

#include <exception>
#include <new>

namespace gru_cudnn {

PromiseWorker::~PromiseWorker() {
  if (work_) napi_delete_async_work(env_, work_);
}

template <class Make>
void PromiseWorker::RejectQuietly(napi_env env, Make make) noexcept {
  if (!deferred_) return;
  try {
    // Fails (and is ignored) when the environment can no longer run JavaScript.
    if (napi_reject_deferred(env, deferred_, make()) == napi_ok) deferred_ = nullptr;
  } catch (...) {
  }
}

napi_value PromiseWorker::Queue(Napi::Env env) {
  env_ = env;
  napi_value resource = nullptr;
  napi_value promise = nullptr;
  if (napi_create_string_utf8(env, name_, NAPI_AUTO_LENGTH, &resource) != napi_ok ||
      napi_create_async_work(env, nullptr, resource, &PromiseWorker::OnExecute, &PromiseWorker::OnComplete, this, &work_) != napi_ok) {
    work_ = nullptr;
    throw Napi::Error::New(env);
  }
  if (napi_create_promise(env, &deferred_, &promise) != napi_ok) throw Napi::Error::New(env);
  if (napi_queue_async_work(env, work_) != napi_ok) {
    RejectQuietly(env, [&] { return Napi::Error::New(env, "cuDNN backend: the call could not be queued").Value(); });
    throw Napi::Error::New(env, "cuDNN backend: the call could not be queued on libuv's thread pool");
  }
  return promise;
}

void PromiseWorker::OnExecute(napi_env, void* self) noexcept {
  auto* w = static_cast<PromiseWorker*>(self);
  try {
    w->Execute();
  } catch (const std::bad_alloc&) {
    w->error_ = std::string("cuDNN backend: ") + w->name_ + ": out of host memory";
  } catch (const std::exception& e) {
    w->error_ = std::string("cuDNN backend: ") + e.what();
  } catch (...) {
    w->error_ = std::string("cuDNN backend: ") + w->name_ + " failed";
  }
}

void PromiseWorker::OnComplete(napi_env env, napi_status status, void* self) noexcept {
  auto* w = static_cast<PromiseWorker*>(self);
  w->Settle(env, status);
  delete w;
}

void PromiseWorker::Settle(napi_env env, napi_status status) noexcept {
  napi_handle_scope scope = nullptr;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  try {
    if (status != napi_ok) {
      RejectQuietly(env, [&] { return Napi::Error::New(env, std::string("cuDNN backend: ") + name_ + " was cancelled").Value(); });
    } else if (!error_.empty()) {
      RejectQuietly(env, [&] { return Napi::Error::New(env, error_).Value(); });
    } else {
      const Napi::Value value = Result(Napi::Env(env));
      if (napi_resolve_deferred(env, deferred_, value) == napi_ok) deferred_ = nullptr;
    }
  } catch (const Napi::Error& e) {
    RejectQuietly(env, [&] { return e.Value(); });
  } catch (const std::exception& e) {
    RejectQuietly(env, [&] { return Napi::Error::New(env, std::string("cuDNN backend: ") + e.what()).Value(); });
  } catch (...) {
    RejectQuietly(env, [&] { return Napi::Error::New(env, "cuDNN backend: the call failed").Value(); });
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace gru_cudnn

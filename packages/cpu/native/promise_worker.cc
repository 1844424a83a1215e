#include "promise_worker.h"

#include <exception>
#include <new>

namespace gru {

PromiseWorker::~PromiseWorker() {
  if (work_) napi_delete_async_work(env_, work_);
}

template <class Make>
void PromiseWorker::rejectQuietly(napi_env env, Make make) noexcept {
  if (!deferred_) return;
  try {
    // Fails (and is ignored) when the environment can no longer run JavaScript.
    if (napi_reject_deferred(env, deferred_, make()) == napi_ok) deferred_ = nullptr;
  } catch (...) {
  }
}

napi_value PromiseWorker::queue(Napi::Env env) {
  env_ = env;
  napi_value resource = nullptr;
  napi_value promise = nullptr;
  if (napi_create_string_utf8(env, name_, NAPI_AUTO_LENGTH, &resource) != napi_ok ||
      napi_create_async_work(env, nullptr, resource, &PromiseWorker::execute, &PromiseWorker::complete, this, &work_) != napi_ok) {
    work_ = nullptr;
    throw Napi::Error::New(env);
  }
  if (napi_create_promise(env, &deferred_, &promise) != napi_ok) throw Napi::Error::New(env);
  if (napi_queue_async_work(env, work_) != napi_ok) {
    rejectQuietly(env, [&] { return Napi::Error::New(env, "gru cpu backend: the call could not be queued").Value(); });
    throw Napi::Error::New(env, "gru cpu backend: the call could not be queued on libuv's thread pool");
  }
  return promise;
}

void PromiseWorker::execute(napi_env, void* self) noexcept {
  auto* w = static_cast<PromiseWorker*>(self);
  try {
    w->run();
  } catch (const std::bad_alloc&) {
    w->error_ = w->outOfMemory_;
  } catch (const std::exception& e) {
    w->error_ = std::string("gru cpu backend: ") + w->name_ + ": " + e.what();
  } catch (...) {
    w->error_ = std::string("gru cpu backend: ") + w->name_ + " failed";
  }
}

void PromiseWorker::complete(napi_env env, napi_status status, void* self) noexcept {
  auto* w = static_cast<PromiseWorker*>(self);
  w->settle(env, status);
  delete w;
}

void PromiseWorker::settle(napi_env env, napi_status status) noexcept {
  napi_handle_scope scope = nullptr;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  try {
    if (status != napi_ok) {
      rejectQuietly(env, [&] { return Napi::Error::New(env, std::string("gru cpu backend: ") + name_ + " was cancelled").Value(); });
    } else if (!error_.empty()) {
      rejectQuietly(env, [&] { return Napi::RangeError::New(env, error_).Value(); });
    } else {
      const Napi::Value value = result(Napi::Env(env));
      if (napi_resolve_deferred(env, deferred_, value) == napi_ok) deferred_ = nullptr;
    }
  } catch (const Napi::Error& e) {
    rejectQuietly(env, [&] { return e.Value(); });
  } catch (const std::exception& e) {
    rejectQuietly(env, [&] { return Napi::Error::New(env, std::string("gru cpu backend: ") + e.what()).Value(); });
  } catch (...) {
    rejectQuietly(env, [&] { return Napi::Error::New(env, "gru cpu backend: the call failed").Value(); });
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace gru

// Async work that settles a promise, with callbacks that never let a C++ exception escape into
// Node.
//
// A worker thread's environment can be torn down (Worker.terminate()) while a call runs on
// libuv's pool. Node still runs the completion, but nothing may call into JavaScript any more:
// every N-API call that would fails, and node-addon-api turns such a failure into a C++
// exception; one escaping a callback aborts the whole process. So this sits on napi_async_work
// directly: both callbacks catch everything, and when the promise cannot be settled (the
// environment is going away) the result is dropped. What the work uses belongs to the worker
// object (copies of its inputs, its outputs, shared ownership of the layer) and is freed with it.
#pragma once

#include <napi.h>

#include <memory>
#include <new>
#include <string>
#include <utility>

namespace gru_cudnn {

class PromiseWorker {
 public:
  // Makes the worker, queues it, and returns its promise. Throws (nothing queued, nothing
  // leaked) when the worker cannot be made or queued.
  template <class W, class... Args>
  static Napi::Promise Start(Napi::Env env, Args&&... args) {
    std::unique_ptr<PromiseWorker> worker;
    try {
      worker.reset(new W(env, std::forward<Args>(args)...));
    } catch (const std::bad_alloc&) {
      throw Napi::RangeError::New(env, "cuDNN backend: out of host memory for the copies of the call's arrays.");
    }
    const napi_value promise = worker->Queue(env);
    worker.release();  // deleted by its completion
    return Napi::Promise(env, promise);
  }

  virtual ~PromiseWorker();
  PromiseWorker(const PromiseWorker&) = delete;
  PromiseWorker& operator=(const PromiseWorker&) = delete;

 protected:
  explicit PromiseWorker(const char* name) : name_(name) {}

  // The work, on a libuv thread: no JavaScript, no napi_env. An exception rejects the promise
  // with "cuDNN backend: <what()>".
  virtual void Execute() = 0;
  // The value the promise resolves to, built on the JavaScript thread after Execute() succeeded.
  // May throw; the promise then rejects with the error.
  virtual Napi::Value Result(Napi::Env env) = 0;

 private:
  napi_value Queue(Napi::Env env);
  static void OnExecute(napi_env env, void* self) noexcept;
  static void OnComplete(napi_env env, napi_status status, void* self) noexcept;
  void Settle(napi_env env, napi_status status) noexcept;
  template <class Make>
  void RejectQuietly(napi_env env, Make make) noexcept;

  const char* name_;
  napi_env env_ = nullptr;
  napi_async_work work_ = nullptr;
  napi_deferred deferred_ = nullptr;
  std::string error_;
};

}  // namespace gru_cudnn

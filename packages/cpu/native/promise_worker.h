// Async work that settles a promise, with callbacks that never let a C++ exception escape into
// Node.
//
// A worker thread's environment can be torn down (Worker.terminate()) while a call runs on
// libuv's pool. Node still runs the completion, but nothing may call into JavaScript any more:
// every N-API call that would fails, and node-addon-api turns such a failure into a C++
// exception; one escaping a callback aborts the whole process. So this sits on napi_async_work
// directly: both callbacks catch everything, and when the promise cannot be settled (the
// environment is going away) the result is dropped. The work's native memory belongs to the
// worker object and is freed with it either way.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <utility>

namespace gru {

class PromiseWorker {
 public:
  // Makes the worker, queues it, and returns its promise. Throws (nothing queued, nothing
  // leaked) when the worker cannot be made or queued.
  template <class W, class... Args>
  static Napi::Value start(Napi::Env env, Args&&... args) {
    std::unique_ptr<PromiseWorker> worker(new W(env, std::forward<Args>(args)...));
    const napi_value promise = worker->queue(env);
    worker.release();  // deleted by its completion
    return Napi::Value(env, promise);
  }

  virtual ~PromiseWorker();
  PromiseWorker(const PromiseWorker&) = delete;
  PromiseWorker& operator=(const PromiseWorker&) = delete;

 protected:
  // `name` names the async resource; `outOfMemory` is the rejection when run() throws
  // std::bad_alloc.
  PromiseWorker(const char* name, const char* outOfMemory) : name_(name), outOfMemory_(outOfMemory) {}

  // The work, on a libuv thread: no JavaScript, no napi_env. May throw std::bad_alloc.
  virtual void run() = 0;
  // The value the promise resolves to, built on the JavaScript thread after run() succeeded.
  // May throw; the promise then rejects with the error.
  virtual Napi::Value result(Napi::Env env) = 0;

 private:
  napi_value queue(Napi::Env env);
  static void execute(napi_env env, void* self) noexcept;
  static void complete(napi_env env, napi_status status, void* self) noexcept;
  void settle(napi_env env, napi_status status) noexcept;
  template <class Make>
  void rejectQuietly(napi_env env, Make make) noexcept;

  const char* name_;
  const char* outOfMemory_;
  napi_env env_ = nullptr;
  napi_async_work work_ = nullptr;
  napi_deferred deferred_ = nullptr;
  std::string error_;
};

}  // namespace gru

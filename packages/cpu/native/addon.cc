// Module entry: the addon's ABI version, the Layer and Bound classes, info(), bytesInUse(),
// fmaChains() (the FMA-rate probe), poolStats(), and this environment's share of the process-wide
// thread pool.
#include <napi.h>

#include <thread>

#include "args.h"
#include "bound.h"
#include "cpu_features.h"
#include "fma_peak.h"
#include "gru_napi/interface_tag.h"
#include "memory.h"
#include "thread_pool.h"
#include "wraps.h"

namespace gru {
namespace {

// Bumped whenever the JavaScript <-> native contract changes; the loader refuses a stale binary.
// 3: activation ids 26..29 (row-wise softmax, log_softmax, sparsemax, glu);
// 4: Bound takes its threading at construction and configure(), run() none;
// 5: poolStats();
// 6: forwardSync, forward and new Bound take the request's fields as arguments, not an object;
//    forwardSync fills output and lastState arrays given after them and answers saved or
//    undefined; forward resolves to [output, lastState, saved?], not an object.
constexpr int kAddonAbi = 6;
// The same number as text in the binary: the packing check reads it from every prebuilt binary.
GRU_ADDON_INTERFACE_TAG("gru_cpu", kAddonAbi);

class CpuAddon : public Napi::Addon<CpuAddon> {
 public:
  CpuAddon(Napi::Env env, Napi::Object exports) {
    // This environment uses the process-wide thread pool until its cleanup hook runs (Node has
    // finished the calls in flight by then). A hook, not this object's finalizer: the hook is
    // guaranteed to run at teardown, before Node may unload the addon.
    ThreadPool::addUser();
    if (napi_add_env_cleanup_hook(env, &CpuAddon::leavePool, &poolToken_) != napi_ok) {
      ThreadPool::removeUser();
      throw Napi::Error::New(env, "gru cpu backend: could not register the environment's cleanup hook");
    }
    DefineAddon(exports, {
                             InstanceValue("abi", Napi::Number::New(env, kAddonAbi), napi_enumerable),
                             InstanceValue("Layer", LayerWrap::Init(env), napi_enumerable),
                             InstanceValue("Bound", BoundWrap::Init(env), napi_enumerable),
                             InstanceMethod<&CpuAddon::Info>("info", napi_enumerable),
                             InstanceMethod<&CpuAddon::BytesInUse>("bytesInUse", napi_enumerable),
                             InstanceMethod<&CpuAddon::FmaChains>("fmaChains", napi_enumerable),
                             InstanceMethod<&CpuAddon::PoolStats>("poolStats", napi_enumerable),
                         });
  }

 private:
  // {isas: names this CPU can run, fastest first, cores: hardware threads}
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    Napi::Array isas = Napi::Array::New(env);
    uint32_t i = 0;
    for (const IsaKernels* k : availableKernels()) isas.Set(i++, Napi::String::New(env, k->name));
    o.Set("isas", isas);
    o.Set("cores", Napi::Number::New(env, std::thread::hardware_concurrency()));
    return o;
  }

  // fmaChains(flops, threads, isa) -> FLOPs run: the machine's FMA rate, timed by the caller.
  Napi::Value FmaChains(const Napi::CallbackInfo& info) {
    Checker chk(info.Env(), "gru cpu backend: fmaChains");
    if (!info[0].IsNumber()) chk.typeError("`flops` must be a number, received " + describe(info[0]));
    const double flops = info[0].As<Napi::Number>().DoubleValue();
    if (!(flops >= 0 && flops <= 1e15)) chk.rangeError("`flops` must be between 0 and 1e15, received " + describe(info[0]));
    const int threads = static_cast<int>(chk.integer(info[1], "threads", 1, 1024));
    if (!info[2].IsString()) chk.typeError("`isa` must be a string, received " + describe(info[2]));
    const std::string name = info[2].As<Napi::String>().Utf8Value();
    const IsaKernels* kernels = findKernels(name);
    if (!kernels) chk.rangeError("instruction set '" + name + "' is not available on this CPU");
    return Napi::Number::New(info.Env(), runFmaChains(*kernels, flops, threads));
  }

  // {sharedJobs, wokeSleepers, busyAlone, crowdedAlone, crowdedWindows}: see ThreadPool::Stats.
  Napi::Value PoolStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const ThreadPool::Stats s = ThreadPool::shared().stats();
    Napi::Object o = Napi::Object::New(env);
    auto put = [&](const char* name, int64_t v) { o.Set(name, Napi::Number::New(env, static_cast<double>(v))); };
    put("sharedJobs", s.sharedJobs);
    put("wokeSleepers", s.wokeSleepers);
    put("busyAlone", s.busyAlone);
    put("crowdedAlone", s.crowdedAlone);
    put("crowdedWindows", s.crowdedWindows);
    return o;
  }

  Napi::Value BytesInUse(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(bytesInUse())); }

  static void leavePool(void*) noexcept { ThreadPool::removeUser(); }

  // Distinct per instance: Node requires each (hook, argument) pair to be unique.
  char poolToken_ = 0;
};

}  // namespace

}  // namespace gru

using gru::CpuAddon;
NODE_API_ADDON(CpuAddon)

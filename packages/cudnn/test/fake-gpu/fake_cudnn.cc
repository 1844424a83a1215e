// A stand-in for libcudnn.so.9 (test only): the RNN API the addon calls, computing cuDNN's
// documented GRU on the CPU over "device" memory that is host memory (see fake_cuda.cc). It is
// also a contract check of how the addon calls cuDNN: every argument the documentation and
// the notes constrain is checked, and a wrong one fails with CUDNN_STATUS_BAD_PARAM and a
// message from cudnnGetLastErrorString. The weight space deliberately scatters the six
// matrices and biases (biases first, reverse ID order, padding between), so the addon must
// honor cudnnGetRNNWeightParams' addresses. What it cannot show: that real cuDNN agrees.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using Status = int;
constexpr Status OK = 0, BAD_PARAM = 2000, NOT_SUPPORTED = 3000, EXEC_FAILED = 5000;
constexpr int FLOAT = 0, DOUBLE = 1, HALF = 2;

namespace {

thread_local std::string lastError;

Status Fail(Status s, const std::string& message) {
  lastError = message;
  return s;
}

#define REQUIRE(cond, msg) \
  if (!(cond)) return Fail(BAD_PARAM, msg)

struct Handle {
  void* stream = nullptr;
};
struct Tensor {
  int dt = -1, nb = 0, dims[8] = {0}, strides[8] = {0};
};
struct Dropout {
  bool set = false;
};
struct Rnn {
  bool set = false;
  int dt = 0, in = 0, hidden = 0;
};
struct RnnData {
  bool set = false;
  int dt = 0, maxT = 0, batch = 0, vec = 0;
  std::vector<int> lens;
  double fill = 0;
};

size_t ElemSize(int dt) { return dt == DOUBLE ? 8 : dt == HALF ? 2 : 4; }

float HalfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0) return (sign ? -1.f : 1.f) * std::ldexp(float(mant), -24);
  uint32_t bits = exp == 31 ? (sign | 0x7f800000u | (mant << 13)) : (sign | ((exp + 112) << 23) | (mant << 13));
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t FloatToHalf(float f) {
  // Truncating is enough for a stand-in; the addon's own conversion is tested separately.
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, abs = x & 0x7fffffff;
  if (abs >= 0x477ff000) return uint16_t(sign | 0x7c00);
  if (abs < 0x38800000) return uint16_t(sign | uint32_t(std::ldexp(std::fabs(f), 24)));
  return uint16_t(sign | (((abs >> 23) - 112) << 10) | ((abs >> 13) & 0x3ff));
}

double Load(const void* base, size_t i, int dt) {
  if (dt == DOUBLE) return static_cast<const double*>(base)[i];
  if (dt == HALF) return HalfToFloat(static_cast<const uint16_t*>(base)[i]);
  return static_cast<const float*>(base)[i];
}

void Store(void* base, size_t i, int dt, double v) {
  if (dt == DOUBLE)
    static_cast<double*>(base)[i] = v;
  else if (dt == HALF)
    static_cast<uint16_t*>(base)[i] = FloatToHalf(static_cast<float>(v));
  else
    static_cast<float*>(base)[i] = static_cast<float>(v);
}

/** The storage precision's rounding (what the real library keeps between steps). */
double Round(double v, int dt) {
  if (dt == DOUBLE) return v;
  if (dt == HALF) return HalfToFloat(FloatToHalf(static_cast<float>(v)));
  return static_cast<float>(v);
}

// ---- weight space: 64 padding bytes, biases 5..0, matrices 5..0, 32-byte aligned, 48 padding bytes at the end ----
struct Layout {
  size_t matrix[6], bias[6], total;
};

size_t Align32(size_t n) { return (n + 31) / 32 * 32; }

Layout WeightLayout(const Rnn& r) {
  Layout L{};
  const size_t e = ElemSize(r.dt), H = r.hidden;
  size_t at = 64;
  for (int id = 5; id >= 0; id--) {
    L.bias[id] = at;
    at = Align32(at + H * e);
  }
  for (int id = 5; id >= 0; id--) {
    L.matrix[id] = at;
    at = Align32(at + H * (id < 3 ? r.in : H) * e);
  }
  L.total = at + 48;
  return L;
}

bool PaddingIsZero(const Rnn& r, const unsigned char* w) {
  const Layout L = WeightLayout(r);
  for (size_t i = 0; i < 64; i++)
    if (w[i]) return false;
  for (size_t i = L.total - 48; i < L.total; i++)
    if (w[i]) return false;
  return true;
}

// ---- per-step record in the reserve space (doubles): hPrev, r, z, n, recN, then 6 gradient rows ----
constexpr int kForwardRows = 5, kGradRows = 6;
size_t ReserveDoubles(const RnnData& x, int H) { return size_t(x.batch) * x.maxT * H * (kForwardRows + kGradRows); }
double* Record(void* reserve, const RnnData& x, int H, int b, int t) {
  return static_cast<double*>(reserve) + (size_t(b) * x.maxT + t) * H * (kForwardRows + kGradRows);
}

double Sigmoid(double v) { return 1 / (1 + std::exp(-v)); }

Status CheckShapes(const Rnn& r, const RnnData& x, const RnnData& y, const Tensor& h, const void* devSeqLengths) {
  REQUIRE(r.set, "the RNN descriptor was not set");
  REQUIRE(x.set && y.set, "an RNN data descriptor was not set");
  REQUIRE(x.vec == r.in && y.vec == r.hidden, "xDesc/yDesc vector sizes do not match inputSize/hiddenSize");
  REQUIRE(x.batch == y.batch && x.maxT == y.maxT && x.lens == y.lens, "xDesc and yDesc describe different batches");
  REQUIRE(x.dt == r.dt && y.dt == r.dt && h.dt == r.dt, "data types differ between descriptors");
  REQUIRE(h.nb == 3 && h.dims[0] == 1 && h.dims[1] == x.batch && h.dims[2] == r.hidden, "hDesc must be {numLayers, batch, hidden}");
  REQUIRE(h.strides[0] == x.batch * r.hidden && h.strides[1] == r.hidden && h.strides[2] == 1, "hDesc must be fully packed");
  REQUIRE(devSeqLengths != nullptr, "devSeqLengths is NULL");
  const int32_t* d = static_cast<const int32_t*>(devSeqLengths);
  for (int b = 0; b < x.batch; b++) REQUIRE(d[b] == x.lens[b], "devSeqLengths differs from the descriptor's seqLengthArray");
  return OK;
}

}  // namespace

extern "C" {

size_t cudnnGetVersion() {
  const char* v = std::getenv("FAKE_CUDNN_VERSION");
  return v ? std::strtoul(v, nullptr, 10) : 90600;
}
size_t cudnnGetCudartVersion() { return 13000; }
const char* cudnnGetErrorString(Status s) {
  return s == OK              ? "CUDNN_STATUS_SUCCESS"
         : s == BAD_PARAM     ? "CUDNN_STATUS_BAD_PARAM"
         : s == NOT_SUPPORTED ? "CUDNN_STATUS_NOT_SUPPORTED"
                              : "CUDNN_STATUS_EXECUTION_FAILED";
}
void cudnnGetLastErrorString(char* message, size_t max) {
  std::strncpy(message, lastError.c_str(), max - 1);
  message[max - 1] = 0;
  lastError.clear();
}
Status cudnnCreate(Handle** h) {
  *h = new Handle();
  return OK;
}
Status cudnnDestroy(Handle* h) {
  delete h;
  return OK;
}
Status cudnnSetStream(Handle* h, void* stream) {
  REQUIRE(h && stream, "cudnnSetStream: NULL handle or stream");
  h->stream = stream;
  return OK;
}

Status cudnnCreateTensorDescriptor(Tensor** t) {
  *t = new Tensor();
  return OK;
}
Status cudnnDestroyTensorDescriptor(Tensor* t) {
  delete t;
  return OK;
}
Status cudnnSetTensorNdDescriptor(Tensor* t, int dt, int nb, const int dims[], const int strides[]) {
  REQUIRE(nb >= 1 && nb <= 8, "nbDims out of range");
  t->dt = dt, t->nb = nb;
  for (int i = 0; i < nb; i++) t->dims[i] = dims[i], t->strides[i] = strides[i];
  return OK;
}
Status cudnnGetTensorNdDescriptor(Tensor* t, int req, int* dt, int* nb, int dims[], int strides[]) {
  *dt = t->dt, *nb = t->nb;
  for (int i = 0; i < t->nb && i < req; i++) dims[i] = t->dims[i], strides[i] = t->strides[i];
  return OK;
}

Status cudnnCreateDropoutDescriptor(Dropout** d) {
  *d = new Dropout();
  return OK;
}
Status cudnnDestroyDropoutDescriptor(Dropout* d) {
  delete d;
  return OK;
}
Status cudnnSetDropoutDescriptor(Dropout* d, Handle* h, float p, void*, size_t, unsigned long long) {
  REQUIRE(h && p == 0.f, "the addon must set dropout 0");
  d->set = true;
  return OK;
}

Status cudnnCreateRNNDescriptor(Rnn** r) {
  *r = new Rnn();
  return OK;
}
Status cudnnDestroyRNNDescriptor(Rnn* r) {
  delete r;
  return OK;
}
Status cudnnSetRNNDescriptor_v8(Rnn* r, int algo, int cell, int bias, int dir, int inMode, int dt, int mathPrec, int mathType, int32_t in, int32_t hidden,
                                int32_t proj, int32_t layers, Dropout* drop, uint32_t aux) {
  REQUIRE(algo == 0 && cell == 3 && bias == 2 && dir == 0 && inMode == 0, "expected STANDARD, GRU, DOUBLE_BIAS, UNIDIRECTIONAL, LINEAR_INPUT");
  REQUIRE(layers == 1 && proj == hidden && in > 0 && hidden > 0, "expected one layer and projSize == hiddenSize");
  REQUIRE(drop && drop->set, "the dropout descriptor must be set");
  REQUIRE(aux == 1u, "unpacked layouts need CUDNN_RNN_PADDED_IO_ENABLED");
  const bool valid = (dt == FLOAT && mathPrec == FLOAT && (mathType == 0 || mathType == 3)) || (dt == DOUBLE && mathPrec == DOUBLE && mathType == 0) ||
                     (dt == HALF && (mathPrec == HALF || mathPrec == FLOAT) && (mathType == 0 || mathType == 1));
  REQUIRE(valid, "unsupported dataType/mathPrec/mathType combination");
  r->set = true, r->dt = dt, r->in = in, r->hidden = hidden;
  return OK;
}

Status cudnnCreateRNNDataDescriptor(RnnData** d) {
  *d = new RnnData();
  return OK;
}
Status cudnnDestroyRNNDataDescriptor(RnnData* d) {
  delete d;
  return OK;
}
Status cudnnSetRNNDataDescriptor(RnnData* d, int dt, int layout, int maxT, int batch, int vec, const int lens[], void* fill) {
  REQUIRE(layout == 2, "expected CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED");
  REQUIRE(maxT > 0 && batch > 0 && vec > 0 && lens && fill, "bad RNN data descriptor");
  d->lens.assign(lens, lens + batch);
  for (int b = 0; b < batch; b++) {
    // Real cuDNN fails at execution on zero lengths (jax-ml/jax#17966); this one fails early.
    if (lens[b] < 1 || lens[b] > maxT) return Fail(EXEC_FAILED, "sequence length " + std::to_string(lens[b]) + " outside 1..maxSeqLength");
  }
  d->set = true, d->dt = dt, d->maxT = maxT, d->batch = batch, d->vec = vec, d->fill = Load(fill, 0, dt);
  return OK;
}

Status cudnnGetRNNWeightSpaceSize(Handle*, Rnn* r, size_t* bytes) {
  REQUIRE(r->set, "the RNN descriptor was not set");
  *bytes = WeightLayout(*r).total;
  return OK;
}

Status cudnnGetRNNTempSpaceSizes(Handle*, Rnn* r, int mode, RnnData* x, size_t* work, size_t* reserve) {
  REQUIRE(r->set && x->set, "descriptors not set");
  REQUIRE(mode == 0 || mode == 1, "bad forward mode");
  *work = 4096;
  *reserve = mode == 1 ? ReserveDoubles(*x, r->hidden) * 8 : 0;
  return OK;
}

Status cudnnGetRNNWeightParams(Handle*, Rnn* r, int32_t pseudoLayer, size_t wsSize, const void* ws, int32_t id, Tensor* m, void** mAddr, Tensor* b,
                               void** bAddr) {
  REQUIRE(r->set && pseudoLayer == 0 && id >= 0 && id < 6, "bad pseudoLayer or linLayerID");
  const Layout L = WeightLayout(*r);
  REQUIRE(wsSize == L.total, "weightSpaceSize differs from cudnnGetRNNWeightSpaceSize");
  const int in = id < 3 ? r->in : r->hidden;
  if (m) {
    const int dims[3] = {1, r->hidden, in}, strides[3] = {r->hidden * in, in, 1};
    cudnnSetTensorNdDescriptor(m, r->dt, 3, dims, strides);
    *mAddr = static_cast<unsigned char*>(const_cast<void*>(ws)) + L.matrix[id];
  }
  if (b) {
    const int dims[3] = {1, r->hidden, 1}, strides[3] = {r->hidden, 1, 1};
    cudnnSetTensorNdDescriptor(b, r->dt, 3, dims, strides);
    *bAddr = static_cast<unsigned char*>(const_cast<void*>(ws)) + L.bias[id];
  }
  return OK;
}

Status cudnnRNNForward(Handle* handle, Rnn* r, int mode, const int32_t devSeqLengths[], RnnData* xd, const void* x, RnnData* yd, void* y, Tensor* hd,
                       const void* hx, void* hy, Tensor*, const void* cx, void* cy, size_t wsSize, const void* ws, size_t workSize, void* work,
                       size_t reserveSize, void* reserve) {
  REQUIRE(handle && handle->stream, "the handle has no stream");
  if (Status s = CheckShapes(*r, *xd, *yd, *hd, devSeqLengths); s != OK) return s;
  const Layout L = WeightLayout(*r);
  REQUIRE(wsSize == L.total && ws, "bad weight space");
  REQUIRE(PaddingIsZero(*r, static_cast<const unsigned char*>(ws)), "the weight space's padding is not zero (zero it before filling)");
  REQUIRE(x && y && hy && !cx && !cy, "x, y and hy are required; cx and cy must be NULL for a GRU");
  REQUIRE(workSize >= 4096 && work, "workspace too small");
  REQUIRE(mode == 0 ? reserveSize == 0 : (reserveSize >= ReserveDoubles(*xd, r->hidden) * 8 && reserve), "bad reserve space for this mode");
  const int dt = r->dt, H = r->hidden, D = r->in, T = xd->maxT;
  const unsigned char* w = static_cast<const unsigned char*>(ws);
  auto weight = [&](int id, int j, int k) { return Load(w + L.matrix[id], size_t(j) * (id < 3 ? D : H) + k, dt); };
  auto bias = [&](int id, int j) { return Load(w + L.bias[id], j, dt); };
  std::vector<double> h(H), pre(6 * H), next(H);
  for (int b = 0; b < xd->batch; b++) {
    const int len = xd->lens[b];
    for (int j = 0; j < H; j++) h[j] = hx ? Load(hx, size_t(b) * H + j, dt) : 0;
    for (int t = 0; t < len; t++) {
      for (int id = 0; id < 6; id++) {
        for (int j = 0; j < H; j++) {
          double s = bias(id, j);
          const int in = id < 3 ? D : H;
          for (int k = 0; k < in; k++) s += weight(id, j, k) * (id < 3 ? Load(x, (size_t(b) * T + t) * D + k, dt) : h[k]);
          pre[size_t(id) * H + j] = s;
        }
      }
      double* rec = mode == 1 ? Record(reserve, *xd, H, b, t) : nullptr;
      for (int j = 0; j < H; j++) {
        const double rg = Sigmoid(pre[j] + pre[3 * H + j]);
        const double zg = Sigmoid(pre[H + j] + pre[4 * H + j]);
        const double recN = pre[5 * H + j];
        const double n = std::tanh(pre[2 * H + j] + rg * recN);
        next[j] = Round((1 - zg) * n + zg * h[j], dt);
        if (rec) rec[j] = h[j], rec[H + j] = rg, rec[2 * H + j] = zg, rec[3 * H + j] = n, rec[4 * H + j] = recN;
      }
      h = next;
      for (int j = 0; j < H; j++) Store(y, (size_t(b) * T + t) * H + j, dt, h[j]);
    }
    for (int t = len; t < T; t++)
      for (int j = 0; j < H; j++) Store(y, (size_t(b) * T + t) * H + j, dt, yd->fill);
    for (int j = 0; j < H; j++) Store(hy, size_t(b) * H + j, dt, h[j]);
  }
  return OK;
}

Status cudnnRNNBackwardData_v8(Handle* handle, Rnn* r, const int32_t devSeqLengths[], RnnData* yd, const void* y, const void* dy, RnnData* xd, void* dx,
                               Tensor* hd, const void*, const void* dhy, void* dhx, Tensor*, const void* cx, const void* dcy, void* dcx, size_t wsSize,
                               const void* ws, size_t workSize, void* work, size_t reserveSize, void* reserve) {
  REQUIRE(handle && handle->stream, "the handle has no stream");
  if (Status s = CheckShapes(*r, *xd, *yd, *hd, devSeqLengths); s != OK) return s;
  const Layout L = WeightLayout(*r);
  REQUIRE(wsSize == L.total && ws && y && dy && dx && !cx && !dcy && !dcx, "bad arguments");
  REQUIRE(workSize >= 4096 && work && reserve && reserveSize >= ReserveDoubles(*xd, r->hidden) * 8, "workspace or reserve space too small");
  const int dt = r->dt, H = r->hidden, D = r->in, T = xd->maxT;
  const unsigned char* w = static_cast<const unsigned char*>(ws);
  auto weight = [&](int id, int j, int k) { return Load(w + L.matrix[id], size_t(j) * (id < 3 ? D : H) + k, dt); };
  std::vector<double> dh(H), dhPrev(H);
  for (int b = 0; b < xd->batch; b++) {
    const int len = xd->lens[b];
    for (int j = 0; j < H; j++) dh[j] = dhy ? Load(dhy, size_t(b) * H + j, dt) : 0;
    for (int t = T - 1; t >= len; t--)
      for (int k = 0; k < D; k++) Store(dx, (size_t(b) * T + t) * D + k, dt, 0);
    for (int t = len - 1; t >= 0; t--) {
      double* rec = Record(reserve, *xd, H, b, t);
      double* g = rec + kForwardRows * H;  // dpre per ID, read by backward weights
      for (int j = 0; j < H; j++) {
        dh[j] += Load(dy, (size_t(b) * T + t) * H + j, dt);
        const double hp = rec[j], rg = rec[H + j], zg = rec[2 * H + j], n = rec[3 * H + j], recN = rec[4 * H + j];
        const double dnPre = dh[j] * (1 - zg) * (1 - n * n);
        const double drPre = dnPre * recN * rg * (1 - rg);
        const double dzPre = dh[j] * (hp - n) * zg * (1 - zg);
        g[j] = drPre, g[H + j] = dzPre, g[2 * H + j] = dnPre, g[3 * H + j] = drPre, g[4 * H + j] = dzPre, g[5 * H + j] = dnPre * rg;
        dhPrev[j] = dh[j] * zg;
      }
      for (int k = 0; k < D; k++) {
        double s = 0;
        for (int id = 0; id < 3; id++)
          for (int j = 0; j < H; j++) s += weight(id, j, k) * g[size_t(id) * H + j];
        Store(dx, (size_t(b) * T + t) * D + k, dt, s);
      }
      for (int k = 0; k < H; k++)
        for (int id = 3; id < 6; id++)
          for (int j = 0; j < H; j++) dhPrev[k] += weight(id, j, k) * g[size_t(id) * H + j];
      dh = dhPrev;
    }
    if (dhx)
      for (int j = 0; j < H; j++) Store(dhx, size_t(b) * H + j, dt, dh[j]);
  }
  return OK;
}

Status cudnnRNNBackwardWeights_v8(Handle* handle, Rnn* r, int addGrad, const int32_t devSeqLengths[], RnnData* xd, const void* x, Tensor* hd, const void*,
                                  RnnData* yd, const void* y, size_t wsSize, void* dws, size_t workSize, void* work, size_t reserveSize, void* reserve) {
  REQUIRE(handle && handle->stream, "the handle has no stream");
  if (Status s = CheckShapes(*r, *xd, *yd, *hd, devSeqLengths); s != OK) return s;
  const Layout L = WeightLayout(*r);
  REQUIRE(addGrad == 0, "expected CUDNN_WGRAD_MODE_ADD");
  REQUIRE(wsSize == L.total && dws && x && y && work && workSize >= 4096, "bad arguments");
  REQUIRE(reserve && reserveSize >= ReserveDoubles(*xd, r->hidden) * 8, "reserve space too small");
  const int dt = r->dt, H = r->hidden, D = r->in, T = xd->maxT;
  unsigned char* dw = static_cast<unsigned char*>(dws);
  for (int b = 0; b < xd->batch; b++) {
    for (int t = 0; t < xd->lens[b]; t++) {
      const double* rec = Record(reserve, *xd, H, b, t);
      const double* g = rec + kForwardRows * H;
      for (int id = 0; id < 6; id++) {
        const int in = id < 3 ? D : H;
        for (int j = 0; j < H; j++) {
          const double gj = g[size_t(id) * H + j];
          // ADD mode: accumulate onto whatever the caller left there (it must have zeroed it).
          Store(dw + L.bias[id], j, dt, Load(dw + L.bias[id], j, dt) + gj);
          for (int k = 0; k < in; k++) {
            const double v = id < 3 ? Load(x, (size_t(b) * T + t) * D + k, dt) : rec[k];
            const size_t i = size_t(j) * in + k;
            Store(dw + L.matrix[id], i, dt, Load(dw + L.matrix[id], i, dt) + gj * v);
          }
        }
      }
    }
  }
  return OK;
}

}  // extern "C"

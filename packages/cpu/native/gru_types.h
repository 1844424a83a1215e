// Types shared by the addon glue, the packing code and the per-ISA kernels.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gru {

// Activation ids; the TypeScript side maps Keras names to these (src/activations.ts). The first
// six have vector code; the other elementwise ones run element by element in double precision.
enum Act : int {
  ACT_LINEAR = 0,
  ACT_TANH,
  ACT_SIGMOID,
  ACT_HARD_SIGMOID,     // Keras 3: relu6(x + 3) / 6
  ACT_HARD_SIGMOID_K2,  // Keras 2: clip(0.2x + 0.5, 0, 1)
  ACT_RELU,
  ACT_RELU6,
  ACT_LEAKY_RELU,
  ACT_ELU,
  ACT_SELU,
  ACT_CELU,
  ACT_SOFTPLUS,
  ACT_SOFTSIGN,
  ACT_SILU,
  ACT_HARD_SILU,
  ACT_GELU,
  ACT_MISH,
  ACT_EXPONENTIAL,
  ACT_LOG_SIGMOID,
  ACT_SPARSE_SIGMOID,
  ACT_HARD_TANH,
  ACT_TANH_SHRINK,
  ACT_SOFT_SHRINK,
  ACT_HARD_SHRINK,
  ACT_SPARSE_PLUS,
  ACT_SQUAREPLUS,
  // Row-wise, over one gate's `units` values: never in the fused kernels (rowwise.h).
  ACT_SOFTMAX,
  ACT_LOG_SOFTMAX,
  ACT_SPARSEMAX,
  ACT_GLU,  // only at units = 2
  ACT_COUNT
};

// A layer's weights repacked for one vector width W. Units are padded to Hp (a multiple of W) and
// grouped in blocks of W; every panel interleaves the gates of one block per k, so one
// micro-kernel tile produces z, r and h for the same W units and can finish the step in registers.
struct PackedWeights {
  int W = 0;         // vector width (floats) the panels were packed for
  int D = 0, H = 0;  // inputDim, units
  int Hp = 0;        // units rounded up to a multiple of W
  int nblk = 0;      // Hp / W
  bool resetAfter = true;
  int act = ACT_TANH, recAct = ACT_SIGMOID;
  float* wx = nullptr;      // nblk panels of [D][3][W]
  float* rzrh = nullptr;    // resetAfter: nblk panels of [H][3][W]; else [H][2][W] (z, r only)
  float* rh = nullptr;      // resetAfter false: nblk panels of [H][1][W] (candidate)
  float* biasP = nullptr;   // [nblk][3][W]: added to the projection (z, r: input + recurrent bias)
  float* biasRh = nullptr;  // [nblk][W]: recurrent candidate bias (resetAfter only), inside r * (.)
};

// What a forward call keeps for backward, per processed step k and row b (row = k * B + b). The
// gate-major layout [3][Hp] keeps each gate's units contiguous for the backward GEMMs.
struct SavedBuffers {
  float* states = nullptr;  // [T][B][Hp] state before step k
  float* pre = nullptr;     // [T][B][3][Hp] pre-activations of z, r and the candidate
  float* act = nullptr;     // [T][B][3][Hp] z, r, candidate hh
  float* rec = nullptr;     // [T][B][Hp] resetAfter: h . U_h + b_rh (what r multiplies)
};

// One forward call, with every pointer already checked against its length by the caller.
struct CallArgs {
  int B = 0, T = 0;
  const float* x = nullptr;       // [B, T, D]
  const float* h0 = nullptr;      // [B, H] or null (zeros)
  const uint8_t* mask = nullptr;  // [B, T] or null
  bool backwards = false, sequences = false;
  const float* inMask[3] = {nullptr, nullptr, nullptr};   // [B, D] each, or all null
  const float* recMask[3] = {nullptr, nullptr, nullptr};  // [B, H] each, or all null
  float* out = nullptr;                                   // [B, T, H] (sequences) or [B, H]
  float* last = nullptr;                                  // [B, H]
  const SavedBuffers* saved = nullptr;                    // filled when the call keeps what backward needs
};

// One backward call: the forward call's inputs and saved buffers, the output gradients, and
// where the gradients go (Keras layouts; dBias null without bias).
struct BackwardArgs {
  int B = 0, T = 0;
  bool backwards = false, sequences = false, useBias = true;
  const float* x = nullptr;
  const uint8_t* mask = nullptr;
  const float* inMask[3] = {nullptr, nullptr, nullptr};
  const float* recMask[3] = {nullptr, nullptr, nullptr};
  SavedBuffers saved;
  const float* dOut = nullptr;   // like the forward output
  const float* dLast = nullptr;  // [B, H] or null
  float* dx = nullptr;           // [B, T, D], or null: not wanted (backward skips it)
  float* dInit = nullptr;        // [B, H]
  float* dK = nullptr;           // [D, 3H]
  float* dR = nullptr;           // [H, 3H]
  float* dBias = nullptr;        // [3H] or [2, 3H]
};

// Backward working memory. Rows are (k, b) in processing order, as in SavedBuffers.
struct BackScratch {
  float* dGx = nullptr;                              // [T][B][3][Hp] d loss / d input-projection pre-activations
  float* dGh = nullptr;                              // [T][B][3][Hp] d loss / d recurrent GEMM outputs
  float* dh = nullptr;                               // [B][Hp] d loss / d state, running backwards
  float* dhNext = nullptr;                           // [B][Hp] its direct part through z
  float* dRhr = nullptr;                             // [B][Hp] resetAfter false: the candidate's path to the state
  float* recMaskP[3] = {nullptr, nullptr, nullptr};  // [B][Hp]
  float* xT[3] = {nullptr, nullptr, nullptr};        // [D][rows] x (times each gate's input mask), transposed
  float* aT[3] = {nullptr, nullptr, nullptr};        // [H][rows] what each gate's recurrent GEMM multiplied, transposed
  float* kT = nullptr;                               // ceil(D/W) panels of [H][3][W]: kernel transposed
  float* rT = nullptr;                               // nblk panels of [H][3][W] (resetAfter) or [H][2][W] (z, r) ...
  float* rTh = nullptr;                              // ... and [H][1][W] (candidate), recurrent kernel transposed
};

// Per-call working memory, sized by planScratch() and carved from one allocation.
struct Scratch {
  int Tc = 0;                        // timesteps per projection chunk
  float* P = nullptr;                // [Tc * B][3 * Hp] projection chunk, gate-interleaved per block
  float* h[2] = {nullptr, nullptr};  // [B][Hp] state, double-buffered across steps
  const float* h0 = nullptr;         // [B][Hp] the state the first step reads: h[0], or the caller's initial state read in place
  float* hm[3][2] = {{nullptr, nullptr}, {nullptr, nullptr}, {nullptr, nullptr}};  // state x recurrent masks
  float* recMaskP[3] = {nullptr, nullptr, nullptr};                                // [B][Hp] recurrent masks, padded
  float* z = nullptr;                                                              // [B][Hp] update gate (resetAfter false)
  float* rh = nullptr;                                                             // [B][Hp] r * h (resetAfter false)
  float* xm[3] = {nullptr, nullptr, nullptr};                                      // [Tc * B][D] input x per-gate dropout mask
};

// Shares out the chunks of each phase of a call between its threads (thread_pool.h).
class Phaser;

// Entry points each ISA translation unit provides.
struct IsaKernels {
  const char* name;
  int W;  // floats per vector
  // Thread `tid` of (up to) `nthreads` over a whole call; chunks of work are shared through `phaser`.
  void (*run)(const PackedWeights& w, const CallArgs& c, const Scratch& s, int tid, int nthreads, Phaser& phaser);
  // The same for backpropagation through time over a whole call.
  void (*runBackward)(const PackedWeights& w, const BackwardArgs& a, const BackScratch& s, int tid, int nthreads, Phaser& phaser);
  // The FMA-rate probe (fma_peak_impl.h): `iterations` rounds of fmaChainCount independent vector
  // multiply-adds; the result only keeps them from being optimised away.
  float (*fmaChains)(int64_t iterations);
  int fmaChainCount;
};

}  // namespace gru

// Keras's elementwise activations in double precision, for the ones without vector code. They
// follow packages/core/src/activations.ts (the spec) formula by formula.
#pragma once

#include "gru_types.h"

namespace gru {

// Not inline on purpose: the per-ISA translation units call it, and an inline copy compiled with
// AVX-512 flags could be the one the linker keeps for every caller.
double scalarActivation(int id, double x);

// In place on n floats (one vector's worth), evaluated in double and rounded once.
void scalarActivationInPlace(int id, float* v, int n);

// The derivative dy/dx at x, given y = f(x) (core's activationVjp, formula by formula).
double scalarActivationGrad(int id, double x, double y);

// g[i] = f'(x[i]) for n floats, given y[i] = f(x[i]).
void scalarActivationGradInPlace(int id, const float* x, const float* y, float* g, int n);

}  // namespace gru

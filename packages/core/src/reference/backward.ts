import { activationDef, activationVjp } from '../activations.js';
import { readBackwardRequest } from '../backend/read-request.js';
import type { BackwardRequest, GruGradients, GruSpec } from '../backend/types.js';
import { arrayFor } from '../tensor.js';
import type { ReferenceSaved } from './forward.js';

/**
 * Backpropagation through time over the whole sequence, in float64, using what
 * `referenceForward` kept. The mirror image of the forward loop, step by step: a masked step
 * passes the state gradient through unchanged (the state was carried).
 */
export function referenceBackward(spec: GruSpec, saved: ReferenceSaved, request: BackwardRequest): GruGradients {
  const req = readBackwardRequest(request);
  const weights = saved.weights;
  const { units: H, inputDim: D, resetAfter, useBias } = spec;
  const fwd = saved.request;
  const { batch: B, timesteps: T } = fwd;
  const G = 3 * H;
  const f = activationDef(spec.activation);
  const g = activationDef(spec.recurrentActivation);
  const K = weights.kernel;
  const R = weights.recurrentKernel;
  const im = fwd.inputDropoutMasks;
  const rm = fwd.recurrentDropoutMasks;

  // Without input gradients the dx sums are skipped and dx is returned empty (see BackwardRequest).
  const wantDx = req.inputGradients !== false;
  const dx = new Float64Array(wantDx ? B * T * D : 0);
  const dK = new Float64Array(D * G);
  const dR = new Float64Array(H * G);
  const dBias = new Float64Array(useBias ? (resetAfter ? 2 * G : G) : 0);
  const dInit = new Float64Array(B * H);

  const dh = new Float64Array(H);
  const dPre = new Float64Array(G); // gradients of the z, r, candidate pre-activations
  const dAct = new Float64Array(G);
  const dHh = new Float64Array(H); // gradient reaching the candidate's copy of h (h * rm[2])
  const rh = new Float64Array(H);
  const hGate = [new Float64Array(H), new Float64Array(H), new Float64Array(H)];
  const preView = new Float64Array(G);
  const actView = new Float64Array(G);

  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) dh[j] = req.dLastState ? req.dLastState[b * H + j] : 0;
    if (!fwd.returnSequences) for (let j = 0; j < H; j++) dh[j] += req.dOutput[b * H + j];
    for (let k = T - 1; k >= 0; k--) {
      const t = fwd.goBackwards ? T - 1 - k : k;
      if (fwd.returnSequences) for (let j = 0; j < H; j++) dh[j] += req.dOutput[(b * T + k) * H + j];
      if (fwd.mask && fwd.mask[b * T + t] === 0) continue;

      const hPrevOff = (k * B + b) * H;
      const off = (k * B + b) * G;
      preView.set(saved.pre.subarray(off, off + G));
      actView.set(saved.act.subarray(off, off + G));
      for (let gate = 0; gate < 3; gate++) {
        for (let u = 0; u < H; u++) hGate[gate][u] = saved.states[hPrevOff + u] * (rm ? rm[gate][b * H + u] : 1);
      }
      // h = z * hPrev + (1 - z) * hh
      for (let j = 0; j < H; j++) {
        const z = actView[j];
        dAct[j] = dh[j] * (saved.states[hPrevOff + j] - actView[2 * H + j]);
        dAct[2 * H + j] = dh[j] * (1 - z);
        dh[j] = dh[j] * z; // the direct path to hPrev; the gate paths are added below
      }
      activationVjp(f, preView, actView, dAct, dPre, 2 * H, H);
      dHh.fill(0);
      if (resetAfter) {
        // candidate pre = xh + r * rec, rec = hGate[2] @ Rh + brh
        const rec = saved.recH.subarray(hPrevOff, hPrevOff + H);
        for (let j = 0; j < H; j++) {
          dAct[H + j] = dPre[2 * H + j] * rec[j];
          const dRec = dPre[2 * H + j] * actView[H + j];
          if (useBias) dBias[G + 2 * H + j] += dRec;
          for (let u = 0; u < H; u++) {
            dR[u * G + 2 * H + j] += hGate[2][u] * dRec;
            dHh[u] += R[u * G + 2 * H + j] * dRec;
          }
        }
      } else {
        // candidate pre = xh + (r * hGate[2]) @ Rh
        for (let u = 0; u < H; u++) rh[u] = actView[H + u] * hGate[2][u];
        for (let u = 0; u < H; u++) {
          let dRh = 0;
          for (let j = 0; j < H; j++) {
            dR[u * G + 2 * H + j] += rh[u] * dPre[2 * H + j];
            dRh += R[u * G + 2 * H + j] * dPre[2 * H + j];
          }
          dAct[H + u] = dRh * hGate[2][u];
          dHh[u] = dRh * actView[H + u];
        }
      }
      // z and r each went through the recurrent activation on their own (see the forward pass).
      activationVjp(g, preView, actView, dAct, dPre, 0, H);
      activationVjp(g, preView, actView, dAct, dPre, H, H);
      // z and r: pre = x @ K + hGate @ R (+ recurrent bias when resetAfter)
      for (let gate = 0; gate < 2; gate++) {
        for (let u = 0; u < H; u++) {
          let s = 0;
          for (let j = 0; j < H; j++) {
            const col = gate * H + j;
            dR[u * G + col] += hGate[gate][u] * dPre[col];
            s += R[u * G + col] * dPre[col];
          }
          dh[u] += s * (rm ? rm[gate][b * H + u] : 1);
        }
        if (useBias && resetAfter) for (let j = 0; j < H; j++) dBias[G + gate * H + j] += dPre[gate * H + j];
      }
      for (let u = 0; u < H; u++) dh[u] += dHh[u] * (rm ? rm[2][b * H + u] : 1);
      // input projection, per gate (each gate may see its own dropout-masked input)
      const xOff = (b * T + t) * D;
      for (let gate = 0; gate < 3; gate++) {
        const mask = im ? im[gate] : undefined;
        for (let d = 0; d < D; d++) {
          const m = mask ? mask[b * D + d] : 1;
          const xv = fwd.x[xOff + d] * m;
          for (let j = 0; j < H; j++) dK[d * G + gate * H + j] += xv * dPre[gate * H + j];
          if (!wantDx) continue;
          let s = 0;
          for (let j = 0; j < H; j++) s += K[d * G + gate * H + j] * dPre[gate * H + j];
          dx[xOff + d] += s * m;
        }
      }
      if (useBias) for (let col = 0; col < G; col++) dBias[col] += dPre[col];
    }
    dInit.set(dh, b * H);
  }
  const cast = (a: Float64Array) => {
    const out = arrayFor(spec.dtype, a.length);
    out.set(a);
    return out;
  };
  return {
    dx: cast(dx),
    dInitialState: cast(dInit),
    dKernel: cast(dK),
    dRecurrentKernel: cast(dR),
    dBias: useBias ? cast(dBias) : null,
  };
}

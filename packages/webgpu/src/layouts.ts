/** Explicit bind-group layouts (auto layouts would drop bindings a kernel variant leaves unused). */

const COMPUTE = 0x4; // GPUShaderStage.COMPUTE

type Kind = 'uniform' | 'read' | 'write' | 'dynamic';

function entries(kinds: Kind[]): GPUBindGroupLayoutEntry[] {
  return kinds.map((kind, binding) => ({
    binding,
    visibility: COMPUTE,
    buffer:
      kind === 'uniform'
        ? { type: 'uniform' }
        : kind === 'dynamic'
          ? { type: 'uniform', hasDynamicOffset: true }
          : { type: kind === 'read' ? 'read-only-storage' : 'storage' },
  }));
}

export interface Layouts {
  projection: GPUPipelineLayout;
  projectionGroup: GPUBindGroupLayout;
  projectionMasked: GPUPipelineLayout;
  projectionMaskedGroup: GPUBindGroupLayout;
  fused: GPUPipelineLayout;
  fusedGroup: GPUBindGroupLayout;
  step: GPUPipelineLayout;
  stepGroup: GPUBindGroupLayout;
  stepIndexGroup: GPUBindGroupLayout;
  /** Backward per-step kernels: params, proj, recurrent kernel (or its transpose), bias, states, mask, rdrop, work; step index. */
  backStep: GPUPipelineLayout;
  backStepGroup: GPUBindGroupLayout;
  /** Backward once-per-call kernels: params, x, kernel, recurrent kernel, states, rdrop, xdrop, work, out. */
  /** The fused backward recurrence: params, proj, recurrent kernel, its transpose, bias, states, mask, rdrop, work. */
  backFused: GPUPipelineLayout;
  backFusedGroup: GPUBindGroupLayout;
  backPost: GPUPipelineLayout;
  backPostGroup: GPUBindGroupLayout;
}

export function createLayouts(device: GPUDevice): Layouts {
  const group = (kinds: Kind[]) => device.createBindGroupLayout({ entries: entries(kinds) });
  const projectionGroup = group(['uniform', 'read', 'read', 'read', 'write']);
  const projectionMaskedGroup = group(['uniform', 'read', 'read', 'read', 'write', 'read']);
  // params, proj, rkernel, bias, state, outSeq, mask, rdrop (+ scratch for the stepwise kernels)
  const recurrence: Kind[] = ['uniform', 'read', 'read', 'read', 'write', 'write', 'read', 'read'];
  const fusedGroup = group(recurrence);
  const stepGroup = group([...recurrence, 'write']);
  const stepIndexGroup = group(['dynamic']);
  const backStepGroup = group(['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'write']);
  const backFusedGroup = group(['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'read', 'write']);
  const backPostGroup = group(['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'read', 'write']);
  const layout = (...groups: GPUBindGroupLayout[]) => device.createPipelineLayout({ bindGroupLayouts: groups });
  return {
    projection: layout(projectionGroup),
    projectionGroup,
    projectionMasked: layout(projectionMaskedGroup),
    projectionMaskedGroup,
    fused: layout(fusedGroup),
    fusedGroup,
    step: layout(stepGroup, stepIndexGroup),
    stepGroup,
    stepIndexGroup,
    backStep: layout(backStepGroup, stepIndexGroup),
    backStepGroup,
    backFused: layout(backFusedGroup),
    backFusedGroup,
    backPost: layout(backPostGroup),
    backPostGroup,
  };
}

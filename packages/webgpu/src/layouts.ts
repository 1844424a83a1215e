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
  };
}

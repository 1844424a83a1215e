/**
 * A request whose every field is a getter that counts its reads and, from the second read of a
 * field on, answers from `later` (when `later` has that field) instead of from `request`. A
 * backend that checks a field and then reads it again to size or fill its buffers is caught by
 * it: a `later` with a bigger batch makes such a backend write past what it checked, size its
 * outputs from the unchecked value, or fail half-way. A backend that reads each field once (as
 * @gru/core's `readRequest` does) sees the honest request only.
 */
export function shiftyRequest<R extends object>(
  request: R,
  later: Partial<Record<keyof R, unknown>> | Record<string, unknown>,
): { req: R; reads: Record<string, number> } {
  const reads: Record<string, number> = {};
  const req = {} as R;
  for (const key of Object.keys(request) as (keyof R & string)[]) {
    reads[key] = 0;
    Object.defineProperty(req, key, {
      enumerable: true,
      get: () => (++reads[key] > 1 && key in later ? (later as Record<string, unknown>)[key] : request[key]),
    });
  }
  return { req, reads };
}

/** The fields of `reads` read other than exactly once, as `name (n reads)`, or an empty list. */
export function fieldsNotReadOnce(reads: Record<string, number>): string[] {
  return Object.entries(reads)
    .filter(([, n]) => n !== 1)
    .map(([key, n]) => `${key} (${n} reads)`);
}

/**
 * A spec whose every field is a getter (as shiftyRequest) that, from its second read on, answers
 * another layer: 3 more units, 2 more input features, `relu`/`tanh`, the opposite `resetAfter`
 * and `useBias`. A backend must read the spec once at prepare and keep that copy: one that reads
 * the caller's spec again in a call sizes its buffers for a layer its weights were not packed for.
 */
export function shiftySpec<S extends { units: number; inputDim: number; resetAfter: boolean; useBias: boolean }>(
  spec: S,
): { spec: S; reads: Record<string, number> } {
  const later = {
    units: spec.units + 3,
    inputDim: spec.inputDim + 2,
    activation: 'relu',
    recurrentActivation: 'tanh',
    resetAfter: !spec.resetAfter,
    useBias: !spec.useBias,
  };
  const { req, reads } = shiftyRequest(spec, later);
  return { spec: req, reads };
}

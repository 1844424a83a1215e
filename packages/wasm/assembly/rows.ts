// Copies and clears of state rows (a few hundred bytes each, several per step). V8 runs
// memory.copy and memory.fill as calls into C (a wrapper, then memmove/memset), which costs more
// than moving a row of a small layer; an inlined SIMD loop does not. Sizes are multiples of 4.

/** Copies n bytes (a multiple of 4) from src to dst; the ranges do not overlap. */
@inline export function copyRow(dst: usize, src: usize, n: usize): void {
  const end16 = n & ~(<usize>15);
  let i: usize = 0;
  for (; i < end16; i += 16) v128.store(dst + i, v128.load(src + i));
  for (; i < n; i += 4) store<u32>(dst + i, load<u32>(src + i));
}

/** Zeroes n bytes (a multiple of 4) at dst. */
@inline export function zeroRow(dst: usize, n: usize): void {
  const zero = i32x4.splat(0);
  const end16 = n & ~(<usize>15);
  let i: usize = 0;
  for (; i < end16; i += 16) v128.store(dst + i, zero);
  for (; i < n; i += 4) store<u32>(dst + i, 0);
}

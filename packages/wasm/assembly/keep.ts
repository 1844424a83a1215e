// What a forward call with FLAG_KEEP keeps for gruBackward, in the call's memory right after its
// scratch (so worker threads find it without another argument). Rows are per processed step k
// and batch row b, padded to Hp units per gate like the kernels' own rows:
//   states [T][B][Hp]   the state before step k (without dropout)
//   pre    [T][B][3Hp]  z, r and candidate pre-activations (the candidate's with r applied)
//   act    [T][B][3Hp]  their activations
//   aux    [T][B][Hp]   resetAfter: h U_h + b_h (what r scaled); else r * (h * recurrent mask_h)
// The pre rows of a gate whose activation's derivative reads only y (gradReadsInput 0) are not
// written: backward reads them only to overwrite them with dP.
// Forward computes in these rows (no copies), so rows of masked steps hold whatever that left,
// which gruBackward never reads; except aux without resetAfter, whose masked rows are zero:
// gruBackward reads every aux row for the recurrent kernel's gradient.
// src/layout.ts mirrors these sizes.

export const FLAG_KEEP: i32 = 128;

@inline function f32s(n: usize): usize {
  return ((n << 2) + 63) & ~(<usize>63);
}

@inline export function keepPre(B: i32, T: i32, Hp: i32): usize {
  return f32s(<usize>T * <usize>B * <usize>Hp);
}

@inline export function keepAct(B: i32, T: i32, Hp: i32): usize {
  return keepPre(B, T, Hp) + f32s(<usize>T * <usize>B * 3 * <usize>Hp);
}

@inline export function keepAux(B: i32, T: i32, Hp: i32): usize {
  return keepAct(B, T, Hp) + f32s(<usize>T * <usize>B * 3 * <usize>Hp);
}

/** Bytes a kept forward call adds after its scratch. */
export function keepBytes(B: i32, T: i32, Hp: i32): usize {
  return keepAux(B, T, Hp) + f32s(<usize>T * <usize>B * <usize>Hp);
}

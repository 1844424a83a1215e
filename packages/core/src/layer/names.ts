const counters = new Map<string, number>();

/** Keras's automatic layer names: `gru`, `gru_1`, `gru_2`, ... per base name. */
export function uniqueName(base: string): string {
  const n = counters.get(base) ?? 0;
  counters.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/** Like `keras.backend.clear_session()` for names: the next GRU is called `gru` again. */
export function clearSession(): void {
  counters.clear();
}

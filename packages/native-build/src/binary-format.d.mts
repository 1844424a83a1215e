// Types of binary-format.mjs.

export interface BinaryFacts {
  format: 'elf' | 'pe';
  /** 'x64' or 'arm64' (Node's process.arch names), or the raw machine number. */
  arch: string;
  exports: string[];
  needs: string[];
  /** ELF: the newest GLIBC_x.y among the versions it needs, e.g. '2.34' (undefined: none). */
  glibc?: string;
}

/** What an ELF (64-bit little-endian) or PE32+ shared library says of itself; throws on any other file. */
export function readBinary(bytes: Uint8Array): BinaryFacts;

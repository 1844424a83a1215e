export function packageCopy(pkg: string, addon: string, binaries?: Record<string, string | Uint8Array>): string;
export function prepack(dir: string, env?: Record<string, string | undefined>): { status: number | null; out: string };

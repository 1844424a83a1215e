// This package's addon for the shared native build (packages/native-build): gru_cpu.node from
// native/sources.json.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAddon } from '@gru/native-build';

export const cpuAddon = nativeAddon(join(dirname(fileURLToPath(import.meta.url)), '..'), 'gru_cpu');

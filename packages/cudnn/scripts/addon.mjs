// This package's addon for the shared native build (packages/native-build): gru_cudnn.node from
// native/sources.json. Linux only: on Windows the addon's loader refuses (it opens the Linux
// CUDA and cuDNN libraries), so a win32 binary would only ever report itself unavailable.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAddon } from '@gru/native-build';

export const cudnnAddon = nativeAddon(join(dirname(fileURLToPath(import.meta.url)), '..'), 'gru_cudnn', { targets: ['linux-x64', 'linux-arm64'] });

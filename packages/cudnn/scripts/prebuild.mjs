#!/usr/bin/env node
// Builds the prebuilt binaries that ship in @gru/cudnn (prebuilds/<platform>-<arch>/gru_cudnn.node:
// linux-x64, linux-arm64) with the repository's shared native build (packages/native-build). No
// CUDA is needed to build them: the driver and cuDNN are opened at run time.
//
//   node scripts/prebuild.mjs                       every target
//   node scripts/prebuild.mjs linux-arm64           some targets
//   node scripts/prebuild.mjs --if-compilers        every target whose compiler is installed
import { prebuild } from '@gru/native-build/prebuild';
import { cudnnAddon } from './addon.mjs';

process.exit(await prebuild(cudnnAddon, process.argv.slice(2)));

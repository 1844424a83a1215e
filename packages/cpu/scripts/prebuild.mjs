#!/usr/bin/env node
// Builds the prebuilt binaries that ship in @gru/cpu (prebuilds/<platform>-<arch>/gru_cpu.node)
// with the repository's shared native build (packages/native-build).
//
//   node scripts/prebuild.mjs                       every target
//   node scripts/prebuild.mjs linux-arm64 win32-x64 some targets
//   node scripts/prebuild.mjs --if-compilers        every target whose compiler is installed
import { prebuild } from '@gru/native-build/prebuild';
import { cpuAddon } from './addon.mjs';

process.exit(await prebuild(cpuAddon, process.argv.slice(2)));

import type { TestProject } from 'vitest/node';
import { createSmokeApp } from '../src/global-setup-impl.js';

/** Packs, creates and installs the app once; every test file uses it (inject('smokeApp')). */
export default function setup(project: TestProject): () => void {
  const { app, cleanup } = createSmokeApp();
  project.provide('smokeApp', app);
  return cleanup;
}

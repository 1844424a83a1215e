import { UnsupportedCallError, valueError } from '../errors.js';
import { failures } from './load-records.js';
import { registeredBackends } from './registry.js';
import { GRU_BACKEND_SPEC_VERSION, type GruBackend, type GruCallInfo, type GruSpec } from './types.js';

export interface SkippedBackend {
  name: string;
  reason: string;
}

/** Which backend runs a call, and why every other registered backend did not. */
export interface BackendChoice {
  backend: GruBackend;
  skipped: SkippedBackend[];
}

export interface SelectionPreferences {
  /** Only this backend (by name or object); its refusal is an error. */
  backend?: string | GruBackend;
  /** Keras's `use_cudnn`: `true` demands a cuDNN backend, `false` excludes them. */
  useCudnn: 'auto' | boolean;
  /** Only backends that are loaded and run synchronously qualify. */
  sync: boolean;
  /**
   * Backends whose `load()` failed, with the reason (the caller loads, then selects again). Failures
   * recorded by `loadBackend()` count as well, so a synchronous selection reports them too.
   */
  loadFailures?: ReadonlyMap<string, string>;
  /** Gradients will be asked for. */
  backward?: boolean;
}

function whyNot(backend: GruBackend, spec: GruSpec, call: GruCallInfo, prefs: SelectionPreferences): string | undefined {
  // Registered through another installed copy of @gru/core (the registry is shared by all).
  if (backend.specVersion !== GRU_BACKEND_SPEC_VERSION) {
    return (
      `it implements backend interface version ${String(backend.specVersion)}, but the @gru/core running this layer implements ` +
      `version ${GRU_BACKEND_SPEC_VERSION}: two versions of @gru/core are installed (see \`npm ls @gru/core\`); install matching versions`
    );
  }
  // The layer's own reason comes first: it holds wherever the backend loads.
  const supported = backend.supports(spec, call);
  if (supported !== true) return supported;
  // A sync caller first hears what holds however loading went (GPU backends have no sync path).
  if (prefs.sync && !backend.prepareSync) return 'it has no synchronous path (use the async forward())';
  // Then the recorded failure (a sync caller would otherwise read "not loaded yet, await
  // loadBackend()", advice that only rejects again), only while the backend is not loaded: one
  // loaded since (by its own load(), or a later loadBackend()) runs, whatever was recorded.
  const failure = prefs.loadFailures?.get(backend.name) ?? failures.get(backend);
  if (failure !== undefined && !backend.isLoaded()) return `failed to load: ${failure}`;
  if (prefs.backward) {
    const canBackward = backend.supportsBackward ? backend.supportsBackward(spec) : 'it does not implement backward';
    if (canBackward !== true) return `no gradients: ${canBackward}`;
  }
  if (prefs.sync && !backend.isLoaded()) return `not loaded yet (await loadBackend('${backend.name}') or use the async forward())`;
  return undefined;
}

/** gru's backend packages, by the name each registers. */
const BACKEND_PACKAGES: Record<string, string> = { cpu: '@gru/cpu', wasm: '@gru/wasm', webgpu: '@gru/webgpu', cudnn: '@gru/cudnn' };

function registerHint(name: string): string {
  const pkg = Object.hasOwn(BACKEND_PACKAGES, name) ? BACKEND_PACKAGES[name] : undefined;
  if (pkg) return `Import its package ('${pkg}') to register it.`;
  return `gru's backend packages register 'cpu' (@gru/cpu), 'wasm' (@gru/wasm), 'webgpu' (@gru/webgpu) and 'cudnn' (@gru/cudnn) when imported; a backend of your own is registered with registerBackend().`;
}

/**
 * Walks the registered backends in priority order and picks the first that can run the call,
 * giving a reason for each one passed over. It loads nothing; a backend whose load failed (as
 * recorded by `loadBackend()`) is passed over with that failure, so async callers load the choice
 * and, if that fails, select again.
 */
export function selectBackend(
  spec: GruSpec,
  call: GruCallInfo,
  prefs: SelectionPreferences,
  backends: readonly GruBackend[] = registeredBackends(),
): BackendChoice {
  const skipped: SkippedBackend[] = [];
  if (prefs.backend !== undefined) {
    const wanted = typeof prefs.backend === 'string' ? backends.find((b) => b.name === prefs.backend) : prefs.backend;
    if (!wanted) {
      throw valueError(
        `Backend '${String(prefs.backend)}' is not registered. Registered backends: ${backends.map((b) => b.name).join(', ') || 'none'}. ` +
          registerHint(String(prefs.backend)),
      );
    }
    const reason = whyNot(wanted, spec, call, prefs);
    if (reason !== undefined) throw new UnsupportedCallError(wanted.name, reason);
    const requested = `backend '${wanted.name}' was requested`;
    for (const b of backends) if (b !== wanted) skipped.push({ name: b.name, reason: requested });
    return { backend: wanted, skipped };
  }
  let chosen: GruBackend | undefined;
  let outranked = '';
  for (const backend of backends) {
    let reason: string | undefined;
    if (chosen) reason = outranked ||= `'${chosen.name}' has a higher priority`;
    else if (backend.priority < 0) reason = 'it runs only when requested by name (negative priority)';
    else if (prefs.useCudnn === false && backend.cudnn) reason = 'useCudnn is false';
    else if (prefs.useCudnn === true && !backend.cudnn) reason = 'useCudnn is true and this is not a cuDNN backend';
    else reason = whyNot(backend, spec, call, prefs);
    if (reason === undefined) chosen = backend;
    else skipped.push({ name: backend.name, reason });
  }
  if (!chosen) {
    const reasons = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
    if (prefs.useCudnn === true) {
      throw valueError(
        'use_cudnn=True was specified, but cuDNN is not supported for this layer configuration with this backend. ' +
          `Pass use_cudnn='auto' to fallback to a non-cuDNN implementation. (${reasons || 'no cuDNN backend is registered'})`,
      );
    }
    throw valueError(`No registered GRU backend can run this call. ${reasons || 'No backend is registered.'}`);
  }
  return { backend: chosen, skipped };
}

/**
 * Formats a choice as one line: "cpu (skipped: cudnn: no GPU; webgpu: not loaded)". Takes
 * `gru.lastChoice` as it is: undefined (no call has run yet) gives "no backend chosen yet".
 */
export function describeChoice(choice: BackendChoice | undefined): string {
  if (choice === undefined) return 'no backend chosen yet (the layer has not run a call)';
  if (!choice.skipped.length) return choice.backend.name;
  return `${choice.backend.name} (skipped: ${choice.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`;
}

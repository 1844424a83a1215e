import { UnsafeModelError } from '../errors.js';
import { isObject } from '../io/json.js';

/** Layer classes whose config carries Python code (bytecode or source). */
const CODE_CLASSES = new Set(['Lambda', '__lambda__', 'TFOpLambda', 'SlicingOpLambda']);

/** What to do with a subclassed model (a `keras.Model` subclass with its own `call`). */
export const SUBCLASSED_MODEL_HINT =
  'for a subclassed model, build the same layers as a Functional or Sequential model in Keras, copy the weights ' +
  '(functional.set_weights(model.get_weights())) and save that.';

/**
 * Refuses, before anything is built, every object in a model config that Keras would only
 * deserialize by running code or by finding user code: Lambda layers and lambdas (Keras refuses
 * these under safe_mode=True), and custom objects (a `module` outside Keras, a registered name,
 * a Python function). gru never executes code from a file, and never substitutes a built-in for
 * a custom object that happens to share its name.
 */
export function checkConfigIsSafe(config: unknown, where: string): void {
  const stack: { value: unknown; path: string }[] = [{ value: config, path: '' }];
  while (stack.length) {
    const { value, path } = stack.pop() as { value: unknown; path: string };
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]` });
      continue;
    }
    if (!isObject(value)) continue;
    checkObject(value, path || '(top level)', where);
    // How a model was trained (optimizer, loss, metrics), beside a model's class_name and config
    // where Keras writes it: gru never reads it, as Keras's load_model(compile=False) does not, so
    // a custom loss there is neither run nor refused. Anywhere else the key is checked as any other.
    const isModelEntry = 'class_name' in value && 'config' in value;
    for (const key of Object.keys(value).reverse()) {
      if (key === 'compile_config' && isModelEntry) continue;
      stack.push({ value: value[key], path: path ? `${path}.${key}` : key });
    }
  }
}

function checkObject(obj: Record<string, unknown>, path: string, where: string): void {
  const className = obj.class_name;
  const module = obj.module;
  const registered = obj.registered_name;
  if (typeof className === 'string' && CODE_CLASSES.has(className)) {
    const name = isObject(obj.config) && typeof obj.config.name === 'string' ? ` '${obj.config.name}'` : '';
    throw new UnsafeModelError(
      `${where}: ${path} is a ${className}${name}, which holds Python code. gru never runs code from a file ` +
        '(Keras refuses it too with safe_mode=True); rebuild the model without Lambda layers.',
    );
  }
  if (className === 'function' || className === '__function__') {
    const builtin = typeof module === 'string' && /^keras(\.|$)/.test(module) && (registered === null || registered === undefined);
    if (!builtin) {
      throw new UnsafeModelError(
        `${where}: ${path} refers to the Python function ${JSON.stringify(obj.config)} (module ${JSON.stringify(module)}). ` +
          'gru loads only built-in Keras functions and never runs or guesses custom ones.',
      );
    }
    return;
  }
  // Keras writes `module: null` for a class defined in the script that saved the model (__main__),
  // with the class's own name as its registered name: a custom class, even one named like a built-in.
  if (module === null && typeof className === 'string') {
    throw new UnsafeModelError(
      `${where}: ${path} is the custom class ${JSON.stringify(className)} defined in the script that saved the model ` +
        `(module null, registered name ${JSON.stringify(registered)}). gru loads only built-in Keras objects and never runs or guesses custom ones` +
        (path === '(top level)' ? `; ${SUBCLASSED_MODEL_HINT}` : '.'),
    );
  }
  if (typeof module === 'string' && !/^keras(\.|$)/.test(module)) {
    throw new UnsafeModelError(
      `${where}: ${path} is the custom object ${JSON.stringify(className)} from module '${module}'. ` +
        'gru loads only built-in Keras objects and never runs or guesses custom ones.',
    );
  }
  if (typeof registered === 'string' && registered !== className) {
    throw new UnsafeModelError(
      `${where}: ${path} is the custom registered object '${registered}'. gru loads only built-in Keras objects and never runs or guesses custom ones.`,
    );
  }
}

/**
 * Resolving and serializing Keras objects (initializers, regularizers, constraints) the way
 * Keras 3.15.1's `keras.<module>.get()` / `serialize()` do, shared by the three modules.
 *
 * What Keras's `get(identifier)` accepts (read from keras/src/{initializers,regularizers,
 * constraints}/__init__.py and keras/src/saving/serialization_lib.py):
 * - `None` -> `None` (handled by the callers, whose result type differs);
 * - a string: looked up in the module's table of class names, `to_snake_case` class names and
 *   aliases, then built with the default arguments (initializers go through
 *   `from_config({})`, so `'constant'` fails like Keras, on the missing `value` key);
 * - a dict with `class_name` (and usually `config`, `module`, `registered_name`): `class_name` is
 *   looked up in the same table (so `{"class_name": "glorot_uniform"}` works); `module` is
 *   ignored unless it is explicitly `None`; a missing or `None` `config` means `{}`;
 * - an object of the right kind: returned as is; a class: instantiated with its defaults.
 */
import { GruError, pyRepr, pyTypeName, typeError, valueError } from './errors.js';

/** Exactly what Keras's `serialize_keras_object` returns for a built-in class instance. */
export interface KerasObjectConfig {
  module: string;
  class_name: string;
  config: Record<string, unknown>;
  registered_name: string | null;
}

/** What every initializer, regularizer and constraint has. */
export interface KerasSerializable {
  readonly className: string;
  getConfig(): Record<string, unknown>;
}

/** One built-in Keras class, as the identifier table knows it. */
export interface KerasClass<T> {
  /** Keras's class name, e.g. `GlorotUniform`. */
  readonly className: string;
  /** The public module Keras serializes it under, e.g. `keras.initializers`. */
  readonly module: string;
  /** The Python module defining the class (only used in the text of Keras's TypeError). */
  readonly pyModule: string;
  /** Keras's `from_config(config)`; use {@link takeArgs} to reject unknown keys as Python does. */
  fromConfig(config: Record<string, unknown>): T;
  /** The JS class, so that passing the class itself as identifier instantiates it (as Keras does). */
  readonly ctor?: abstract new (
    ...args: never[]
  ) => unknown;
}

export interface KerasObjectTable<T> {
  /** `initializer`, `regularizer` or `constraint`: used in Keras's error message. */
  readonly kind: string;
  /** Module written for objects not in the table (user-defined objects). */
  readonly defaultModule: string;
  /** Class names, snake_case class names and aliases. */
  readonly byName: ReadonlyMap<string, KerasClass<T>>;
  /** True for an object that already is a `T` (returned as is by `get`). */
  isInstance(value: unknown): value is T;
}

/** `keras.src.utils.naming.to_snake_case`. */
export function toSnakeCase(name: string): string {
  let s = name.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  s = s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return s;
}

/**
 * Builds a table like Keras's `ALL_OBJECTS_DICT`: each class under its class name and its
 * `to_snake_case` name, then the aliases (alias -> class name).
 */
export function makeTable<T>(
  kind: string,
  defaultModule: string,
  classes: readonly KerasClass<T>[],
  aliases: Readonly<Record<string, string>>,
  isInstance: (value: unknown) => value is T,
): KerasObjectTable<T> {
  const byName = new Map<string, KerasClass<T>>();
  for (const cls of classes) byName.set(cls.className, cls);
  for (const cls of classes) byName.set(toSnakeCase(cls.className), cls);
  for (const [alias, target] of Object.entries(aliases)) {
    const cls = byName.get(target);
    if (cls === undefined) throw new Error(`internal: alias ${alias} -> unknown class ${target}`);
    byName.set(alias, cls);
  }
  return { kind, defaultModule, byName, isInstance };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep copy of a JSON-like value (plain objects, arrays, primitives), so configs never alias. */
export function cloneJson<V>(value: V): V {
  if (Array.isArray(value)) return value.map((v) => cloneJson(v)) as V;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = cloneJson(v);
    return out as V;
  }
  return value;
}

/**
 * Python's keyword-argument binding for `cls(**config)`: returns the config, throwing Python's
 * TypeError for a key the constructor does not take.
 */
export function takeArgs(className: string, config: Record<string, unknown>, argNames: readonly string[]): Record<string, unknown> {
  for (const key of Object.keys(config)) {
    if (!argNames.includes(key)) {
      throw typeError(`${className}.__init__() got an unexpected keyword argument '${key}'`);
    }
  }
  return config;
}

function couldNotInterpret(kind: string, identifier: unknown): GruError {
  return valueError(`Could not interpret ${kind} identifier: ${pyRepr(identifier)}`);
}

/** `deserialize_keras_object(config, module_objects=ALL_OBJECTS_DICT)` for a known class. */
function buildFromConfig<T>(cls: KerasClass<T>, inner: unknown): T {
  const fullConfig = { module: cls.module, class_name: cls.className, config: inner, registered_name: null };
  if (!isPlainObject(inner)) {
    throw typeError(
      `Expected 'config' to be a dict for ${cls.className},\n` + `instead got <class '${pyTypeName(inner)}'>\nFull config: ${pyRepr(fullConfig)}`,
    );
  }
  try {
    return cls.fromConfig(cloneJson(inner));
  } catch (e) {
    // Keras wraps any TypeError raised by `from_config` (e.g. an unexpected keyword argument).
    if (e instanceof GruError && e.kerasType === 'TypeError') {
      throw typeError(
        `<class '${cls.pyModule}.${cls.className}'> could not be deserialized properly. Please` +
          ' ensure that components that are Python object instances (layers, models, etc.) returned by' +
          " `get_config()` are explicitly deserialized in the model's `from_config()` method." +
          `\n\nconfig=${pyRepr(fullConfig)}.\n\nException encountered: ${e.message}`,
      );
    }
    throw e;
  }
}

/**
 * Keras's `get(identifier)` for a non-null identifier: a string name, a config dict (Keras 3
 * form with `module`, or Keras 2 form `{class_name, config}`), an object of the kind (returned
 * as is) or one of the table's classes (instantiated with defaults).
 */
export function resolveKerasObject<T>(identifier: unknown, table: KerasObjectTable<T>): T {
  if (table.isInstance(identifier)) return identifier;
  if (typeof identifier === 'string') {
    const cls = table.byName.get(identifier);
    if (cls === undefined) throw couldNotInterpret(table.kind, identifier);
    return buildFromConfig(cls, {});
  }
  if (isPlainObject(identifier)) {
    if (!('class_name' in identifier)) {
      throw valueError(`Unknown \`config\` as a \`dict\`, config=${pyRepr(identifier)}`);
    }
    const className = identifier.class_name;
    if ('module' in identifier && identifier.module === null) {
      const name = pyRepr(className);
      throw typeError(
        `Cannot deserialize object of type \`${name}\`. If \`${name}\` is a custom class, please register it ` +
          'using the `@keras.saving.register_keras_serializable()` decorator.',
      );
    }
    const cls = typeof className === 'string' ? table.byName.get(className) : undefined;
    if (cls === undefined) throw couldNotInterpret(table.kind, identifier);
    const inner = identifier.config === undefined || identifier.config === null ? {} : identifier.config;
    return buildFromConfig(cls, inner);
  }
  if (typeof identifier === 'function') {
    for (const cls of table.byName.values()) {
      if (cls.ctor !== undefined && cls.ctor === identifier) return buildFromConfig(cls, {});
    }
  }
  throw couldNotInterpret(table.kind, identifier);
}

/** `serialize_keras_object(obj)` for one of the table's objects. */
export function serializeKerasObject<T extends KerasSerializable>(obj: T, table: KerasObjectTable<T>): KerasObjectConfig {
  const cls = table.byName.get(obj.className);
  const module = cls !== undefined && cls.className === obj.className ? cls.module : table.defaultModule;
  return {
    module,
    class_name: obj.className,
    config: cloneJson(obj.getConfig()),
    registered_name: null,
  };
}

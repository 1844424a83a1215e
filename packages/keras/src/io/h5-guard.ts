/**
 * jsfive reads an attribute by allocating and looping over as many items as the attribute's
 * dataspace declares, however few bytes back them; a zero-size string type makes that loop
 * advance by nothing. A crafted file could therefore make it spin for minutes. This guard wraps
 * jsfive's attribute decoder (`_attr_value`, on the prototype of its data-object class, which
 * jsfive does not export) so that a declared item count must fit in the bytes that follow.
 * jsfive is pinned to an exact version; test/h5-guard.test.ts fails if the hook point moves.
 */

type AttrValueFn = (dtype: unknown, buf: ArrayBuffer, count: number, offset: number) => unknown;
interface DataObjectsProto {
  _attr_value: AttrValueFn;
  __gruGuarded?: boolean;
}

/** Bytes one attribute item occupies, or undefined if the type is not one jsfive decodes itself. */
export function attributeItemSize(dtype: unknown): number | undefined {
  if (Array.isArray(dtype)) {
    if (dtype[0] === 'VLEN_STRING' || dtype[0] === 'VLEN_SEQUENCE') return 16;
    if (dtype[0] === 'REFERENCE') return 8;
    return undefined;
  }
  if (typeof dtype !== 'string') return undefined;
  const s = /S(\d*)/.exec(dtype);
  if (s) return s[1] === '' ? 1 : Number(s[1]);
  const n = /[<>=!@|]?[iuf](\d*)/.exec(dtype);
  if (n) return n[1] === '' ? 4 : Number(n[1]);
  return undefined;
}

/** Throws when `count` items of `dtype` starting at `offset` cannot fit in `byteLength` bytes. */
export function checkAttributeBounds(dtype: unknown, byteLength: number, count: number, offset: number): void {
  const size = attributeItemSize(dtype);
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`attribute declares an invalid item count ${String(count)}`);
  if (count === 0) return;
  if (size === undefined || !(size > 0)) throw new Error(`attribute has an item type of ${String(size)} bytes (${JSON.stringify(dtype)})`);
  if (!Number.isSafeInteger(offset) || offset < 0 || count * size > byteLength - offset) {
    throw new Error(`attribute declares ${count} items of ${size} bytes, more than the ${Math.max(0, byteLength - offset)} bytes that hold it`);
  }
}

/** Installs the guard on jsfive's data-object prototype (once), found through an opened file. */
export function installAttributeGuard(file: unknown): boolean {
  const objects = (file as { _dataobjects?: object })._dataobjects;
  const proto = objects ? (Object.getPrototypeOf(objects) as DataObjectsProto) : undefined;
  if (!proto || typeof proto._attr_value !== 'function') return false;
  if (proto.__gruGuarded) return true;
  const original = proto._attr_value;
  proto._attr_value = function guardedAttrValue(this: unknown, dtype, buf, count, offset) {
    checkAttributeBounds(dtype, buf.byteLength, count, offset);
    return original.call(this, dtype, buf, count, offset);
  };
  proto.__gruGuarded = true;
  return true;
}

// How a JavaScript value reads in the error messages of gru's N-API addons (@gru/cpu, @gru/cudnn):
// a message names the argument, what it must be and what was received, in the same words in
// every addon. Header-only: each addon's binding.gyp and the prebuilt builds add this folder
// (require('@gru/native-build/include').include_dir) to the include path.
#pragma once

#include <napi.h>

#include <string>

namespace gru_napi {

/** The JavaScript name of a typed array type ("Float32Array"). */
inline const char* typedArrayName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array:
      return "Int8Array";
    case napi_uint8_array:
      return "Uint8Array";
    case napi_uint8_clamped_array:
      return "Uint8ClampedArray";
    case napi_int16_array:
      return "Int16Array";
    case napi_uint16_array:
      return "Uint16Array";
    case napi_int32_array:
      return "Int32Array";
    case napi_uint32_array:
      return "Uint32Array";
    case napi_float32_array:
      return "Float32Array";
    case napi_float64_array:
      return "Float64Array";
    case napi_bigint64_array:
      return "BigInt64Array";
    case napi_biguint64_array:
      return "BigUint64Array";
    default:
      return "TypedArray";
  }
}

/** A string's first bytes at most, cut at a UTF-8 character boundary, marked when cut. */
inline std::string clipped(const std::string& s, size_t most = 60) {
  if (s.size() <= most) return s;
  size_t end = most;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end) + "...";
}

/**
 * A value as an error message's "received ...": "undefined", "null", "Float32Array(12)",
 * "Array(3)", "an ArrayBuffer", "the number 2.5", "the string 'x'", "true", "a function",
 * "an object".
 */
inline std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    const auto t = v.As<Napi::TypedArray>();
    return std::string(typedArrayName(t.TypedArrayType())) + "(" + std::to_string(t.ElementLength()) + ")";
  }
  if (v.IsArrayBuffer()) return "an ArrayBuffer";
  if (v.IsArray()) return "Array(" + std::to_string(v.As<Napi::Array>().Length()) + ")";
  // JavaScript's own spelling of the number (2.5, NaN, -Infinity), not printf's.
  if (v.IsNumber()) return "the number " + v.ToString().Utf8Value();
  if (v.IsString()) return "the string '" + clipped(v.As<Napi::String>().Utf8Value()) + "'";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsFunction()) return "a function";
  return "an object";
}

}  // namespace gru_napi

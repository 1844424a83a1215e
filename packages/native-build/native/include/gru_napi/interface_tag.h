// An addon's interface version written into its binary as text ("gru addon interface: gru_cpu 6"),
// so that a check can read it from a binary built for another platform, which it cannot load:
// the packing check (@gru/native-build's src/check-prebuilds.mjs) refuses a prebuilt binary whose
// interface the package's JavaScript would refuse at run time.
#pragma once

#include <cstddef>

namespace gru_napi {

template <std::size_t N>
struct InterfaceTag {
  char text[N];
};

constexpr std::size_t decimalDigits(int v) {
  std::size_t n = 1;
  for (; v >= 10; v /= 10) ++n;
  return n;
}

constexpr const char kInterfaceTagPrefix[] = "gru addon interface: ";

/** "gru addon interface: <name> <version>" and its NUL. */
template <int Version, std::size_t NameSize>
constexpr InterfaceTag<sizeof(kInterfaceTagPrefix) + NameSize + decimalDigits(Version)> makeInterfaceTag(const char (&name)[NameSize]) {
  static_assert(Version >= 0, "an interface version is not negative");
  InterfaceTag<sizeof(kInterfaceTagPrefix) + NameSize + decimalDigits(Version)> tag{};
  std::size_t at = 0;
  for (std::size_t i = 0; i + 1 < sizeof(kInterfaceTagPrefix); ++i) tag.text[at++] = kInterfaceTagPrefix[i];
  for (std::size_t i = 0; i + 1 < NameSize; ++i) tag.text[at++] = name[i];
  tag.text[at++] = ' ';
  int v = Version;
  for (std::size_t i = decimalDigits(Version); i > 0; --i, v /= 10) tag.text[at + i - 1] = static_cast<char>('0' + v % 10);
  return tag;
}

}  // namespace gru_napi

// Nothing reads the tag at run time: "used" keeps the compiler from dropping it.
#if defined(__GNUC__)
#define GRU_NAPI_KEEP __attribute__((used))
#else
#define GRU_NAPI_KEEP
#endif

/** Writes "gru addon interface: <name> <version>" into the binary (once per addon, at namespace scope). */
#define GRU_ADDON_INTERFACE_TAG(name, version) GRU_NAPI_KEEP static constexpr auto gruAddonInterfaceTag = ::gru_napi::makeInterfaceTag<(version)>(name)

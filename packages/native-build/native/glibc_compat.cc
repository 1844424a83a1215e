// Linked into the Linux prebuilt binaries only (scripts/native-build.mjs). They carry libstdc++
// inside (-static-libstdc++) so that they run whatever C++ runtime a system has; but GCC 12's
// libstdc++.a reaches std::random_device, which calls arc4random, new in glibc 2.36, and that
// alone would make the binary refuse to load on glibc 2.34-2.35 (Ubuntu 22.04, RHEL 9). The addon
// never uses std::random_device; this hidden definition satisfies the link with getrandom(2),
// available since Linux 3.17, so the binary needs glibc 2.34 at most.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

extern "C" __attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t value = 0;
  while (syscall(SYS_getrandom, &value, sizeof value, 0) != static_cast<long>(sizeof value)) {
  }
  return value;
}

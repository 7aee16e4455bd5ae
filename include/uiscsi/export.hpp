// UISCSI_API: marks the public API, the declarations the shared libraries (libuiscsi.so and
// libuiscsi-tape.so) export. The libraries are compiled with -fvisibility=hidden and
// -fvisibility-inlines-hidden, so everything without this mark (the protocol engine in
// uiscsi::core, the socket layer, uiscsi::detail) stays internal and is not part of the ABI.
// UISCSI_LOCAL keeps a private part of an exported class internal (a pimpl's Impl, a private
// constructor): members of an exported class are exported unless marked. Static builds ignore
// both marks. cmake/uiscsi.map, the linker version script, hides the rest (the std:: template
// instantiations the library makes for itself).
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define UISCSI_API __attribute__((visibility("default")))
#define UISCSI_LOCAL __attribute__((visibility("hidden")))
#else
#define UISCSI_API
#define UISCSI_LOCAL
#endif

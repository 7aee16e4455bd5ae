#include "allocator.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace uiscsi::tools {

void tune_allocator_for_large_transfers() {
#if defined(__GLIBC__)
  // Buffers up to 32 MiB (glibc's largest mmap threshold) come from the heap; larger ones (a RAM
  // disk's store) are still mapped on their own. Freed memory is kept until 256 MiB sit unused at
  // the top of an arena, so steady-state I/O reuses pages that are already mapped.
  (void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
  (void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

}  // namespace uiscsi::tools

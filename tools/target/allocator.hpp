#pragma once

namespace uiscsi::tools {

// Keeps freed data buffers in the heap instead of handing them back to the kernel.
//
// The target allocates one buffer per READ (Data-In) and per WRITE (Data-Out) and frees it when
// the command ends. With glibc's defaults a buffer of a few hundred KiB or more is mmap()ed and
// munmap()ed again, or trimmed from its arena, every time, so each command page-faults its whole
// buffer in again. On the 2-core VMs we measure on that cost 1 MiB reads at QD4 up to 90% of their
// throughput (bench/README.md). Must run before the server starts its threads.
void tune_allocator_for_large_transfers();

}  // namespace uiscsi::tools

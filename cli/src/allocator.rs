//! glibc `malloc` tuning for libtorch's activations.
//!
//! libtorch allocates every activation with `posix_memalign` and frees it soon after. glibc
//! serves blocks above its mmap threshold (at most 32 MiB) with fresh `mmap`s, so each forward
//! pass page-faults through every large activation again; on a 2-core machine that cost 15–20%
//! of BERT's CPU time (a `[32, 256, 1536]` GELU input is 50 MB). Serving all blocks from the
//! heap and keeping freed memory for reuse removes those faults. The price: the resident size
//! stays near its peak instead of shrinking between batches.

/// Makes glibc keep freed memory in the heap for reuse instead of unmapping it.
#[allow(
    unsafe_code,
    reason = "mallopt is a C call taking two integers; it cannot break memory safety"
)]
pub(crate) fn keep_freed_memory_for_reuse() {
    // SAFETY: mallopt only changes allocator parameters; it returns 0 on failure, which leaves
    // the defaults in place and is harmless.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
    }
}

//! What the search loops ask of the hardware: the dot product and the squared Euclidean
//! distance, compiled for AVX-512 and for AVX2 + FMA besides the portable baseline and picked
//! at run time; a prefetch hint; and 2 MiB pages for the large arrays.
//!
//! This is the only `unsafe` in the crate, and all of it is of four kinds: calling a function
//! compiled for a CPU feature right after checking that the CPU has it; loading a SIMD register
//! from a chunk of a slice that holds exactly that many floats; a prefetch, which is a hint
//! that cannot fault; and `madvise`, which only advises the kernel about memory we own.
//! A release build targets baseline x86-64 (SSE2), where the portable loop runs at a quarter
//! of AVX-512's width.
//!
//! The AVX-512 and AVX2 kernels are written with intrinsics: the portable loop compiled inside
//! a `#[target_feature]` function was not vectorised (LLVM emitted two-float `xmm` loads and
//! stack spills, no `zmm` at all), which made distances, and so HNSW builds, about
//! compute-bound.

/// The inner product of two equally long vectors.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    sum_of_products::<Dot>(a, b)
}

/// The squared Euclidean distance of two equally long vectors.
#[inline]
pub(crate) fn squared_l2(a: &[f32], b: &[f32]) -> f32 {
    sum_of_products::<SquaredDifference>(a, b)
}

/// `Σ u · v` over the components of two vectors, where `(u, v) = P::factors(x, y)`: compiled
/// for the widest instruction set the CPU has.
#[inline]
fn sum_of_products<P: Factors>(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            #[allow(unsafe_code, reason = "the CPU was just checked for AVX-512F")]
            // SAFETY: `x86::avx512` only needs AVX-512F, which the CPU has.
            return unsafe { x86::avx512::<P>(a, b) };
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            #[allow(unsafe_code, reason = "the CPU was just checked for AVX2 and FMA")]
            // SAFETY: `x86::avx2` only needs AVX2 and FMA, which the CPU has.
            return unsafe { x86::avx2::<P>(a, b) };
        }
    }
    lanes::<P, 8>(a, b)
}

/// The two factors that one pair of components adds to a sum of products.
trait Factors {
    /// Whether the factors are the difference twice (`(x - y)²`) rather than `x` and `y`.
    const DIFFERENCE: bool;

    fn factors(x: f32, y: f32) -> (f32, f32);
}

/// `x · y`.
struct Dot;

impl Factors for Dot {
    const DIFFERENCE: bool = false;

    #[inline(always)]
    fn factors(x: f32, y: f32) -> (f32, f32) {
        (x, y)
    }
}

/// `(x - y)²`.
struct SquaredDifference;

impl Factors for SquaredDifference {
    const DIFFERENCE: bool = true;

    #[inline(always)]
    fn factors(x: f32, y: f32) -> (f32, f32) {
        let d = x - y;
        (d, d)
    }
}

/// Asks the CPU to start loading the first `lines` cache lines (64 bytes each) that `data`
/// touches, as far as it reaches. A slice that does not start on a line boundary touches one
/// line more than its length suggests (a 1,536-byte row at offset 16 spans 25 lines).
#[inline]
pub(crate) fn prefetch<T>(data: &[T], lines: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = data.as_ptr().cast::<i8>();
        let offset = start as usize % 64;
        let first_line = start.wrapping_sub(offset);
        let spanned = (offset + std::mem::size_of_val(data)).div_ceil(64);
        for line in 0..lines.min(spanned) {
            let address = first_line.wrapping_add(64 * line);
            #[allow(
                unsafe_code,
                reason = "a prefetch is a hint: it never faults or writes"
            )]
            // SAFETY: SSE is part of x86-64, and prefetching any address is allowed.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(address);
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, lines);
}

/// The sum of `L` lanes (a power of two) by adding halves, which compiles to `log2(L)` vector
/// additions instead of `L` dependent scalar ones.
#[inline(always)]
fn sum_halving<const L: usize>(mut lanes: [f32; L]) -> f32 {
    let mut width = L / 2;
    while width > 0 {
        for i in 0..width {
            lanes[i] += lanes[i + width];
        }
        width /= 2;
    }
    lanes[0]
}

/// Asks the kernel to back the whole 2 MiB pages inside `vec`'s allocation (its spare
/// capacity included) with huge pages, so that random reads over a large index miss the TLB
/// far less often. Advice only: ignored where transparent huge pages are off, and without
/// effect on the contents. It takes effect as pages are first written: memory that malloc
/// hands back from an earlier, freed allocation keeps its 4 KiB pages (see
/// [`collapse_into_huge_pages`]).
pub(crate) fn advise_huge_pages<T>(vec: &Vec<T>) {
    let start = vec.as_ptr() as usize;
    let bytes = vec.capacity() * std::mem::size_of::<T>();
    #[cfg(target_os = "linux")]
    advise_whole_huge_pages(start, bytes, libc::MADV_HUGEPAGE);
    #[cfg(not(target_os = "linux"))]
    let _ = (start, bytes);
}

/// Asks the kernel to move the whole 2 MiB pages inside `data`, already written, onto huge
/// pages now (`MADV_COLLAPSE`, Linux 6.1 and later; a no-op elsewhere or where it fails).
/// For arrays filled in memory that malloc reused: measured on a reopened 100k × 384 index,
/// its neighbour lists sat in the freed buffer of the vectors file and got no huge page.
pub(crate) fn collapse_into_huge_pages<T>(data: &[T]) {
    let start = data.as_ptr() as usize;
    let bytes = std::mem::size_of_val(data);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    advise_whole_huge_pages(start, bytes, libc::MADV_COLLAPSE);
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = (start, bytes);
}

/// `madvise(advice)` over the whole 2 MiB pages inside `start..start + bytes`.
#[cfg(target_os = "linux")]
fn advise_whole_huge_pages(start: usize, bytes: usize, advice: libc::c_int) {
    const HUGE: usize = 2 << 20;
    let (first, last) = (start.next_multiple_of(HUGE), (start + bytes) / HUGE * HUGE);
    if last > first {
        #[allow(unsafe_code, reason = "madvise only advises the kernel")]
        // SAFETY: callers pass a range inside an allocation they own; MADV_HUGEPAGE and
        // MADV_COLLAPSE change how the kernel backs it, never its contents.
        unsafe {
            libc::madvise(first as *mut libc::c_void, last - first, advice);
        }
    }
}

/// The portable kernel: `L` independent sums (which the compiler turns into `L / width`
/// vector registers of the baseline target), then the tail one component at a time.
#[inline(always)]
fn lanes<P: Factors, const L: usize>(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; L];
    let (ca, cb) = (a.chunks_exact(L), b.chunks_exact(L));
    let tail = scalar_sum::<P>(ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..L {
            let (u, v) = P::factors(x[i], y[i]);
            lanes[i] += u * v;
        }
    }
    sum_halving(lanes) + tail
}

/// `Σ u · v` one component at a time: the tails of every kernel.
#[inline(always)]
fn scalar_sum<P: Factors>(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let (u, v) = P::factors(x, y);
            u * v
        })
        .sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m256, __m512, _mm256_add_ps, _mm256_castps256_ps128, _mm256_extractf128_ps,
        _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_setzero_ps, _mm256_sub_ps, _mm512_add_ps,
        _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_reduce_add_ps, _mm512_setzero_ps, _mm512_sub_ps,
        _mm_add_ps, _mm_cvtss_f32, _mm_movehl_ps, _mm_shuffle_ps,
    };

    use super::{scalar_sum, Factors};

    /// A sum-of-products kernel for one register width: four accumulators of `$lanes` floats
    /// (enough independent FMAs to hide their latency), then single chunks of `$lanes`, then a
    /// scalar tail. One template, so that the kernels cannot drift apart.
    macro_rules! kernel {
        ($name:ident, $features:literal, $register:ty, $lanes:literal,
         $load:ident, $sub:ident, $fmadd:ident, $zero:ident, $add:ident, $reduce:ident) => {
            #[target_feature(enable = $features)]
            pub(super) fn $name<P: Factors>(a: &[f32], b: &[f32]) -> f32 {
                #[inline]
                #[target_feature(enable = $features)]
                fn load(chunk: &[f32]) -> $register {
                    assert!(chunk.len() >= $lanes);
                    #[allow(unsafe_code, reason = "an unaligned load of floats the slice holds")]
                    // SAFETY: the caller runs with `$features`; `chunk` holds `$lanes` floats.
                    unsafe {
                        $load(chunk.as_ptr())
                    }
                }
                #[inline]
                #[target_feature(enable = $features)]
                fn add<P: Factors>(sum: $register, x: &[f32], y: &[f32]) -> $register {
                    let (x, y) = (load(x), load(y));
                    if P::DIFFERENCE {
                        let d = $sub(x, y);
                        $fmadd(d, d, sum)
                    } else {
                        $fmadd(x, y, sum)
                    }
                }
                let n = a.len().min(b.len());
                let (a, b) = (&a[..n], &b[..n]);
                let mut sums = [$zero(); 4];
                let (rounds_a, rounds_b) = (a.chunks_exact(4 * $lanes), b.chunks_exact(4 * $lanes));
                let (tail_a, tail_b) = (rounds_a.remainder(), rounds_b.remainder());
                for (x, y) in rounds_a.zip(rounds_b) {
                    let chunks = x.chunks_exact($lanes).zip(y.chunks_exact($lanes));
                    for (sum, (x, y)) in sums.iter_mut().zip(chunks) {
                        *sum = add::<P>(*sum, x, y);
                    }
                }
                let (chunks_a, chunks_b) =
                    (tail_a.chunks_exact($lanes), tail_b.chunks_exact($lanes));
                let (rest_a, rest_b) = (chunks_a.remainder(), chunks_b.remainder());
                for (x, y) in chunks_a.zip(chunks_b) {
                    sums[0] = add::<P>(sums[0], x, y);
                }
                let sum = $add($add(sums[0], sums[1]), $add(sums[2], sums[3]));
                $reduce(sum) + scalar_sum::<P>(rest_a, rest_b)
            }
        };
    }

    kernel!(
        avx512,
        "avx512f",
        __m512,
        16,
        _mm512_loadu_ps,
        _mm512_sub_ps,
        _mm512_fmadd_ps,
        _mm512_setzero_ps,
        _mm512_add_ps,
        _mm512_reduce_add_ps
    );
    kernel!(
        avx2,
        "avx2,fma",
        __m256,
        8,
        _mm256_loadu_ps,
        _mm256_sub_ps,
        _mm256_fmadd_ps,
        _mm256_setzero_ps,
        _mm256_add_ps,
        reduce_add_256
    );

    /// The sum of the eight lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn reduce_add_256(sum: __m256) -> f32 {
        let half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps::<1>(sum));
        let quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
        let single = _mm_add_ps(quarter, _mm_shuffle_ps::<0b01>(quarter, quarter));
        _mm_cvtss_f32(single)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_matches_the_naive_sums_for_all_tail_lengths() {
        for n in 0..100 {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive_dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let naive_l2: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            let mut dots = vec![dot(&a, &b), lanes::<Dot, 8>(&a, &b)];
            let mut l2s = vec![squared_l2(&a, &b), lanes::<SquaredDifference, 8>(&a, &b)];
            // Each SIMD kernel the CPU runs, not only the one picked at run time.
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code, reason = "each kernel after checking its CPU features")]
            // SAFETY: each call follows the check of the features its kernel needs.
            unsafe {
                if std::is_x86_feature_detected!("avx512f") {
                    dots.push(x86::avx512::<Dot>(&a, &b));
                    l2s.push(x86::avx512::<SquaredDifference>(&a, &b));
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    dots.push(x86::avx2::<Dot>(&a, &b));
                    l2s.push(x86::avx2::<SquaredDifference>(&a, &b));
                }
            }
            let checks = dots.iter().map(|got| (got, naive_dot));
            for (got, want) in checks.chain(l2s.iter().map(|got| (got, naive_l2))) {
                assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "n = {n}");
            }
        }
    }

    #[test]
    fn huge_page_advice_leaves_contents_alone() {
        let mut big: Vec<f32> = Vec::with_capacity(3 << 20);
        advise_huge_pages(&big);
        big.extend((0..3 << 20).map(|i| i as f32));
        assert_eq!(big[12_345], 12_345.0);
        advise_huge_pages(&Vec::<u8>::new());
        collapse_into_huge_pages(&big);
        assert_eq!(big[3 << 19], (3 << 19) as f32);
        collapse_into_huge_pages::<u8>(&[]);
    }

    #[test]
    fn prefetch_accepts_any_row() {
        prefetch::<f32>(&[], 4);
        prefetch(&[1.0f32; 100], 100);
        prefetch(&[7u32; 3], 1);
    }
}

//! What the search loops ask of the hardware: the dot product and the squared Euclidean
//! distance, compiled for AVX-512 and for AVX2 + FMA besides the portable baseline and picked
//! at run time; a prefetch hint; and 2 MiB pages for the large arrays.
//!
//! This is the only `unsafe` in the crate, and all of it is of three kinds: calling a function
//! compiled for a CPU feature right after checking that the CPU has it; a prefetch, which is a
//! hint that cannot fault; and `madvise`, which only advises the kernel about memory we own.
//! A release build targets baseline x86-64 (SSE2), where the portable loop runs at a quarter
//! of AVX-512's width.

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
    lanes::<P, 8, false>(a, b)
}

/// The two factors that one pair of components adds to a sum of products.
trait Factors {
    fn factors(x: f32, y: f32) -> (f32, f32);
}

/// `x · y`.
struct Dot;

impl Factors for Dot {
    #[inline(always)]
    fn factors(x: f32, y: f32) -> (f32, f32) {
        (x, y)
    }
}

/// `(x - y)²`.
struct SquaredDifference;

impl Factors for SquaredDifference {
    #[inline(always)]
    fn factors(x: f32, y: f32) -> (f32, f32) {
        let d = x - y;
        (d, d)
    }
}

/// Asks the CPU to start loading the first `lines` cache lines (64 bytes each) of `data`,
/// as far as it reaches.
#[inline]
pub(crate) fn prefetch<T>(data: &[T], lines: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(data);
        let start = data.as_ptr().cast::<i8>();
        for line in 0..lines.min(bytes.div_ceil(64)) {
            let address = start.wrapping_add(64 * line);
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
/// effect on the contents. Best called before the memory is first written.
pub(crate) fn advise_huge_pages<T>(vec: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = vec.as_ptr() as usize;
        let end = start + vec.capacity() * std::mem::size_of::<T>();
        let (first, last) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
        if last > first {
            #[allow(unsafe_code, reason = "madvise only advises the kernel")]
            // SAFETY: the range lies inside `vec`'s allocation, which we own; MADV_HUGEPAGE
            // changes how the kernel backs it, never its contents.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = vec;
}

/// `L` independent sums (which the compiler turns into `L / width` vector registers), fused
/// multiply-adds when `FMA` (only inside functions compiled with FMA: elsewhere `mul_add` is a
/// slow library call).
#[inline(always)]
fn lanes<P: Factors, const L: usize, const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; L];
    let (ca, cb) = (a.chunks_exact(L), b.chunks_exact(L));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(&x, &y)| {
            let (u, v) = P::factors(x, y);
            u * v
        })
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..L {
            let (u, v) = P::factors(x[i], y[i]);
            lanes[i] = if FMA {
                u.mul_add(v, lanes[i])
            } else {
                lanes[i] + u * v
            };
        }
    }
    sum_halving(lanes) + tail
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{lanes, Factors};

    #[target_feature(enable = "avx512f")]
    pub(super) fn avx512<P: Factors>(a: &[f32], b: &[f32]) -> f32 {
        lanes::<P, 32, true>(a, b)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn avx2<P: Factors>(a: &[f32], b: &[f32]) -> f32 {
        lanes::<P, 16, true>(a, b)
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
            let dots = [dot(&a, &b), lanes::<Dot, 8, false>(&a, &b)];
            let l2s = [
                squared_l2(&a, &b),
                lanes::<SquaredDifference, 8, false>(&a, &b),
            ];
            for (got, want) in dots
                .iter()
                .zip([naive_dot; 2])
                .chain(l2s.iter().zip([naive_l2; 2]))
            {
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
    }

    #[test]
    fn prefetch_accepts_any_row() {
        prefetch::<f32>(&[], 4);
        prefetch(&[1.0f32; 100], 100);
        prefetch(&[7u32; 3], 1);
    }
}

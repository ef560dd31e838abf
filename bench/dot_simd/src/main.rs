//! Nanoseconds per dot product for pairwise's `dot` (a verbatim copy of
//! `index/src/vector/distance.rs::dot`), on rows drawn at random from an n × dim matrix (as a
//! graph search reads them) and on one pair kept in cache. `bench/dot_simd.sh` builds it for
//! the baseline x86-64 target (SSE2, what `cargo build` gives) and for `-C target-cpu=native`.
//!
//!     dot-simd DIM N CALLS

use std::hint::black_box;
use std::time::Instant;

/// Inner product in 8 independent lanes, which the compiler vectorises (copied from the index).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The same in 16 lanes: one AVX-512 register, or two AVX2 registers, per step.
fn dot16(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (dim, n, calls) = (args[0], args[1], args[2]);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let data: Vec<f32> = (0..n * dim)
        .map(|_| (next() % 2000) as f32 / 1000.0 - 1.0)
        .collect();
    let rows: Vec<usize> = (0..calls).map(|_| (next() % n as u64) as usize).collect();
    let query = &data[..dim];
    for (name, f) in [("dot8", dot as fn(&[f32], &[f32]) -> f32), ("dot16", dot16)] {
        let started = Instant::now();
        let mut sum = 0f32;
        for &r in &rows {
            sum += f(black_box(query), black_box(&data[r * dim..(r + 1) * dim]));
        }
        let random_ns = started.elapsed().as_secs_f64() * 1e9 / calls as f64;
        let hot = &data[dim..2 * dim];
        let started = Instant::now();
        for _ in 0..calls {
            sum += f(black_box(query), black_box(hot));
        }
        let hot_ns = started.elapsed().as_secs_f64() * 1e9 / calls as f64;
        println!(
            "{{\"fn\": \"{name}\", \"dim\": {dim}, \"n\": {n}, \"random_rows_ns\": {random_ns:.2}, \
             \"hot_ns\": {hot_ns:.2}, \"checksum\": {sum}}}"
        );
    }
}

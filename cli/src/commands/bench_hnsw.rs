//! `pairwise bench hnsw`: the HNSW index against exact search on one vector set.
//!
//! `bench/hnsw.sh` runs this beside `bench/hnswlib_bench.py` on the same `.npy` files and the
//! same exact neighbours, so both engines are measured by one protocol on one machine: build
//! time (parallel insert), memory, then an untimed warm-up pass and recall@k and queries per
//! second for each `ef_search`, every query on one thread, the query set repeated until the
//! pass has lasted `--min-seconds` (a 1,000-query pass at 20k QPS lasts 50 ms: too short to
//! time on a shared machine). With `--reuse-index` the script then reopens the saved index
//! for more query passes, taking turns with hnswlib.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{ensure, Context};
use clap::Args;
use pairwise_index::{
    Distance, DocIndex, FlatIndex, HnswConfig, HnswEngine, HnswIndex, VectorIndex,
};
use rayon::prelude::*;

use crate::commands::write_json;
use crate::npy::write_i32_matrix;
use crate::npy_read::{read_f32_matrix, read_i32_matrix, Matrix};

/// Arguments of `pairwise bench hnsw`.
#[derive(Debug, Args)]
pub(crate) struct HnswBenchArgs {
    /// Base vectors: float32 `.npy`, shape [n, dim]
    #[arg(long, value_name = "FILE.npy")]
    vectors: PathBuf,
    /// Query vectors: float32 `.npy`, shape [q, dim]
    #[arg(long, value_name = "FILE.npy")]
    queries: PathBuf,
    /// Exact neighbours (int32 `.npy`, shape [q, ≥k]): read when the file exists, else
    /// computed with the flat index and written there
    #[arg(long, value_name = "FILE.npy")]
    truth: Option<PathBuf>,
    /// Graph degree M
    #[arg(long, default_value_t = 16)]
    m: usize,
    /// Candidate list size while building
    #[arg(long, default_value_t = 200)]
    ef_construction: usize,
    /// Candidate list sizes searched, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "10,20,40,80,160,320")]
    ef_search: Vec<usize>,
    /// Neighbours per query
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Each timed pass repeats the query set until it has lasted this long
    #[arg(long, default_value_t = 1.0)]
    min_seconds: f64,
    /// The HNSW implementation
    #[arg(long, value_enum, default_value_t = EngineArg::Native)]
    engine: EngineArg,
    /// Reuse the index saved in this folder instead of building one (it is built and saved
    /// there when the folder holds none): for trying search changes on a large set. The
    /// results then report no build time or memory.
    #[arg(long, value_name = "DIR")]
    reuse_index: Option<PathBuf>,
    /// Threads for the parallel build [default: all cores]
    #[arg(long)]
    threads: Option<usize>,
    /// Write the results as JSON to this file
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// `--engine` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EngineArg {
    /// pairwise's own graph
    Native,
    /// the hnsw_rs crate's graph
    HnswRs,
}

impl EngineArg {
    fn engine(self) -> HnswEngine {
        match self {
            Self::Native => HnswEngine::Native,
            Self::HnswRs => HnswEngine::HnswRs,
        }
    }

    fn detail(self) -> &'static str {
        match self {
            Self::Native => "pairwise-index HnswIndex (native graph, f32 cosine)",
            Self::HnswRs => "pairwise-index HnswIndex (hnsw_rs 0.3 graph, f32 cosine)",
        }
    }
}

pub(crate) fn run(args: &HnswBenchArgs) -> anyhow::Result<()> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start the build threads")?;
    let vectors = read_f32_matrix(&args.vectors)?;
    let queries = read_f32_matrix(&args.queries)?;
    ensure!(
        vectors.cols == queries.cols,
        "vectors have {} dimensions, queries {}",
        vectors.cols,
        queries.cols
    );
    ensure!(
        vectors.rows > 0 && queries.rows > 0,
        "no vectors or no queries"
    );
    let (n, dim) = (vectors.rows, vectors.cols);
    let raw_mib = mib(n * dim * 4);
    let rss_loaded = proc_status_mib("VmRSS:");
    eprintln!("pairwise: {n} vectors × {dim} ({raw_mib:.0} MiB raw), building…");

    let config = HnswConfig {
        m: args.m,
        ef_construction: args.ef_construction,
        ef_search: args.ef_search.first().copied().unwrap_or(64),
        max_elements: n,
        engine: args.engine.engine(),
    };
    let reused = args
        .reuse_index
        .as_ref()
        .filter(|dir| dir.join("hnsw.json").exists());
    let started = Instant::now();
    let index = match reused {
        Some(dir) => HnswIndex::open(dir)?,
        None => pool.install(|| build(&config, &vectors))?,
    };
    let build_seconds = reused.is_none().then(|| started.elapsed().as_secs_f64());
    if let (None, Some(dir)) = (reused, &args.reuse_index) {
        index.save(dir)?;
    }
    let rss_built = proc_status_mib("VmRSS:");
    let peak_built = proc_status_mib("VmHWM:");
    let index_mib = rss_built
        .zip(rss_loaded)
        .map(|(b, l)| b - l)
        .filter(|_| reused.is_none());
    eprintln!(
        "pairwise: {} in {:.1} s on {} threads, index ≈ {} MiB",
        if reused.is_some() { "opened" } else { "built" },
        started.elapsed().as_secs_f64(),
        pool.current_num_threads(),
        index_mib.map_or("?".to_owned(), |m| format!("{m:.0}"))
    );

    let truth = exact_neighbours(args, &vectors, &queries)?;
    // One untimed pass at the first ef warms caches and page tables, as hnswlib_bench.py does.
    if let Some(&first) = args.ef_search.first() {
        search_run(&index, &queries, &truth, (args.k, first), 0.0)?;
    }
    let mut runs = Vec::new();
    for &ef in &args.ef_search {
        let run = search_run(&index, &queries, &truth, (args.k, ef), args.min_seconds)?;
        eprintln!(
            "pairwise: ef {ef:>4}  recall@{} {:.4}  {:.0} QPS",
            args.k, run.recall, run.qps
        );
        runs.push(serde_json::json!({
            "ef_search": ef,
            "recall": run.recall,
            "qps": run.qps,
            "seconds": run.seconds,
            "queries_timed": run.queries_timed,
        }));
    }
    let result = serde_json::json!({
        "bench": "hnsw",
        "engine": "pairwise",
        "engine_detail": args.engine.detail(),
        "vectors": args.vectors.display().to_string(),
        "queries": args.queries.display().to_string(),
        "n": n,
        "dim": dim,
        "n_queries": queries.rows,
        "k": args.k,
        "m": args.m,
        "ef_construction": args.ef_construction,
        "build_threads": pool.current_num_threads(),
        "search_threads": 1,
        "build_seconds": build_seconds,
        "raw_vectors_mib": raw_mib,
        "rss_after_load_mib": rss_loaded,
        "rss_after_build_mib": rss_built,
        "index_mib": index_mib,
        "index_over_raw": index_mib.map(|m| m / raw_mib),
        "peak_rss_after_build_mib": peak_built,
        "peak_rss_mib": proc_status_mib("VmHWM:"),
        "runs": runs,
        "commit": env!("PAIRWISE_COMMIT"),
    });
    if let Some(path) = &args.json {
        write_json(path, &result).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Inserts every row, in batches, with the calling pool's threads.
fn build(config: &HnswConfig, vectors: &Matrix<f32>) -> anyhow::Result<HnswIndex> {
    const BATCH: usize = 10_000;
    let mut index = config.build(vectors.cols, Distance::Cosine)?;
    for start in (0..vectors.rows).step_by(BATCH) {
        let stop = (start + BATCH).min(vectors.rows);
        let batch: Vec<(DocIndex, &[f32])> = (start..stop).map(|i| (i, vectors.row(i))).collect();
        index.insert_batch(&batch)?;
    }
    Ok(index)
}

/// The exact top-k of every query: read from `--truth` when that file exists, else computed
/// with [`FlatIndex`] (in parallel) and written there.
fn exact_neighbours(
    args: &HnswBenchArgs,
    vectors: &Matrix<f32>,
    queries: &Matrix<f32>,
) -> anyhow::Result<Vec<Vec<DocIndex>>> {
    if let Some(path) = args.truth.as_ref().filter(|p| p.exists()) {
        let truth = read_i32_matrix(path)?;
        ensure!(
            truth.rows == queries.rows && truth.cols >= args.k,
            "{} has shape ({}, {}), expected ({}, ≥{})",
            path.display(),
            truth.rows,
            truth.cols,
            queries.rows,
            args.k
        );
        return (0..truth.rows)
            .map(|q| {
                truth.row(q)[..args.k]
                    .iter()
                    .map(|&d| usize::try_from(d).context("negative neighbour id"))
                    .collect()
            })
            .collect();
    }
    let started = Instant::now();
    let mut flat = FlatIndex::new(vectors.cols, Distance::Cosine)?;
    flat.add_all(&vectors.data)?;
    let truth: Vec<Vec<DocIndex>> = (0..queries.rows)
        .into_par_iter()
        .map(|q| {
            let hits = flat.search(queries.row(q), args.k)?;
            Ok(hits.into_iter().map(|hit| hit.doc).collect())
        })
        .collect::<anyhow::Result<_>>()?;
    eprintln!(
        "pairwise: exact neighbours in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.truth {
        let flat_ids: Vec<i32> = truth
            .iter()
            .flatten()
            .map(|&d| i32::try_from(d))
            .collect::<Result<_, _>>()?;
        let mut out = std::io::BufWriter::new(fs_err::File::create(path)?);
        write_i32_matrix(&mut out, queries.rows, args.k, &flat_ids)?;
        std::io::Write::flush(&mut out)?;
    }
    Ok(truth)
}

struct SearchRun {
    recall: f64,
    qps: f64,
    seconds: f64,
    queries_timed: usize,
}

/// Every query on this thread at `ef`, the whole set again until `min_seconds` have passed:
/// mean recall@k of the first pass against `truth`, and throughput over all of them.
fn search_run(
    index: &HnswIndex,
    queries: &Matrix<f32>,
    truth: &[Vec<DocIndex>],
    (k, ef): (usize, usize),
    min_seconds: f64,
) -> anyhow::Result<SearchRun> {
    let mut found = Vec::with_capacity(queries.rows);
    let started = Instant::now();
    for q in 0..queries.rows {
        found.push(index.search_with_ef(queries.row(q), k, ef, None)?);
    }
    let mut queries_timed = queries.rows;
    while started.elapsed().as_secs_f64() < min_seconds {
        for q in 0..queries.rows {
            std::hint::black_box(index.search_with_ef(queries.row(q), k, ef, None)?);
        }
        queries_timed += queries.rows;
    }
    let seconds = started.elapsed().as_secs_f64();
    let hits: usize = found
        .iter()
        .zip(truth)
        .map(|(hits, exact)| hits.iter().filter(|h| exact.contains(&h.doc)).count())
        .sum();
    Ok(SearchRun {
        recall: hits as f64 / (queries.rows * k) as f64,
        qps: queries_timed as f64 / seconds,
        seconds,
        queries_timed,
    })
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// A `/proc/self/status` memory line (`VmRSS:`, `VmHWM:`) in MiB, on Linux.
fn proc_status_mib(key: &str) -> Option<f64> {
    let status = fs_err::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

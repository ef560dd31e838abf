//! One module per subcommand; the shared model options live here.

pub(crate) mod bench;
pub(crate) mod bench_hnsw;
pub(crate) mod bench_open;
pub(crate) mod embed;
pub(crate) mod eval_pairs;
pub(crate) mod eval_retrieval;
pub(crate) mod eval_sts;
pub(crate) mod eval_verify;
pub(crate) mod index_build;
pub(crate) mod report;
pub(crate) mod search;
pub(crate) mod train;
pub(crate) mod train_faces;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use pairwise_trainer::{DeviceChoice, EncoderOptions, Precision, SentenceEncoder};

use crate::data_source;

/// Options that pick and run a model, shared by every command that encodes text.
#[derive(Debug, Clone, Args)]
pub(crate) struct ModelArgs {
    /// Model folder in sentence-transformers format [default: the embedded all-MiniLM-L6-v2]
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Maximum tokens per text, special tokens included
    #[arg(long, default_value_t = 256)]
    max_length: usize,
    /// Texts per forward pass
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// auto, cpu, cuda or cuda:N
    #[arg(long, default_value = "auto", value_parser = clap::value_parser!(DeviceChoice))]
    device: DeviceChoice,
    /// Weight precision: f32 or bf16
    #[arg(long, default_value = "f32", value_parser = clap::value_parser!(Precision))]
    dtype: Precision,
}

impl ModelArgs {
    /// The model folder: `--model`, else the one the set-up fetched.
    pub(crate) fn model_dir(&self) -> anyhow::Result<PathBuf> {
        match &self.model {
            Some(dir) => Ok(dir.clone()),
            None => data_source::default_model_dir(),
        }
    }

    /// Loads the encoder for a collection: `--model` when given, else the model recorded in
    /// the collection's manifest.
    pub(crate) fn load_for_collection(
        &self,
        collection: &pairwise_index::Collection,
    ) -> anyhow::Result<SentenceEncoder> {
        match (&self.model, &collection.config().model_id) {
            (None, Some(recorded)) => {
                let with_model = Self {
                    model: Some(PathBuf::from(recorded)),
                    ..self.clone()
                };
                with_model.load()
            }
            _ => self.load(),
        }
    }

    /// Loads the encoder these options describe.
    pub(crate) fn load(&self) -> anyhow::Result<SentenceEncoder> {
        let dir = self.model_dir()?;
        let options = EncoderOptions {
            max_length: Some(self.max_length),
            batch_size: self.batch_size,
            device: self.device,
            precision: self.dtype,
        };
        SentenceEncoder::load(&dir, options)
            .with_context(|| format!("cannot load the model in {}", dir.display()))
    }

    /// A JSON description of the options, for result files.
    pub(crate) fn describe(&self, encoder: &SentenceEncoder) -> serde_json::Value {
        serde_json::json!({
            "model": self.model_dir().map(|d| d.display().to_string()).unwrap_or_default(),
            "max_length": self.max_length,
            "batch_size": self.batch_size,
            "device": format!("{:?}", encoder.device()).to_lowercase(),
            "dtype": self.dtype.to_string(),
        })
    }
}

/// `pairwise eval …`
#[derive(Debug, Subcommand)]
pub(crate) enum EvalCommand {
    /// Retrieval on a BEIR data set: nDCG@10, MRR@10, recall@100, MAP@100 and pooled AUC.
    Retrieval(eval_retrieval::RetrievalArgs),
    /// Semantic textual similarity: Spearman × 100 between cosine and gold scores.
    Sts(eval_sts::StsArgs),
    /// Face verification of image pairs: AUC, EER, TAR@FAR, 10-fold accuracy.
    Verify(eval_verify::VerifyArgs),
    /// Labelled text pairs (TSV label, text_a, text_b): ROC of their cosine scores.
    Pairs(eval_pairs::PairsArgs),
}

impl EvalCommand {
    pub(crate) fn run(&self) -> anyhow::Result<()> {
        match self {
            Self::Retrieval(args) => eval_retrieval::run(args),
            Self::Sts(args) => eval_sts::run(args),
            Self::Verify(args) => eval_verify::run(args),
            Self::Pairs(args) => eval_pairs::run(args),
        }
    }
}

/// `pairwise index …`
#[derive(Debug, Subcommand)]
pub(crate) enum IndexCommand {
    /// Embed a BEIR corpus and fill a new collection (HNSW + BM25) with it.
    Build(index_build::IndexBuildArgs),
}

impl IndexCommand {
    pub(crate) fn run(&self) -> anyhow::Result<()> {
        match self {
            Self::Build(args) => index_build::run(args),
        }
    }
}

/// `pairwise bench …`
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Corpus encoding throughput (documents per second) and peak memory.
    Encode(bench::EncodeBenchArgs),
    /// HNSW build time, memory, recall@k and single-thread QPS on `.npy` vectors.
    Hnsw(bench_hnsw::HnswBenchArgs),
    /// Time to open a collection (load its snapshot, replay its log).
    Open(bench_open::OpenBenchArgs),
}

impl BenchCommand {
    pub(crate) fn run(&self) -> anyhow::Result<()> {
        match self {
            Self::Encode(args) => bench::run_encode(args),
            Self::Hnsw(args) => bench_hnsw::run(args),
            Self::Open(args) => bench_open::run(args),
        }
    }
}

/// Writes `value` as pretty JSON to `path`, creating parent folders.
pub(crate) fn write_json(path: &std::path::Path, value: &serde_json::Value) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs_err::create_dir_all(parent)?;
    }
    fs_err::write(path, serde_json::to_string_pretty(value)? + "\n")?;
    Ok(())
}

/// Encodes texts with a progress bar labelled `what` on stderr.
pub(crate) fn encode_with_bar<S: AsRef<str> + Sync>(
    encoder: &SentenceEncoder,
    texts: &[S],
    what: &str,
) -> anyhow::Result<pairwise_trainer::Embeddings> {
    let bar = crate::progress::bar(texts.len(), what);
    let embeddings = encoder.encode_with_progress(texts, |n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    Ok(embeddings)
}

//! `pairwise embed`: texts in, embeddings out as JSONL or `.npy`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pairwise_datasets::{read_texts, read_texts_from, TextInputLimits};

use crate::commands::{encode_with_bar, ModelArgs};
use crate::npy;

/// Arguments of `pairwise embed`.
#[derive(Debug, Args)]
pub(crate) struct EmbedArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Text file (one text per line) or JSONL with a "text" field; `-` reads stdin
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Output file: `.npy` (float32 [n, dim]) or JSONL; stdout (JSONL) when omitted
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Longest accepted input line, in bytes
    #[arg(long, default_value_t = TextInputLimits::default().max_line_bytes)]
    max_line_bytes: usize,
}

pub(crate) fn run(args: &EmbedArgs) -> anyhow::Result<()> {
    let limits = TextInputLimits {
        max_line_bytes: args.max_line_bytes,
    };
    let texts = if args.input.as_os_str() == "-" {
        read_texts_from(std::io::stdin().lock(), "<stdin>", limits)?
    } else {
        read_texts(&args.input, limits)?
    };
    let encoder = args.model.load()?;
    let embeddings = encode_with_bar(&encoder, &texts, "embedding")?;
    let is_npy = args
        .output
        .as_ref()
        .is_some_and(|p| p.extension().is_some_and(|e| e == "npy"));
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::new(fs_err::File::create(path)?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let target = args
        .output
        .as_ref()
        .map_or("stdout".to_owned(), |p| p.display().to_string());
    let written = if is_npy {
        npy::write_f32_matrix(
            &mut out,
            embeddings.len(),
            embeddings.dim(),
            embeddings.as_flat(),
        )
    } else {
        texts
            .iter()
            .zip(embeddings.rows())
            .try_for_each(|(text, row)| {
                let line = serde_json::json!({ "text": text, "embedding": row });
                writeln!(out, "{line}")
            })
    };
    written
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {target}"))?;
    tracing::info!(texts = texts.len(), dim = embeddings.dim(), "embedded");
    Ok(())
}

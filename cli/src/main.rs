//! `pairwise`: train embedding models, evaluate them and serve semantic search.

mod allocator;
mod commands;
mod data_source;
mod metrics_log;
mod npy;
mod npy_read;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Train embedding models, evaluate them and serve semantic search.
#[derive(Debug, Parser)]
#[command(name = "pairwise", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Embed texts (one per line, or JSONL with a "text" field) into JSONL or .npy.
    Embed(commands::embed::EmbedArgs),
    /// Evaluate a model: retrieval on a BEIR data set, STS correlation, labelled pairs, few-shot
    /// accuracy or face verification.
    #[command(subcommand)]
    Eval(commands::EvalCommand),
    /// Train a sentence encoder, a few-shot image embedder or a face embedder from a TOML
    /// experiment file (see configs/).
    Train(commands::train::TrainArgs),
    /// Build collections.
    #[command(subcommand)]
    Index(commands::IndexCommand),
    /// Search a collection by text: dense, BM25 or hybrid.
    Search(commands::search::SearchArgs),
    /// Turn evaluation JSON(s) from `pairwise eval …` into one HTML report.
    Report(commands::report::ReportArgs),
    /// Serve collections over HTTP: search, documents, embeddings and evaluation.
    Serve(commands::serve::ServeArgs),
    /// Measure throughput against the documented peers.
    #[command(subcommand)]
    Bench(commands::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server logs its requests and lifecycle; the batch commands only warnings. The graph
    // library's own info lines (one per loaded layer) are noise for both.
    let default_filter = match cli.command {
        Command::Serve(_) => "info,hnsw_rs=warn",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("PAIRWISE_LOG")
                .unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    allocator::keep_freed_memory_for_reuse();
    let result = match cli.command {
        Command::Embed(args) => commands::embed::run(&args),
        Command::Eval(command) => command.run(),
        Command::Train(args) => commands::train::run(&args),
        Command::Index(command) => command.run(),
        Command::Search(args) => commands::search::run(&args),
        Command::Serve(args) => commands::serve::run(&args),
        Command::Bench(command) => command.run(),
        Command::Report(args) => commands::report::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line: `outer: inner: root`.
fn one_line(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ").replace('\n', " ")
}

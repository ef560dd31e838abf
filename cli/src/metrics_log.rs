//! The `metrics.jsonl` of a training run: one JSON event per line, flushed as written so that it
//! can be followed during the run. A write error is kept and reported once at the end, so that a
//! full disk does not abort the training step that hit it.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

/// An open `metrics.jsonl`.
pub(crate) struct MetricsLog {
    path: PathBuf,
    writer: BufWriter<fs_err::File>,
    error: Option<std::io::Error>,
}

impl MetricsLog {
    /// Creates `run_dir/metrics.jsonl`, or appends to it (a resumed run continues its log).
    pub(crate) fn open(run_dir: &Path, append: bool) -> anyhow::Result<Self> {
        let path = run_dir.join("metrics.jsonl");
        let file = fs_err::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&path)?;
        Ok(Self {
            path,
            writer: BufWriter::new(file),
            error: None,
        })
    }

    /// Writes one event as a line; the first failure is kept for [`MetricsLog::finish`].
    pub(crate) fn write(&mut self, event: &impl Serialize) {
        if self.error.is_some() {
            return;
        }
        let written = serde_json::to_writer(&mut self.writer, event)
            .map_err(std::io::Error::from)
            .and_then(|()| self.writer.write_all(b"\n"))
            .and_then(|()| self.writer.flush());
        if let Err(e) = written {
            self.error = Some(e);
        }
    }

    /// Flushes, and reports the first write error, naming the file.
    pub(crate) fn finish(mut self) -> anyhow::Result<()> {
        let flushed = self.writer.flush();
        match self.error.take().map_or(flushed, Err) {
            Ok(()) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot write {}", self.path.display())),
        }
    }
}

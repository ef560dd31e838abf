//! The error type shared by every reader in this crate.

use std::io;
use std::path::{Path, PathBuf};

/// Result alias used throughout the crate.
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;

/// Everything that can go wrong while reading a data set.
///
/// Every variant names the file (or the display name given for a non-file
/// reader such as stdin) and, where one applies, the 1-based line number.
/// The `Display` form is a single line such as
/// `/data/scifact/corpus.jsonl:17: missing field "_id"`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// Reading or opening the file failed.
    #[error("{}", io_message(path, source))]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// A line could not be parsed.
    #[error("{}:{line}: {reason}", path.display())]
    Malformed {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },
    /// A line is not valid UTF-8.
    #[error("{}:{line}: line is not valid UTF-8", path.display())]
    NotUtf8 {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A line is longer than the configured limit.
    #[error("{}:{line}: line is longer than {max_bytes} bytes", path.display())]
    LineTooLong {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The limit that was exceeded.
        max_bytes: usize,
    },
    /// The file holds no records at all.
    #[error("{}: file contains no records", path.display())]
    Empty {
        /// The file that was read.
        path: PathBuf,
    },
    /// A file or directory the data set needs does not exist.
    #[error("{}: missing {what}", path.display())]
    MissingFile {
        /// The path that was expected.
        path: PathBuf,
        /// What the path should have held, e.g. `BEIR corpus`.
        what: String,
    },
    /// The requested qrels split has no file.
    #[error(
        "{}: no qrels split {split:?} (available splits: {})",
        path.display(),
        list_or_none(available)
    )]
    MissingSplit {
        /// The qrels file that was expected.
        path: PathBuf,
        /// The split that was asked for.
        split: String,
        /// The splits that do exist, sorted.
        available: Vec<String>,
    },
    /// Files of one data set disagree with each other (e.g. qrels name a
    /// query that `queries.jsonl` lacks).
    #[error("{}: {reason}", path.display())]
    Inconsistent {
        /// The file whose content refers to something missing.
        path: PathBuf,
        /// What is inconsistent.
        reason: String,
    },
    /// An image cannot be decoded, or does not fit the requested size and channels.
    #[error("{}: {reason}", path.display())]
    BadImage {
        /// The image file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl DatasetError {
    /// The file (or display name) the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. }
            | Self::Malformed { path, .. }
            | Self::NotUtf8 { path, .. }
            | Self::LineTooLong { path, .. }
            | Self::Empty { path }
            | Self::MissingFile { path, .. }
            | Self::MissingSplit { path, .. }
            | Self::Inconsistent { path, .. }
            | Self::BadImage { path, .. } => path,
        }
    }

    /// The 1-based line number, for errors tied to one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Malformed { line, .. }
            | Self::NotUtf8 { line, .. }
            | Self::LineTooLong { line, .. } => Some(*line),
            _ => None,
        }
    }

    pub(crate) fn malformed(path: &Path, line: usize, reason: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.to_path_buf(),
            line,
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `fs_err` errors already name the path; avoid printing it twice.
fn io_message(path: &Path, source: &io::Error) -> String {
    let message = source.to_string();
    let shown = path.display().to_string();
    if message.contains(&shown) {
        message
    } else {
        format!("{shown}: {message}")
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_display_is_one_line_with_path_and_line() {
        let err =
            DatasetError::malformed(Path::new("/d/corpus.jsonl"), 17, "missing field \"_id\"");
        assert_eq!(err.to_string(), "/d/corpus.jsonl:17: missing field \"_id\"");
        assert_eq!(err.line(), Some(17));
        assert_eq!(err.path(), Path::new("/d/corpus.jsonl"));
    }

    #[test]
    fn io_display_does_not_repeat_the_path() {
        let path = Path::new("/nonexistent/dir/file.txt");
        let source = fs_err::File::open(path).err().unwrap();
        let err = DatasetError::io(path, source);
        let text = err.to_string();
        assert_eq!(
            text.matches("/nonexistent/dir/file.txt").count(),
            1,
            "{text}"
        );

        let plain = DatasetError::io(Path::new("<stdin>"), io::Error::other("boom"));
        assert_eq!(plain.to_string(), "<stdin>: boom");
        assert_eq!(plain.line(), None);
    }

    #[test]
    fn missing_split_lists_available_splits() {
        let err = DatasetError::MissingSplit {
            path: PathBuf::from("/d/qrels/dev.tsv"),
            split: "dev".to_owned(),
            available: vec!["test".to_owned(), "train".to_owned()],
        };
        assert_eq!(
            err.to_string(),
            "/d/qrels/dev.tsv: no qrels split \"dev\" (available splits: test, train)"
        );
    }
}

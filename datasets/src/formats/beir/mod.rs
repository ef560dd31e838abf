//! The BEIR retrieval layout: `corpus.jsonl`, `queries.jsonl` and
//! `qrels/<split>.tsv`.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::jsonl::{id_field, parse_object, string_field};
use super::lines::{Line, LineReader};
use super::{open_buffered, MAX_RECORD_BYTES};
use crate::{DatasetError, Document, Qrels, Query, Result, RetrievalSet};

const CORPUS_FILE: &str = "corpus.jsonl";
const QUERIES_FILE: &str = "queries.jsonl";
const QRELS_DIR: &str = "qrels";

/// A BEIR data set directory.
///
/// Opening only checks that the expected files exist; records are read on
/// demand, and [`BeirDataset::corpus`] streams the corpus line by line.
#[derive(Debug, Clone)]
pub struct BeirDataset {
    dir: PathBuf,
}

impl BeirDataset {
    /// Opens the data set in `dir`, checking that `corpus.jsonl`,
    /// `queries.jsonl` and the `qrels/` directory exist.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            return Err(missing(&dir, "BEIR data set directory"));
        }
        let dataset = Self { dir };
        for (path, what) in [
            (dataset.corpus_path(), "BEIR corpus file"),
            (dataset.queries_path(), "BEIR queries file"),
        ] {
            if !path.is_file() {
                return Err(missing(&path, what));
            }
        }
        let qrels_dir = dataset.dir.join(QRELS_DIR);
        if !qrels_dir.is_dir() {
            return Err(missing(&qrels_dir, "BEIR qrels directory"));
        }
        Ok(dataset)
    }

    /// The data set directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of `corpus.jsonl`.
    pub fn corpus_path(&self) -> PathBuf {
        self.dir.join(CORPUS_FILE)
    }

    /// Path of `queries.jsonl`.
    pub fn queries_path(&self) -> PathBuf {
        self.dir.join(QUERIES_FILE)
    }

    /// Path of the qrels file for `split` (it may not exist).
    pub fn qrels_path(&self, split: &str) -> PathBuf {
        self.dir.join(QRELS_DIR).join(format!("{split}.tsv"))
    }

    /// Streams the corpus, one [`Document`] per non-blank line.
    pub fn corpus(&self) -> Result<CorpusReader> {
        CorpusReader::open(self.corpus_path())
    }

    /// Streams the queries, one [`Query`] per non-blank line.
    pub fn query_reader(&self) -> Result<QueryReader> {
        QueryReader::open(self.queries_path())
    }

    /// Reads all queries, in file order.
    pub fn queries(&self) -> Result<Vec<Query>> {
        let queries = self.query_reader()?.collect::<Result<Vec<_>>>()?;
        if queries.is_empty() {
            return Err(DatasetError::Empty {
                path: self.queries_path(),
            });
        }
        Ok(queries)
    }

    /// Names of the qrels splits present (`qrels/<name>.tsv`), sorted.
    ///
    /// An unreadable `qrels/` directory yields an empty list.
    pub fn splits(&self) -> Vec<String> {
        let Ok(entries) = fs_err::read_dir(self.dir.join(QRELS_DIR)) else {
            return Vec::new();
        };
        let mut splits: Vec<String> = entries
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path())
            .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "tsv"))
            .filter_map(|path| path.file_stem()?.to_str().map(str::to_owned))
            .collect();
        splits.sort();
        splits
    }

    /// Reads the relevance judgments of `split` (`qrels/<split>.tsv`).
    pub fn qrels(&self, split: &str) -> Result<Qrels> {
        let path = self.qrels_path(split);
        if !path.is_file() {
            return Err(DatasetError::MissingSplit {
                path,
                split: split.to_owned(),
                available: self.splits(),
            });
        }
        read_qrels(&path)
    }

    /// Loads the corpus, the queries judged in `split` (in file order) and
    /// the split's qrels, checking that every judged query and document exists.
    pub fn load_split(&self, split: &str) -> Result<RetrievalSet> {
        let qrels = self.qrels(split)?;
        let corpus = self.corpus()?.collect::<Result<Vec<_>>>()?;
        if corpus.is_empty() {
            return Err(DatasetError::Empty {
                path: self.corpus_path(),
            });
        }
        let queries: Vec<Query> = self
            .queries()?
            .into_iter()
            .filter(|query| qrels.contains_key(&query.id))
            .collect();
        check_references(&self.qrels_path(split), &qrels, &corpus, &queries)?;
        Ok(RetrievalSet {
            corpus,
            queries,
            qrels,
        })
    }
}

fn missing(path: &Path, what: &str) -> DatasetError {
    DatasetError::MissingFile {
        path: path.to_path_buf(),
        what: what.to_owned(),
    }
}

/// Streaming reader of BEIR `corpus.jsonl` records.
///
/// Yields `Err` for the first malformed line (including a duplicate `_id`)
/// and then stops.
pub struct CorpusReader(RecordReader<Document>);

impl CorpusReader {
    /// Opens a `corpus.jsonl` file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        RecordReader::open(path.as_ref()).map(Self)
    }

    /// Reads corpus records from any buffered reader; `name` labels errors.
    pub fn from_reader<R: BufRead + Send + 'static>(reader: R, name: impl AsRef<Path>) -> Self {
        Self(RecordReader::new(Box::new(reader), name.as_ref()))
    }
}

impl Iterator for CorpusReader {
    type Item = Result<Document>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_record()
    }
}

/// Streaming reader of BEIR `queries.jsonl` records.
///
/// Yields `Err` for the first malformed line (including a duplicate `_id`)
/// and then stops.
pub struct QueryReader(RecordReader<Query>);

impl QueryReader {
    /// Opens a `queries.jsonl` file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        RecordReader::open(path.as_ref()).map(Self)
    }

    /// Reads query records from any buffered reader; `name` labels errors.
    pub fn from_reader<R: BufRead + Send + 'static>(reader: R, name: impl AsRef<Path>) -> Self {
        Self(RecordReader::new(Box::new(reader), name.as_ref()))
    }
}

impl Iterator for QueryReader {
    type Item = Result<Query>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_record()
    }
}

/// A BEIR JSONL record with an `_id`.
trait Record: Sized {
    /// Used in duplicate-id messages.
    const KIND: &'static str;
    fn parse(line: &Line<'_>) -> Result<Self>;
    fn id(&self) -> &str;
}

#[derive(Deserialize)]
struct RawDocument {
    #[serde(rename = "_id")]
    id: Option<Value>,
    title: Option<String>,
    text: Option<String>,
}

impl Record for Document {
    const KIND: &'static str = "document";

    fn parse(line: &Line<'_>) -> Result<Self> {
        let raw: RawDocument = parse_object(line)?;
        Ok(Self {
            id: id_field(line, "_id", raw.id)?,
            title: raw.title,
            text: string_field(line, "text", raw.text)?,
        })
    }

    fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Deserialize)]
struct RawQuery {
    #[serde(rename = "_id")]
    id: Option<Value>,
    text: Option<String>,
}

impl Record for Query {
    const KIND: &'static str = "query";

    fn parse(line: &Line<'_>) -> Result<Self> {
        let raw: RawQuery = parse_object(line)?;
        Ok(Self {
            id: id_field(line, "_id", raw.id)?,
            text: string_field(line, "text", raw.text)?,
        })
    }

    fn id(&self) -> &str {
        &self.id
    }
}

struct RecordReader<T> {
    lines: LineReader<Box<dyn BufRead + Send>>,
    /// id → line it was first seen on.
    seen: HashMap<String, usize>,
    finished: bool,
    record: PhantomData<fn() -> T>,
}

impl<T: Record> RecordReader<T> {
    fn open(path: &Path) -> Result<Self> {
        Ok(Self::new(Box::new(open_buffered(path)?), path))
    }

    fn new(reader: Box<dyn BufRead + Send>, name: &Path) -> Self {
        Self {
            lines: LineReader::new(reader, name.to_path_buf(), MAX_RECORD_BYTES),
            seen: HashMap::new(),
            finished: false,
            record: PhantomData,
        }
    }

    fn next_record(&mut self) -> Option<Result<T>> {
        if self.finished {
            return None;
        }
        let result = self.read_record();
        if !matches!(result, Ok(Some(_))) {
            self.finished = true;
        }
        result.transpose()
    }

    fn read_record(&mut self) -> Result<Option<T>> {
        while let Some(line) = self.lines.next_line()? {
            if line.is_blank() {
                continue;
            }
            let record = T::parse(&line)?;
            match self.seen.entry(record.id().to_owned()) {
                Entry::Occupied(first) => {
                    return Err(line.malformed(format!(
                        "duplicate {} id {:?} (first seen on line {})",
                        T::KIND,
                        record.id(),
                        first.get()
                    )));
                }
                Entry::Vacant(slot) => {
                    slot.insert(line.number);
                }
            }
            return Ok(Some(record));
        }
        Ok(None)
    }
}

/// Reads a `query-id<TAB>corpus-id<TAB>score` file; a first line starting
/// with `query-id` is a header and skipped.
fn read_qrels(path: &Path) -> Result<Qrels> {
    let mut lines = LineReader::new(open_buffered(path)?, path.to_path_buf(), MAX_RECORD_BYTES);
    let mut qrels = Qrels::new();
    while let Some(line) = lines.next_line()? {
        if line.is_blank() || (line.number == 1 && line.text.starts_with("query-id")) {
            continue;
        }
        let (query, doc, score) = parse_qrel(&line)?;
        match qrels
            .entry(query.to_owned())
            .or_default()
            .entry(doc.to_owned())
        {
            Entry::Occupied(_) => {
                return Err(line.malformed(format!(
                    "duplicate judgment for query {query:?} and document {doc:?}"
                )));
            }
            Entry::Vacant(slot) => {
                slot.insert(score);
            }
        }
    }
    if qrels.is_empty() {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(qrels)
}

fn parse_qrel<'a>(line: &Line<'a>) -> Result<(&'a str, &'a str, i32)> {
    let fields: Vec<&str> = line.text.split('\t').map(str::trim).collect();
    let [query, doc, score] = fields.as_slice() else {
        return Err(line.malformed(format!(
            "expected 3 tab-separated columns (query-id, corpus-id, score), found {}",
            fields.len()
        )));
    };
    if query.is_empty() || doc.is_empty() {
        return Err(line.malformed("empty query-id or corpus-id"));
    }
    let score = score
        .parse::<i32>()
        .map_err(|_| line.malformed(format!("score {score:?} is not an integer")))?;
    Ok((query, doc, score))
}

/// Every judged query must be in `queries` and every judged document in `corpus`.
fn check_references(
    qrels_path: &Path,
    qrels: &Qrels,
    corpus: &[Document],
    queries: &[Query],
) -> Result<()> {
    let query_ids: HashSet<&str> = queries.iter().map(|q| q.id.as_str()).collect();
    let doc_ids: HashSet<&str> = corpus.iter().map(|d| d.id.as_str()).collect();
    let inconsistent = |reason: String| DatasetError::Inconsistent {
        path: qrels_path.to_path_buf(),
        reason,
    };
    let missing_query = qrels
        .keys()
        .filter(|q| !query_ids.contains(q.as_str()))
        .min();
    if let Some(query) = missing_query {
        return Err(inconsistent(format!(
            "query id {query:?} has judgments but is not in {QUERIES_FILE}"
        )));
    }
    let missing_doc = qrels
        .iter()
        .flat_map(|(query, docs)| docs.keys().map(move |doc| (doc, query)))
        .filter(|(doc, _)| !doc_ids.contains(doc.as_str()))
        .min();
    if let Some((doc, query)) = missing_doc {
        return Err(inconsistent(format!(
            "document id {doc:?} (judged for query {query:?}) is not in {CORPUS_FILE}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

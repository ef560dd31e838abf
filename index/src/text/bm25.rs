//! BM25 keyword search over titles and bodies, on tantivy.

use std::fmt;
use std::path::Path;

use tantivy::directory::{Directory, MmapDirectory, RamDirectory};
use tantivy::schema::{TantivyDocument, Term};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};

use crate::error::{IndexError, Result};
use crate::hit::{DocIndex, Hit};
use crate::text::analyzer::Analyzer;
use crate::text::config::{read_manifest, write_manifest, Bm25Config, BM25_MANIFEST_FILE};
use crate::text::query::QueryBuilder;
use crate::text::schema::TextSchema;
use crate::text::top_k;

/// One document to index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextDoc<'a> {
    /// Our position for the document; hits report it, and [`Bm25Index::delete`] takes it.
    pub doc: DocIndex,
    /// The document's external id (e.g. a BEIR `_id`), stored verbatim.
    pub id: &'a str,
    /// Optional title, searched with [`Bm25Config::title_boost`].
    pub title: Option<&'a str>,
    /// Body text.
    pub text: &'a str,
}

/// A BM25 keyword index over document titles and bodies.
///
/// Scores are tantivy's BM25 (k1 = 1.2, b = 0.75, fixed by tantivy), summed over the title
/// (times [`Bm25Config::title_boost`]) and the body; higher is better.
///
/// Additions and deletions are buffered: searches and [`len`](Self::len) see them, durably
/// stored, only after [`commit`](Self::commit). Dropping the index drops uncommitted changes.
/// The writer, which locks an on-disk index against other writers, is started by the first
/// change, so any number of readers may [`open`](Self::open) the same directory.
///
/// ```
/// use pairwise_index::{Bm25Config, Bm25Index, TextDoc};
///
/// let mut index = Bm25Index::create_in_ram(Bm25Config::default())?;
/// index.add(&[
///     TextDoc { doc: 0, id: "a", title: Some("Cats"), text: "Cats chase mice." },
///     TextDoc { doc: 1, id: "b", title: None, text: "Dogs are running home." },
/// ])?;
/// index.commit()?;
/// let hits = index.search("a dog runs", 10, None)?;
/// assert_eq!(hits.len(), 1);
/// assert_eq!(hits[0].doc, 1);
/// # Ok::<(), pairwise_index::IndexError>(())
/// ```
pub struct Bm25Index {
    index: Index,
    /// The files of an index held in memory, which [`save_copy`](Self::save_copy) writes out.
    ram: Option<RamDirectory>,
    reader: IndexReader,
    writer: Option<IndexWriter>,
    fields: TextSchema,
    queries: QueryBuilder,
    config: Bm25Config,
}

impl Bm25Index {
    /// Creates an empty index in `dir` (created if missing), with its manifest.
    ///
    /// # Errors
    /// An invalid `config`, a directory that already holds an index, or an IO failure.
    pub fn create(dir: impl AsRef<Path>, config: Bm25Config) -> Result<Self> {
        let dir = dir.as_ref();
        config.validate()?;
        fs_err::create_dir_all(dir)?;
        let fields = TextSchema::build(config.analyzer);
        let index =
            Index::create_in_dir(dir, fields.schema.clone()).map_err(IndexError::tantivy)?;
        write_manifest(dir, &config)?;
        Self::from_index(index, None, fields, config)
    }

    /// Opens the index that [`create`](Self::create) made in `dir`, committed state only.
    ///
    /// # Errors
    /// A missing or unreadable manifest or index, or one written with another format or schema.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let config = read_manifest(dir)?;
        let index = Index::open_in_dir(dir).map_err(IndexError::tantivy)?;
        let fields = TextSchema::build(config.analyzer);
        fields.check(&index.schema(), dir)?;
        Self::from_index(index, None, fields, config)
    }

    /// Loads the index in `dir` (written by [`create`](Self::create) or
    /// [`save_copy`](Self::save_copy)) into memory: later changes stay in memory and never
    /// touch `dir`.
    ///
    /// The files must be intact (a collection checks them against its snapshot's checksums
    /// first): tantivy reads them as they are.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_in_ram(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let config = read_manifest(dir)?;
        let ram = RamDirectory::create();
        for entry in fs_err::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let is_lock = name.to_str().is_some_and(|n| n.ends_with(".lock"));
            if !entry.file_type()?.is_file() || is_lock || name == BM25_MANIFEST_FILE {
                continue;
            }
            let bytes = fs_err::read(entry.path())?;
            ram.atomic_write(Path::new(&name), &bytes)?;
        }
        let index = Index::open(ram.clone()).map_err(IndexError::tantivy)?;
        let fields = TextSchema::build(config.analyzer);
        fields.check(&index.schema(), dir)?;
        Self::from_index(index, Some(ram), fields, config)
    }

    /// An empty index held in memory.
    ///
    /// # Errors
    /// An invalid `config`.
    pub fn create_in_ram(config: Bm25Config) -> Result<Self> {
        config.validate()?;
        let fields = TextSchema::build(config.analyzer);
        let ram = RamDirectory::create();
        let index = Index::builder()
            .schema(fields.schema.clone())
            .open_or_create(ram.clone())
            .map_err(IndexError::tantivy)?;
        Self::from_index(index, Some(ram), fields, config)
    }

    /// Writes the committed state of an index held in memory into the folder `dir` (created
    /// if needed, and which must hold no index yet), with its manifest, as an ordinary index
    /// folder that [`open`](Self::open) and [`open_in_ram`](Self::open_in_ram) read. Pending
    /// changes are committed first, and background merges are waited for, so that the files
    /// written are exactly those of one commit. The files are written but not fsynced: the
    /// caller syncs the folder (a collection snapshot syncs its whole generation).
    ///
    /// # Errors
    /// [`IndexError::InvalidParameter`] for an index that lives on disk already (copy its
    /// folder instead); a failed commit; IO failures.
    pub fn save_copy(&mut self, dir: &Path) -> Result<()> {
        let Some(ram) = self.ram.clone() else {
            return Err(IndexError::InvalidParameter(
                "only an in-memory text index can be copied out".to_owned(),
            ));
        };
        self.commit()?;
        if let Some(writer) = self.writer.take() {
            writer.wait_merging_threads().map_err(IndexError::tantivy)?;
        }
        fs_err::create_dir_all(dir)?;
        let target = MmapDirectory::open(dir).map_err(|e| IndexError::Tantivy(Box::new(e)))?;
        ram.persist(&target).map_err(IndexError::tantivy)?;
        write_manifest(dir, &self.config)
    }

    fn from_index(
        index: Index,
        ram: Option<RamDirectory>,
        fields: TextSchema,
        config: Bm25Config,
    ) -> Result<Self> {
        Analyzer::register_all(index.tokenizers())?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(IndexError::tantivy)?;
        let queries = QueryBuilder::new(
            &index,
            &fields,
            config.analyzer,
            config.query_syntax,
            config.title_boost,
        )?;
        Ok(Self {
            index,
            ram,
            reader,
            writer: None,
            fields,
            queries,
            config,
        })
    }

    /// The settings the index was created with.
    pub fn config(&self) -> &Bm25Config {
        &self.config
    }

    /// The number of documents as of the last [`commit`](Self::commit).
    pub fn len(&self) -> usize {
        usize::try_from(self.reader.searcher().num_docs()).unwrap_or(usize::MAX)
    }

    /// Whether the index held no documents at the last [`commit`](Self::commit).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds documents, replacing any already indexed under the same [`DocIndex`] (within
    /// `docs`, the last one wins). Visible after [`commit`](Self::commit).
    ///
    /// # Errors
    /// The writer cannot start (another process holds the directory's lock) or has failed.
    pub fn add(&mut self, docs: &[TextDoc<'_>]) -> Result<()> {
        let fields = self.fields.clone();
        let writer = self.writer()?;
        for doc in docs {
            writer.delete_term(doc_term(&fields, doc.doc));
            let mut document = TantivyDocument::new();
            document.add_u64(fields.doc, doc.doc as u64);
            document.add_text(fields.id, doc.id);
            if let Some(title) = doc.title {
                document.add_text(fields.title, title);
            }
            document.add_text(fields.body, doc.text);
            writer.add_document(document).map_err(IndexError::tantivy)?;
        }
        Ok(())
    }

    /// Deletes the document indexed under `doc`, if any, at the next
    /// [`commit`](Self::commit); later searches never return it.
    ///
    /// # Errors
    /// As [`add`](Self::add).
    pub fn delete(&mut self, doc: DocIndex) -> Result<()> {
        let term = doc_term(&self.fields, doc);
        self.writer()?.delete_term(term);
        Ok(())
    }

    /// Makes every change so far durable and visible to searches.
    ///
    /// # Errors
    /// Writing the index failed; the changes since the last commit are then lost.
    pub fn commit(&mut self) -> Result<()> {
        if let Some(writer) = self.writer.as_mut() {
            writer.commit().map_err(IndexError::tantivy)?;
            self.reader.reload().map_err(IndexError::tantivy)?;
        }
        Ok(())
    }

    /// The `k` best documents for `query`, best first (ties by lower [`DocIndex`]), among
    /// those `filter` accepts (all when `None`).
    ///
    /// The query is read as [`Bm25Config::query_syntax`] says; in either syntax, no string
    /// is malformed, so punctuation, quotes, colons and brackets never cause an error. A
    /// query with nothing to score (only stop words or punctuation, or only `-excluded` words
    /// in [`QuerySyntax::Structured`](crate::QuerySyntax::Structured)) matches nothing;
    /// `k == 0` returns no hits.
    ///
    /// # Errors
    /// [`IndexError::EmptyQuery`] when `query` is empty or whitespace (a caller bug, unlike a
    /// query that analyses to nothing); a failure reading the index.
    pub fn search(
        &self,
        query: &str,
        k: usize,
        filter: Option<&dyn Fn(DocIndex) -> bool>,
    ) -> Result<Vec<Hit>> {
        if query.trim().is_empty() {
            return Err(IndexError::EmptyQuery);
        }
        if k == 0 {
            return Ok(Vec::new());
        }
        match self.queries.build(query) {
            Some(parsed) => top_k::search(&self.reader.searcher(), parsed.as_ref(), k, filter),
            None => Ok(Vec::new()),
        }
    }

    fn writer(&mut self) -> Result<&mut IndexWriter> {
        let writer = match self.writer.take() {
            Some(writer) => writer,
            None => self
                .index
                .writer(self.config.writer_memory_bytes)
                .map_err(IndexError::tantivy)?,
        };
        Ok(self.writer.insert(writer))
    }
}

impl fmt::Debug for Bm25Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bm25Index")
            .field("config", &self.config)
            .field("len", &self.len())
            .field("writing", &self.writer.is_some())
            .finish_non_exhaustive()
    }
}

/// The term that identifies the document indexed under `doc`.
fn doc_term(fields: &TextSchema, doc: DocIndex) -> Term {
    // `usize` is at most 64 bits on every supported target, so the cast is lossless.
    Term::from_field_u64(fields.doc, doc as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::query::QuerySyntax;
    use proptest::prelude::*;

    const DOCS: [(&str, Option<&str>, &str); 4] = [
        (
            "d0",
            Some("Marathon training"),
            "She runs every morning before work.",
        ),
        (
            "d1",
            None,
            "Running shoes wear out after a few hundred miles.",
        ),
        (
            "d2",
            Some("Vitamin D"),
            "Vitamin D deficiency and bone density in the elderly.",
        ),
        (
            "d3",
            None,
            "0-dimensional biomaterials show inductive properties.",
        ),
    ];

    fn index_with(config: Bm25Config) -> Bm25Index {
        let mut index = Bm25Index::create_in_ram(config).unwrap();
        index.add(&text_docs()).unwrap();
        index.commit().unwrap();
        index
    }

    fn text_docs() -> Vec<TextDoc<'static>> {
        DOCS.iter()
            .enumerate()
            .map(|(doc, &(id, title, text))| TextDoc {
                doc,
                id,
                title,
                text,
            })
            .collect()
    }

    fn english() -> Bm25Index {
        index_with(Bm25Config::default())
    }

    fn docs(index: &Bm25Index, query: &str) -> Vec<DocIndex> {
        let hits = index.search(query, 10, None).unwrap();
        hits.iter().map(|h| h.doc).collect()
    }

    #[test]
    fn english_stems_and_simple_does_not() {
        let mut found = docs(&english(), "running");
        found.sort_unstable();
        assert_eq!(
            found,
            [0, 1],
            "\"running\" should match \"runs\" and \"Running\""
        );
        let simple = index_with(Bm25Config {
            analyzer: Analyzer::Simple,
            ..Bm25Config::default()
        });
        assert_eq!(docs(&simple, "running"), [1]);
    }

    #[test]
    fn scores_are_positive_and_ranked() {
        let hits = english()
            .search("vitamin deficiency bone", 10, None)
            .unwrap();
        assert_eq!(hits[0].doc, 2);
        assert!(hits.iter().all(|h| h.score > 0.0));
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn title_boost_lifts_title_matches() {
        let mut index = Bm25Index::create_in_ram(Bm25Config {
            title_boost: 5.0,
            ..Bm25Config::default()
        })
        .unwrap();
        index
            .add(&[
                TextDoc {
                    doc: 0,
                    id: "a",
                    title: None,
                    text: "cells cells cells divide",
                },
                TextDoc {
                    doc: 1,
                    id: "b",
                    title: Some("cells"),
                    text: "they divide",
                },
            ])
            .unwrap();
        index.commit().unwrap();
        assert_eq!(docs(&index, "cells"), [1, 0]);
    }

    #[test]
    fn changes_show_only_after_commit() {
        let mut index = Bm25Index::create_in_ram(Bm25Config::default()).unwrap();
        assert!(index.is_empty());
        index.add(&text_docs()).unwrap();
        assert!(index.is_empty());
        assert!(docs(&index, "vitamin").is_empty());
        index.commit().unwrap();
        assert_eq!(index.len(), DOCS.len());
        assert_eq!(docs(&index, "vitamin"), [2]);
    }

    #[test]
    fn deleted_documents_never_return() {
        let mut index = english();
        index.delete(2).unwrap();
        index.delete(99).unwrap();
        index.commit().unwrap();
        assert_eq!(index.len(), DOCS.len() - 1);
        assert!(docs(&index, "vitamin bone elderly").is_empty());
        let mut all = docs(&index, "runs shoes biomaterials vitamin");
        all.sort_unstable();
        assert_eq!(all, [0, 1, 3]);
    }

    #[test]
    fn adding_a_doc_index_again_replaces_it() {
        let mut index = english();
        let doc = TextDoc {
            doc: 2,
            id: "d2",
            title: None,
            text: "calcium intake",
        };
        index
            .add(&[
                doc,
                TextDoc {
                    text: "calcium supplements",
                    ..doc
                },
            ])
            .unwrap();
        index.commit().unwrap();
        assert_eq!(index.len(), DOCS.len());
        assert!(docs(&index, "vitamin").is_empty());
        assert!(docs(&index, "intake").is_empty());
        assert_eq!(docs(&index, "calcium supplements"), [2]);
    }

    #[test]
    fn filter_hides_rejected_documents() {
        let index = english();
        let odd_only = |doc: DocIndex| doc % 2 == 1;
        let hits = index
            .search("running vitamin biomaterials", 10, Some(&odd_only))
            .unwrap();
        let found: Vec<DocIndex> = hits.iter().map(|h| h.doc).collect();
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|&d| odd_only(d)), "{found:?}");
        let none = |_: DocIndex| false;
        assert!(index.search("vitamin", 10, Some(&none)).unwrap().is_empty());
    }

    #[test]
    fn reopened_index_gives_the_same_results() {
        let dir = tempfile::tempdir().unwrap();
        let config = Bm25Config {
            analyzer: Analyzer::Simple,
            title_boost: 2.0,
            ..Bm25Config::default()
        };
        let queries = ["running", "vitamin d", "0-dimensional"];
        let before: Vec<Vec<Hit>> = {
            let mut index = Bm25Index::create(dir.path(), config.clone()).unwrap();
            index.add(&text_docs()).unwrap();
            index.commit().unwrap();
            queries
                .iter()
                .map(|q| index.search(q, 10, None).unwrap())
                .collect()
        };
        let reopened = Bm25Index::open(dir.path()).unwrap();
        assert_eq!(reopened.config(), &config);
        assert_eq!(reopened.len(), DOCS.len());
        for (query, expected) in queries.iter().zip(&before) {
            assert_eq!(
                &reopened.search(query, 10, None).unwrap(),
                expected,
                "{query}"
            );
        }
        assert!(Bm25Index::create(dir.path(), config).is_err());
    }

    #[test]
    fn a_saved_copy_reloads_into_memory_with_the_same_results() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy");
        let mut index = english();
        index.delete(1).unwrap();
        index.commit().unwrap();
        let queries = ["running", "vitamin d", "0-dimensional", "shoes"];
        let before: Vec<Vec<Hit>> = queries
            .iter()
            .map(|q| index.search(q, 10, None).unwrap())
            .collect();
        index.save_copy(&copy).unwrap();
        // The source keeps working after its writer was shut down for the copy.
        index.add(&[text_docs()[1]]).unwrap();
        index.commit().unwrap();
        assert_eq!(index.len(), DOCS.len());

        for reloaded in [
            Bm25Index::open_in_ram(&copy).unwrap(),
            Bm25Index::open(&copy).unwrap(),
        ] {
            assert_eq!(reloaded.len(), DOCS.len() - 1);
            for (query, expected) in queries.iter().zip(&before) {
                assert_eq!(
                    &reloaded.search(query, 10, None).unwrap(),
                    expected,
                    "{query}"
                );
            }
        }
        let files_before = fs_err::read_dir(&copy).unwrap().count();
        let mut in_ram = Bm25Index::open_in_ram(&copy).unwrap();
        in_ram.add(&[text_docs()[1]]).unwrap();
        in_ram.commit().unwrap();
        assert_eq!(in_ram.len(), DOCS.len());
        assert_eq!(docs(&in_ram, "shoes"), [1]);
        assert_eq!(fs_err::read_dir(&copy).unwrap().count(), files_before);
        assert_eq!(Bm25Index::open_in_ram(&copy).unwrap().len(), DOCS.len() - 1);

        let on_disk = dir.path().join("disk");
        let mut disk = Bm25Index::create(&on_disk, Bm25Config::default()).unwrap();
        assert!(matches!(
            disk.save_copy(&dir.path().join("other")),
            Err(IndexError::InvalidParameter(_))
        ));
    }

    #[test]
    fn opening_a_directory_without_an_index_fails() {
        let dir = tempfile::tempdir().unwrap();
        let err = Bm25Index::open(dir.path()).unwrap_err();
        assert!(matches!(err, IndexError::Io(_)), "{err}");
        assert!(err.to_string().contains(crate::BM25_MANIFEST_FILE), "{err}");
    }

    #[test]
    fn words_syntax_has_no_operators() {
        let index = english();
        assert_eq!(docs(&index, "-vitamin"), [2]);
        assert_eq!(docs(&index, "\"density bone\""), [2]);
        assert_eq!(docs(&index, "text:vitamin"), [2]);
    }

    #[test]
    fn structured_syntax_honours_operators() {
        let index = index_with(Bm25Config {
            query_syntax: QuerySyntax::Structured,
            ..Bm25Config::default()
        });
        for query in [
            "-vitamin",
            "-vitamin -runs the",
            "vitamin -elderly",
            "\"density bone\"",
        ] {
            assert!(index.search(query, 5, None).unwrap().is_empty(), "{query}");
        }
        assert_eq!(docs(&index, "bone -shoes"), [2]);
        assert_eq!(docs(&index, "\"bone density\""), [2]);
        assert_eq!(docs(&index, "title:marathon"), [0]);
        assert!(docs(&index, "title:shoes").is_empty());
    }

    #[test]
    fn tricky_queries_do_not_error() {
        let structured = index_with(Bm25Config {
            query_syntax: QuerySyntax::Structured,
            ..Bm25Config::default()
        });
        for index in [english(), structured] {
            tricky_queries_do_not_error_in(&index);
        }
    }

    fn tricky_queries_do_not_error_in(index: &Bm25Index) {
        for query in [
            "0-dimensional biomaterials lack inductive properties.",
            "ratio: 2:1 (approx.) \"unterminated",
            "title: id: doc:abc doc:-5 \"\" () [ ] { } ^ ~ * ? \\ / ' ` !",
            "AND OR NOT + - && || : ::",
            "β-catenin (CTNNB1) ↑ in 50% of tumours — p < 0.05",
            "IN [a TO b} title:(x OR",
            "\u{0}\u{7f}",
        ] {
            assert!(index.search(query, 5, None).is_ok(), "{query:?}");
        }
        let claim = "0-dimensional biomaterials lack inductive properties.";
        assert_eq!(index.search(claim, 5, None).unwrap()[0].doc, 3);
    }

    #[test]
    fn blank_queries_are_errors_and_stop_words_match_nothing() {
        let index = english();
        for query in ["", "   ", "\n\t"] {
            assert!(matches!(
                index.search(query, 5, None),
                Err(IndexError::EmptyQuery)
            ));
        }
        for query in ["the of and", "the", "?!"] {
            assert!(index.search(query, 5, None).unwrap().is_empty(), "{query}");
        }
        assert!(index.search("vitamin", 0, None).unwrap().is_empty());
        assert_eq!(index.search("vitamin", usize::MAX, None).unwrap().len(), 1);
    }

    #[test]
    fn invalid_config_is_rejected_before_creating_anything() {
        let config = Bm25Config {
            writer_memory_bytes: 0,
            ..Bm25Config::default()
        };
        assert!(matches!(
            Bm25Index::create_in_ram(config),
            Err(IndexError::InvalidParameter(_))
        ));
    }

    #[test]
    fn index_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Bm25Index>();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_non_blank_query_searches_without_error(query in "\\PC{1,40}", structured: bool) {
            let index = index_with(Bm25Config {
                query_syntax: if structured { QuerySyntax::Structured } else { QuerySyntax::Words },
                ..Bm25Config::default()
            });
            let result = index.search(&query, 3, None);
            prop_assert!(result.is_ok() || query.trim().is_empty(), "{:?}: {:?}", query, result);
        }
    }
}

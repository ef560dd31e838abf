use std::io::Cursor;

use tempfile::TempDir;

use super::*;

const CORPUS: &str = concat!(
    r#"{"_id": "d1", "title": "First", "text": "One.", "metadata": {}}"#,
    "\n",
    r#"{"_id": 2, "title": null, "text": "Two."}"#,
    "\n\n",
    r#"{"_id": "d3", "text": "Three."}"#,
    "\n",
);

const QUERIES: &str = concat!(
    r#"{"_id": "q1", "text": "first?", "metadata": {}}"#,
    "\n",
    r#"{"_id": "q2", "text": "second?"}"#,
    "\n",
    r#"{"_id": "q3", "text": "third?"}"#,
    "\n",
);

fn fixture(corpus: &str, queries: &str, splits: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new().unwrap();
    fs_err::write(dir.path().join(CORPUS_FILE), corpus).unwrap();
    fs_err::write(dir.path().join(QUERIES_FILE), queries).unwrap();
    fs_err::create_dir(dir.path().join(QRELS_DIR)).unwrap();
    for (split, content) in splits {
        fs_err::write(
            dir.path().join(QRELS_DIR).join(format!("{split}.tsv")),
            content,
        )
        .unwrap();
    }
    dir
}

fn standard() -> TempDir {
    fixture(
        CORPUS,
        QUERIES,
        &[
            (
                "test",
                "query-id\tcorpus-id\tscore\nq3\td1\t1\nq1\t2\t2\nq1\td3\t0\n",
            ),
            ("train", "q2\td1\t1\n"),
        ],
    )
}

fn corpus_error(corpus: &str) -> DatasetError {
    let dir = fixture(corpus, QUERIES, &[]);
    let dataset = BeirDataset::open(dir.path()).unwrap();
    let results: Vec<_> = dataset.corpus().unwrap().collect();
    let last = results.into_iter().last().unwrap();
    last.unwrap_err()
}

fn qrels_error(qrels: &str) -> DatasetError {
    let dir = fixture(CORPUS, QUERIES, &[("test", qrels)]);
    BeirDataset::open(dir.path())
        .unwrap()
        .qrels("test")
        .unwrap_err()
}

#[test]
fn open_reports_each_missing_piece() {
    let dir = TempDir::new().unwrap();
    let err = BeirDataset::open(dir.path().join("nope")).unwrap_err();
    assert!(matches!(err, DatasetError::MissingFile { .. }), "{err}");
    assert!(
        err.to_string()
            .ends_with("nope: missing BEIR data set directory"),
        "{err}"
    );

    let err = BeirDataset::open(dir.path()).unwrap_err();
    assert_eq!(err.path(), dir.path().join(CORPUS_FILE));

    fs_err::write(dir.path().join(CORPUS_FILE), CORPUS).unwrap();
    let err = BeirDataset::open(dir.path()).unwrap_err();
    assert_eq!(err.path(), dir.path().join(QUERIES_FILE));

    fs_err::write(dir.path().join(QUERIES_FILE), QUERIES).unwrap();
    let err = BeirDataset::open(dir.path()).unwrap_err();
    assert_eq!(err.path(), dir.path().join(QRELS_DIR));
    assert!(
        err.to_string()
            .ends_with("qrels: missing BEIR qrels directory"),
        "{err}"
    );
}

#[test]
fn corpus_streams_documents_with_optional_titles_and_numeric_ids() {
    let dir = standard();
    let dataset = BeirDataset::open(dir.path()).unwrap();
    let docs: Vec<Document> = dataset.corpus().unwrap().collect::<Result<_>>().unwrap();
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[0].title.as_deref(), Some("First"));
    assert_eq!(docs[0].beir_text(), "First One.");
    assert_eq!(docs[1].id, "2");
    assert_eq!(docs[1].title, None);
    assert_eq!(docs[2].title, None);
    assert_eq!(docs[2].beir_text(), "Three.");
}

#[test]
fn corpus_missing_id_names_file_and_line() {
    let corpus = format!("{CORPUS}{}\n", r#"{"text": "no id"}"#);
    let err = corpus_error(&corpus);
    assert_eq!(err.line(), Some(5));
    let want = format!("{}:5: missing field \"_id\"", err.path().display());
    assert_eq!(err.to_string(), want);
    assert!(err.path().ends_with(CORPUS_FILE));
}

#[test]
fn corpus_missing_text_and_bad_json_are_errors() {
    let err = corpus_error("{\"_id\": \"a\"}\n");
    assert!(
        err.to_string()
            .ends_with("corpus.jsonl:1: missing field \"text\""),
        "{err}"
    );
    let err = corpus_error(&format!("{CORPUS}{{\"_id\": \"x\", \n"));
    assert_eq!(err.line(), Some(5), "{err}");
}

#[test]
fn corpus_duplicate_id_reports_both_lines() {
    let corpus = format!("{CORPUS}{}\n", r#"{"_id": "2", "text": "again"}"#);
    let err = corpus_error(&corpus);
    assert!(
        err.to_string()
            .ends_with(":5: duplicate document id \"2\" (first seen on line 2)"),
        "{err}"
    );
}

#[test]
fn corpus_reader_stops_after_the_first_error() {
    let input = "{\"_id\": \"a\", \"text\": \"x\"}\nnot json\n{\"_id\": \"b\", \"text\": \"y\"}\n";
    let mut reader = CorpusReader::from_reader(Cursor::new(input), "<mem>");
    assert!(reader.next().unwrap().is_ok());
    let err = reader.next().unwrap().unwrap_err();
    assert_eq!(err.to_string(), "<mem>:2: expected a JSON object");
    assert!(reader.next().is_none());
}

#[test]
fn queries_are_read_in_order_and_duplicates_rejected() {
    let dir = standard();
    let dataset = BeirDataset::open(dir.path()).unwrap();
    let ids: Vec<String> = dataset
        .queries()
        .unwrap()
        .into_iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(ids, ["q1", "q2", "q3"]);

    let input = format!("{QUERIES}\n{}\n", r#"{"_id": "q1", "text": "dup"}"#);
    let err = QueryReader::from_reader(Cursor::new(input), "<q>")
        .collect::<Result<Vec<_>>>()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "<q>:5: duplicate query id \"q1\" (first seen on line 1)"
    );
}

#[test]
fn empty_queries_file_is_an_error() {
    let dir = fixture(CORPUS, "\n\n", &[]);
    let err = BeirDataset::open(dir.path())
        .unwrap()
        .queries()
        .unwrap_err();
    assert!(matches!(err, DatasetError::Empty { .. }), "{err}");
}

#[test]
fn qrels_with_and_without_header() {
    let dir = standard();
    let dataset = BeirDataset::open(dir.path()).unwrap();
    let test = dataset.qrels("test").unwrap();
    assert_eq!(test.len(), 2);
    assert_eq!(test["q1"]["2"], 2);
    assert_eq!(test["q1"]["d3"], 0);
    assert_eq!(test["q3"]["d1"], 1);
    let train = dataset.qrels("train").unwrap();
    assert_eq!(train["q2"]["d1"], 1);
    assert_eq!(dataset.splits(), ["test", "train"]);
}

#[test]
fn qrels_bad_score_names_the_line() {
    let err = qrels_error("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td3\thigh\n");
    assert!(
        err.to_string()
            .ends_with("test.tsv:3: score \"high\" is not an integer"),
        "{err}"
    );
}

#[test]
fn qrels_wrong_column_count_names_the_line() {
    let err = qrels_error("q1\td1\t1\n\nq1 d3 1\n");
    assert_eq!(err.line(), Some(3));
    assert!(err.to_string().contains("found 1"), "{err}");
    let err = qrels_error("q1\td1\t1\t9\n");
    assert!(
        err.to_string()
            .contains("test.tsv:1: expected 3 tab-separated"),
        "{err}"
    );
}

#[test]
fn qrels_header_only_on_line_one() {
    let err = qrels_error("q1\td1\t1\nquery-id\tcorpus-id\tscore\n");
    assert_eq!(err.line(), Some(2));
}

#[test]
fn qrels_duplicate_pair_and_empty_file_are_errors() {
    let err = qrels_error("q1\td1\t1\nq1\td1\t1\n");
    assert_eq!(err.line(), Some(2));
    assert!(err.to_string().contains("duplicate judgment"), "{err}");
    let err = qrels_error("query-id\tcorpus-id\tscore\n");
    assert!(matches!(err, DatasetError::Empty { .. }), "{err}");
}

#[test]
fn missing_split_lists_the_available_ones() {
    let dir = standard();
    let err = BeirDataset::open(dir.path())
        .unwrap()
        .qrels("dev")
        .unwrap_err();
    assert!(
        matches!(&err, DatasetError::MissingSplit { path, available, .. }
            if path.ends_with("qrels/dev.tsv") && available == &["test", "train"]),
        "{err:?}"
    );
    assert!(
        err.to_string().ends_with("(available splits: test, train)"),
        "{err}"
    );
}

#[test]
fn load_split_keeps_judged_queries_in_file_order() {
    let dir = standard();
    let set = BeirDataset::open(dir.path())
        .unwrap()
        .load_split("test")
        .unwrap();
    assert_eq!(set.corpus.len(), 3);
    let ids: Vec<&str> = set.queries.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["q1", "q3"]);
    assert_eq!(set.qrels.len(), 2);
}

#[test]
fn load_split_rejects_dangling_references() {
    let dir = fixture(
        CORPUS,
        QUERIES,
        &[("a", "q9\td1\t1\n"), ("b", "q1\tzz\t1\n")],
    );
    let dataset = BeirDataset::open(dir.path()).unwrap();
    let err = dataset.load_split("a").unwrap_err();
    assert!(
        err.to_string()
            .ends_with("a.tsv: query id \"q9\" has judgments but is not in queries.jsonl"),
        "{err}"
    );
    let err = dataset.load_split("b").unwrap_err();
    assert!(
        err.to_string()
            .ends_with("document id \"zz\" (judged for query \"q1\") is not in corpus.jsonl"),
        "{err}"
    );
}

//! Streaming readers for the data sets pairwise trains and evaluates on.
//!
//! * [`BeirDataset`]: BEIR retrieval layout (`corpus.jsonl`, `queries.jsonl`,
//!   `qrels/<split>.tsv`), with a streaming [`CorpusReader`] and
//!   [`BeirDataset::load_split`] for evaluation.
//! * [`read_sts`]: STS Benchmark files as [`ScoredPair`]s;
//!   [`read_labelled_pairs`]: `label<TAB>text_a<TAB>text_b` files.
//! * [`read_texts`] / [`read_texts_from`]: texts to embed, plain lines or JSONL.
//! * Training data as [`TrainingExample`]s (query, positive, hard negatives):
//!   [`beir_training_examples`] from a BEIR split, [`read_training_jsonl`]
//!   for JSONL pair/triplet files, [`read_nli_triplets`] for SNLI
//!   (premise, entailment, contradiction) triplets.
//! * [`NoDuplicatesBatchSampler`]: seeded batches in which no text appears
//!   in two examples; [`ClassBalancedBatchSampler`]: seeded P×K batches
//!   (P classes, K items each).
//! * Images: [`ImageFolder`] (one sub-folder per class or identity) and
//!   [`load_image`] (PNG, PGM, JPEG; centre crop, resize, grey/RGB).
//! * Face verification pairs: [`read_face_pairs`] (LFW `pairs.txt`, LFW TSV,
//!   generic TSV), [`exclude_pair_identities`] for the identity split,
//!   [`all_pairs`] for held-out identities.
//!
//! Files are read line by line as bytes. Every malformed input gives a
//! [`DatasetError`] naming the file and the 1-based line number, e.g.
//! `/data/scifact/corpus.jsonl:17: missing field "_id"`.
//!
//! ```no_run
//! use pairwise_datasets::{read_sts, BeirDataset};
//!
//! # fn main() -> pairwise_datasets::Result<()> {
//! let scifact = BeirDataset::open("/data/scifact")?;
//! for doc in scifact.corpus()? {
//!     let doc = doc?;
//!     let _text = doc.beir_text();
//! }
//! let test = scifact.load_split("test")?;
//! assert_eq!(test.queries.len(), test.qrels.len());
//!
//! let sts_test = read_sts("/data/stsb/sts-test.csv")?;
//! # let _ = sts_test;
//! # Ok(())
//! # }
//! ```
//!
//! Reading texts from any [`std::io::BufRead`], such as stdin:
//!
//! ```
//! use pairwise_datasets::{read_texts_from, DatasetError, TextInputLimits};
//!
//! let input = "first text\n\n{not json but plain text}\r\n";
//! let texts = read_texts_from(input.as_bytes(), "<stdin>", TextInputLimits::default())?;
//! assert_eq!(texts, ["first text", "{not json but plain text}"]);
//!
//! let err = read_texts_from(&b"ok\n\xFF\n"[..], "<stdin>", TextInputLimits::default())
//!     .unwrap_err();
//! assert_eq!(err.to_string(), "<stdin>:2: line is not valid UTF-8");
//! # Ok::<(), DatasetError>(())
//! ```

mod error;
mod example;
mod formats;
mod samplers;

pub use error::{DatasetError, Result};
pub use example::{
    Document, LabelledPair, Qrels, Query, RetrievalSet, ScoredPair, TrainingExample,
};
pub use formats::{
    all_pairs, beir_training_examples, beir_training_pairs, check_pair_images,
    exclude_pair_identities, lfw_image_path, load_image, pair_identities, present_pairs,
    read_face_pairs, read_labelled_pairs, read_nli_triplets, read_sts, read_texts, read_texts_from,
    read_training_jsonl, write_face_pairs, BeirDataset, Channels, CorpusReader, FacePair, Image,
    ImageFolder, ImageItem, ImageOptions, QueryReader, SizePolicy, TextInputLimits,
    DEFAULT_MAX_LINE_BYTES, GENERIC_PAIRS_HEADER, IMAGE_EXTENSIONS, LFW_TSV_HEADER,
    MAX_RECORD_BYTES,
};
pub use samplers::{
    ClassBalancedBatchSampler, NoDuplicatesBatchSampler, SamplerError, SmallClassPolicy,
};

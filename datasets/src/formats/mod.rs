//! Readers for the on-disk formats pairwise understands.
//!
//! * `beir`: BEIR retrieval layout (`corpus.jsonl`, `queries.jsonl`, `qrels/*.tsv`).
//! * `sts`: STS Benchmark files and generic `label<TAB>a<TAB>b` pair files.
//! * `text_lines`: input texts for embedding, plain lines or JSONL.
//! * `training`: training examples from BEIR splits, JSONL and NLI files.
//! * `face_pairs`: face verification pairs (LFW `pairs.txt`, LFW TSV, generic TSV), identity split.
//! * `image_folder`: class-per-folder image sets and image decoding (crop, resize, grey/RGB).
//! * `jsonl` and `lines`: shared line reading and JSON record helpers.

mod beir;
mod face_pairs;
mod image_folder;
mod jsonl;
mod lines;
mod sts;
mod text_lines;
mod training;

pub use beir::{BeirDataset, CorpusReader, QueryReader};
pub use face_pairs::{
    all_pairs, check_pair_images, exclude_pair_identities, lfw_image_path, pair_identities,
    present_pairs, read_face_pairs, write_face_pairs, FacePair, GENERIC_PAIRS_HEADER,
    LFW_TSV_HEADER,
};
pub use image_folder::{
    load_image, Channels, Image, ImageFolder, ImageItem, ImageOptions, SizePolicy, IMAGE_EXTENSIONS,
};
pub use sts::{read_labelled_pairs, read_sts};
pub use text_lines::{read_texts, read_texts_from, TextInputLimits, DEFAULT_MAX_LINE_BYTES};
pub use training::{
    beir_training_examples, beir_training_pairs, read_nli_triplets, read_training_jsonl,
};

/// Longest line the structured readers (BEIR, STS, pairs) accept, in bytes.
///
/// It bounds memory on corrupt input (e.g. a binary file without newlines);
/// real records are far smaller.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Opens `path` for buffered reading, mapping errors to [`crate::DatasetError::Io`].
fn open_buffered(path: &std::path::Path) -> crate::Result<std::io::BufReader<fs_err::File>> {
    fs_err::File::open(path)
        .map(std::io::BufReader::new)
        .map_err(|source| crate::DatasetError::io(path, source))
}

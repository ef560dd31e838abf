//! (premise, entailment, contradiction) triplets from SNLI-style files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::super::lines::LineReader;
use super::super::{open_buffered, MAX_RECORD_BYTES};
use crate::{DatasetError, Result, TrainingExample};

/// The hypotheses seen for one premise, each list de-duplicated and in file
/// order.
#[derive(Debug, Default)]
struct PremiseGroup {
    premise: String,
    entailments: Vec<String>,
    contradictions: Vec<String>,
}

/// Reads NLI training triplets from the SentEval SNLI layout in `dir`:
/// line-aligned files `s1.<split>` (premises), `s2.<split>` (hypotheses) and
/// `labels.<split>` (`entailment`, `neutral` or `contradiction`), e.g.
/// `split = "dev"` or `"test"`.
///
/// Sentences are trimmed (the SentEval files end every line with a space).
/// Rows are grouped by exact premise text, in order of first appearance;
/// within a group, repeated hypotheses count once. A premise with at least
/// one entailment and one contradiction gives **one triplet per entailment
/// hypothesis** `(premise, entailment[i], contradiction[i % n])`, where `n`
/// is the premise's number of contradictions: every entailment is used once
/// and the contradictions are cycled, a deterministic version of
/// sentence-transformers' NLI recipe (which picks a random contradiction).
/// Neutral rows, rows labelled `-` (no gold label) and rows blank in all three
/// files are skipped.
///
/// # Errors
///
/// * [`DatasetError::MissingFile`] when one of the three files is absent;
/// * [`DatasetError::Inconsistent`] when the files have different line
///   counts (the message names both files and their counts);
/// * [`DatasetError::Malformed`] for an unknown label (in the labels file) or
///   a blank premise or hypothesis (in `s1`/`s2`), with the line number;
/// * [`DatasetError::Empty`] (naming the labels file) when no premise has
///   both an entailment and a contradiction;
/// * [`DatasetError::Io`], [`DatasetError::NotUtf8`] or
///   [`DatasetError::LineTooLong`] for unreadable input.
pub fn read_nli_triplets(dir: impl AsRef<Path>, split: &str) -> Result<Vec<TrainingExample>> {
    let dir = dir.as_ref();
    let premises_path = dir.join(format!("s1.{split}"));
    let hypotheses_path = dir.join(format!("s2.{split}"));
    let labels_path = dir.join(format!("labels.{split}"));
    let premises = read_column(&premises_path, "NLI premises file")?;
    let hypotheses = read_column(&hypotheses_path, "NLI hypotheses file")?;
    let labels = read_column(&labels_path, "NLI labels file")?;
    check_aligned(
        &premises_path,
        premises.len(),
        &hypotheses_path,
        hypotheses.len(),
    )?;
    check_aligned(&premises_path, premises.len(), &labels_path, labels.len())?;

    let mut groups: Vec<PremiseGroup> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (index, ((premise, hypothesis), label)) in premises
        .into_iter()
        .zip(hypotheses)
        .zip(&labels)
        .enumerate()
    {
        let line = index + 1;
        let is_entailment = match label.as_str() {
            "entailment" => true,
            "contradiction" => false,
            "neutral" | "-" => continue,
            "" if premise.is_empty() && hypothesis.is_empty() => continue,
            other => {
                return Err(DatasetError::malformed(
                    &labels_path,
                    line,
                    format!(
                        "label {other:?} is not \"entailment\", \"neutral\", \"contradiction\" or \"-\""
                    ),
                ));
            }
        };
        if premise.is_empty() {
            return Err(DatasetError::malformed(
                &premises_path,
                line,
                "premise is empty",
            ));
        }
        if hypothesis.is_empty() {
            return Err(DatasetError::malformed(
                &hypotheses_path,
                line,
                "hypothesis is empty",
            ));
        }
        let group = match group_of.get(&premise) {
            Some(&group) => group,
            None => {
                group_of.insert(premise.clone(), groups.len());
                groups.push(PremiseGroup {
                    premise,
                    ..PremiseGroup::default()
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[group];
        let list = if is_entailment {
            &mut group.entailments
        } else {
            &mut group.contradictions
        };
        if !list.contains(&hypothesis) {
            list.push(hypothesis);
        }
    }
    let triplets: Vec<TrainingExample> = groups.into_iter().flat_map(triplets_of).collect();
    if triplets.is_empty() {
        return Err(DatasetError::Empty { path: labels_path });
    }
    Ok(triplets)
}

/// One triplet per entailment, cycling through the contradictions.
fn triplets_of(group: PremiseGroup) -> Vec<TrainingExample> {
    let PremiseGroup {
        premise,
        entailments,
        contradictions,
    } = group;
    if contradictions.is_empty() {
        return Vec::new();
    }
    entailments
        .into_iter()
        .zip(contradictions.iter().cycle())
        .map(|(entailment, contradiction)| TrainingExample {
            query: premise.clone(),
            positive: entailment,
            negatives: vec![contradiction.clone()],
        })
        .collect()
}

/// All lines of `path`, trimmed, blank lines included (alignment matters).
fn read_column(path: &Path, what: &str) -> Result<Vec<String>> {
    if !path.is_file() {
        return Err(DatasetError::MissingFile {
            path: path.to_path_buf(),
            what: what.to_owned(),
        });
    }
    let mut lines = LineReader::new(open_buffered(path)?, path.to_path_buf(), MAX_RECORD_BYTES);
    let mut column = Vec::new();
    while let Some(line) = lines.next_line()? {
        column.push(line.text.trim().to_owned());
    }
    Ok(column)
}

fn check_aligned(first: &Path, first_len: usize, other: &Path, other_len: usize) -> Result<()> {
    if first_len == other_len {
        return Ok(());
    }
    Err(DatasetError::Inconsistent {
        path: PathBuf::from(other),
        reason: format!(
            "has {other_len} lines but {} has {first_len}; the s1/s2/labels files must be \
             line-aligned",
            first.display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use tempfile::TempDir;

    use super::*;

    /// Writes `s1.dev`, `s2.dev` and `labels.dev` from (premise, hypothesis, label) rows.
    fn snli_dir(rows: &[(&str, &str, &str)]) -> TempDir {
        let dir = TempDir::new().unwrap();
        for (index, name) in ["s1.dev", "s2.dev", "labels.dev"].into_iter().enumerate() {
            let content: String = rows
                .iter()
                .map(|row| format!("{} \n", [row.0, row.1, row.2][index]))
                .collect();
            fs_err::write(dir.path().join(name), content).unwrap();
        }
        dir
    }

    fn triplet(premise: &str, entailment: &str, contradiction: &str) -> TrainingExample {
        TrainingExample {
            query: premise.to_owned(),
            positive: entailment.to_owned(),
            negatives: vec![contradiction.to_owned()],
        }
    }

    #[test]
    fn groups_by_premise_and_cycles_contradictions() {
        let dir = snli_dir(&[
            ("A", "a-e1", "entailment"),
            ("A", "a-n", "neutral"),
            ("B", "b-e1", "entailment"),
            ("A", "a-c1", "contradiction"),
            ("A", "a-e2", "entailment"),
            ("A", "a-e3", "entailment"),
            ("A", "a-c2", "contradiction"),
            ("A", "a-e1", "entailment"),
            ("C", "c-c1", "contradiction"),
            ("B", "b-x", "-"),
            ("B", "b-c1", "contradiction"),
        ]);
        let triplets = read_nli_triplets(dir.path(), "dev").unwrap();
        assert_eq!(
            triplets,
            [
                triplet("A", "a-e1", "a-c1"),
                triplet("A", "a-e2", "a-c2"),
                triplet("A", "a-e3", "a-c1"),
                triplet("B", "b-e1", "b-c1"),
            ]
        );
    }

    #[test]
    fn misaligned_files_name_both_files() {
        let dir = snli_dir(&[("A", "e", "entailment"), ("A", "c", "contradiction")]);
        fs_err::write(dir.path().join("s2.dev"), "e\n").unwrap();
        let err = read_nli_triplets(dir.path(), "dev").unwrap_err();
        let s1 = dir.path().join("s1.dev");
        let s2 = dir.path().join("s2.dev");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: has 1 lines but {} has 2; the s1/s2/labels files must be line-aligned",
                s2.display(),
                s1.display()
            )
        );
        assert!(matches!(err, DatasetError::Inconsistent { .. }), "{err}");
    }

    #[test]
    fn bad_labels_and_blank_sentences_give_line_numbers() {
        let dir = snli_dir(&[("A", "e", "entailment"), ("A", "c", "contradictoin")]);
        let err = read_nli_triplets(dir.path(), "dev").unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
        assert_eq!(err.path(), dir.path().join("labels.dev"));
        assert!(err.to_string().contains("\"contradictoin\""), "{err}");

        let dir = snli_dir(&[("A", "e", "entailment"), ("A", " ", "contradiction")]);
        let err = read_nli_triplets(dir.path(), "dev").unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
        assert_eq!(err.path(), dir.path().join("s2.dev"));
    }

    #[test]
    fn missing_files_and_no_triplets_are_errors() {
        let dir = snli_dir(&[("A", "e", "entailment"), ("B", "c", "contradiction")]);
        let err = read_nli_triplets(dir.path(), "dev").unwrap_err();
        assert!(matches!(err, DatasetError::Empty { .. }), "{err}");
        let err = read_nli_triplets(dir.path(), "test").unwrap_err();
        assert!(matches!(err, DatasetError::MissingFile { .. }), "{err}");
        assert_eq!(err.path(), dir.path().join("s1.test"));
    }
}

//! How title and body text become index terms.

use serde::{Deserialize, Serialize};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    TokenizerManager,
};

use crate::error::{IndexError, Result};

/// Tokens longer than this many bytes are dropped (tantivy's default; they are mostly noise
/// such as base64 or long chemical names split oddly).
const MAX_TOKEN_BYTES: usize = 40;

/// The text analyser of a [`Bm25Index`](crate::Bm25Index), used for documents and queries.
///
/// Every analyser splits on characters that are not alphanumeric and drops tokens longer than
/// 40 bytes. A tokeniser that keeps the whole field as one token is not offered, as BM25 over
/// it would only match exact field values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Analyzer {
    /// Lowercase, remove Lucene's 33 English stop words, then apply the Snowball English
    /// (Porter2) stemmer: "running" and "runs" both become "run". Close to Lucene's
    /// `EnglishAnalyzer`, which Anserini's BM25 baselines use.
    #[default]
    English,
    /// Lowercase only: no stop words, no stemming.
    Simple,
}

impl Analyzer {
    /// Every analyser, so that an index opened from disk finds whichever its schema names.
    const ALL: [Self; 2] = [Self::English, Self::Simple];

    /// The name the schema records for this analyser's tokeniser.
    pub(crate) fn tokenizer_name(self) -> &'static str {
        match self {
            Self::English => "pairwise_english",
            Self::Simple => "pairwise_simple",
        }
    }

    /// The analyser itself.
    pub(crate) fn build(self) -> Result<TextAnalyzer> {
        let base = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
            .filter(LowerCaser);
        Ok(match self {
            Self::English => {
                let stop_words = StopWordFilter::new(Language::English).ok_or_else(|| {
                    IndexError::InvalidParameter("no English stop-word list".to_owned())
                })?;
                base.filter(stop_words)
                    .filter(Stemmer::new(Language::English))
                    .build()
            }
            Self::Simple => base.build(),
        })
    }

    /// Registers every analyser with an index's tokeniser manager.
    pub(crate) fn register_all(manager: &TokenizerManager) -> Result<()> {
        for analyzer in Self::ALL {
            manager.register(analyzer.tokenizer_name(), analyzer.build()?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::TokenStream;

    fn terms(analyzer: Analyzer, text: &str) -> Vec<String> {
        let mut analyzer = analyzer.build().unwrap();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        out
    }

    #[test]
    fn english_lowercases_drops_stop_words_and_stems() {
        assert_eq!(
            terms(
                Analyzer::English,
                "The Running of 0-dimensional Biomaterials"
            ),
            ["run", "0", "dimension", "biomateri"]
        );
    }

    #[test]
    fn simple_only_lowercases() {
        assert_eq!(
            terms(Analyzer::Simple, "The Running of T-cells"),
            ["the", "running", "of", "t", "cells"]
        );
    }

    #[test]
    fn serde_names_are_snake_case() {
        assert_eq!(
            serde_json::to_string(&Analyzer::English).unwrap(),
            "\"english\""
        );
        let simple: Analyzer = serde_json::from_str("\"simple\"").unwrap();
        assert_eq!(simple, Analyzer::Simple);
        assert!(serde_json::from_str::<Analyzer>("\"raw\"").is_err());
    }
}

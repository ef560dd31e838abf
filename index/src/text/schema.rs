//! The tantivy schema of a [`Bm25Index`](crate::Bm25Index), built in this one place.

use std::path::Path;

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};

use crate::error::{IndexError, Result};
use crate::text::analyzer::Analyzer;

/// Name of the field holding a document's [`DocIndex`](crate::DocIndex).
pub(crate) const DOC_FIELD: &str = "doc";
const ID_FIELD: &str = "id";
const TITLE_FIELD: &str = "title";
const BODY_FIELD: &str = "text";

/// The schema and a handle to each of its fields.
#[derive(Debug, Clone)]
pub(crate) struct TextSchema {
    /// The whole schema.
    pub(crate) schema: Schema,
    /// Our [`DocIndex`](crate::DocIndex) as `u64`: indexed (to delete by it), fast (to map
    /// hits back without touching the document store) and stored.
    pub(crate) doc: Field,
    /// The external id, one untokenised term, stored.
    pub(crate) id: Field,
    /// The title, analysed, with positions for phrase queries; not stored.
    pub(crate) title: Field,
    /// The body, analysed like the title; not stored.
    pub(crate) body: Field,
}

impl TextSchema {
    /// The schema whose text fields use `analyzer`.
    pub(crate) fn build(analyzer: Analyzer) -> Self {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(analyzer.tokenizer_name())
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let text = TextOptions::default().set_indexing_options(indexing);
        let mut builder = Schema::builder();
        let doc = builder.add_u64_field(DOC_FIELD, INDEXED | STORED | FAST);
        let id = builder.add_text_field(ID_FIELD, STRING | STORED);
        let title = builder.add_text_field(TITLE_FIELD, text.clone());
        let body = builder.add_text_field(BODY_FIELD, text);
        Self {
            schema: builder.build(),
            doc,
            id,
            title,
            body,
        }
    }

    /// Checks that an index found at `path` has exactly this schema.
    ///
    /// # Errors
    /// [`IndexError::Incompatible`] when the stored schema differs.
    pub(crate) fn check(&self, stored: &Schema, path: &Path) -> Result<()> {
        if stored == &self.schema {
            return Ok(());
        }
        let names = |schema: &Schema| {
            schema
                .fields()
                .map(|(_, entry)| entry.name().to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(IndexError::Incompatible {
            path: path.to_owned(),
            reason: format!(
                "schema differs from the one this version builds (stored fields: {}; expected: {})",
                names(stored),
                names(&self.schema)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_have_the_documented_options() {
        let fields = TextSchema::build(Analyzer::English);
        let doc = fields.schema.get_field_entry(fields.doc);
        assert!(doc.is_indexed() && doc.is_fast() && doc.is_stored());
        assert!(fields.schema.get_field_entry(fields.id).is_stored());
        for field in [fields.title, fields.body] {
            let entry = fields.schema.get_field_entry(field);
            assert!(entry.is_indexed() && !entry.is_stored());
            let record = entry.field_type().get_index_record_option();
            assert!(record.is_some_and(IndexRecordOption::has_positions));
        }
    }

    #[test]
    fn a_schema_with_another_analyser_is_incompatible() {
        let english = TextSchema::build(Analyzer::English);
        let simple = TextSchema::build(Analyzer::Simple);
        let path = Path::new("/somewhere");
        assert!(english.check(&english.schema, path).is_ok());
        let err = english.check(&simple.schema, path).unwrap_err();
        assert!(matches!(err, IndexError::Incompatible { .. }), "{err}");
    }
}

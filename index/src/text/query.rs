//! Turning a user's query string into a tantivy query, in either [`QuerySyntax`].

use serde::{Deserialize, Serialize};
use tantivy::query::{
    BooleanQuery, BoostQuery, Occur, Query, QueryParser, QueryParserError, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Term};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::Index;

use crate::error::Result;
use crate::text::analyzer::Analyzer;
use crate::text::schema::TextSchema;

/// How [`Bm25Index::search`](crate::Bm25Index::search) reads a query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuerySyntax {
    /// Free text as a bag of words: analysed like the documents, every term ORed and scored
    /// in the title and the body. No character has a special meaning. This is how BEIR's
    /// BM25 baselines query, and on SciFact it scores 0.011 nDCG@10 higher than
    /// [`Structured`](Self::Structured), which turns hyphenated words into phrases.
    #[default]
    Words,
    /// tantivy's query language: `"a phrase"`, `+required`, `-excluded`, `field:term` (fields
    /// `title`, `text`, `id`), and words that analyse into several terms (`T-cell`) as
    /// phrases. Parts that do not parse are dropped rather than reported.
    Structured,
}

/// Builds the query for a string; one per index.
pub(crate) struct QueryBuilder {
    syntax: QuerySyntax,
    analyzer: TextAnalyzer,
    parser: QueryParser,
    fields: TextSchema,
    title_boost: f32,
}

impl QueryBuilder {
    /// A builder for `index`, whose tokenisers must already be registered.
    pub(crate) fn new(
        index: &Index,
        fields: &TextSchema,
        analyzer: Analyzer,
        syntax: QuerySyntax,
        title_boost: f32,
    ) -> Result<Self> {
        let mut parser = QueryParser::for_index(index, vec![fields.title, fields.body]);
        parser.set_field_boost(fields.title, title_boost);
        Ok(Self {
            syntax,
            analyzer: analyzer.build()?,
            parser,
            fields: fields.clone(),
            title_boost,
        })
    }

    /// The query for `text`, or `None` when nothing in it can score: no terms survive
    /// analysis, or (structured) every clause is an exclusion.
    pub(crate) fn build(&self, text: &str) -> Option<Box<dyn Query>> {
        match self.syntax {
            QuerySyntax::Words => self.words(text),
            QuerySyntax::Structured => self.structured(text),
        }
    }

    fn words(&self, text: &str) -> Option<Box<dyn Query>> {
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(text);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        while let Some(token) = stream.next() {
            let term = |field| {
                let term = Term::from_field_text(field, &token.text);
                Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
            };
            if self.title_boost > 0.0 {
                let title = BoostQuery::new(term(self.fields.title), self.title_boost);
                clauses.push((Occur::Should, Box::new(title)));
            }
            clauses.push((Occur::Should, term(self.fields.body)));
        }
        (!clauses.is_empty()).then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>)
    }

    fn structured(&self, text: &str) -> Option<Box<dyn Query>> {
        let (query, dropped) = self.parser.parse_query_lenient(text);
        // With nothing to score, the parser falls back to "every document except the
        // excluded ones", each scoring 1: not a keyword match, so nothing is returned.
        let only_exclusions = dropped
            .iter()
            .any(|error| matches!(error, QueryParserError::AllButQueryForbidden));
        (!only_exclusions).then_some(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(syntax: QuerySyntax, title_boost: f32) -> QueryBuilder {
        let fields = TextSchema::build(Analyzer::English);
        let index = Index::create_in_ram(fields.schema.clone());
        Analyzer::register_all(index.tokenizers()).unwrap();
        QueryBuilder::new(&index, &fields, Analyzer::English, syntax, title_boost).unwrap()
    }

    fn terms(query: &dyn Query) -> Vec<String> {
        let mut out = Vec::new();
        query.query_terms(&mut |term, _| {
            out.push(term.value().as_str().unwrap_or_default().to_owned());
        });
        out
    }

    #[test]
    fn words_ignore_syntax_and_skip_stop_words() {
        let words = builder(QuerySyntax::Words, 1.0);
        let query = words.build("The T-cell: \"IN\" -tumours").unwrap();
        // Each term is searched in the title and in the body; "in" is a stop word.
        assert_eq!(
            terms(query.as_ref()),
            ["t", "t", "cell", "cell", "tumour", "tumour"]
        );
        assert!(words.build("the of ?!").is_none());
        let no_titles = builder(QuerySyntax::Words, 0.0);
        assert_eq!(terms(no_titles.build("cells").unwrap().as_ref()), ["cell"]);
    }

    #[test]
    fn structured_honours_operators_and_drops_exclusion_only_queries() {
        let structured = builder(QuerySyntax::Structured, 1.0);
        assert!(structured.build("-tumour").is_none());
        assert!(structured.build("the of").is_none());
        assert!(structured.build("title:(unclosed \"quote").is_some());
    }
}

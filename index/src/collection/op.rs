//! The write operations recorded in the log, one log record per batch.

use serde::{Deserialize, Serialize};

use crate::collection::Document;
use crate::error::{IndexError, Result};

/// One acknowledged batch of writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Op {
    /// Insert or replace documents by id.
    Upsert(Vec<Document>),
    /// Delete documents by id (absent ids are ignored).
    Delete(Vec<String>),
}

impl Op {
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self)
            .map_err(|e| IndexError::InvalidParameter(format!("cannot encode a write: {e}")))
    }

    pub(crate) fn decode(bytes: &[u8], path: &std::path::Path, seq: u64) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| IndexError::Corrupt {
            path: path.to_path_buf(),
            offset: None,
            reason: format!("log record {seq} is not a valid write: {e}"),
        })
    }
}

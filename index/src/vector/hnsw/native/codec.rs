//! The saved form of a [`NativeGraph`], little-endian:
//!
//! ```text
//! magic        8 bytes  "pwhnsw\0\x01"
//! m            u32
//! nodes        u32      n
//! entry node   u32      u32::MAX when n = 0
//! entry level  u32
//! levels       n bytes  the top layer of each node
//! lists        u32 …    every bottom list (count + 2m slots), then every upper list
//!                       (count + m slots), in node then layer order
//! ```
//!
//! Decoding checks every count, id and layer, so a damaged file that slipped past the
//! checksum still gives an error, never an out-of-bounds search.

use std::io::Write;
use std::sync::Mutex;

use crate::vector::distance::Distance;
use crate::vector::hnsw::native::links::Links;
use crate::vector::hnsw::native::visited::ScratchPool;
use crate::vector::hnsw::native::{Entry, NativeGraph};

const MAGIC: &[u8; 8] = b"pwhnsw\0\x01";
const NO_ENTRY: u32 = u32::MAX;

impl NativeGraph {
    /// Writes the graph to `out`.
    ///
    /// # Errors
    /// Those of `out`.
    pub(crate) fn encode(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let entry = self.entry();
        out.write_all(MAGIC)?;
        let header = [
            self.links.m() as u32,
            self.links.len() as u32,
            entry.map_or(NO_ENTRY, |e| e.node),
            entry.map_or(0, |e| e.level as u32),
        ];
        for word in header {
            out.write_all(&word.to_le_bytes())?;
        }
        out.write_all(self.links.levels())?;
        let mut buffer = Vec::with_capacity(1 << 16);
        for word in self.links.raw_lists() {
            buffer.extend_from_slice(&word.to_le_bytes());
            if buffer.len() >= 1 << 16 {
                out.write_all(&buffer)?;
                buffer.clear();
            }
        }
        out.write_all(&buffer)
    }

    /// Reads a graph that [`encode`](Self::encode) wrote, expecting `nodes` nodes and the
    /// given `m`.
    ///
    /// # Errors
    /// A sentence saying what is wrong with the bytes.
    pub(crate) fn decode(
        bytes: &[u8],
        (m, ef_construction): (usize, usize),
        distance: Distance,
        nodes: usize,
    ) -> Result<Self, String> {
        let body = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or_else(|| "not a pairwise hnsw graph (bad magic)".to_owned())?;
        let (header, rest) = body
            .split_at_checked(16)
            .ok_or_else(|| "the header is cut short".to_owned())?;
        let word = |i: usize| {
            u32::from_le_bytes([
                header[4 * i],
                header[4 * i + 1],
                header[4 * i + 2],
                header[4 * i + 3],
            ])
        };
        let (saved_m, saved_nodes, entry_node, entry_level) = (word(0), word(1), word(2), word(3));
        if saved_m as usize != m {
            return Err(format!("the graph has m = {saved_m}, the manifest {m}"));
        }
        if saved_nodes as usize != nodes {
            return Err(format!("the graph has {saved_nodes} nodes, not {nodes}"));
        }
        let (levels, lists) = rest
            .split_at_checked(nodes)
            .ok_or_else(|| "the levels are cut short".to_owned())?;
        if !lists.len().is_multiple_of(4) {
            return Err("the lists do not end on a whole u32".to_owned());
        }
        let words = lists
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let links = Links::from_raw(m, levels, words)?;
        let entry = match (entry_node, nodes) {
            (NO_ENTRY, 0) => None,
            (node, n) if (node as usize) < n => {
                let level = links.level(node);
                let top = links.levels().iter().copied().max().unwrap_or(0);
                if level != entry_level as usize || usize::from(top) != level {
                    return Err(format!(
                        "the entry node {node} is on layer {level}, the header says \
                         {entry_level}, the top layer is {top}"
                    ));
                }
                Some(Entry { node, level })
            }
            (node, n) => return Err(format!("the entry node {node} is not among {n} nodes")),
        };
        Ok(Self {
            links,
            ef_construction,
            distance,
            entry: Mutex::new(entry),
            raise: Mutex::new(()),
            scratch: ScratchPool::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_graph() -> (NativeGraph, Vec<f32>) {
        let rows: Vec<f32> = (0..300).map(|i| (i as f32 * 0.731).sin()).collect();
        let mut graph = NativeGraph::new(4, 16, Distance::L2);
        graph.insert(&rows, 3, 0..100).unwrap();
        (graph, rows)
    }

    fn encoded(graph: &NativeGraph) -> Vec<u8> {
        let mut bytes = Vec::new();
        graph.encode(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn a_decoded_graph_answers_as_the_encoded_one() {
        let (graph, rows) = small_graph();
        let back = NativeGraph::decode(&encoded(&graph), (4, 16), Distance::L2, 100).unwrap();
        for query in rows.chunks_exact(3).take(20) {
            assert_eq!(
                back.search(&rows, 3, query, (5, 16), None),
                graph.search(&rows, 3, query, (5, 16), None)
            );
        }
        let mut gap = NativeGraph::new(4, 16, Distance::L2);
        assert!(matches!(
            gap.insert(&rows, 3, 1..5),
            Err(crate::error::IndexError::DocOutOfSequence { doc: 1, .. })
        ));
        let empty = NativeGraph::new(4, 16, Distance::L2);
        let back = NativeGraph::decode(&encoded(&empty), (4, 16), Distance::L2, 0).unwrap();
        assert_eq!(back.len(), 0);
    }

    #[test]
    fn inconsistent_bytes_are_errors() {
        let (graph, _) = small_graph();
        let bytes = encoded(&graph);
        let decode = |bytes: &[u8], m: usize, nodes: usize| {
            NativeGraph::decode(bytes, (m, 16), Distance::L2, nodes).unwrap_err()
        };
        assert!(decode(&bytes[..5], 4, 100).contains("magic"));
        assert!(decode(&bytes[..12], 4, 100).contains("header"));
        assert!(decode(&bytes, 5, 100).contains("m = 4"));
        assert!(decode(&bytes, 4, 101).contains("100 nodes"));
        assert!(decode(&bytes[..bytes.len() - 2], 4, 100).contains("whole u32"));
        assert!(decode(&bytes[..bytes.len() - 4], 4, 100).contains("end early"));
        let mut entry = bytes.clone();
        entry[16..20].copy_from_slice(&100u32.to_le_bytes());
        assert!(decode(&entry, 4, 100).contains("not among"));
        let mut level = bytes;
        level[20..24].copy_from_slice(&9u32.to_le_bytes());
        assert!(decode(&level, 4, 100).contains("header says 9"));
    }
}

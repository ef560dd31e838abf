#!/usr/bin/env python3
"""Writes the format-version-1 fixtures read by tests/integration/compat.rs.

An independent implementation of the layout documented in src/persist/frame.rs, so the fixture
also checks that documentation. Run from this folder; the outputs are checked in and must never
change (a new format version gets a new folder).
"""
import json
import struct
import zlib


def crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def file_header(base_seq: int) -> bytes:
    head = b"PWISEWAL" + struct.pack("<IIQ", 1, 0, base_seq)
    return head + struct.pack("<I", crc(head))


def frame(first_seq: int, records: list[bytes]) -> bytes:
    payload = b"".join(struct.pack("<I", len(r)) + r for r in records)
    head = struct.pack("<IIQI", len(payload), len(records), first_seq, crc(payload))
    return head + struct.pack("<I", crc(head)) + payload


with open("wal.log", "wb") as f:
    f.write(file_header(7))
    f.write(frame(7, [b"alpha", b"", b"beta"]))
    f.write(frame(10, [b"gamma"]))

manifest = {
    "format_version": 1,
    "model_id": "all-MiniLM-L6-v2",
    "dim": 384,
    "distance": "cosine",
    "index_params": {"type": "hnsw", "m": 16},
    "last_seq": 8,
    "created_unix_ms": 1700000000000,
}
with open("manifest.json", "w") as f:
    json.dump(manifest, f, indent=2)
    f.write("\n")

//! `converge inspect`: what a file holds, chunk by chunk.

use std::fmt::Write as _;
use std::path::Path;

use converge::encoding::chunk::{self, Chunk, ChunkType};
use converge::encoding::columns::{ColumnMetadata, ColumnType};
use converge::encoding::{Bundle, DocumentChunk, DocumentLimits, Reader};
use converge::sync::{MESSAGE_TYPE_V1, MESSAGE_TYPE_V2, SyncMessage, SyncState};
use converge::{ActorId, Change, ChangeHash, DecodeError};

use crate::error::CliError;

/// Describes the file at `path`: a concatenation of chunks, a sync message or a sync state.
pub(crate) fn inspect(path: &Path, bytes: &[u8]) -> Result<String, CliError> {
    match bytes.first() {
        None => Err(CliError::Malformed {
            path: path.to_owned(),
            offset: 0,
            message: "empty file".to_owned(),
        }),
        Some(&b) if b == chunk::MAGIC[0] => inspect_chunks(path, bytes),
        Some(&b) if b == MESSAGE_TYPE_V1 || b == MESSAGE_TYPE_V2 => inspect_sync(path, bytes),
        Some(&b) => Err(CliError::Malformed {
            path: path.to_owned(),
            offset: 0,
            message: format!(
                "not an Automerge file, sync message or sync state (first byte {b:#04x})"
            ),
        }),
    }
}

fn hashes(list: &[ChangeHash]) -> String {
    if list.is_empty() {
        return "-".to_owned();
    }
    list.iter()
        .map(ChangeHash::to_hex)
        .collect::<Vec<_>>()
        .join(",")
}

fn actors(list: &[ActorId]) -> String {
    if list.is_empty() {
        return "-".to_owned();
    }
    list.iter()
        .map(ActorId::to_hex)
        .collect::<Vec<_>>()
        .join(",")
}

fn type_name(t: ChunkType) -> &'static str {
    match t {
        ChunkType::Document => "document",
        ChunkType::Change => "change",
        ChunkType::CompressedChange => "compressed change",
        ChunkType::Bundle => "bundle",
    }
}

fn inspect_chunks(path: &Path, bytes: &[u8]) -> Result<String, CliError> {
    let mut out = String::new();
    let mut split = chunk::split_chunks(bytes);
    let mut index = 0usize;
    loop {
        let offset = split.offset();
        let Some(next) = split.next() else { break };
        let fail = |e: DecodeError| CliError::decode(path, offset, &e);
        let c = next.map_err(fail)?;
        let checksum = c.verify_checksum();
        let _ = writeln!(
            out,
            "chunk {index} at offset {offset}: {}, {} bytes, checksum {}",
            type_name(c.chunk_type()),
            c.bytes().len(),
            if checksum.is_ok() { "ok" } else { "BAD" },
        );
        match c.chunk_type() {
            ChunkType::Change | ChunkType::CompressedChange => {
                let change = if checksum.is_ok() {
                    Change::decode(c.bytes().to_vec().into())
                } else {
                    Change::decode_unchecked_checksum(c.bytes().to_vec().into())
                }
                .map_err(fail)?;
                describe_change(&mut out, &change, "  ");
            }
            ChunkType::Document => describe_document(&mut out, &c).map_err(fail)?,
            ChunkType::Bundle => {
                let bundle =
                    Bundle::decode_data(c.data(), DocumentLimits::default()).map_err(fail)?;
                let _ = writeln!(out, "  deps: {}", hashes(bundle.deps()));
                let _ = writeln!(out, "  changes: {}", bundle.changes().len());
                for change in bundle.changes() {
                    let _ = writeln!(out, "  - change {}", change.hash());
                    describe_change(&mut out, change, "      ");
                }
            }
        }
        index += 1;
    }
    Ok(out)
}

fn describe_change(out: &mut String, change: &Change, indent: &str) {
    let _ = writeln!(out, "{indent}hash: {}", change.hash());
    let _ = writeln!(out, "{indent}actor: {}", change.actor());
    if !change.other_actors().is_empty() {
        let _ = writeln!(
            out,
            "{indent}other actors: {}",
            actors(change.other_actors())
        );
    }
    let _ = writeln!(out, "{indent}seq: {}", change.seq());
    let _ = writeln!(out, "{indent}start op: {}", change.start_op());
    let _ = writeln!(out, "{indent}ops: {}", change.num_ops());
    let _ = writeln!(out, "{indent}deps: {}", hashes(change.deps()));
    let _ = writeln!(out, "{indent}time: {}", change.time());
    match change.message() {
        Some(m) => {
            let _ = writeln!(out, "{indent}message: {m:?}");
        }
        None => {
            let _ = writeln!(out, "{indent}message: -");
        }
    }
    // Only when present: most changes have no extra bytes.
    if let Some(author) = change.author() {
        let _ = writeln!(out, "{indent}author: {author}");
    } else if !change.extra_bytes().is_empty() {
        let _ = writeln!(out, "{indent}extra bytes: {}", change.extra_bytes().len());
    }
    // Only when so: a change whose bytes are not the canonical encoding of its content, or
    // that says what a document does not keep (a deletion with a value, say), gets other
    // bytes, and another hash, when a document chunk rebuilds it (a save's heads then do
    // not verify on load; spec format.md section 0).
    if !change.is_canonical() || !change.kept_by_documents() {
        let _ = writeln!(
            out,
            "{indent}not canonical: a save rebuilds it with other bytes and another hash"
        );
    }
}

fn describe_document(out: &mut String, c: &Chunk<'_>) -> Result<(), DecodeError> {
    // The decoded content (counts), then the column layout read from the raw data.
    let doc = DocumentChunk::decode_data(c.data(), DocumentLimits::default())?;
    let _ = writeln!(
        out,
        "  actors ({}): {}",
        doc.actors.len(),
        actors(&doc.actors)
    );
    let _ = writeln!(out, "  heads ({}): {}", doc.heads.len(), hashes(&doc.heads));
    let _ = writeln!(out, "  changes: {}", doc.changes.len());
    let _ = writeln!(out, "  ops: {}", doc.ops.len());

    let mut r = Reader::new(c.data());
    let n_actors = r.count("actors", 1)?;
    for _ in 0..n_actors {
        r.length_prefixed()?;
    }
    let n_heads = r.count("heads", ChangeHash::LEN)?;
    r.take(n_heads.saturating_mul(ChangeHash::LEN))?;
    let change_meta = ColumnMetadata::read(&mut r)?;
    let op_meta = ColumnMetadata::read(&mut r)?;
    for (label, meta, names) in [
        ("change columns", &change_meta, CHANGE_COLUMNS),
        ("op columns", &op_meta, OP_COLUMNS),
    ] {
        let _ = writeln!(out, "  {label} ({}):", meta.iter().count());
        for (spec, len) in meta.iter() {
            let data = r.take(len)?;
            let ty = spec.column_type();
            let name = names
                .iter()
                .find(|(id, t, _)| *id == spec.id() && *t == ty)
                .map_or("?", |(_, _, n)| n);
            let compression = if spec.is_deflated() {
                match chunk::inflate_raw(data, chunk::MAX_INFLATED_LEN) {
                    Ok(inflated) => format!("deflate, {} bytes inflated", inflated.len()),
                    Err(e) => format!("deflate, does not inflate: {e}"),
                }
            } else {
                "uncompressed".to_owned()
            };
            let _ = writeln!(
                out,
                "    id {:>2} {:<14} {:<12} {:>8} bytes ({compression})",
                spec.id(),
                format!("{ty:?}"),
                name,
                len,
            );
        }
    }
    Ok(())
}

/// Names of the document chunk's change columns (spec format.md §7).
const CHANGE_COLUMNS: &[(u32, ColumnType, &str)] = &[
    (0, ColumnType::Actor, "actor"),
    (0, ColumnType::DeltaInteger, "seq"),
    (1, ColumnType::DeltaInteger, "max_op"),
    (2, ColumnType::DeltaInteger, "time"),
    (3, ColumnType::String, "message"),
    (4, ColumnType::Group, "deps_num"),
    (4, ColumnType::DeltaInteger, "deps_index"),
    (5, ColumnType::ValueMetadata, "extra_meta"),
    (5, ColumnType::Value, "extra"),
];

/// Names of the document chunk's op columns (spec format.md §7).
const OP_COLUMNS: &[(u32, ColumnType, &str)] = &[
    (0, ColumnType::Actor, "obj_actor"),
    (0, ColumnType::Integer, "obj_ctr"),
    (1, ColumnType::Actor, "key_actor"),
    (1, ColumnType::DeltaInteger, "key_ctr"),
    (1, ColumnType::String, "key_str"),
    (2, ColumnType::Actor, "id_actor"),
    (2, ColumnType::DeltaInteger, "id_ctr"),
    (3, ColumnType::Boolean, "insert"),
    (4, ColumnType::Integer, "action"),
    (5, ColumnType::ValueMetadata, "value_meta"),
    (5, ColumnType::Value, "value"),
    (8, ColumnType::Group, "succ_num"),
    (8, ColumnType::Actor, "succ_actor"),
    (8, ColumnType::DeltaInteger, "succ_ctr"),
    (9, ColumnType::Boolean, "expand"),
    (10, ColumnType::String, "mark_name"),
];

fn inspect_sync(path: &Path, bytes: &[u8]) -> Result<String, CliError> {
    let mut out = String::new();
    let msg_err = match SyncMessage::decode(bytes) {
        Ok(msg) => {
            let _ = writeln!(
                out,
                "sync message ({:?}), {} bytes",
                msg.version,
                bytes.len()
            );
            let _ = writeln!(out, "  heads ({}): {}", msg.heads.len(), hashes(&msg.heads));
            let _ = writeln!(out, "  need ({}): {}", msg.need.len(), hashes(&msg.need));
            let _ = writeln!(out, "  have ({}):", msg.have.len());
            for have in &msg.have {
                let _ = writeln!(
                    out,
                    "    last sync {}; bloom filter of {} entries, {} bytes",
                    hashes(&have.last_sync),
                    have.bloom.num_entries(),
                    have.bloom.encoded_len(),
                );
            }
            if let Some(flags) = msg.flags {
                let _ = writeln!(out, "  flags: {:#04x}", flags.bits());
            }
            let _ = writeln!(
                out,
                "  changes ({}, {} bytes):",
                msg.changes.len(),
                msg.changes_len()
            );
            for bytes in &msg.changes {
                match Change::decode(bytes.clone()) {
                    Ok(change) => {
                        let _ = writeln!(out, "  - change");
                        describe_change(&mut out, &change, "      ");
                    }
                    Err(e) => {
                        let _ = writeln!(out, "  - {} bytes, not a change: {e}", bytes.len());
                    }
                }
            }
            return Ok(out);
        }
        Err(e) => e,
    };
    match SyncState::decode(bytes) {
        Ok(state) => {
            let _ = writeln!(out, "sync state, {} bytes", bytes.len());
            let _ = writeln!(
                out,
                "  shared heads ({}): {}",
                state.shared_heads.len(),
                hashes(&state.shared_heads)
            );
            Ok(out)
        }
        Err(_) => Err(CliError::Other(format!(
            "{}: not a valid sync message or sync state: {msg_err}",
            path.display()
        ))),
    }
}

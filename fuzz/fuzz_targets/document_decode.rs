//! Document decoding never panics; a decoded document re-encodes to bytes that decode and
//! re-encode to themselves, and change reconstruction never panics. Columns kept as canonical
//! are exactly what the writer writes for the rows; a document loaded from the chunk saves
//! (debug assertions check kept columns against a fresh encode), reads as a value tree, and
//! after a few edits saves what loads back to the same values.
//!
//! The input is the chunk's *data* (no envelope), so the fuzzer does not have to forge a
//! checksum to reach the column decoders.
#![no_main]

use converge_encoding::{DocumentChunk, DocumentLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits keep a run-length bomb from making one input take seconds.
    let limits = DocumentLimits {
        max_inflated_bytes: 1 << 20,
        max_rows: 1 << 16,
    };
    let Ok(doc) = DocumentChunk::decode_data(data, limits) else {
        return;
    };
    let _ = doc.reconstruct_changes();
    if let Some(kept) = doc.canonical_columns() {
        assert_eq!(
            **kept,
            doc.encode_columns(),
            "kept columns are the writer's"
        );
    }
    let mut chunk = Vec::new();
    converge_encoding::chunk::write_chunk(
        &mut chunk,
        converge_encoding::chunk::ChunkType::Document,
        data,
    );
    if let Ok(mut loaded) = converge_doc::Document::load(&chunk) {
        // Reading the whole tree never overflows the stack (deep nesting is refused).
        let _ = loaded.value_tree(&converge_doc::ROOT);
        let _ = loaded.save();
        let _ = loaded.save_nocompress();
        // Edits after the save: the next save splices its kept columns, and the one after
        // that reuses them (debug assertions check both against a fresh encode).
        edit(&mut loaded);
        let saved = loaded.save();
        let _ = loaded.save_nocompress();
        // Every change was rebuilt from the chunk or made here, so is canonical: the save
        // loads back, checked, to the same values.
        let tree = format!("{:?}", loaded.value_tree(&converge_doc::ROOT));
        match converge_doc::Document::load(&saved) {
            Ok(again) => assert_eq!(
                format!("{:?}", again.value_tree(&converge_doc::ROOT)),
                tree,
                "a save loads back to the same values"
            ),
            Err(e) => panic!("a save of a loaded document loads back: {e:?}"),
        }
    }
    for compress in [false, true] {
        let bytes = doc.encode(compress);
        let again = DocumentChunk::decode(&bytes).expect("our own encoding decodes");
        // Compared as bytes: a NaN float value is not equal to itself.
        assert_eq!(again.encode(compress), bytes);
    }
});

/// A few edits of every kind a save must place: a new root key, a new list, a deleted root
/// key (its op gains a successor), and an insert and a deletion in the first sequence the
/// root holds.
fn edit(doc: &mut converge_doc::Document) {
    use converge_doc::{ObjType, ROOT, Value};
    use converge_encoding::ScalarValue;
    let _ = doc.put(&ROOT, "fuzz", ScalarValue::Int(1));
    if let Ok(list) = doc.put_object(&ROOT, "fuzz-list", ObjType::List) {
        let _ = doc.insert(&list, 0, ScalarValue::Uint(2));
    }
    let keys = doc.keys(&ROOT).unwrap_or_default();
    if let Some(first) = keys.first() {
        let _ = doc.delete(&ROOT, first.as_str());
    }
    for key in &keys {
        if let Ok(Some(v)) = doc.get(&ROOT, key.as_str())
            && let Value::Object(kind, obj) = v.value
            && kind.is_sequence()
        {
            let _ = doc.insert(&obj, 0, ScalarValue::Str("f".into()));
            let len = doc.length(&obj).unwrap_or(0);
            if len > 1 {
                let _ = doc.delete(&obj, len - 1);
            }
            break;
        }
    }
}

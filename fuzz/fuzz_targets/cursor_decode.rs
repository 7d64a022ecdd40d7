//! Cursor decoding (a cursor an application kept, or a peer sent, as bytes or as text):
//! never panics; when the bytes decode, encoding gives them back up to the ignored tail
//! (version 1), and decodes to the same cursor; when the text parses, writing it reads back
//! as the same cursor.
#![no_main]

use converge_encoding::Cursor;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(cursor) = Cursor::decode(data) {
        let bytes = cursor.encode();
        if data.first() == Some(&1) {
            assert!(
                data.starts_with(&bytes),
                "re-encoding differs from the input"
            );
        }
        assert_eq!(Cursor::decode(&bytes).as_ref(), Ok(&cursor));
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(cursor) = text.parse::<Cursor>()
    {
        assert_eq!(cursor.to_string().parse::<Cursor>().as_ref(), Ok(&cursor));
    }
});

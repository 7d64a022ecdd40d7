//! Making a rich text equal to a list of spans (automerge 0.12's `update_spans`): its
//! characters, blocks and marks, with few ops, as a rich-text editor writes its state back.

use std::collections::HashMap;

use converge_encoding::ScalarValue;

use crate::error::DocError;
use crate::text_diff::Edit;
use crate::transaction::Transaction;
use crate::types::{ExId, ExpandMark, ObjType, Span, Value, ValueTree};

/// How [`Transaction::update_spans`] sets the expand flag of the marks it makes and removes
/// (automerge 0.12's `UpdateSpansConfig`): per mark name, else the default (`After`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateSpansConfig {
    /// The flag of marks whose name has none of its own.
    pub default_expand: ExpandMark,
    /// Flags by mark name.
    pub per_mark_expands: HashMap<String, ExpandMark>,
}

impl UpdateSpansConfig {
    /// With this default flag.
    #[must_use]
    pub fn with_default_expand(mut self, expand: ExpandMark) -> Self {
        self.default_expand = expand;
        self
    }

    /// With this flag for marks named `name`.
    #[must_use]
    pub fn with_mark_expand(mut self, name: impl Into<String>, expand: ExpandMark) -> Self {
        self.per_mark_expands.insert(name.into(), expand);
        self
    }

    fn expand(&self, name: &str) -> ExpandMark {
        self.per_mark_expands
            .get(name)
            .copied()
            .unwrap_or(self.default_expand)
    }
}

/// An item of a text as the span diff sees it: a block or a grapheme cluster.
#[derive(Clone, Debug, PartialEq)]
enum Piece<'a> {
    Block(&'a ValueTree),
    Cluster(&'a str),
}

/// The pieces of `run` (start, length), none for no run.
fn run_of<'p, 'a>(pieces: &'p [Piece<'a>], run: Option<(usize, usize)>) -> &'p [Piece<'a>] {
    run.and_then(|(s, l)| pieces.get(s..s + l))
        .unwrap_or_default()
}

fn pieces(spans: &[Span]) -> Vec<Piece<'_>> {
    use unicode_segmentation::UnicodeSegmentation;
    let mut out = Vec::new();
    for span in spans {
        match span {
            Span::Block(b) => out.push(Piece::Block(b)),
            Span::Text(t) => out.extend(t.text.graphemes(true).map(Piece::Cluster)),
        }
    }
    out
}

impl Transaction<'_> {
    /// Makes text `obj` hold `spans` (as [`Transaction::spans`] reports a text): its
    /// characters and blocks through a shortest edit script over grapheme clusters and
    /// blocks (a changed block updated in place, as [`Transaction::update_object`]), then
    /// its marks (those not in `spans` removed, those missing made, with the expand flags of
    /// `config`). automerge 0.12's `update_spans`, op for op, but in two places: where a
    /// grapheme cluster of several characters is deleted or replaced, automerge 0.12 deletes
    /// its first character only (converge all of it); and in a text counted in UTF-8, it
    /// counts a block as one unit where its placeholder is three, so it puts the marks after
    /// a block too early (converge where the spans say).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use converge_doc::{Document, ObjType, ROOT, Span, TextSpan, UpdateSpansConfig};
    /// let mut doc = Document::new();
    /// let text = doc.put_object(&ROOT, "text", ObjType::Text)?;
    /// doc.splice_text(&text, 0, 0, "hello world")?;
    /// let spans = vec![
    ///     Span::Text(TextSpan {
    ///         text: "hello".into(),
    ///         marks: BTreeMap::from([("bold".to_owned(), true.into())]),
    ///     }),
    ///     Span::Text(TextSpan { text: " there".into(), marks: BTreeMap::new() }),
    /// ];
    /// doc.update_spans(&text, &spans, &UpdateSpansConfig::default())?;
    /// assert_eq!(doc.text(&text)?, "hello there");
    /// assert_eq!(doc.spans(&text, None)?, spans);
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn update_spans(
        &mut self,
        obj: &ExId,
        spans: &[Span],
        config: &UpdateSpansConfig,
    ) -> Result<(), DocError> {
        let current = self.spans(obj, None)?;
        let old = pieces(&current);
        let new = pieces(spans);
        let mut at = 0usize;
        // Deletions and insertions between two equal runs are taken together, as one
        // replacement when there are both.
        let mut deleted: Option<(usize, usize)> = None;
        let mut inserted: Option<(usize, usize)> = None;
        for edit in crate::text_diff::diff(&old, &new) {
            match edit {
                Edit::Equal { old: i, len } => {
                    self.flush_pieces(obj, &mut at, &old, &new, deleted.take(), inserted.take())?;
                    at += old
                        .get(i..i + len)
                        .unwrap_or_default()
                        .iter()
                        .map(|p| self.piece_width(p))
                        .sum::<usize>();
                }
                Edit::Delete { old: i, len } => {
                    deleted = Some(deleted.map_or((i, len), |(s, l)| (s, l + len)));
                }
                Edit::Insert { new: j, len } => {
                    inserted = Some(inserted.map_or((j, len), |(s, l)| (s, l + len)));
                }
            }
        }
        self.flush_pieces(obj, &mut at, &old, &new, deleted, inserted)?;
        self.update_marks(obj, spans, config)
    }

    fn piece_width(&self, piece: &Piece<'_>) -> usize {
        match piece {
            Piece::Block(_) => self.block_width(),
            Piece::Cluster(c) => self.text_encoding().width(c),
        }
    }

    /// A block's width: its placeholder character's (one unit but in UTF-8, where it is
    /// three; automerge 0.12's `update_spans` counts one there too, and places the marks
    /// after a block three bytes early).
    fn block_width(&self) -> usize {
        self.text_encoding().width("\u{fffc}")
    }

    /// Applies a run of deleted and inserted pieces at `at`.
    fn flush_pieces(
        &mut self,
        obj: &ExId,
        at: &mut usize,
        old: &[Piece<'_>],
        new: &[Piece<'_>],
        deleted: Option<(usize, usize)>,
        inserted: Option<(usize, usize)>,
    ) -> Result<(), DocError> {
        let (gone, came) = (run_of(old, deleted), run_of(new, inserted));
        match (gone.is_empty(), came.is_empty()) {
            (true, true) => Ok(()),
            // Insertions alone: runs of clusters spliced in whole, blocks between them.
            (true, false) => {
                let mut run = String::new();
                for piece in came {
                    match piece {
                        Piece::Cluster(c) => run.push_str(c),
                        Piece::Block(b) => {
                            self.splice_run(obj, at, &mut run)?;
                            self.insert_block(obj, at, b)?;
                        }
                    }
                }
                self.splice_run(obj, at, &mut run)
            }
            // Otherwise piece by piece (a replacement pairs them up in order).
            _ => {
                for k in 0..gone.len().max(came.len()) {
                    match (gone.get(k), came.get(k)) {
                        (Some(Piece::Block(was)), Some(Piece::Block(now))) => {
                            if was != now {
                                self.update_block(obj, *at, now)?;
                            }
                            *at += self.block_width();
                        }
                        (Some(was), now) => {
                            self.remove_piece(obj, *at, was)?;
                            match now {
                                Some(Piece::Block(b)) => self.insert_block(obj, at, b)?,
                                Some(Piece::Cluster(c)) => self.insert_cluster(obj, at, c)?,
                                None => {}
                            }
                        }
                        (None, Some(Piece::Block(b))) => self.insert_block(obj, at, b)?,
                        (None, Some(Piece::Cluster(c))) => self.insert_cluster(obj, at, c)?,
                        (None, None) => {}
                    }
                }
                Ok(())
            }
        }
    }

    fn splice_run(&mut self, obj: &ExId, at: &mut usize, run: &mut String) -> Result<(), DocError> {
        if !run.is_empty() {
            self.splice_text(obj, *at, 0, run)?;
            *at += self.text_encoding().width(run);
            run.clear();
        }
        Ok(())
    }

    fn insert_cluster(
        &mut self,
        obj: &ExId,
        at: &mut usize,
        cluster: &str,
    ) -> Result<(), DocError> {
        self.splice_text(obj, *at, 0, cluster)?;
        *at += self.text_encoding().width(cluster);
        Ok(())
    }

    fn insert_block(
        &mut self,
        obj: &ExId,
        at: &mut usize,
        block: &ValueTree,
    ) -> Result<(), DocError> {
        let made = self.split_block(obj, *at)?;
        *at += self.block_width();
        self.update_object(&made, block)
    }

    fn update_block(&mut self, obj: &ExId, at: usize, block: &ValueTree) -> Result<(), DocError> {
        match self.get(obj, at)?.map(|v| v.value) {
            Some(Value::Object(ObjType::Map, id)) => self.update_object(&id, block),
            _ => Err(DocError::IndexOutOfBounds {
                index: at,
                length: self.length(obj)?,
            }),
        }
    }

    /// Removes the piece at `at`: a block joined, a cluster's characters deleted.
    fn remove_piece(&mut self, obj: &ExId, at: usize, piece: &Piece<'_>) -> Result<(), DocError> {
        match piece {
            Piece::Block(_) => self.join_block(obj, at),
            Piece::Cluster(c) => {
                let width = self.text_encoding().width(c);
                self.splice_text(obj, at, width, "")
            }
        }
    }

    /// The marks of `obj` made those of `spans`: marks not there removed, then missing
    /// ones made, in the spans' order (and by name within a span).
    fn update_marks(
        &mut self,
        obj: &ExId,
        spans: &[Span],
        config: &UpdateSpansConfig,
    ) -> Result<(), DocError> {
        let mut wanted: Vec<(&str, &ScalarValue, usize, usize)> = Vec::new();
        let mut at = 0;
        for span in spans {
            match span {
                Span::Block(_) => at += self.block_width(),
                Span::Text(t) => {
                    let width = self.text_encoding().width(&t.text);
                    for (name, value) in &t.marks {
                        wanted.push((name, value, at, at + width));
                    }
                    at += width;
                }
            }
        }
        let same =
            |m: &crate::types::Mark,
             (name, value, start, end): &(&str, &ScalarValue, usize, usize)| {
                m.name == *name && m.value == **value && m.start == *start && m.end == *end
            };
        for m in self.marks(obj)? {
            if !wanted.iter().any(|w| same(&m, w)) {
                let expand = config.expand(&m.name);
                self.unmark(obj, m.start..m.end, &m.name, expand)?;
            }
        }
        for w in &wanted {
            if !self.marks(obj)?.iter().any(|m| same(m, w)) {
                let (name, value, start, end) = *w;
                self.mark(obj, start..end, name, value.clone(), config.expand(name))?;
            }
        }
        Ok(())
    }
}

//! Method sets that several types share. The reads of a document, for the types that edit
//! one: [`AutoCommit`](crate::AutoCommit) and [`Transaction`](crate::Transaction) read through
//! their document, pending edits included, but offer nothing else of it (a save, a fork or a
//! clone of a document with pending ops would hold ops that no change holds). And the edits
//! of a transaction, for [`Document`](crate::Document) (a change each) and
//! [`AutoCommit`](crate::AutoCommit) (into the pending change).

/// What a read of the current state reads: a document now; an isolated
/// [`AutoCommit`](crate::AutoCommit)'s view, now or through its clock; or, for an object the
/// view does not have but the whole document does, the whole document at the isolation
/// heads, as automerge 0.12 reads it.
pub(crate) enum ReadAt<'a> {
    /// The document as it is now.
    Now(&'a crate::Document),
    /// An isolated view, read as automerge 0.12 reads through its isolation clock: as now
    /// but for the position of a cursor (see `Document::cursor_position_scoped`).
    Scoped(&'a crate::Document),
    /// The document at these heads.
    Heads(&'a crate::Document, &'a [converge_encoding::ChangeHash]),
}

/// Read methods that call the same methods of a [`Document`](crate::Document): for the reads
/// of the current state the one `self.$now(obj)` gives ([`ReadAt`]), for the reads at heads
/// the one and the heads `self.$at(obj, heads)` gives, for the actor and the text encoding
/// the one in field `$doc` (an isolated [`AutoCommit`](crate::AutoCommit) reads its view,
/// and at heads its whole document).
macro_rules! doc_reads {
    ($now:ident, $at:ident, $doc:ident) => {
        /// [`Document::get`].
        pub fn get(
            &self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
        ) -> Result<Option<$crate::ValueWithId>, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.get(obj, prop)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.get_at(obj, prop, h),
            }
        }

        /// [`Document::get_all`].
        pub fn get_all(
            &self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
        ) -> Result<Vec<$crate::ValueWithId>, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.get_all(obj, prop)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.get_all_at(obj, prop, h),
            }
        }

        /// [`Document::keys`].
        pub fn keys(&self, obj: &$crate::ExId) -> Result<Vec<String>, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.keys(obj)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.keys_at(obj, h),
            }
        }

        /// [`Document::length`].
        pub fn length(&self, obj: &$crate::ExId) -> Result<usize, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.length(obj)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.length_at(obj, h),
            }
        }

        /// [`Document::list_values`].
        pub fn list_values(
            &self,
            obj: &$crate::ExId,
        ) -> Result<Vec<$crate::ValueWithId>, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.list_values(obj)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.list_values_at(obj, h),
            }
        }

        /// [`Document::list_range`].
        pub fn list_range(
            &self,
            obj: &$crate::ExId,
            range: impl std::ops::RangeBounds<usize>,
        ) -> Result<Vec<$crate::ListItem>, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.list_range(obj, range)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.list_range_at(obj, range, h),
            }
        }

        /// [`Document::map_range`].
        pub fn map_range(
            &self,
            obj: &$crate::ExId,
            range: impl std::ops::RangeBounds<String>,
        ) -> Result<Vec<$crate::MapItem>, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.map_range(obj, range)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.map_range_at(obj, range, h),
            }
        }

        /// [`Document::text`].
        pub fn text(&self, obj: &$crate::ExId) -> Result<String, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.text(obj)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.text_at(obj, h),
            }
        }

        /// [`Document::marks`].
        pub fn marks(&self, obj: &$crate::ExId) -> Result<Vec<$crate::Mark>, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.marks(obj)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.marks_at(obj, h),
            }
        }

        /// [`Document::object_type`].
        pub fn object_type(&self, obj: &$crate::ExId) -> Result<$crate::ObjType, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.object_type(obj)
                }
                // An object an isolated view does not have cannot be edited there.
                $crate::doc_reads::ReadAt::Heads(..) => {
                    Err($crate::DocError::ObjectNotFound { obj: obj.clone() })
                }
            }
        }

        /// [`Document::value_tree`].
        #[doc(alias = "hydrate")]
        pub fn value_tree(
            &self,
            obj: &$crate::ExId,
        ) -> Result<$crate::ValueTree, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.value_tree(obj)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.value_tree_at(obj, h),
            }
        }

        /// [`Document::get_at`].
        pub fn get_at(
            &self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Option<$crate::ValueWithId>, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.get_at(obj, prop, heads)
        }

        /// [`Document::get_all_at`].
        pub fn get_all_at(
            &self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::ValueWithId>, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.get_all_at(obj, prop, heads)
        }

        /// [`Document::keys_at`].
        pub fn keys_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<String>, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.keys_at(obj, heads)
        }

        /// [`Document::length_at`].
        pub fn length_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<usize, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.length_at(obj, heads)
        }

        /// [`Document::list_values_at`].
        pub fn list_values_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::ValueWithId>, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.list_values_at(obj, heads)
        }

        /// [`Document::list_range_at`].
        pub fn list_range_at(
            &self,
            obj: &$crate::ExId,
            range: impl std::ops::RangeBounds<usize>,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::ListItem>, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.list_range_at(obj, range, heads)
        }

        /// [`Document::map_range_at`].
        pub fn map_range_at(
            &self,
            obj: &$crate::ExId,
            range: impl std::ops::RangeBounds<String>,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::MapItem>, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.map_range_at(obj, range, heads)
        }

        /// [`Document::text_at`].
        pub fn text_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<String, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.text_at(obj, heads)
        }

        /// [`Document::marks_at`].
        pub fn marks_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::Mark>, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.marks_at(obj, heads)
        }

        /// [`Document::value_tree_at`].
        #[doc(alias = "hydrate")]
        pub fn value_tree_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<$crate::ValueTree, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.value_tree_at(obj, heads)
        }

        /// [`Document::get_cursor`].
        pub fn get_cursor(
            &self,
            obj: &$crate::ExId,
            position: impl Into<$crate::CursorPosition>,
            heads: Option<&[converge_encoding::ChangeHash]>,
        ) -> Result<converge_encoding::Cursor, $crate::DocError> {
            match heads {
                Some(h) => {
                    let (d, h) = self.$at(obj, h)?;
                    d.get_cursor(obj, position, Some(h))
                }
                None => match self.$now(obj) {
                    $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                        d.get_cursor(obj, position, heads)
                    }
                    $crate::doc_reads::ReadAt::Heads(d, h) => d.get_cursor(obj, position, Some(h)),
                },
            }
        }

        /// [`Document::get_cursor_moving`].
        pub fn get_cursor_moving(
            &self,
            obj: &$crate::ExId,
            position: impl Into<$crate::CursorPosition>,
            heads: Option<&[converge_encoding::ChangeHash]>,
            moves: converge_encoding::CursorMove,
        ) -> Result<converge_encoding::Cursor, $crate::DocError> {
            match heads {
                Some(h) => {
                    let (d, h) = self.$at(obj, h)?;
                    d.get_cursor_moving(obj, position, Some(h), moves)
                }
                None => match self.$now(obj) {
                    $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                        d.get_cursor_moving(obj, position, heads, moves)
                    }
                    $crate::doc_reads::ReadAt::Heads(d, h) => {
                        d.get_cursor_moving(obj, position, Some(h), moves)
                    }
                },
            }
        }

        /// [`Document::get_cursor_position`].
        pub fn get_cursor_position(
            &self,
            obj: &$crate::ExId,
            cursor: &converge_encoding::Cursor,
            heads: Option<&[converge_encoding::ChangeHash]>,
        ) -> Result<usize, $crate::DocError> {
            match heads {
                Some(h) => {
                    let (d, h) = self.$at(obj, h)?;
                    d.get_cursor_position(obj, cursor, Some(h))
                }
                None => match self.$now(obj) {
                    $crate::doc_reads::ReadAt::Now(d) => d.get_cursor_position(obj, cursor, heads),
                    $crate::doc_reads::ReadAt::Scoped(d) => d.cursor_position_scoped(obj, cursor),
                    $crate::doc_reads::ReadAt::Heads(d, h) => {
                        d.get_cursor_position(obj, cursor, Some(h))
                    }
                },
            }
        }

        /// [`Document::get_marks`].
        pub fn get_marks(
            &self,
            obj: &$crate::ExId,
            index: usize,
            heads: Option<&[converge_encoding::ChangeHash]>,
        ) -> Result<
            std::collections::BTreeMap<String, converge_encoding::ScalarValue>,
            $crate::DocError,
        > {
            match heads {
                Some(h) => {
                    let (d, h) = self.$at(obj, h)?;
                    d.get_marks(obj, index, Some(h))
                }
                None => match self.$now(obj) {
                    $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                        d.get_marks(obj, index, heads)
                    }
                    $crate::doc_reads::ReadAt::Heads(d, h) => d.get_marks(obj, index, Some(h)),
                },
            }
        }

        /// [`Document::spans`].
        pub fn spans(
            &self,
            obj: &$crate::ExId,
            heads: Option<&[converge_encoding::ChangeHash]>,
        ) -> Result<Vec<$crate::Span>, $crate::DocError> {
            match heads {
                Some(h) => {
                    let (d, h) = self.$at(obj, h)?;
                    d.spans(obj, Some(h))
                }
                None => match self.$now(obj) {
                    $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                        d.spans(obj, heads)
                    }
                    $crate::doc_reads::ReadAt::Heads(d, h) => d.spans(obj, Some(h)),
                },
            }
        }

        /// [`Document::values`].
        pub fn values(
            &self,
            obj: &$crate::ExId,
        ) -> Result<Vec<$crate::ValueWithId>, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.values(obj)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.values_at(obj, h),
            }
        }

        /// [`Document::values_at`].
        pub fn values_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::ValueWithId>, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.values_at(obj, heads)
        }

        /// [`Document::iter`].
        pub fn iter(&self) -> $crate::DocIter<'_> {
            match self.$now(&$crate::ROOT) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.iter()
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.iter_reporting(&$crate::ROOT, Some(h)),
            }
        }

        /// [`Document::iter_at`] (here the walk also borrows `heads`, as the reads at
        /// heads of an isolated [`AutoCommit`](crate::AutoCommit) pick the document to walk
        /// by them).
        pub fn iter_at<'s>(
            &'s self,
            obj: &$crate::ExId,
            heads: Option<&'s [converge_encoding::ChangeHash]>,
        ) -> Result<$crate::DocIter<'s>, $crate::DocError> {
            match heads {
                Some(h) => {
                    let (d, h) = self.$at(obj, h)?;
                    d.iter_at(obj, Some(h))
                }
                None => match self.$now(obj) {
                    $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                        d.iter_at(obj, None)
                    }
                    $crate::doc_reads::ReadAt::Heads(d, h) => d.iter_at(obj, Some(h)),
                },
            }
        }

        /// [`Document::parents`].
        pub fn parents(&self, obj: &$crate::ExId) -> Result<Vec<$crate::Parent>, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.parents(obj)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d.parents_at(obj, h),
            }
        }

        /// [`Document::parents_at`].
        pub fn parents_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::Parent>, $crate::DocError> {
            let (d, heads) = self.$at(obj, heads)?;
            d.parents_at(obj, heads)
        }

        /// [`Document::path_to_object`].
        pub fn path_to_object(
            &self,
            obj: &$crate::ExId,
        ) -> Result<Vec<($crate::ExId, $crate::Prop)>, $crate::DocError> {
            match self.$now(obj) {
                $crate::doc_reads::ReadAt::Now(d) | $crate::doc_reads::ReadAt::Scoped(d) => {
                    d.path_to_object(obj)
                }
                $crate::doc_reads::ReadAt::Heads(d, h) => d
                    .parents_at(obj, h)
                    .map(|p| p.into_iter().rev().map(|p| (p.obj, p.prop)).collect()),
            }
        }

        /// [`Document::actor`].
        #[doc(alias = "get_actor")]
        pub fn actor(&self) -> &converge_encoding::ActorId {
            self.$doc.actor()
        }

        /// [`Document::text_encoding`].
        pub fn text_encoding(&self) -> $crate::TextEncoding {
            self.$doc.text_encoding()
        }
    };
}

/// The edit methods of a [`Transaction`](crate::Transaction), each run through `self.$run`
/// (a method taking a closure over the transaction); `$how` ends their docs.
macro_rules! doc_edits {
    ($run:ident, $how:literal) => {
        #[doc = concat!("[`Transaction::put`] ", $how, ".")]
        pub fn put(
            &mut self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
            value: impl Into<converge_encoding::ScalarValue>,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.put(obj, prop, value))
        }

        #[doc = concat!("[`Transaction::put_object`] ", $how, ".")]
        pub fn put_object(
            &mut self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
            kind: $crate::ObjType,
        ) -> Result<$crate::ExId, $crate::DocError> {
            self.$run(|tx| tx.put_object(obj, prop, kind))
        }

        #[doc = concat!("[`Transaction::insert`] ", $how, ".")]
        pub fn insert(
            &mut self,
            obj: &$crate::ExId,
            index: usize,
            value: impl Into<converge_encoding::ScalarValue>,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.insert(obj, index, value))
        }

        #[doc = concat!("[`Transaction::insert_object`] ", $how, ".")]
        pub fn insert_object(
            &mut self,
            obj: &$crate::ExId,
            index: usize,
            kind: $crate::ObjType,
        ) -> Result<$crate::ExId, $crate::DocError> {
            self.$run(|tx| tx.insert_object(obj, index, kind))
        }

        #[doc = concat!("[`Transaction::delete`] ", $how, ".")]
        pub fn delete(
            &mut self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.delete(obj, prop))
        }

        #[doc = concat!("[`Transaction::increment`] ", $how, ".")]
        pub fn increment(
            &mut self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
            by: i64,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.increment(obj, prop, by))
        }

        #[doc = concat!("[`Transaction::splice`] ", $how, ".")]
        pub fn splice(
            &mut self,
            obj: &$crate::ExId,
            pos: usize,
            del: usize,
            values: impl IntoIterator<Item = converge_encoding::ScalarValue>,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.splice(obj, pos, del, values))
        }

        #[doc = concat!("[`Transaction::mark`] ", $how, ".")]
        pub fn mark(
            &mut self,
            obj: &$crate::ExId,
            range: std::ops::Range<usize>,
            name: &str,
            value: converge_encoding::ScalarValue,
            expand: $crate::ExpandMark,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.mark(obj, range, name, value, expand))
        }

        #[doc = concat!("[`Transaction::unmark`] ", $how, ".")]
        pub fn unmark(
            &mut self,
            obj: &$crate::ExId,
            range: std::ops::Range<usize>,
            name: &str,
            expand: $crate::ExpandMark,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.unmark(obj, range, name, expand))
        }

        #[doc = concat!("[`Transaction::splice_text`] ", $how, ".")]
        pub fn splice_text(
            &mut self,
            obj: &$crate::ExId,
            pos: usize,
            del: usize,
            text: &str,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.splice_text(obj, pos, del, text))
        }

        #[doc = concat!("[`Transaction::split_block`] ", $how, ".")]
        pub fn split_block(
            &mut self,
            obj: &$crate::ExId,
            index: usize,
        ) -> Result<$crate::ExId, $crate::DocError> {
            self.$run(|tx| tx.split_block(obj, index))
        }

        #[doc = concat!("[`Transaction::join_block`] ", $how, ".")]
        pub fn join_block(
            &mut self,
            obj: &$crate::ExId,
            index: usize,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.join_block(obj, index))
        }

        #[doc = concat!("[`Transaction::replace_block`] ", $how, ".")]
        pub fn replace_block(
            &mut self,
            obj: &$crate::ExId,
            index: usize,
        ) -> Result<$crate::ExId, $crate::DocError> {
            self.$run(|tx| tx.replace_block(obj, index))
        }

        #[doc = concat!("[`Transaction::update_text`] ", $how, ".")]
        pub fn update_text(
            &mut self,
            obj: &$crate::ExId,
            new: &str,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.update_text(obj, new))
        }

        #[doc = concat!("[`Transaction::update_object`] ", $how, ".")]
        pub fn update_object(
            &mut self,
            obj: &$crate::ExId,
            value: &$crate::ValueTree,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.update_object(obj, value))
        }

        #[doc = concat!("[`Transaction::batch_create_object`] ", $how, ".")]
        pub fn batch_create_object(
            &mut self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
            value: &$crate::ValueTree,
            insert: bool,
        ) -> Result<$crate::ExId, $crate::DocError> {
            self.$run(|tx| tx.batch_create_object(obj, prop, value, insert))
        }

        #[doc = concat!("[`Transaction::init_root_from_value_tree`] ", $how, ".")]
        #[doc(alias = "init_root_from_hydrate", alias = "init_from_hydrate")]
        pub fn init_root_from_value_tree(
            &mut self,
            root: &$crate::ValueTree,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.init_root_from_value_tree(root))
        }

        #[doc = concat!("[`Transaction::update_spans`] ", $how, ".")]
        pub fn update_spans(
            &mut self,
            obj: &$crate::ExId,
            spans: &[$crate::Span],
            config: &$crate::UpdateSpansConfig,
        ) -> Result<(), $crate::DocError> {
            self.$run(|tx| tx.update_spans(obj, spans, config))
        }
    };
}

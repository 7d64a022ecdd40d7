//! Method sets that several types share. The reads of a document, for the types that edit
//! one: [`AutoCommit`](crate::AutoCommit) and [`Transaction`](crate::Transaction) read through
//! their document, pending edits included, but offer nothing else of it (a save, a fork or a
//! clone of a document with pending ops would hold ops that no change holds). And the edits
//! of a transaction, for [`Document`](crate::Document) (a change each) and
//! [`AutoCommit`](crate::AutoCommit) (into the pending change).

/// Read methods that call the same methods of the [`Document`](crate::Document) in field
/// `$doc` of `self`.
macro_rules! doc_reads {
    ($doc:ident) => {
        /// [`Document::get`].
        pub fn get(
            &self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
        ) -> Result<Option<$crate::ValueWithId>, $crate::DocError> {
            self.$doc.get(obj, prop)
        }

        /// [`Document::get_all`].
        pub fn get_all(
            &self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
        ) -> Result<Vec<$crate::ValueWithId>, $crate::DocError> {
            self.$doc.get_all(obj, prop)
        }

        /// [`Document::keys`].
        pub fn keys(&self, obj: &$crate::ExId) -> Result<Vec<String>, $crate::DocError> {
            self.$doc.keys(obj)
        }

        /// [`Document::length`].
        pub fn length(&self, obj: &$crate::ExId) -> Result<usize, $crate::DocError> {
            self.$doc.length(obj)
        }

        /// [`Document::list_values`].
        pub fn list_values(
            &self,
            obj: &$crate::ExId,
        ) -> Result<Vec<$crate::ValueWithId>, $crate::DocError> {
            self.$doc.list_values(obj)
        }

        /// [`Document::list_range`].
        pub fn list_range(
            &self,
            obj: &$crate::ExId,
            range: impl std::ops::RangeBounds<usize>,
        ) -> Result<Vec<$crate::ListItem>, $crate::DocError> {
            self.$doc.list_range(obj, range)
        }

        /// [`Document::map_range`].
        pub fn map_range(
            &self,
            obj: &$crate::ExId,
            range: impl std::ops::RangeBounds<String>,
        ) -> Result<Vec<$crate::MapItem>, $crate::DocError> {
            self.$doc.map_range(obj, range)
        }

        /// [`Document::text`].
        pub fn text(&self, obj: &$crate::ExId) -> Result<String, $crate::DocError> {
            self.$doc.text(obj)
        }

        /// [`Document::marks`].
        pub fn marks(&self, obj: &$crate::ExId) -> Result<Vec<$crate::Mark>, $crate::DocError> {
            self.$doc.marks(obj)
        }

        /// [`Document::object_type`].
        pub fn object_type(&self, obj: &$crate::ExId) -> Result<$crate::ObjType, $crate::DocError> {
            self.$doc.object_type(obj)
        }

        /// [`Document::value_tree`].
        pub fn value_tree(
            &self,
            obj: &$crate::ExId,
        ) -> Result<$crate::ValueTree, $crate::DocError> {
            self.$doc.value_tree(obj)
        }

        /// [`Document::get_at`].
        pub fn get_at(
            &self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Option<$crate::ValueWithId>, $crate::DocError> {
            self.$doc.get_at(obj, prop, heads)
        }

        /// [`Document::get_all_at`].
        pub fn get_all_at(
            &self,
            obj: &$crate::ExId,
            prop: impl Into<$crate::Prop>,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::ValueWithId>, $crate::DocError> {
            self.$doc.get_all_at(obj, prop, heads)
        }

        /// [`Document::keys_at`].
        pub fn keys_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<String>, $crate::DocError> {
            self.$doc.keys_at(obj, heads)
        }

        /// [`Document::length_at`].
        pub fn length_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<usize, $crate::DocError> {
            self.$doc.length_at(obj, heads)
        }

        /// [`Document::list_values_at`].
        pub fn list_values_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::ValueWithId>, $crate::DocError> {
            self.$doc.list_values_at(obj, heads)
        }

        /// [`Document::list_range_at`].
        pub fn list_range_at(
            &self,
            obj: &$crate::ExId,
            range: impl std::ops::RangeBounds<usize>,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::ListItem>, $crate::DocError> {
            self.$doc.list_range_at(obj, range, heads)
        }

        /// [`Document::map_range_at`].
        pub fn map_range_at(
            &self,
            obj: &$crate::ExId,
            range: impl std::ops::RangeBounds<String>,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::MapItem>, $crate::DocError> {
            self.$doc.map_range_at(obj, range, heads)
        }

        /// [`Document::text_at`].
        pub fn text_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<String, $crate::DocError> {
            self.$doc.text_at(obj, heads)
        }

        /// [`Document::marks_at`].
        pub fn marks_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::Mark>, $crate::DocError> {
            self.$doc.marks_at(obj, heads)
        }

        /// [`Document::value_tree_at`].
        pub fn value_tree_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<$crate::ValueTree, $crate::DocError> {
            self.$doc.value_tree_at(obj, heads)
        }

        /// [`Document::get_cursor`].
        pub fn get_cursor(
            &self,
            obj: &$crate::ExId,
            position: impl Into<$crate::CursorPosition>,
            heads: Option<&[converge_encoding::ChangeHash]>,
        ) -> Result<converge_encoding::Cursor, $crate::DocError> {
            self.$doc.get_cursor(obj, position, heads)
        }

        /// [`Document::get_cursor_moving`].
        pub fn get_cursor_moving(
            &self,
            obj: &$crate::ExId,
            position: impl Into<$crate::CursorPosition>,
            heads: Option<&[converge_encoding::ChangeHash]>,
            moves: converge_encoding::CursorMove,
        ) -> Result<converge_encoding::Cursor, $crate::DocError> {
            self.$doc.get_cursor_moving(obj, position, heads, moves)
        }

        /// [`Document::get_cursor_position`].
        pub fn get_cursor_position(
            &self,
            obj: &$crate::ExId,
            cursor: &converge_encoding::Cursor,
            heads: Option<&[converge_encoding::ChangeHash]>,
        ) -> Result<usize, $crate::DocError> {
            self.$doc.get_cursor_position(obj, cursor, heads)
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
            self.$doc.get_marks(obj, index, heads)
        }

        /// [`Document::spans`].
        pub fn spans(
            &self,
            obj: &$crate::ExId,
            heads: Option<&[converge_encoding::ChangeHash]>,
        ) -> Result<Vec<$crate::Span>, $crate::DocError> {
            self.$doc.spans(obj, heads)
        }

        /// [`Document::parents`].
        pub fn parents(&self, obj: &$crate::ExId) -> Result<Vec<$crate::Parent>, $crate::DocError> {
            self.$doc.parents(obj)
        }

        /// [`Document::parents_at`].
        pub fn parents_at(
            &self,
            obj: &$crate::ExId,
            heads: &[converge_encoding::ChangeHash],
        ) -> Result<Vec<$crate::Parent>, $crate::DocError> {
            self.$doc.parents_at(obj, heads)
        }

        /// [`Document::path_to_object`].
        pub fn path_to_object(
            &self,
            obj: &$crate::ExId,
        ) -> Result<Vec<($crate::ExId, $crate::Prop)>, $crate::DocError> {
            self.$doc.path_to_object(obj)
        }

        /// [`Document::actor`].
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
    };
}

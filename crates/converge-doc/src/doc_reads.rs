//! The reads of a document, for the types that edit one: [`AutoCommit`](crate::AutoCommit)
//! and [`Transaction`](crate::Transaction) read through their document, pending edits
//! included, but offer nothing else of it (a save, a fork or a clone of a document with
//! pending ops would hold ops that no change holds).

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

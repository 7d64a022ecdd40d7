//! Public value types: object kinds, properties, values read from a document.

use std::collections::BTreeMap;

use converge_encoding::{ActorId, ScalarValue};

/// The kind of a composite object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjType {
    /// A map from string keys to values (the root is one).
    Map,
    /// A map whose keys are generated ids (same semantics as a map here).
    Table,
    /// A list of values.
    List,
    /// A text: a list of characters, indexed in the document's text units.
    Text,
}

impl ObjType {
    /// Whether the object is addressed by string keys.
    pub fn is_map(self) -> bool {
        matches!(self, ObjType::Map | ObjType::Table)
    }

    /// Whether the object is a sequence (list or text).
    pub fn is_sequence(self) -> bool {
        matches!(self, ObjType::List | ObjType::Text)
    }
}

/// How text indexes and lengths are counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    /// Unicode scalar values (Rust `char`s). The default.
    #[default]
    CodePoint,
    /// UTF-16 code units (JavaScript string indexes).
    Utf16,
    /// UTF-8 bytes.
    Utf8,
    /// Extended grapheme clusters (what a reader sees as one character: a letter and its
    /// accents, a flag, a joined emoji), as Swift counts. Text spliced in is stored one
    /// element per cluster, and each element counts as many units as it holds clusters
    /// (one, unless others wrote it: a peer counting code points stores an accent apart
    /// from its letter, and each then counts one). automerge 0.12's `GraphemeCluster`;
    /// like automerge, a patch that deletes such elements counts the clusters of their
    /// joined text, which can be fewer than the units the text lost.
    GraphemeCluster,
}

impl TextEncoding {
    /// The width of `s` in this encoding.
    pub(crate) fn width(self, s: &str) -> usize {
        match self {
            TextEncoding::CodePoint => s.chars().count(),
            TextEncoding::Utf16 => s.chars().map(char::len_utf16).sum(),
            TextEncoding::Utf8 => s.len(),
            TextEncoding::GraphemeCluster => {
                unicode_segmentation::UnicodeSegmentation::graphemes(s, true).count()
            }
        }
    }

    /// The width of one character in this encoding (alone, one cluster).
    pub(crate) fn char_width(self, c: char) -> usize {
        match self {
            TextEncoding::CodePoint | TextEncoding::GraphemeCluster => 1,
            TextEncoding::Utf16 => c.len_utf16(),
            TextEncoding::Utf8 => c.len_utf8(),
        }
    }
}

/// A property of an object: a map key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Prop {
    /// A key of a map or table.
    Map(String),
    /// An index into a list or text.
    Seq(usize),
}

impl From<&str> for Prop {
    fn from(key: &str) -> Self {
        Prop::Map(key.to_owned())
    }
}

impl From<String> for Prop {
    fn from(key: String) -> Self {
        Prop::Map(key)
    }
}

impl From<&String> for Prop {
    fn from(key: &String) -> Self {
        Prop::Map(key.clone())
    }
}

impl From<usize> for Prop {
    fn from(index: usize) -> Self {
        Prop::Seq(index)
    }
}

/// A value read from a document: a scalar, or a reference to a nested object.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A nested object; read it with its [`ExId`].
    Object(ObjType, ExId),
    /// A scalar. Counters read as `Counter(initial + sum of increments)`.
    Scalar(ScalarValue),
}

impl Value {
    /// The scalar, if this is one.
    pub fn as_scalar(&self) -> Option<&ScalarValue> {
        match self {
            Value::Scalar(s) => Some(s),
            Value::Object(..) => None,
        }
    }

    /// The object id, if this is an object.
    pub fn as_object(&self) -> Option<&ExId> {
        match self {
            Value::Object(_, id) => Some(id),
            Value::Scalar(_) => None,
        }
    }
}

/// One value of a property together with the id of the op that set it.
///
#[derive(Clone, Debug, PartialEq)]
pub struct ValueWithId {
    /// The value.
    pub value: Value,
    /// The op that wrote it (for objects, also the object's id).
    pub id: ExId,
}

/// One element of a list or text, as [`crate::Document::list_range`] reports it (automerge
/// 0.12's `ListRangeItem`).
#[derive(Clone, Debug, PartialEq)]
pub struct ListItem {
    /// The element's index among the visible elements (a text's elements count one each,
    /// whatever their width in the document's text encoding).
    pub index: usize,
    /// The winning value.
    pub value: Value,
    /// The op that wrote the winning value.
    pub id: ExId,
    /// Whether other values of the element conflict with the winner.
    pub conflict: bool,
}

/// One key of a map, as [`crate::Document::map_range`] reports it (automerge 0.12's
/// `MapRangeItem`).
#[derive(Clone, Debug, PartialEq)]
pub struct MapItem {
    /// The key.
    pub key: String,
    /// The winning value.
    pub value: Value,
    /// The op that wrote the winning value.
    pub id: ExId,
    /// Whether other values of the key conflict with the winner.
    pub conflict: bool,
}

/// Counts of a document's contents ([`crate::Document::stats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Ops held (deletions are not ops of their own: they hide the ops they delete).
    pub num_ops: u64,
    /// Changes applied.
    pub num_changes: u64,
    /// Actors known.
    pub num_actors: u64,
}

/// Where an object is in the object that holds it, as [`crate::Document::parents`] reports
/// it (automerge 0.12's `Parent`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    /// The object that holds it.
    pub obj: ExId,
    /// That object's kind.
    pub kind: ObjType,
    /// The key, or the index (of the element, or of the next one shown if it is gone), that
    /// holds it.
    pub prop: Prop,
    /// Whether it is what that property shows (not deleted, and not a conflict's loser).
    pub visible: bool,
}

/// A run of a text's characters that carry the same marks, as [`crate::Document::spans`]
/// reports it (automerge 0.12's `Span::Text`).
#[derive(Clone, Debug, PartialEq)]
pub struct TextSpan {
    /// The characters.
    pub text: String,
    /// Their marks by name (empty where there are none).
    pub marks: BTreeMap<String, ScalarValue>,
}

/// What [`crate::Document::spans`] reports of a text: a run of equally marked characters,
/// or a block (automerge 0.12's `Span`).
#[derive(Clone, Debug, PartialEq)]
pub enum Span {
    /// Characters that carry the same marks.
    Text(TextSpan),
    /// A block: a map in the text ([`crate::Transaction::split_block`]), as its value.
    Block(ValueTree),
}

/// A whole (sub)document materialised as plain data.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueTree {
    /// A map or table: its keys with their winning values.
    Map(BTreeMap<String, ValueTree>),
    /// A list.
    List(Vec<ValueTree>),
    /// A text.
    Text(String),
    /// A scalar.
    Scalar(ScalarValue),
}

/// A document-independent id of an object (or of the op that wrote a value): the root, or
/// the op's counter and author. Unlike `converge_encoding::ObjId`, whose actor is an index into
/// some actor table, an `ExId` means the same thing in every document that has the op.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum ExId {
    /// The root map.
    #[default]
    Root,
    /// The op `counter@actor`.
    Op {
        /// Lamport counter.
        counter: u32,
        /// Author of the op.
        actor: ActorId,
    },
}

/// The root map's id.
pub const ROOT: ExId = ExId::Root;

/// Whether a mark grows when text is inserted at its boundaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ExpandMark {
    /// Text inserted right before the mark's start joins the mark.
    Before,
    /// Text inserted right after the mark's end joins the mark (the usual "bold" behaviour).
    #[default]
    After,
    /// Both.
    Both,
    /// Neither.
    None,
}

impl ExpandMark {
    /// The `expand` flag of the begin op.
    pub(crate) fn before(self) -> bool {
        matches!(self, ExpandMark::Before | ExpandMark::Both)
    }

    /// The `expand` flag of the end op.
    pub(crate) fn after(self) -> bool {
        matches!(self, ExpandMark::After | ExpandMark::Both)
    }
}

/// A span of text carrying a named value (rich-text formatting).
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// First text unit covered.
    pub start: usize,
    /// One past the last text unit covered.
    pub end: usize,
    /// The mark's name ("bold", "link", ...).
    pub name: String,
    /// Its value (never null: unmarked spans are not reported).
    pub value: ScalarValue,
}

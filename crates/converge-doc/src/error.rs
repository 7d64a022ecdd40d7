//! The one error type of this layer.

use converge_encoding::{ActorId, ChangeHash};

use crate::types::{ExId, ObjType};

/// Why a document operation failed. A failed operation leaves the document exactly as it was.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocError {
    /// The object id does not name an object of this document.
    #[error("no object {obj} in this document")]
    ObjectNotFound {
        /// The id asked for.
        obj: ExId,
    },
    /// The object exists but is of a kind the operation cannot address.
    #[error("object {obj} is a {found:?}, expected {expected}")]
    WrongObjectType {
        /// The object.
        obj: ExId,
        /// Its kind.
        found: ObjType,
        /// What the operation needs ("a map or table", "a list or text", ...).
        expected: &'static str,
    },
    /// A sequence index past the end.
    #[error("index {index} out of bounds for a sequence of length {length}")]
    IndexOutOfBounds {
        /// The index asked for.
        index: usize,
        /// The sequence's visible length (in the document's text units for text).
        length: usize,
    },
    /// `increment` on a property that holds no counter.
    #[error("no counter at this property of {obj}")]
    NotACounter {
        /// The object.
        obj: ExId,
    },
    /// A local edit would need an op counter above 2^32 - 1 (automerge 0.12's limit).
    #[error("op counter overflow")]
    CounterOverflow,
    /// A remote op references an object the document does not have.
    #[error("change {change} references unknown object {obj}")]
    UnknownObject {
        /// The offending change.
        change: ChangeHash,
        /// The object.
        obj: ExId,
    },
    /// A remote op references a list element the document does not have.
    #[error("change {change} references unknown element {counter}@{actor}")]
    UnknownElement {
        /// The offending change.
        change: ChangeHash,
        /// Element counter.
        counter: u32,
        /// Element actor.
        actor: ActorId,
    },
    /// A remote change whose first op counter is not above every op counter of the changes
    /// it depends on.
    #[error("change {change} starts at op {start_op}, not after its deps' max op {deps_max_op}")]
    StartOpNotAfterDeps {
        /// The offending change.
        change: ChangeHash,
        /// Its start op.
        start_op: u64,
        /// The largest max op of its deps.
        deps_max_op: u64,
    },
    /// A remote change of no ops whose max op (its start op less one) is below the max op
    /// of its author's previous change: a document chunk keeps each actor's changes in
    /// order of max op, so no save could hold it (automerge 0.12 applies it and then writes
    /// a save it cannot load). (A change with ops that starts there is a
    /// [`DocError::DuplicateOpId`].)
    #[error(
        "change {change} of no ops ends at op {max_op}, below its author's previous change's max op {previous_max_op}"
    )]
    MaxOpBelowPrevious {
        /// The offending change.
        change: ChangeHash,
        /// Its max op.
        max_op: u64,
        /// The max op of its author's previous change.
        previous_max_op: u64,
    },
    /// A remote op's pred names an op the document does not have.
    #[error("change {change} has unknown pred {counter}@{actor}")]
    UnknownPred {
        /// The offending change.
        change: ChangeHash,
        /// Pred counter.
        counter: u32,
        /// Pred actor.
        actor: ActorId,
    },
    /// A remote op whose shape does not fit its object (a map key in a list, an insert into a
    /// map, an actor index outside the change's actor table, a counter outside the change's range).
    #[error("change {change}: op {op_index} is invalid: {reason}")]
    InvalidOp {
        /// The offending change.
        change: ChangeHash,
        /// Position of the op inside the change.
        op_index: usize,
        /// What is wrong with it.
        reason: InvalidOpReason,
    },
    /// A change whose (actor, seq) is already present with a different hash.
    #[error("duplicate seq {seq} for actor {actor}")]
    DuplicateSeqNumber {
        /// The actor.
        actor: ActorId,
        /// The seq.
        seq: u64,
    },
    /// A change whose extra bytes name an author (an author footer) for an actor that has one
    /// already, from an applied or queued change or an earlier change of the same batch: the
    /// reference's `DuplicateAuthor`.
    #[error("duplicate author for actor {actor} in the change with seq {seq}")]
    DuplicateAuthor {
        /// The actor.
        actor: ActorId,
        /// The seq of the change refused.
        seq: u64,
    },
    /// A change whose extra bytes name an author but which is not its actor's first change.
    /// Only an actor's first change carries its author; automerge 0.12 panics on such a
    /// change, so it is refused before it reaches a peer.
    #[error("actor {actor}: the change with seq {seq} names an author, which only seq 1 may")]
    AuthorAfterFirstChange {
        /// The actor.
        actor: ActorId,
        /// The seq of the change refused.
        seq: u64,
    },
    /// `value_tree` of an object under which objects nest deeper than
    /// [`MAX_TREE_DEPTH`](crate::MAX_TREE_DEPTH) (a tree is built and dropped by recursion;
    /// read such a document with `get` and `keys` instead).
    #[error("objects nest deeper than {depth} levels")]
    TooDeep {
        /// The depth reached.
        depth: usize,
    },
    /// A change whose ops' counters collide with ops already present.
    #[error("change {change} reuses op counters of actor {actor}")]
    DuplicateOpId {
        /// The offending change.
        change: ChangeHash,
        /// The actor.
        actor: ActorId,
    },
    /// A change could not be decoded or encoded.
    #[error("change encoding: {0}")]
    Encoding(#[from] converge_encoding::DecodeError),
    /// A loaded file's changes depend on changes it does not contain.
    #[error("missing dependencies: {missing:?}")]
    MissingDeps {
        /// The hashes needed.
        missing: Vec<ChangeHash>,
    },
    /// A document chunk in which a mark end comes before its begin (in document order) or lies
    /// in another object than its begin. automerge 0.12 refuses to load such a document (and
    /// can save one: [`Document::rescue`](crate::Document::rescue) reads its values).
    #[error("invalid mark order in document chunk: the mark end {end} {fault}")]
    InvalidMarkOrder {
        /// The misplaced mark end (its begin is the op before it, counter one less).
        end: ExId,
        /// What is wrong with it.
        fault: MarkOrderFault,
    },
    /// A head asked for is not a change of this document.
    #[error("unknown change {hash}")]
    UnknownChange {
        /// The hash.
        hash: ChangeHash,
    },
    /// A cursor that names no element of the object (an op of another object, or one the
    /// document, or the heads read at, do not have).
    #[error("cursor {cursor} names no element of {obj}")]
    InvalidCursor {
        /// The object.
        obj: ExId,
        /// The cursor.
        cursor: converge_encoding::Cursor,
    },
    /// The change graph refused a change for a reason no other variant describes (more
    /// changes than it can index).
    #[error("change graph: {0}")]
    Graph(converge_dag::DagError),
}

impl DocError {
    /// `Ok` if `kind` is a list or text, else the error for `obj`, which is not one.
    pub(crate) fn expect_sequence(obj: &ExId, kind: ObjType) -> Result<(), DocError> {
        if kind.is_sequence() {
            return Ok(());
        }
        Err(DocError::WrongObjectType {
            obj: obj.clone(),
            found: kind,
            expected: "a list or text",
        })
    }
}

impl From<converge_dag::DagError> for DocError {
    fn from(e: converge_dag::DagError) -> Self {
        match e {
            converge_dag::DagError::DuplicateSeq { actor, seq, .. } => {
                DocError::DuplicateSeqNumber { actor, seq }
            }
            other => DocError::Graph(other),
        }
    }
}

/// Where a misplaced mark end is (see [`DocError::InvalidMarkOrder`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarkOrderFault {
    /// It comes before its begin in document order (or its begin is missing).
    BeforeBegin,
    /// Its begin lies in another object.
    OtherObject,
}

impl std::fmt::Display for MarkOrderFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MarkOrderFault::BeforeBegin => "comes before its begin",
            MarkOrderFault::OtherObject => "lies in another object than its begin",
        })
    }
}

/// What is structurally wrong with a remote op (see [`DocError::InvalidOp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidOpReason {
    /// An actor index outside the change's actor table.
    ActorIndexOutOfRange,
    /// A map key addressing a list/text, or an element addressing a map/table.
    KeyKindMismatch,
    /// An insert into a map or table, or an insert whose key is not an element.
    InsertIntoMap,
    /// An op referencing an op of its own change that comes later (or itself).
    ForwardReference,
    /// An object id naming an op that did not create an object.
    NotAnObject,
    /// An element id naming an op that did not insert an element.
    NotAnElement,
    /// An increment whose value is not an integer.
    NonNumericIncrement,
    /// A change whose op counters do not fit in 32 bits.
    CounterTooLarge,
    /// A pred that is an op of another object, map key or element (or any pred of an
    /// insert).
    PredElsewhere,
    /// A deletion that names no op to delete.
    DeleteWithoutPred,
}

impl std::fmt::Display for InvalidOpReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InvalidOpReason::ActorIndexOutOfRange => "actor index out of range",
            InvalidOpReason::KeyKindMismatch => "key kind does not match the object",
            InvalidOpReason::InsertIntoMap => "insert into a map",
            InvalidOpReason::ForwardReference => "reference to a later op of the same change",
            InvalidOpReason::NotAnObject => "object id is not a make op",
            InvalidOpReason::NotAnElement => "element id is not an insert op",
            InvalidOpReason::NonNumericIncrement => "increment by a non-integer",
            InvalidOpReason::CounterTooLarge => "op counter larger than 2^32-1",
            InvalidOpReason::PredElsewhere => "pred is an op of another object, key or element",
            InvalidOpReason::DeleteWithoutPred => "deletion of no op",
        })
    }
}

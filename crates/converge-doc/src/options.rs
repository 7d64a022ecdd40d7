//! Load and save options: automerge 0.12's `LoadOptions` and `SaveOptions`.
//!
//! A load can keep what decoded before a bad chunk and accept missing deps
//! ([`OnPartialLoad::Ignore`]; JavaScript's `load` calls it `allowMissingChanges`), skip
//! the check that a document chunk's stored heads are those of its changes
//! ([`VerificationMode::DontCheck`]), and turn every string value into a text object
//! ([`StringMigration::ConvertToText`]). A save can leave its columns uncompressed and the
//! queued changes out.

use converge_encoding::{ActorId, Author, HeadsCheck, ScalarValue};

use crate::doc::Document;
use crate::error::DocError;
use crate::types::{ExId, ObjType, Prop, TextEncoding, Value, ValueTree};

/// What [`Document::load_with_options`] does with a file it can only partly read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnPartialLoad {
    /// Fail the load if any chunk does not decode, or if a file without a leading document
    /// chunk holds changes whose deps are missing. The default.
    #[default]
    Error,
    /// Keep what decoded: a chunk after the first that does not decode ends the file (the
    /// chunks before it are applied), and changes whose deps are missing are queued
    /// instead of failing the load. The first chunk must still decode.
    ///
    /// automerge 0.12 documents the option so, but when a later chunk does not decode it
    /// keeps only a leading document chunk and drops the changes of the chunks between
    /// (its `load_incremental` into an empty document does the same). converge keeps them,
    /// as its own [`Document::load_incremental`] always has: the document is what
    /// automerge 0.12 loads from the file cut before the bad chunk.
    Ignore,
}

/// Whether a load checks a leading document chunk's stored heads against its changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationMode {
    /// Refuse a document chunk whose stored heads are not the heads of its changes. The
    /// default.
    #[default]
    Check,
    /// Load it anyway (to read a damaged file): the document's heads are those of its
    /// changes.
    DontCheck,
}

/// Whether a load turns string values into text objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StringMigration {
    /// Leave the document as it is. The default.
    #[default]
    NoMigration,
    /// After loading, replace every visible string value in a map or list (every value of
    /// a conflict, in op order; objects in id order, keys in order, elements by index) with
    /// a text object holding the same characters, in one local change: automerge 0.12's
    /// migration for documents written by JavaScript before 2.1, where strings were what
    /// text is now. The change is the one automerge makes, byte for byte, given the same
    /// actor (see [`LoadOptions::actor`]).
    ConvertToText,
}

/// How [`Document::load_with_options`] loads (automerge 0.12's `LoadOptions`).
///
/// ```
/// use converge_doc::{Document, LoadOptions, OnPartialLoad, ROOT};
/// let mut doc = Document::new();
/// doc.put(&ROOT, "a", 1i64)?;
/// let mut file = doc.save();
/// doc.put(&ROOT, "b", 2i64)?;
/// file.extend(doc.save_incremental());
/// file.truncate(file.len() - 3); // a write cut short
/// assert!(Document::load(&file).is_err());
/// let options = LoadOptions::new().on_partial_load(OnPartialLoad::Ignore);
/// let loaded = Document::load_with_options(&file, options)?;
/// assert_eq!(loaded.keys(&ROOT)?, ["a"]);
/// # Ok::<(), converge_doc::DocError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    on_partial_load: OnPartialLoad,
    verification: VerificationMode,
    string_migration: StringMigration,
    text_encoding: TextEncoding,
    actor: Option<ActorId>,
    author: Option<Author>,
}

impl LoadOptions {
    /// The defaults: fail on any bad chunk, check the heads, no migration, text counted in
    /// code points, a random actor, no author.
    pub fn new() -> Self {
        LoadOptions::default()
    }

    /// What to do with a file that is only partly readable.
    pub fn on_partial_load(self, on_partial_load: OnPartialLoad) -> Self {
        LoadOptions {
            on_partial_load,
            ..self
        }
    }

    /// Whether to check a document chunk's stored heads.
    pub fn verification_mode(self, verification: VerificationMode) -> Self {
        LoadOptions {
            verification,
            ..self
        }
    }

    /// Whether to turn string values into text objects after loading.
    pub fn migrate_strings(self, string_migration: StringMigration) -> Self {
        LoadOptions {
            string_migration,
            ..self
        }
    }

    /// How the loaded document counts text ([`Document::load_with_encoding`]).
    pub fn text_encoding(self, text_encoding: TextEncoding) -> Self {
        LoadOptions {
            text_encoding,
            ..self
        }
    }

    /// The loaded document's actor (a random one if not given), set before a string
    /// migration, which is its first change. (automerge 0.12 has no such option: its
    /// migration is made by a random actor.) An [`LoadOptions::author`] set too takes a new
    /// actor after the migration, as [`Document::set_author`] does.
    pub fn actor(self, actor: ActorId) -> Self {
        LoadOptions {
            actor: Some(actor),
            ..self
        }
    }

    /// The author of the loaded document's edits after the load ([`Document::set_author`]:
    /// a new random actor for them), as automerge 0.12's `LoadOptions::author`.
    pub fn author(self, author: Author) -> Self {
        LoadOptions {
            author: Some(author),
            ..self
        }
    }
}

/// How [`Document::save_with_options`] saves (automerge 0.12's `SaveOptions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaveOptions {
    /// Deflate the columns of 256 bytes or more ([`Document::save`]); else write them as
    /// they are ([`Document::save_nocompress`]).
    pub deflate: bool,
    /// Append the queued changes whose deps are missing, as they came.
    pub retain_orphans: bool,
}

impl Default for SaveOptions {
    /// Both on, as [`Document::save`].
    fn default() -> Self {
        SaveOptions {
            deflate: true,
            retain_orphans: true,
        }
    }
}

impl Document {
    /// Loads a file as `options` say (see [`LoadOptions`]); with the defaults this is
    /// [`Document::load`].
    #[doc(alias = "load_with")]
    pub fn load_with_options(bytes: &[u8], options: LoadOptions) -> Result<Document, DocError> {
        let check = match options.verification {
            VerificationMode::Check => HeadsCheck::Check,
            VerificationMode::DontCheck => HeadsCheck::DontCheck,
        };
        let partial = options.on_partial_load == OnPartialLoad::Ignore;
        let mut doc = Document::load_checked(
            bytes,
            options.text_encoding,
            check,
            crate::save::MarkOrderCheck::Validate,
            partial,
        )?;
        if let Some(actor) = options.actor {
            doc.set_actor(actor);
        }
        if options.string_migration == StringMigration::ConvertToText {
            doc.convert_strings_to_text()?;
        }
        if options.author.is_some() {
            doc.set_author(options.author);
        }
        Ok(doc)
    }

    /// A best-effort read of a file that [`Document::load`] refuses because a mark end in
    /// its document chunk comes before its begin or lies in another object
    /// ([`DocError::InvalidMarkOrder`]): the values of the whole document, as automerge
    /// 0.12's `rescue` gives them. automerge 0.12 applies changes that lead there, saves the
    /// result and then refuses to load its own save; this loads it with the mark order
    /// unchecked and returns the root's [`ValueTree`] only (the change graph of such a file
    /// would save to bytes that strict loads refuse again). To go on editing, build a new
    /// document from the tree. Any other fault fails as [`Document::load`] fails.
    ///
    /// ```
    /// use converge_doc::{Document, ROOT, ValueTree};
    /// let mut doc = Document::new();
    /// doc.put(&ROOT, "title", "notes")?;
    /// let ValueTree::Map(root) = Document::rescue(&doc.save())? else { unreachable!() };
    /// assert_eq!(root.len(), 1);
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn rescue(bytes: &[u8]) -> Result<ValueTree, DocError> {
        let doc = Document::load_checked(
            bytes,
            TextEncoding::CodePoint,
            HeadsCheck::Check,
            crate::save::MarkOrderCheck::AllowInvalid,
            false,
        )?;
        doc.value_tree(&crate::ROOT)
    }

    /// [`Document::load`] without checking a document chunk's stored heads (automerge
    /// 0.12's `load_unverified_heads`): to read a damaged file.
    pub fn load_unverified_heads(bytes: &[u8]) -> Result<Document, DocError> {
        Document::load_with_options(
            bytes,
            LoadOptions::new().verification_mode(VerificationMode::DontCheck),
        )
    }

    /// Saves as `options` say: [`Document::save`] with both on, [`Document::save_nocompress`]
    /// without `deflate`; without `retain_orphans` the queued changes are left out.
    pub fn save_with_options(&mut self, options: SaveOptions) -> Vec<u8> {
        let mut out = if options.deflate {
            self.save_document_chunk()
        } else {
            self.saved = self.history.len();
            self.encode_document(false)
        };
        if options.retain_orphans {
            self.append_queued(&mut out);
        }
        out
    }

    /// [`Document::save`], then a load of what it wrote (automerge 0.12's `save_and_verify`):
    /// a check for applications that distrust a save, at the cost of a load.
    pub fn save_and_verify(&mut self) -> Result<Vec<u8>, DocError> {
        let bytes = self.save();
        Document::load_with_encoding(&bytes, self.ops.encoding)?;
        Ok(bytes)
    }

    /// [`StringMigration::ConvertToText`]: every visible string value of a map or list
    /// becomes a text object with its characters, in one local change (none if there is no
    /// string). Returns the number of values converted.
    pub(crate) fn convert_strings_to_text(&mut self) -> Result<usize, DocError> {
        let mut found: Vec<(ExId, Prop, String)> = Vec::new();
        for obj in crate::save::object_order(&self.ops) {
            let kind = self.ops.objects[obj as usize].kind;
            if !matches!(kind, ObjType::Map | ObjType::List) {
                continue;
            }
            let id = self.ops.obj_id(obj);
            let mut take = |prop: Prop, doc: &Document| -> Result<(), DocError> {
                for v in doc.get_all(&id, prop.clone())? {
                    if let Value::Scalar(ScalarValue::Str(s)) = v.value {
                        found.push((id.clone(), prop.clone(), s));
                    }
                }
                Ok(())
            };
            if kind == ObjType::Map {
                for key in self.keys(&id)? {
                    take(Prop::Map(key), self)?;
                }
            } else {
                for index in 0..self.length(&id)? {
                    take(Prop::Seq(index), self)?;
                }
            }
        }
        if found.is_empty() {
            return Ok(0);
        }
        let mut tx = self.transaction();
        for (obj, prop, s) in &found {
            let text = tx.put_object(obj, prop.clone(), ObjType::Text)?;
            tx.splice_text(&text, 0, 0, s)?;
        }
        tx.commit()?;
        Ok(found.len())
    }
}

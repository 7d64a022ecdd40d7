//! Making an object equal to a value tree with few ops (automerge 0.12's `update_object`).

use converge_encoding::ScalarValue;

use crate::error::DocError;
use crate::transaction::Transaction;
use crate::types::{ExId, ObjType, Prop, Value, ValueTree};

impl Transaction<'_> {
    /// Makes the object `obj` hold `value` (a map, a list or a text, as `obj` is), with the
    /// ops automerge 0.12's `update_object` makes: a map's keys compared one by one (kept
    /// keys updated in key order, new keys added in key order, missing keys deleted in key
    /// order), a list's elements index by index, a text through [`Transaction::update_text`],
    /// nested objects of the same kind updated in place and others made anew; every scalar
    /// is put again, equal or not.
    ///
    /// One difference: when a list gets shorter, automerge 0.12 deletes as many elements
    /// from its front as it has too many (so `[a, b, c]` updated to `[x]` reads `[c]`);
    /// converge deletes them from its end, so that the list reads `[x]`.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use converge_doc::{Document, ROOT, ValueTree};
    /// let mut doc = Document::new();
    /// doc.put(&ROOT, "old", 1i64)?;
    /// let state = ValueTree::Map(BTreeMap::from([
    ///     ("title".to_owned(), ValueTree::Text("notes".into())),
    ///     ("tags".to_owned(), ValueTree::List(vec![ValueTree::Scalar("a".into())])),
    /// ]));
    /// doc.update_object(&ROOT, &state)?;
    /// assert_eq!(doc.value_tree(&ROOT)?, state);
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn update_object(&mut self, obj: &ExId, value: &ValueTree) -> Result<(), DocError> {
        let kind = self.object_type(obj)?;
        match made_of(value) {
            Made::Object(made) if made == kind => self.update_in_place(obj, value),
            _ => Err(DocError::WrongObjectType {
                obj: obj.clone(),
                found: kind,
                expected: match value {
                    ValueTree::Map(_) => "a map (the value is one)",
                    ValueTree::List(_) => "a list (the value is one)",
                    ValueTree::Text(_) => "a text (the value is one)",
                    ValueTree::Scalar(_) => "an object of the value's kind (the value is a scalar)",
                },
            }),
        }
    }

    /// `obj`, of `value`'s kind, updated to it.
    fn update_in_place(&mut self, obj: &ExId, value: &ValueTree) -> Result<(), DocError> {
        match value {
            ValueTree::Map(map) => {
                let current = self.map_range(obj, ..)?;
                let mut gone = Vec::new();
                for item in &current {
                    match map.get(&item.key) {
                        Some(new) => self.update_value(
                            obj,
                            Prop::Map(item.key.clone()),
                            new,
                            Some(&item.value),
                        )?,
                        None => gone.push(item.key.clone()),
                    }
                }
                // (`map_range` and the tree's keys come in the same order.)
                for (key, new) in map {
                    if current.binary_search_by(|i| i.key.cmp(key)).is_err() {
                        self.update_value(obj, Prop::Map(key.clone()), new, None)?;
                    }
                }
                for key in gone {
                    self.delete(obj, key)?;
                }
                Ok(())
            }
            ValueTree::List(list) => {
                let current = self.list_range(obj, ..)?;
                for (index, new) in list.iter().enumerate() {
                    let old = current.get(index).map(|item| &item.value);
                    self.update_value(obj, Prop::Seq(index), new, old)?;
                }
                for index in (list.len()..current.len()).rev() {
                    self.delete(obj, index)?;
                }
                Ok(())
            }
            ValueTree::Text(text) => self.update_text(obj, text),
            // (Callers pass objects only.)
            ValueTree::Scalar(_) => Ok(()),
        }
    }

    /// The value at `prop` of `parent` made `new`: an object of the same kind updated in
    /// place, anything else written anew (put over `old`, or inserted where there was none).
    fn update_value(
        &mut self,
        parent: &ExId,
        prop: Prop,
        new: &ValueTree,
        old: Option<&Value>,
    ) -> Result<(), DocError> {
        if let Some(Value::Object(kind, id)) = old
            && matches!(made_of(new), Made::Object(made) if made == *kind)
        {
            let id = id.clone();
            return self.update_in_place(&id, new);
        }
        let insert_at = match (&prop, &old) {
            (Prop::Seq(index), None) => Some(*index),
            _ => None,
        };
        let kind = match made_of(new) {
            Made::Scalar(s) => {
                return match insert_at {
                    Some(index) => self.insert(parent, index, s.clone()),
                    None => self.put(parent, prop, s.clone()),
                };
            }
            Made::Object(kind) => kind,
        };
        let made = match insert_at {
            Some(index) => self.insert_object(parent, index, kind)?,
            None => self.put_object(parent, prop, kind)?,
        };
        match new {
            ValueTree::Text(text) => self.splice_text(&made, 0, 0, text),
            _ => self.update_in_place(&made, new),
        }
    }
}

impl Transaction<'_> {
    /// Puts (or, with `insert`, inserts at a list index) a new object holding `value` at
    /// `prop` of `obj`, and returns its id: automerge 0.12's `batch_create_object`, op for
    /// op (the new object's contents made level by level, each map's keys in order).
    /// `value` must be a map, a list or a text.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use converge_doc::{Document, ROOT, ValueTree};
    /// let mut doc = Document::new();
    /// let settings = ValueTree::Map(BTreeMap::from([
    ///     ("theme".to_owned(), ValueTree::Scalar("dark".into())),
    ///     ("recent".to_owned(), ValueTree::List(vec![ValueTree::Text("notes".into())])),
    /// ]));
    /// let id = doc.batch_create_object(&ROOT, "settings", &settings, false)?;
    /// assert_eq!(doc.value_tree(&id)?, settings);
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn batch_create_object(
        &mut self,
        obj: &ExId,
        prop: impl Into<Prop>,
        value: &ValueTree,
        insert: bool,
    ) -> Result<ExId, DocError> {
        let Made::Object(kind) = made_of(value) else {
            return Err(DocError::WrongObjectType {
                obj: obj.clone(),
                found: self.object_type(obj)?,
                expected: "an object value to make (the value is a scalar)",
            });
        };
        let made = match (prop.into(), insert) {
            (Prop::Seq(index), true) => self.insert_object(obj, index, kind)?,
            (prop, _) => self.put_object(obj, prop, kind)?,
        };
        self.fill_level_by_level(vec![(made.clone(), value)])?;
        Ok(made)
    }

    /// Puts each key of `root` (a map) into the root map, its objects made level by level,
    /// as automerge 0.12's `init_root_from_hydrate` (for an empty document: op for op; a key
    /// the root already has is overwritten here, where automerge's op would sit beside the
    /// old value as a conflict). Keys of the root not in `root` stay.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use converge_doc::{Document, ROOT, ValueTree};
    /// let mut doc = Document::new();
    /// let state = ValueTree::Map(BTreeMap::from([("n".to_owned(), ValueTree::Scalar(1i64.into()))]));
    /// doc.init_root_from_value_tree(&state)?;
    /// assert_eq!(doc.value_tree(&ROOT)?, state);
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    #[doc(alias = "init_root_from_hydrate", alias = "init_from_hydrate")]
    pub fn init_root_from_value_tree(&mut self, root: &ValueTree) -> Result<(), DocError> {
        let ValueTree::Map(map) = root else {
            return Err(DocError::WrongObjectType {
                obj: ExId::Root,
                found: ObjType::Map,
                expected: "a map (the value is not one)",
            });
        };
        let mut next = Vec::new();
        self.put_level(&ExId::Root, map, &mut next)?;
        self.fill_level_by_level(next)
    }

    /// Fills the new, empty objects of `level` with their values, then the objects that
    /// made, and so on: all ops of one level before the next (automerge's order).
    fn fill_level_by_level(&mut self, mut level: Vec<(ExId, &ValueTree)>) -> Result<(), DocError> {
        while !level.is_empty() {
            let mut next = Vec::new();
            for (obj, value) in level {
                match value {
                    ValueTree::Map(map) => self.put_level(&obj, map, &mut next)?,
                    ValueTree::List(list) => {
                        for (index, item) in list.iter().enumerate() {
                            match made_of(item) {
                                Made::Scalar(s) => self.insert(&obj, index, s.clone())?,
                                Made::Object(kind) => {
                                    let made = self.insert_object(&obj, index, kind)?;
                                    next.push((made, item));
                                }
                            }
                        }
                    }
                    ValueTree::Text(text) => self.splice_text(&obj, 0, 0, text)?,
                    ValueTree::Scalar(_) => {}
                }
            }
            level = next;
        }
        Ok(())
    }

    /// Puts the keys of `map` into `obj`, in key order; the objects made go to `next`.
    fn put_level<'v>(
        &mut self,
        obj: &ExId,
        map: &'v std::collections::BTreeMap<String, ValueTree>,
        next: &mut Vec<(ExId, &'v ValueTree)>,
    ) -> Result<(), DocError> {
        for (key, item) in map {
            match made_of(item) {
                Made::Scalar(s) => self.put(obj, key.as_str(), s.clone())?,
                Made::Object(kind) => {
                    let made = self.put_object(obj, key.as_str(), kind)?;
                    next.push((made, item));
                }
            }
        }
        Ok(())
    }
}

/// What writing a value makes: an object of some kind, or a scalar.
enum Made<'v> {
    Object(ObjType),
    Scalar(&'v ScalarValue),
}

fn made_of(value: &ValueTree) -> Made<'_> {
    match value {
        ValueTree::Map(_) => Made::Object(ObjType::Map),
        ValueTree::List(_) => Made::Object(ObjType::List),
        ValueTree::Text(_) => Made::Object(ObjType::Text),
        ValueTree::Scalar(s) => Made::Scalar(s),
    }
}

//! automerge 0.12's API beside converge's, one topic a module (one test binary, so that the
//! oracle is linked once): closure transactions (`transact`), state written back
//! (`update_object`, `batch_create_object`, `update_spans`), object ids as text and bytes
//! (`obj_ids`), walks of every object and their values (`doc_iter`), text counted in grapheme
//! clusters (`graphemes`), the patches of arriving changes (`logged_patches`) and of the whole
//! document (`current_state`), and anonymized copies (`anonymize`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../doc_tree/mod.rs"]
mod doc_tree;
#[path = "../support/mod.rs"]
mod support;

mod anonymize;
mod bundle;
mod current_state;
mod doc_iter;
mod fragments;
mod graphemes;
mod logged_patches;
mod obj_ids;
mod transact;
mod update_object;
mod update_spans;

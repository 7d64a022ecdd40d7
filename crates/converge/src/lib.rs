//! # converge
//!
//! Work in progress; see docs/ARCHITECTURE.md for what this crate will own.

//! Integration tests of converge-dag: the graph against a naive model, and scale.

mod model;
mod scale;

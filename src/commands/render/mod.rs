//! How one-shot answers are written: aligned text tables and the versioned JSON documents.

pub mod json;
pub mod text;

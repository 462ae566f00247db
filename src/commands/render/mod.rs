//! How one-shot answers are written: aligned text tables and the versioned JSON documents.

pub(crate) mod json;
pub(crate) mod text;

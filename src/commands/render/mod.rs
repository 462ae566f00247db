//! How one-shot answers are written: aligned text tables, the versioned JSON documents and the
//! OpenMetrics exposition of `list`.

pub(crate) mod json;
pub(crate) mod openmetrics;
pub(crate) mod text;

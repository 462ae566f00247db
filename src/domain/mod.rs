//! Snapshot in, facts and sentences out: pure judgements shared by the live table and the
//! one-shot commands. Imports only `model`.

pub mod explain;
pub mod followup;
pub mod group;
pub mod history;
pub mod inspect;
pub mod sort;

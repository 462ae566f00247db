//! Snapshot in, facts and sentences out: pure judgements shared by the live table and the
//! one-shot commands. Imports only `model`.

pub(crate) mod bind;
pub(crate) mod command;
pub(crate) mod doctor;
pub(crate) mod explain;
pub(crate) mod followup;
pub(crate) mod forward;
pub(crate) mod group;
pub(crate) mod history;
pub(crate) mod inspect;
pub(crate) mod page;
pub(crate) mod sort;
pub(crate) mod supervisor;
pub(crate) mod text;

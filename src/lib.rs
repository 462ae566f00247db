//! loopwatch: a live table of the sockets reachable on this machine's loopback and the
//! processes that hold them, plus one-shot answers for scripts.
//!
//! Data flows one way: OS -> [`collect`] -> [`model::Snapshot`] -> `app` -> `ui`.
//! docs/ARCHITECTURE.md names what each folder holds and what it may import.

pub mod app;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod control;
pub mod domain;
pub mod model;
mod run;
pub mod tui;
pub mod ui;

pub use run::main;

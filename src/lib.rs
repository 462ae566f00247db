//! loopwatch: a live table of the sockets reachable on this machine's loopback and the
//! processes that hold them, plus one-shot answers for scripts.
//!
//! Data flows one way: OS -> [`collect`] -> [`model::Snapshot`] -> `app` -> `ui`.
//! docs/ARCHITECTURE.md names what each folder holds and what it may import.
//!
//! The library's public face is what the binary and the integration tests need: [`main`],
//! the vocabulary ([`model`]), the OS reads ([`collect`]) and the one signalling door
//! ([`control`]). Everything else is private to the crate, so unused code is reported.

pub mod collect;
pub mod control;
pub mod model;

mod app;
#[cfg(feature = "testing")]
pub mod bench;
mod cli;
mod commands;
mod domain;
mod run;
mod tui;
mod ui;

pub use run::main;

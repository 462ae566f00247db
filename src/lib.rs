//! loopwatch: a live table of the sockets reachable on this machine's loopback and the
//! processes that hold them, plus one-shot answers for scripts.
//!
//! Data flows one way: OS -> [`collect`] -> [`model::Snapshot`] -> [`app::App`] -> [`ui`].

pub mod action;
pub mod app;
pub mod cli;
pub mod collect;
pub mod config;
pub mod control;
pub mod explain;
pub mod followup;
pub mod group;
pub mod history;
pub mod inspect;
pub mod keymap;
pub mod model;
pub mod output;
pub mod sort;
pub mod tui;
pub mod ui;

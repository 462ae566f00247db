//! Plain vocabulary shared by every layer: sockets and their owners, what to collect, one
//! process in depth, signals and their targets, time, the system's port settings, containers
//! and the forwards a forwarder's command line sets up.
//!
//! Nothing here reads the OS (except [`Stamp::now`], which only the runtime calls); values are
//! built by `collect` (or by test fixtures) and consumed by everything else.

mod bind;
mod cgroup;
mod container;
mod facts;
#[cfg(any(test, feature = "testing"))]
pub mod fixtures;
mod forward;
mod health;
mod process;
mod query;
mod signal;
mod socket;
mod text;
mod time;
mod unit;

pub use bind::{BindAttempt, BindAttempts, BindOutcome, Localhost};
pub use cgroup::{Engine, Manager, Placement, Unit};
pub use container::{
    Container, ContainerStopped, EngineView, PROXY_NAMES, PublishedPort, is_engine_proxy,
};
pub use facts::SystemFacts;
pub use forward::{Bind, Direction, Forward, Forwarder, Leads, Listen, PortRef};
pub use health::{ExeState, Lineage, ProcessHealth};
pub use process::{Ancestor, DetailsError, ProcessDetails, Provenance, Readable};
pub use query::{CollectError, Query};
pub use signal::{Signal, Target, UnknownSignal};
pub use socket::*;
pub use text::{OsText, inert, inert_residue, is_unsafe};
pub use time::{Clock, Stamp};
pub use unit::{Restart, UNIT_PROPERTIES, UnitAnswer, UnitState};

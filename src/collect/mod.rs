//! The only code that reads the OS. Everything else receives a [`Snapshot`].
//!
//! Collection is split into three sources so each can be faked, cached or replaced per platform:
//! sockets (what is bound), owners (which pids hold each socket) and processes (what those pids
//! are). [`join`] combines their answers into a snapshot without touching the OS.

pub mod fake;
pub mod join;
pub mod owners;
pub mod poller;
pub mod processes;
pub mod sockets;

use std::collections::HashMap;
use std::net::IpAddr;

use crate::model::{ProcKey, Proto, Snapshot, SocketState};

/// What to collect. The app changes it when the user toggles a view, so sockets nobody will see
/// never cost an owner lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Query {
    /// Include TCP connection ends (ESTABLISHED, TIME_WAIT, ...), not only listeners and UDP.
    pub connections: bool,
    /// Include sockets bound to specific non-loopback addresses (scope "this host").
    pub all_addresses: bool,
    /// Only sockets whose local port is this one (one-shot `who PORT`); implies connections.
    pub port: Option<u16>,
}

/// A socket as the OS reports it, before owners are joined in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSocket {
    pub proto: Proto,
    /// As reported: may be IPv4-mapped IPv6; [`join`] normalises it.
    pub local_addr: IpAddr,
    pub local_port: u16,
    pub remote: Option<(IpAddr, u16)>,
    pub state: SocketState,
    /// Kernel socket inode; 0 when the platform has none or the kernel holds the socket alone.
    pub inode: u64,
    /// Owning uid, where the platform reports it.
    pub uid: Option<u32>,
    /// Owning pids when the platform's socket API reports them itself (non-Linux); `None` means
    /// "ask the [`OwnerSource`]".
    pub pids: Option<Vec<u32>>,
}

/// The pids holding each socket inode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerLookup {
    pub pids_by_inode: HashMap<u64, Vec<u32>>,
}

/// What loopwatch shows about an owning process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub key: ProcKey,
    pub name: String,
    pub user: Option<String>,
    pub cmdline: Vec<String>,
}

/// A failure to read sockets at all (owners and processes degrade to "unknown" instead).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("cannot read the socket table: {0}")]
    Sockets(String),
}

/// Lists sockets.
pub trait SocketSource: Send {
    fn sockets(&mut self, query: &Query) -> Result<Vec<RawSocket>, CollectError>;
}

/// Finds which pids hold the given socket inodes.
pub trait OwnerSource: Send {
    fn owners(&mut self, inodes: &[u64]) -> OwnerLookup;
}

/// Describes processes by pid, and names uids.
pub trait ProcessSource: Send {
    fn processes(&mut self, pids: &[u32]) -> HashMap<u32, ProcessInfo>;
    fn user_name(&mut self, uid: u32) -> Option<String>;
}

/// Produces snapshots; the poller and the one-shot modes only see this.
pub trait Collector: Send {
    fn collect(&mut self, query: &Query) -> Result<Snapshot, CollectError>;
}

/// The collector for this platform. (Placeholder until the real sources land.)
pub fn system_collector() -> Result<Box<dyn Collector>, CollectError> {
    Ok(Box::new(fake::FakeCollector::default()))
}

impl Query {
    /// Whether a socket with this scope, state and local port belongs in the answer.
    /// Shared by the collector (before owner lookups) and the app (so a toggle hides rows
    /// at once, before the next collection arrives).
    pub fn admits(&self, scope: crate::model::Scope, state: SocketState, local_port: u16) -> bool {
        if let Some(port) = self.port {
            // "Who holds this port" wants everything on it, whatever the toggles say.
            return local_port == port;
        }
        let address_ok = self.all_addresses || scope != crate::model::Scope::ThisHost;
        let state_ok = self.connections || state.is_listening();
        address_ok && state_ok
    }
}

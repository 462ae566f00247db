//! What to collect, and why a collection could not be made.

use crate::model::{Scope, SocketState};

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

impl Query {
    /// Every socket: connections and other addresses included.
    pub const EVERYTHING: Query = Query {
        connections: true,
        all_addresses: true,
        port: None,
    };

    /// Everything on one port, whatever the toggles say: what `who PORT`, `kill PORT` and the
    /// check before a stop collect.
    pub const fn port(port: u16) -> Query {
        Query {
            connections: true,
            all_addresses: true,
            port: Some(port),
        }
    }

    /// Whether a socket with this scope, state and local port belongs in the answer.
    /// Shared by the collector (before owner lookups) and the app (so a toggle hides rows
    /// at once, before the next collection arrives).
    pub fn admits(&self, scope: Scope, state: SocketState, local_port: u16) -> bool {
        if let Some(port) = self.port {
            // "Who holds this port" wants everything on it, whatever the toggles say.
            return local_port == port;
        }
        let address_ok = self.all_addresses || scope != Scope::ThisHost;
        let state_ok = self.connections || state.is_listening();
        address_ok && state_ok
    }
}

/// A failure to read sockets at all (owners and processes degrade to "unknown" instead), or to
/// set up the process reader on a platform it does not support.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    #[error("cannot read the socket table: {0}")]
    Sockets(String),
    #[error("cannot read the process table: {0}")]
    Processes(String),
}

//! Table columns and how rows compare under each of them.

use std::cmp::Ordering;

use crate::model::Socket;

/// A table column. The order here is the on-screen order and the `1`-`9` key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Column {
    Proto,
    Address,
    Port,
    Scope,
    State,
    Pid,
    Process,
    User,
    Command,
}

impl Column {
    pub(crate) const ALL: [Column; 9] = [
        Column::Proto,
        Column::Address,
        Column::Port,
        Column::Scope,
        Column::State,
        Column::Pid,
        Column::Process,
        Column::User,
        Column::Command,
    ];

    pub(crate) fn title(self) -> &'static str {
        match self {
            Column::Proto => "Proto",
            Column::Address => "Local address",
            Column::Port => "Port",
            Column::Scope => "Scope",
            Column::State => "State",
            Column::Pid => "PID",
            Column::Process => "Process",
            Column::User => "User",
            Column::Command => "Command line",
        }
    }

    /// Position in [`Column::ALL`], 0-based.
    pub(crate) fn index(self) -> usize {
        Column::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    /// The next column, wrapping (the `s` key).
    #[must_use]
    pub(crate) fn next(self) -> Column {
        Column::ALL[(self.index() + 1) % Column::ALL.len()]
    }

    /// Compares two rows by this column only.
    fn compare(self, a: &Socket, b: &Socket) -> Ordering {
        match self {
            Column::Proto => a.proto.cmp(&b.proto),
            Column::Address => a.local_addr.cmp(&b.local_addr),
            Column::Port => a.local_port.cmp(&b.local_port),
            Column::Scope => a.scope.cmp(&b.scope),
            Column::State => a.state.as_str().cmp(b.state.as_str()),
            // Unknown owners sort after every known pid.
            Column::Pid => pid_of(a).cmp(&pid_of(b)),
            Column::Process => cmp_text(&a.process_label(), &b.process_label()),
            Column::User => cmp_text(&a.user_label(), &b.user_label()),
            Column::Command => cmp_text(
                &super::command::of_socket(a).inert(),
                &super::command::of_socket(b).inert(),
            ),
        }
    }
}

/// Which column rows are ordered by, and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SortSpec {
    pub(crate) column: Column,
    pub(crate) descending: bool,
}

impl Default for SortSpec {
    fn default() -> Self {
        Self {
            column: Column::Port,
            descending: false,
        }
    }
}

impl SortSpec {
    /// A total order: the chosen column (in the chosen direction), then port, proto, local
    /// address, remote end and inode ascending, so equal rows never swap between refreshes.
    pub(crate) fn compare(self, a: &Socket, b: &Socket) -> Ordering {
        let primary = self.column.compare(a, b);
        let primary = if self.descending {
            primary.reverse()
        } else {
            primary
        };
        primary
            .then_with(|| a.local_port.cmp(&b.local_port))
            .then_with(|| a.key().cmp(&b.key()))
    }

    /// Sorts sockets in place by this spec.
    pub(crate) fn sort(self, sockets: &mut [Socket]) {
        sockets.sort_by(|a, b| self.compare(a, b));
    }
}

fn pid_of(s: &Socket) -> (bool, u32) {
    s.primary_owner().map_or((true, 0), |o| (false, o.key.pid))
}

fn cmp_text(a: &str, b: &str) -> Ordering {
    // Case-insensitive first so "Xorg" sits next to "xterm"; exact text breaks ties.
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| a.cmp(b))
}

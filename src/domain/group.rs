//! Grouping sockets by the process that holds them, for the grouped view (`v`).

use crate::model::{Socket, owners_label};

/// Sockets with equal keys belong to one group; groups order by process name, then pid, with
/// sockets whose owner is unknown last (grouped by the reason and the socket's user).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct GroupKey {
    unknown: bool,
    name: String,
    pid: u32,
    start_time: u64,
    user: String,
}

impl GroupKey {
    pub(crate) fn of(socket: &Socket) -> GroupKey {
        match socket.primary_owner() {
            Some(owner) => GroupKey {
                unknown: false,
                name: owner.name.raw().to_lowercase(),
                pid: owner.key.pid,
                start_time: owner.key.start_time,
                user: String::new(),
            },
            None => GroupKey {
                unknown: true,
                name: socket.process_label(),
                pid: 0,
                start_time: 0,
                user: socket.user_label(),
            },
        }
    }
}

/// The heading of a socket's group: `node 4812 · ana · node server.js`, or `(hidden) · redis`.
pub(crate) fn heading(socket: &Socket) -> String {
    match socket.primary_owner() {
        Some(owner) => {
            let mut text = owners_label(&socket.owners).unwrap_or_else(|| owner.label());
            if let Some(user) = &owner.user {
                text.push_str(" · ");
                text.push_str(&user.inert());
            }
            if !owner.cmdline.is_empty() {
                text.push_str(" · ");
                text.push_str(&owner.cmdline.inert());
            }
            text
        }
        None => format!("{} · {}", socket.process_label(), socket.user_label()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::sample_snapshot;

    #[test]
    fn groups_are_per_process_and_unknown_owners_come_last() {
        let snapshot = sample_snapshot();
        let mut keys: Vec<GroupKey> = snapshot.sockets.iter().map(GroupKey::of).collect();
        keys.sort();
        keys.dedup();
        let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "avahi-daemon",
                "curl",
                "nginx",
                "node",
                "node",
                "postgres",
                "systemd-resolve",
                "(hidden)",
                "(kernel)"
            ]
        );
        let nginx = snapshot
            .sockets
            .iter()
            .find(|s| s.local_port == 8080)
            .unwrap();
        assert_eq!(
            heading(nginx),
            "nginx 2100 +3 · www-data · nginx: master process"
        );
        let redis = snapshot
            .sockets
            .iter()
            .find(|s| s.local_port == 6379)
            .unwrap();
        assert_eq!(heading(redis), "(hidden) · redis");
    }
}

//! Table columns and how rows compare under each of them.

use std::cmp::Ordering;

use rustc_hash::FxHashMap;

use crate::model::{OsText, Socket, SocketState};

/// How many characters of a text column rows are ordered by: more than a screen shows. A process
/// chooses its own command line (megabytes of it, held by as many sockets as it likes), and a
/// sort holds a key for every row.
const SORT_TEXT_CHARS: usize = 256;

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
            Column::Process | Column::User | Column::Command => cmp_text(
                &self.text_of(a).unwrap_or_default(),
                &self.text_of(b).unwrap_or_default(),
            ),
        }
    }

    /// For a column of numbers and names from a short list, the value it orders by as numbers
    /// that order the same way as [`Column::compare`]; `None` for the text columns.
    fn rank_of(self) -> Option<fn(&Socket) -> Rank> {
        fn address(ip: std::net::IpAddr) -> Rank {
            match ip {
                std::net::IpAddr::V4(v4) => (0, u128::from(u32::from(v4))),
                std::net::IpAddr::V6(v6) => (1, u128::from(v6)),
            }
        }
        Some(match self {
            Column::Proto => |s| (0, s.proto as u128),
            Column::Address => |s| address(s.local_addr),
            Column::Port => |s| (0, u128::from(s.local_port)),
            Column::Scope => |s| (0, s.scope as u128),
            Column::State => |s| (0, state_rank(s.state)),
            Column::Pid => |s| {
                let (unknown, pid) = pid_of(s);
                (u8::from(unknown), u128::from(pid))
            },
            Column::Process | Column::User | Column::Command => return None,
        })
    }

    /// The text a text column orders by, its first [`SORT_TEXT_CHARS`] characters; `None` for
    /// the other columns.
    fn text_of(self, s: &Socket) -> Option<String> {
        let mut text = match self {
            Column::Process => s.process_label(),
            Column::User => s.user_label(),
            Column::Command => {
                let command = s.primary_owner().map_or_else(OsText::default, |owner| {
                    super::command::readable(
                        &owner.name,
                        &super::command::argv_upto(&owner.argv, SORT_ARGV_BYTES).0,
                    )
                });
                // Cut before escaping: the escapes of megabytes would be megabytes more.
                let raw = command.raw();
                let cut = raw
                    .char_indices()
                    .nth(SORT_TEXT_CHARS)
                    .map_or(raw.len(), |(at, _)| at);
                OsText::from(&raw[..cut]).inert().into_owned()
            }
            _ => return None,
        };
        if let Some((at, _)) = text.char_indices().nth(SORT_TEXT_CHARS) {
            text.truncate(at);
        }
        Some(text)
    }
}

/// The raw bytes of argv worth reading for a sort: enough for [`SORT_TEXT_CHARS`] characters
/// of the readable command whatever they are (four bytes a character at most).
const SORT_ARGV_BYTES: usize = 4 * SORT_TEXT_CHARS;

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
        primary.then_with(|| a.local_port.cmp(&b.local_port))
    }

    /// Sorts sockets in place by this spec.
    pub(crate) fn sort(self, sockets: &mut [Socket]) {
        let mut order: Vec<usize> = (0..sockets.len()).collect();
        self.order(&mut order, |i| &sockets[i]);
        apply_order(sockets, order);
    }

    /// Orders `rows` (indices of sockets, each found by `at`) by this spec. A text column's
    /// text is built once per row, not twice per comparison: at 100,000 rows that is the
    /// difference between a key answered at once and one that visibly lags.
    ///
    /// Rows equal on the column and the port keep the order of their indices, the order the
    /// snapshot lists them in: the collector lists sockets by port, then by key, so the order is
    /// total and the same on every refresh, and an unstable sort with no scratch copy gives it.
    /// Ties are many (at 100,000 connections, half share ten ports), and breaking them by each
    /// socket's key read the sockets themselves, a cache miss per comparison: 90 ms a key.
    pub(crate) fn order<'s>(self, rows: &mut [usize], at: impl Fn(usize) -> &'s Socket) {
        if let Some(rank) = self.column.rank_of() {
            // The column's value and the port, copied next to each row once: most comparisons
            // then read two numbers side by side instead of two sockets far apart in memory.
            let keyed: Vec<(Rank, u16, usize)> = rows
                .iter()
                .map(|&i| (rank(at(i)), at(i).local_port, i))
                .collect();
            self.put_in_order(rows, keyed);
            return;
        }
        // Texts repeat (a process's name on each of its sockets): each distinct text is folded
        // and ranked once, and rows are sorted by that rank, a number.
        let mut distinct: FxHashMap<String, u32> = FxHashMap::default();
        let mut keyed: Vec<(u32, u16, usize)> = rows
            .iter()
            .map(|&i| {
                let socket = at(i);
                let text = self.column.text_of(socket).unwrap_or_default();
                let next = u32::try_from(distinct.len()).unwrap_or(u32::MAX);
                (*distinct.entry(text).or_insert(next), socket.local_port, i)
            })
            .collect();
        let mut texts: Vec<(TextKey, u32)> = distinct
            .into_iter()
            .map(|(text, id)| (TextKey::of(&text), id))
            .collect();
        // Distinct texts have distinct keys (the key holds the text itself).
        texts.sort_unstable();
        let mut rank_of = vec![0; texts.len()];
        for (rank, (_, id)) in texts.iter().enumerate() {
            if let Some(slot) = usize::try_from(*id).ok().and_then(|id| rank_of.get_mut(id)) {
                *slot = u32::try_from(rank).unwrap_or(u32::MAX);
            }
        }
        for (id, _, _) in &mut keyed {
            *id = usize::try_from(*id)
                .ok()
                .and_then(|id| rank_of.get(id).copied())
                .unwrap_or(u32::MAX);
        }
        self.put_in_order(rows, keyed);
    }

    /// Sorts rows keyed by (the column's value, the port, the row index) and writes the order
    /// back into `rows`; only the value's order turns when descending.
    fn put_in_order<K: Ord>(self, rows: &mut [usize], mut keyed: Vec<(K, u16, usize)>) {
        keyed.sort_unstable_by(|(ka, pa, a), (kb, pb, b)| {
            let primary = ka.cmp(kb);
            let primary = if self.descending {
                primary.reverse()
            } else {
                primary
            };
            primary.then(pa.cmp(pb)).then(a.cmp(b))
        });
        for (row, (_, _, i)) in rows.iter_mut().zip(keyed) {
            *row = i;
        }
    }
}

/// What [`cmp_text`] compares, computed once: the lower-cased text, then the text itself.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct TextKey {
    folded: String,
    exact: String,
}

impl TextKey {
    fn of(text: &str) -> Self {
        Self {
            folded: text.to_lowercase(),
            exact: text.to_string(),
        }
    }
}

/// Puts `items` in `order` (`order[k]` is the index of the item that goes to position k), in
/// place, by following each cycle of the permutation.
fn apply_order<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut current = start;
        while order[current] != start {
            let next = order[current];
            items.swap(current, next);
            order[current] = current;
            current = next;
        }
        order[current] = current;
    }
}

/// A column's value as numbers in its order: a kind (IPv4 before IPv6, a known pid before
/// none), then the value.
type Rank = (u8, u128);

/// Where `state` falls among all states ordered by name, as [`Column::compare`] orders them.
fn state_rank(state: SocketState) -> u128 {
    SocketState::ALL
        .iter()
        .filter(|other| other.as_str() < state.as_str())
        .count() as u128
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::model::OsText;
    use crate::model::fixtures::sample_snapshot;

    /// Rows with every kind of label (known owners, hidden, kernel, containers), repeated on
    /// ports and names that tie and differ in case, shuffled by `seed`.
    fn rows(seed: u64) -> Vec<Socket> {
        let base = sample_snapshot().sockets;
        let mut rows = Vec::new();
        for i in 0..60u16 {
            let mut s = base[usize::from(i) % base.len()].clone();
            s.local_port = 1000 + i % 7;
            s.inode = u64::from(i);
            let mut owners = s.owners.to_vec();
            if let Some(owner) = owners.first_mut() {
                owner.name = OsText::from(["node", "Node", "xterm", "Xorg"][usize::from(i % 4)]);
            }
            s.owners = owners.into();
            rows.push(s);
        }
        let mut state = seed | 1;
        for i in (1..rows.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            rows.swap(i, usize::try_from(state % (i as u64 + 1)).unwrap_or(0));
        }
        rows
    }

    /// A process chooses its own command line: megabytes of it, held by as many sockets as it
    /// likes, and a sort holds one key per row. Rows are ordered on the text's first characters,
    /// or sorting by Command costs megabytes per row (300 sockets of a 1 MiB argv: 2.4 GB).
    #[test]
    fn a_command_line_of_megabytes_is_sorted_on_a_key_of_bounded_size() {
        let huge = |first: &str| {
            let mut s = sample_snapshot().sockets[0].clone();
            let mut owners = s.owners.to_vec();
            owners.truncate(1);
            owners[0].argv = [first, &"\u{1}".repeat(1 << 20)].map(OsText::from).into();
            s.owners = owners.into();
            s
        };
        let key = Column::Command.text_of(&huge("x")).unwrap_or_default();
        assert!(key.len() <= 4096, "a key of {} bytes", key.len());
        let (mut b, mut a) = (huge("b"), huge("a"));
        (b.inode, a.inode) = (1, 2);
        let mut rows = vec![b, a];
        SortSpec {
            column: Column::Command,
            descending: false,
        }
        .sort(&mut rows);
        assert_eq!(rows.iter().map(|s| s.inode).collect::<Vec<_>>(), [2, 1]);
    }

    proptest! {
        /// The fast sort (unstable, or on text keys built once) orders rows exactly as the
        /// spec's comparison does, for every column and direction.
        #[test]
        fn sorting_agrees_with_the_comparison(seed in any::<u64>(), column in 0..9usize, descending in any::<bool>()) {
            let spec = SortSpec { column: Column::ALL[column], descending };
            let mut fast = rows(seed);
            let mut reference = fast.clone();
            spec.sort(&mut fast);
            reference.sort_by(|a, b| spec.compare(a, b));
            prop_assert_eq!(fast, reference);
        }

        /// Two rows can share a key: a port two containers publish (a pod's members all list
        /// its ports), each a NAT row with no socket (inode 0). Such ties keep the order the rows
        /// came in, as a stable sort keeps them, so they never swap places between refreshes.
        #[test]
        fn rows_with_equal_keys_keep_their_order(seed in any::<u64>(), column in 0..9usize, descending in any::<bool>()) {
            let spec = SortSpec { column: Column::ALL[column], descending };
            let mut twins = Vec::new();
            for (i, mut s) in rows(seed).into_iter().enumerate() {
                s.inode = 0;
                s.local_port = 2000 + u16::try_from(i % 5).unwrap_or(0);
                let mut twin = s.clone();
                twin.user = Some(OsText::from(format!("twin {i}")));
                twins.push(s);
                twins.push(twin);
            }
            let mut fast = twins.clone();
            let mut reference = twins;
            spec.sort(&mut fast);
            reference.sort_by(|a, b| spec.compare(a, b));
            prop_assert_eq!(fast, reference);
        }

        #[test]
        fn apply_order_places_each_item_where_the_order_says(mut order in Just((0..40usize).collect::<Vec<_>>()).prop_shuffle()) {
            let items: Vec<usize> = (100..140).collect();
            let mut moved = items.clone();
            apply_order(&mut moved, order.clone());
            for (k, i) in order.drain(..).enumerate() {
                prop_assert_eq!(moved[k], items[i]);
            }
        }
    }

    /// A megabyte of arguments is read only as far as a sort compares: the same order as the
    /// whole would give, from at most `SORT_ARGV_BYTES`; a short argv is not copied.
    #[test]
    fn a_sort_reads_a_huge_argv_only_as_far_as_it_compares() {
        let bounded_argv = |argv| super::super::command::argv_upto(argv, SORT_ARGV_BYTES).0;
        let short = [OsText::from("node"), OsText::from("server.js")];
        assert!(matches!(
            bounded_argv(&short),
            std::borrow::Cow::Borrowed(_)
        ));
        let huge: Vec<OsText> = std::iter::once(OsText::from("hostile"))
            .chain((0..8).map(|_| OsText::from("é".repeat(64 * 1024).as_str())))
            .collect();
        let bounded = bounded_argv(&huge);
        let read: usize = bounded.iter().map(|a| a.raw().len()).sum();
        assert!(read <= SORT_ARGV_BYTES, "{read}");
        let whole = super::super::command::readable(&OsText::from("hostile"), &huge);
        let cut = super::super::command::readable(&OsText::from("hostile"), &bounded);
        let prefix: String = whole.raw().chars().take(SORT_TEXT_CHARS).collect();
        assert!(
            cut.raw().starts_with(&prefix),
            "the compared characters are the same"
        );
    }
}

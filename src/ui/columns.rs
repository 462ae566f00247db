//! Which table columns fit, how wide each is and where it starts. Drawing and mouse hit-testing
//! both read this one computation, so a click always lands on the column that was drawn there.

use crate::domain::sort::{Column, SortSpec};
use crate::model::Query;
use crate::model::{Scope, Socket, SocketState};

use super::text::width_u16;
use super::theme::Theme;

/// One table column on screen: a sortable [`Column`], or the remote end of connections, which
/// only appears while connections are shown and has no sort order of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Column(Column),
    Remote,
}

/// Columns are dropped in this order as the terminal narrows: the command line first (it only
/// flexes into spare room), the port never (it is what people come to look up).
const DROP_ORDER: [Slot; 10] = [
    Slot::Column(Column::Command),
    Slot::Column(Column::User),
    Slot::Column(Column::Scope),
    Slot::Column(Column::State),
    Slot::Column(Column::Proto),
    Slot::Remote,
    Slot::Column(Column::Address),
    Slot::Column(Column::Pid),
    Slot::Column(Column::Process),
    Slot::Column(Column::Port),
];

/// Spaces between columns (and none after the selection marker, which carries its own).
pub(crate) const SPACING: u16 = 1;

/// A column placed on screen; `x` is absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placed {
    pub(crate) slot: Slot,
    pub(crate) x: u16,
    pub(crate) width: u16,
}

/// The table's columns for one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Columns {
    pub(crate) placed: Vec<Placed>,
}

impl Columns {
    pub(crate) fn shows(&self, slot: Slot) -> bool {
        self.placed.iter().any(|p| p.slot == slot)
    }

    /// The column drawn at screen column `x`, if any (the gaps between columns belong to none).
    pub(crate) fn at(&self, x: u16) -> Option<Slot> {
        self.placed
            .iter()
            .find(|p| x >= p.x && x < p.x.saturating_add(p.width))
            .map(|p| p.slot)
    }
}

/// How wide a column may be.
#[derive(Debug, Clone, Copy)]
struct Spec {
    slot: Slot,
    min: u16,
    /// Spare room a column may grow into, up to this width; `None` takes whatever is left.
    max: Option<u16>,
    /// The title's width with the sort arrow, which it gets when the rows are sorted by it.
    titled: u16,
}

/// Room for a port number (the exposure marker adds its own width when the scope is dropped).
const PORT_WIDTH: u16 = 5;
/// Typical widest loopback endpoint, `→ 127.0.0.1:65535`, so the remote column keeps one width
/// while scrolling between listeners and connections.
const REMOTE_FLOOR: u16 = 17;
/// Room for most pids (Linux allows 7 digits).
const PID_FLOOR: u16 = 7;
const NAME_MIN: u16 = 8;
const PROCESS_MAX: u16 = 15;
/// Room for `docker-proxy -> shop-web-1` or `ssh -> db.internal:5432`: the name of what stands
/// behind a process matters more than a long process name.
const PROCESS_WITH_TARGET_MAX: u16 = 32;
const USER_MAX: u16 = 12;
const COMMAND_MIN: u16 = 12;

/// The title as the header draws it, arrow included when the rows are sorted by it.
pub(crate) fn title(slot: Slot, sort: SortSpec) -> String {
    match slot {
        Slot::Remote => "Remote".to_string(),
        Slot::Column(c) if c == sort.column => {
            format!("{} {}", c.title(), arrow(sort))
        }
        Slot::Column(c) => c.title().to_string(),
    }
}

pub(crate) fn arrow(sort: SortSpec) -> &'static str {
    if sort.descending { "▼" } else { "▲" }
}

/// The remote column's text for a socket (empty for listeners).
pub(crate) fn remote_label(socket: &Socket) -> String {
    socket.remote.map_or_else(String::new, |(addr, port)| {
        format!("→ {}", crate::model::format_endpoint(addr, port))
    })
}

/// The scope cell's text: exposed scopes carry the warning symbol.
pub(crate) fn scope_label(socket: &Socket, theme: &Theme) -> String {
    if socket.scope.is_exposed() {
        format!("{} {}", theme.exposed_symbol, socket.scope.as_str())
    } else {
        socket.scope.as_str().to_string()
    }
}

/// Lays out the columns for a table `width` columns wide, starting at `x`, showing `rows`.
///
/// Widths depend only on the sort, the toggles and the rows on screen, so they stay put while
/// the data is steady, and adapt when a long IPv6 address scrolls into view. Which columns are
/// shown does not depend on the sort: the arrow gets spare room, else part of its title.
pub(crate) fn layout(
    x: u16,
    width: u16,
    rows: &[&Socket],
    sort: SortSpec,
    query: Query,
    hidden: &[Column],
    theme: &Theme,
) -> Columns {
    let marker = width_u16(theme.selected_symbol);
    let mut specs = specs(rows, sort, query, theme);
    // The user hid these (config `hidden_columns`); the port is never hidden.
    specs
        .retain(|s| !matches!(s.slot, Slot::Column(c) if c != Column::Port && hidden.contains(&c)));
    // Which columns fit does not depend on the sort (the arrow takes only spare room, or
    // part of its title), so a digit pressed again reverses the column it just sorted.
    let needed = |specs: &[Spec]| -> u32 {
        let cells: u32 = specs.iter().map(|s| u32::from(s.min)).sum();
        let gaps = u32::try_from(specs.len().saturating_sub(1)).unwrap_or(0) * u32::from(SPACING);
        cells + gaps + u32::from(marker)
    };
    for drop in DROP_ORDER {
        if needed(&specs) <= u32::from(width) || specs.len() == 1 {
            break;
        }
        specs.retain(|s| s.slot != drop);
        if drop == Slot::Column(Column::Scope) {
            // The port now carries the exposure marker.
            if let Some(port) = specs
                .iter_mut()
                .find(|s| s.slot == Slot::Column(Column::Port))
            {
                port.min = port
                    .min
                    .max(PORT_WIDTH + width_u16(theme.exposed_symbol) + 1);
            }
        }
    }

    let mut spare = u32::from(width).saturating_sub(needed(&specs));
    // The sorted column's title grows by its arrow first, as far as the spare room goes.
    if let Some(spec) = specs
        .iter_mut()
        .find(|s| s.slot == Slot::Column(sort.column))
    {
        let grow = u32::from(spec.titled.saturating_sub(spec.min)).min(spare);
        spec.min += u16::try_from(grow).unwrap_or(0);
        spec.max = spec.max.map(|m| m.max(spec.min));
        spare -= grow;
    }
    let mut widths: Vec<u16> = specs.iter().map(|s| s.min).collect();
    // Bounded columns grow first, in screen order; then the flexible one takes the rest.
    for (spec, w) in specs.iter().zip(widths.iter_mut()) {
        if let Some(max) = spec.max {
            let grow = u32::from(max.saturating_sub(*w)).min(spare);
            *w += u16::try_from(grow).unwrap_or(0);
            spare -= grow;
        }
    }
    for (spec, w) in specs.iter().zip(widths.iter_mut()) {
        if spec.max.is_none() {
            let grow = u16::try_from(spare).unwrap_or(u16::MAX);
            *w = w.saturating_add(grow);
            spare = 0;
        }
    }

    let mut placed = Vec::with_capacity(specs.len());
    let mut at = x.saturating_add(marker);
    for (spec, w) in specs.iter().zip(widths) {
        placed.push(Placed {
            slot: spec.slot,
            x: at,
            width: w,
        });
        at = at.saturating_add(w).saturating_add(SPACING);
    }
    Columns { placed }
}

fn specs(rows: &[&Socket], sort: SortSpec, query: Query, theme: &Theme) -> Vec<Spec> {
    let widest = |f: &dyn Fn(&Socket) -> u16| rows.iter().map(|s| f(s)).max().unwrap_or(0);
    let mut slots: Vec<Slot> = Column::ALL.iter().map(|&c| Slot::Column(c)).collect();
    if query.connections {
        let after_port = Column::Port.index() + 1;
        slots.insert(after_port, Slot::Remote);
    }
    slots
        .into_iter()
        .map(|slot| {
            // The title as drawn unsorted, and as drawn with the sort arrow.
            let (plain, sorted) = match slot {
                Slot::Remote => (width_u16(&title(slot, sort)), width_u16(&title(slot, sort))),
                Slot::Column(column) => (
                    width_u16(column.title()),
                    width_u16(&title(slot, SortSpec { column, ..sort })),
                ),
            };
            let (content, max) = match slot {
                Slot::Column(Column::Proto) => (3, None),
                Slot::Column(Column::Address) => {
                    (widest(&|s| width_u16(&s.local_addr.to_string())), None)
                }
                Slot::Column(Column::Port) => (PORT_WIDTH, None),
                Slot::Remote => (
                    REMOTE_FLOOR.max(widest(&|s| width_u16(&remote_label(s)))),
                    None,
                ),
                Slot::Column(Column::Scope) => (
                    // Always room for the widest scope, so the column never jumps.
                    widest(&|s| width_u16(&scope_label(s, theme))).max(
                        width_u16(theme.exposed_symbol)
                            + 1
                            + width_u16(Scope::AllInterfaces.as_str()),
                    ),
                    None,
                ),
                Slot::Column(Column::State) => {
                    // Sized by what the toggles can show, not by the rows in view.
                    let floor = if query.connections || query.port.is_some() {
                        width_u16(SocketState::Established.as_str())
                    } else {
                        width_u16(SocketState::Listen.as_str())
                    };
                    (floor.max(widest(&|s| width_u16(s.state.as_str()))), None)
                }
                Slot::Column(Column::Pid) => {
                    (PID_FLOOR.max(widest(&|s| width_u16(&s.pid_label()))), None)
                }
                Slot::Column(Column::Process) => {
                    let behind = widest(&|s| {
                        if s.container.is_some() || s.forward.is_some() {
                            width_u16(&s.process_label())
                        } else {
                            0
                        }
                    });
                    (
                        NAME_MIN,
                        Some(PROCESS_MAX.max(behind.min(PROCESS_WITH_TARGET_MAX))),
                    )
                }
                Slot::Column(Column::User) => (NAME_MIN, Some(USER_MAX)),
                Slot::Column(Column::Command) => (COMMAND_MIN, None),
            };
            let min = plain.max(content);
            let max = match slot {
                Slot::Column(Column::Command) => None,
                _ => Some(max.unwrap_or(min).max(min)),
            };
            Spec {
                slot,
                min,
                max,
                titled: sorted,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::sample_snapshot;

    fn slots(columns: &Columns) -> Vec<Slot> {
        columns.placed.iter().map(|p| p.slot).collect()
    }

    fn lay(width: u16, query: Query) -> Columns {
        let snapshot = sample_snapshot();
        let rows: Vec<&Socket> = snapshot.sockets.iter().collect();
        layout(
            0,
            width,
            &rows,
            SortSpec::default(),
            query,
            &[],
            &Theme::default(),
        )
    }

    #[test]
    fn hidden_columns_are_not_laid_out_but_the_port_stays() {
        let snapshot = sample_snapshot();
        let rows: Vec<&Socket> = snapshot.sockets.iter().collect();
        let columns = layout(
            0,
            160,
            &rows,
            SortSpec::default(),
            Query::default(),
            &[Column::User, Column::Command, Column::Port],
            &Theme::default(),
        );
        assert!(!columns.shows(Slot::Column(Column::User)));
        assert!(!columns.shows(Slot::Column(Column::Command)));
        assert!(columns.shows(Slot::Column(Column::Port)));
        assert!(columns.shows(Slot::Column(Column::Process)));
    }

    #[test]
    fn wide_terminals_show_every_column_and_the_command_fills_the_rest() {
        let columns = lay(160, Query::default());
        let all: Vec<Slot> = Column::ALL.iter().map(|&c| Slot::Column(c)).collect();
        assert_eq!(slots(&columns), all);
        let last = columns.placed.last().copied().unwrap();
        assert_eq!(last.x + last.width, 160);
    }

    #[test]
    fn columns_drop_in_priority_order_and_never_overflow() {
        for query in [
            Query::default(),
            Query {
                connections: true,
                ..Query::default()
            },
        ] {
            let mut previous = lay(200, query).placed.len();
            for width in (20..200).rev() {
                let columns = lay(width, query);
                assert!(columns.placed.len() <= previous, "width {width}");
                previous = columns.placed.len();
                assert!(columns.shows(Slot::Column(Column::Port)), "width {width}");
                let last = columns.placed.last().copied().unwrap();
                if columns.placed.len() > 1 {
                    assert!(last.x + last.width <= width, "width {width}: {columns:?}");
                }
                for pair in columns.placed.windows(2) {
                    assert_eq!(pair[0].x + pair[0].width + SPACING, pair[1].x);
                }
            }
        }
    }

    #[test]
    fn the_port_carries_the_exposure_marker_once_the_scope_is_gone() {
        let columns = lay(40, Query::default());
        assert!(!columns.shows(Slot::Column(Column::Scope)));
        assert!(columns.shows(Slot::Column(Column::Process)));
        assert!(columns.shows(Slot::Column(Column::Pid)));
        let port = columns
            .placed
            .iter()
            .find(|p| p.slot == Slot::Column(Column::Port))
            .unwrap();
        assert!(port.width >= 7);
    }

    #[test]
    fn sorting_never_changes_which_columns_fit() {
        let snapshot = sample_snapshot();
        let rows: Vec<&Socket> = snapshot.sockets.iter().collect();
        for width in 30..200 {
            let placed = |column| {
                let sort = SortSpec {
                    column,
                    descending: false,
                };
                layout(
                    0,
                    width,
                    &rows,
                    sort,
                    Query::default(),
                    &[],
                    &Theme::default(),
                )
                .placed
            };
            let slots_of = |placed: Vec<Placed>| placed.iter().map(|p| p.slot).collect::<Vec<_>>();
            let first = slots_of(placed(Column::Port));
            for column in Column::ALL {
                assert_eq!(
                    slots_of(placed(column)),
                    first,
                    "width {width}, sorted by {column:?}"
                );
            }
        }
    }

    #[test]
    fn remote_appears_only_with_connections() {
        assert!(!lay(200, Query::default()).shows(Slot::Remote));
        let columns = lay(
            200,
            Query {
                connections: true,
                ..Query::default()
            },
        );
        let order = slots(&columns);
        let port = order
            .iter()
            .position(|s| *s == Slot::Column(Column::Port))
            .unwrap();
        assert_eq!(order[port + 1], Slot::Remote);
    }
}

//! Properties over arbitrary input: any snapshot (hostile text included, and forwarders leading
//! to hostile names), any sequence of actions, any terminal size from 0x0 to 300x100. Nothing
//! panics in `update` or `draw`, no cell of any frame holds a character a terminal would act
//! on, the selection keeps its identity through a filter, and sorting is a total order.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::{draw, viewport};
use crate::app::App;
use crate::app::action::Action;
use crate::domain::sort::{Column, SortSpec};
use crate::model::fixtures::{owner, socket};
use crate::model::{Proto, Query, Signal, Snapshot, SocketState, UnknownOwner, is_unsafe};

/// Text a hostile process could choose: controls, escapes, bidi, wide and zero-width.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("node".to_string()),
        Just("\u{1b}[2J".to_string()),
        Just("\u{1b}]0;t\u{7}".to_string()),
        Just("\r\n".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{200b}\u{feff}\u{2066}".to_string()),
        Just("\u{9b}1m".to_string()),
        Just("日本語".to_string()),
        Just("🚀".to_string()),
        Just(" ".to_string()),
        "[a-z]{1,12}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..6).prop_map(|parts| parts.concat())
}

/// A forwarder's command line leading to hostile names, `{PORT}` standing for the socket's own
/// port so the forward is found.
fn forwarder_line() -> impl Strategy<Value = String> {
    let name = hostile_text().prop_map(|t| t.replace(' ', ""));
    (
        prop::sample::select(vec![
            "ssh -N -L {PORT}:{X}:5432 -J {X} bastion",
            "ssh -L [::1]:{PORT}:[{X}]:1 -D {PORT} {X}",
            "ssh -L {PORT}:/run/{X}.sock h",
            "kubectl port-forward -n {X} svc/{X} {PORT}:{X}",
            "socat TCP-LISTEN:{PORT},fork EXEC:{X}",
            "socat UDP-RECVFROM:{PORT} UNIX-CONNECT:/{X}",
            "docker-proxy -host-port {PORT} -container-ip {X} -container-port 80",
        ]),
        name,
    )
        .prop_map(|(line, name)| line.replace("{X}", &name))
}

fn a_socket() -> impl Strategy<Value = crate::model::Socket> {
    (
        any::<bool>(),
        prop_oneof![
            Just(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            Just(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            Just(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            Just(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        ],
        1u16..,
        prop::sample::select(SocketState::ALL.to_vec()),
        proptest::collection::vec(
            (
                1u32..100_000,
                hostile_text(),
                prop_oneof![3 => hostile_text(), 1 => forwarder_line()],
            ),
            0..3,
        ),
    )
        .prop_map(|(tcp, addr, port, state, owners)| {
            let proto = if tcp { Proto::Tcp } else { Proto::Udp };
            let owners: Vec<_> = owners
                .into_iter()
                .map(|(pid, name, cmd)| {
                    let cmd = cmd.replace("{PORT}", &port.to_string());
                    // A forwarder's process name is its program's, or it is not read.
                    let name = match cmd.split(' ').next() {
                        Some(program @ ("ssh" | "kubectl" | "socat" | "docker-proxy")) => {
                            program.to_string()
                        }
                        _ => name,
                    };
                    owner(pid, &name, &name, &cmd)
                })
                .collect();
            let mut s = socket(proto, &addr.to_string(), port, state, owners);
            if s.owners.is_empty() {
                // Every reason an owner can be unknown for, the first look's included.
                const REASONS: [UnknownOwner; 7] = [
                    UnknownOwner::PermissionDenied,
                    UnknownOwner::Kernel,
                    UnknownOwner::NotFound,
                    UnknownOwner::Unsupported,
                    UnknownOwner::OutOfDescriptors,
                    UnknownOwner::Nat,
                    UnknownOwner::Reading,
                ];
                s.unknown = Some(REASONS[usize::from(port) % REASONS.len()]);
            }
            s
        })
}

fn an_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Down),
        Just(Action::Up),
        Just(Action::PageDown),
        Just(Action::Bottom),
        Just(Action::SortNext),
        Just(Action::SortReverse),
        Just(Action::ToggleConnections),
        Just(Action::ToggleAllAddresses),
        Just(Action::ToggleGrouped),
        Just(Action::ToggleHelp),
        Just(Action::ToggleHistory),
        Just(Action::ToggleExplain),
        Just(Action::Inspect),
        Just(Action::NextHolder),
        Just(Action::Kill(Signal::Term)),
        Just(Action::CancelKill),
        Just(Action::Back),
        Just(Action::StartFilter),
        any::<char>().prop_map(Action::FilterChar),
        Just(Action::FilterBackspace),
        Just(Action::FilterDone),
        Just(Action::ScrollDown),
        (0usize..40).prop_map(Action::SelectVisible),
    ]
}

/// What a hostile local user can make loopwatch read about a process: a cgroup path of any
/// text (a delegated subtree names its own cgroups), ancestors named and argv'd at will, and
/// whatever a systemctl printed.
/// A cgroup file's text, ancestors (name, argv) parent first, and what systemctl printed.
type HostileBehind = (String, Vec<(String, Vec<String>)>, Option<String>);

fn hostile_behind() -> impl Strategy<Value = HostileBehind> {
    let cgroup = prop_oneof![
        hostile_text(),
        hostile_text().prop_map(|t| format!("0::/system.slice/{t}.service\n")),
        hostile_text().prop_map(|t| format!(
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/{t}\n"
        )),
        Just("0::/\n".to_string()),
    ];
    let word = prop_oneof![
        Just("supervisord".to_string()),
        Just("PM2 v5: God Daemon".to_string()),
        Just("tmux".to_string()),
        Just("npm run dev".to_string()),
        Just("runsv".to_string()),
        Just("-c".to_string()),
        Just("-s".to_string()),
        hostile_text(),
    ];
    let ancestor = (word.clone(), proptest::collection::vec(word, 0..5));
    (
        cgroup,
        proptest::collection::vec(ancestor, 0..4),
        proptest::option::of(hostile_text()),
    )
}

/// Details for `key` built from [`hostile_behind`].
fn hostile_details(
    key: crate::model::ProcKey,
    (cgroup, ancestry, systemctl): &HostileBehind,
) -> crate::model::ProcessDetails {
    use crate::model::{Ancestor, OsText, Readable, UnitAnswer};
    crate::model::ProcessDetails {
        key,
        name: cgroup.as_str().into(),
        user: None,
        exe: Readable::Value(cgroup.as_str().into()),
        cmdline: vec![cgroup.as_str().into()],
        cwd: Readable::Denied,
        started: String::new(),
        run_time: std::time::Duration::ZERO,
        cpu_percent: None,
        memory_bytes: 0,
        status: String::new(),
        ancestry: ancestry
            .iter()
            .enumerate()
            .map(|(i, (name, argv))| Ancestor {
                pid: u32::try_from(i).unwrap_or(0) + 2,
                name: name.as_str().into(),
                argv: Readable::Value(argv.iter().map(|a| OsText::from(a.as_str())).collect()),
            })
            .collect(),
        children: 0,
        cgroup: Readable::Value(cgroup.as_str().into()),
        unit: systemctl.as_deref().map(UnitAnswer::from_systemctl),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_input_at_any_size_draws_without_panic_and_only_inert_cells(
        sockets in proptest::collection::vec(a_socket(), 0..12),
        actions in proptest::collection::vec(an_action(), 0..24),
        width in 0u16..300,
        height in 0u16..100,
        behind in hostile_behind(),
    ) {
        let snapshot = Snapshot { sockets, privileged: false, ..Snapshot::default() };
        let mut app = App::new(Query::default());
        let area = ratatui::layout::Rect::new(0, 0, width, height);
        let measured = viewport(area, &app);
        app.update(Action::Viewport(measured));
        app.update(Action::Snapshot(snapshot.clone()));
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        // Whatever the app asks to read comes back as hostile as it can be.
        let answer = |app: &mut App, effect: Option<crate::app::action::Effect>| {
            if let Some(crate::app::action::Effect::Describe(key)) = effect {
                app.update(Action::Details(key, Box::new(Ok(hostile_details(key, &behind)))));
            }
        };
        for action in actions {
            let effect = app.update(action);
            answer(&mut app, effect);
            let effect = app.update(Action::Snapshot(snapshot.clone()));
            answer(&mut app, effect);
            terminal.draw(|frame| draw(frame, &app)).unwrap();
            for cell in terminal.backend().buffer().content() {
                prop_assert!(
                    !cell.symbol().chars().any(is_unsafe),
                    "{:?} drawn", cell.symbol()
                );
            }
        }
    }

    #[test]
    fn a_filter_that_still_matches_keeps_the_selected_socket(
        sockets in proptest::collection::vec(a_socket(), 1..12),
        downs in 0usize..12,
    ) {
        let mut app = App::new(Query::EVERYTHING);
        app.update(Action::Viewport(crate::app::action::Viewport::rows(20)));
        app.update(Action::Snapshot(Snapshot { sockets, privileged: true, ..Snapshot::default() }));
        for _ in 0..downs {
            app.update(Action::Down);
        }
        let selected = app.selected_socket().unwrap().clone();
        // Its own port, typed as a filter, matches it: the selection stays on it.
        app.update(Action::StartFilter);
        for c in selected.local_port.to_string().chars() {
            app.update(Action::FilterChar(c));
        }
        prop_assert_eq!(app.selected_socket().map(crate::model::Socket::key), Some(selected.key()));
    }

    #[test]
    fn sorting_is_a_total_order(
        a in a_socket(),
        b in a_socket(),
        c in a_socket(),
        column in prop::sample::select(Column::ALL.to_vec()),
        descending in any::<bool>(),
    ) {
        use std::cmp::Ordering;
        let spec = SortSpec { column, descending };
        prop_assert_eq!(spec.compare(&a, &b), spec.compare(&b, &a).reverse());
        prop_assert_eq!(spec.compare(&a, &a), Ordering::Equal);
        if spec.compare(&a, &b) != Ordering::Greater && spec.compare(&b, &c) != Ordering::Greater {
            prop_assert_ne!(spec.compare(&a, &c), Ordering::Greater);
        }
    }
}

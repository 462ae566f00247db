//! Frames of the inspect view and the stop dialog, at the sizes people use.

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::{draw, viewport};
use crate::app::action::{Action, Status};
use crate::app::{App, Mode};
use crate::model::ProcKey;
use crate::model::Query;
use crate::model::Signal;
use crate::model::fixtures::{sample_snapshot, tunnels};
use crate::model::{Ancestor, OsText, ProcessDetails, Readable, Restart, UnitAnswer, UnitState};

/// The sample snapshot with connections, the node dev server on 127.0.0.1:5173 selected.
fn app_on_node(width: u16, height: u16, read_only: bool) -> App {
    let mut app = App::new(Query {
        connections: true,
        ..Query::default()
    })
    .read_only(read_only);
    let measured = viewport(ratatui::layout::Rect::new(0, 0, width, height), &app);
    app.update(Action::Viewport(measured));
    app.update(Action::Snapshot(sample_snapshot()));
    app.update(Action::Down); // 53 -> 5173
    assert_eq!(app.selected_socket().unwrap().local_port, 5173);
    app
}

/// Details for the process with `key` in the sample: its own name, user and command line.
fn details_for(app: &App, key: ProcKey) -> ProcessDetails {
    let owner = app
        .snapshot()
        .sockets
        .iter()
        .flat_map(|s| s.owners.iter())
        .find(|o| o.key == key)
        .unwrap();
    ProcessDetails {
        name: owner.name.clone(),
        user: owner.user.clone(),
        cmdline: owner.cmdline.raw().split(' ').map(OsText::from).collect(),
        children: if owner.name == "node" { 2 } else { 0 },
        ..node_details(key)
    }
}

fn node_details(key: ProcKey) -> ProcessDetails {
    let ancestor = |pid, name: &str| Ancestor {
        pid,
        name: name.into(),
        argv: Readable::Value(vec![name.into()]),
    };
    ProcessDetails {
        key,
        name: "node".into(),
        user: Some("ana".into()),
        exe: Readable::Value("/usr/bin/node".into()),
        cmdline: vec!["node".into(), "server.js".into()],
        cwd: Readable::Value("/home/ana/shop".into()),
        started: "2026-11-26 09:17:40".into(),
        run_time: Duration::from_secs(3725),
        cpu_percent: Some(1.5),
        memory_bytes: 84 * 1024 * 1024,
        status: "Sleeping".into(),
        // Parent first.
        ancestry: vec![
            ancestor(4800, "npm"),
            ancestor(1201, "zsh"),
            ancestor(900, "tmux"),
            ancestor(1, "systemd"),
        ],
        children: 2,
        cgroup: Readable::Value("0::/user.slice/user-1000.slice/session-2.scope\n".into()),
        unit: None,
    }
}

/// Runs an action and feeds back the details the app asked for, as the runtime does.
fn act(app: &mut App, action: Action) {
    if let Some(crate::app::action::Effect::Describe(key)) = app.update(action) {
        let details = details_for(app, key);
        app.update(Action::Details(key, Box::new(Ok(details))));
    }
}

fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, app)).unwrap();
    terminal
}

#[test]
fn inspect_120x30() {
    let mut app = app_on_node(120, 30, false);
    act(&mut app, Action::Inspect);
    assert_eq!(app.mode(), Mode::Inspect);
    insta::assert_snapshot!(render(&app, 120, 30).backend());
}

#[test]
fn inspect_80x24() {
    let mut app = app_on_node(80, 24, false);
    act(&mut app, Action::Inspect);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn inspect_80x24_shared_socket_second_holder() {
    let mut app = app_on_node(80, 24, false);
    app.update(Action::StartFilter);
    for c in "8080".chars() {
        app.update(Action::FilterChar(c));
    }
    app.update(Action::FilterDone);
    act(&mut app, Action::Inspect);
    act(&mut app, Action::NextHolder);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn confirm_120x30_from_the_table() {
    let mut app = app_on_node(120, 30, false);
    act(&mut app, Action::Kill(Signal::Term));
    assert_eq!(app.mode(), Mode::Confirm);
    insta::assert_snapshot!(render(&app, 120, 30).backend());
}

#[test]
fn confirm_80x24_force_from_inspect() {
    let mut app = app_on_node(80, 24, false);
    act(&mut app, Action::Inspect);
    act(&mut app, Action::Kill(Signal::Kill));
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn confirm_80x24_for_a_connection_end_warns() {
    let mut app = app_on_node(80, 24, false);
    app.update(Action::Bottom); // the curl client end, 62893
    assert_eq!(app.selected_socket().unwrap().local_port, 62893);
    act(&mut app, Action::Kill(Signal::Term));
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn read_only_80x24_after_pressing_x() {
    let mut app = app_on_node(80, 24, true);
    act(&mut app, Action::Kill(Signal::Term));
    assert_eq!(app.mode(), Mode::Table, "no dialog opens");
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn follow_up_status_80x24() {
    let mut app = app_on_node(80, 24, false);
    app.update(Action::Status(Status::error(
        "port 5173 is held again by node 4990 (parent nodemon 4700 restarted it)",
    )));
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

/// The forwarders' snapshot with the ssh tunnel's local end (127.0.0.1:15432) inspected, its
/// details read.
fn inspecting_the_tunnel(width: u16, height: u16) -> App {
    let mut app = App::new(Query::default());
    let measured = viewport(ratatui::layout::Rect::new(0, 0, width, height), &app);
    app.update(Action::Viewport(measured));
    app.update(Action::Snapshot(tunnels()));
    for _ in 0..app.snapshot().sockets.len() {
        if app.selected_socket().unwrap().local_port == 15432 {
            break;
        }
        app.update(Action::Down);
    }
    assert_eq!(app.selected_socket().unwrap().local_port, 15432);
    let Some(crate::app::action::Effect::Describe(key)) = app.update(Action::Inspect) else {
        panic!("inspecting asks for the process's details");
    };
    let ssh = app.selected_socket().unwrap().owners[0].clone();
    let details = ProcessDetails {
        name: ssh.name.clone(),
        user: ssh.user.clone(),
        exe: Readable::Value("/usr/bin/ssh".into()),
        cmdline: ssh.argv.to_vec(),
        memory_bytes: 9 * 1024 * 1024,
        cpu_percent: Some(0.0),
        children: 0,
        ancestry: vec![Ancestor::named(1201, "zsh"), Ancestor::named(1, "systemd")],
        ..node_details(key)
    };
    app.update(Action::Details(key, Box::new(Ok(details))));
    app
}

#[test]
fn inspect_120x30_ssh_tunnel() {
    let app = inspecting_the_tunnel(120, 30);
    assert_eq!(app.mode(), Mode::Inspect);
    let terminal = render(&app, 120, 30);
    let screen = format!("{:?}", terminal.backend());
    assert!(screen.contains("forwards to"), "{screen}");
    assert!(
        screen.contains("db.internal:5432, as seen from bastion via jump.example"),
        "{screen}"
    );
    insta::assert_snapshot!(terminal.backend());
}

/// The node dev server as a systemd service with `Restart=always`, whose main process it is.
fn service_details(app: &App, key: ProcKey) -> ProcessDetails {
    ProcessDetails {
        ancestry: vec![Ancestor {
            pid: 1,
            name: "systemd".into(),
            argv: Readable::Value(vec!["/sbin/init".into()]),
        }],
        cgroup: Readable::Value("0::/system.slice/shop-web.service\n".into()),
        unit: Some(UnitAnswer::Known(UnitState {
            restart: Restart::Always,
            main_pid: Some(key.pid),
        })),
        ..details_for(app, key)
    }
}

/// Runs an action and feeds back `details` for the process it asks about.
fn act_with(app: &mut App, action: Action, details: fn(&App, ProcKey) -> ProcessDetails) {
    if let Some(crate::app::action::Effect::Describe(key)) = app.update(action) {
        let details = details(app, key);
        app.update(Action::Details(key, Box::new(Ok(details))));
    }
}

#[test]
fn inspect_120x30_systemd_service() {
    let mut app = app_on_node(120, 30, false);
    act_with(&mut app, Action::Inspect, service_details);
    let frame = render(&app, 120, 30);
    insta::assert_snapshot!(frame.backend());
}

#[test]
fn inspect_80x24_systemd_service_scrolled_to_what_stands_behind_it() {
    let mut app = app_on_node(80, 24, false);
    act_with(&mut app, Action::Inspect, service_details);
    for _ in 0..10 {
        app.update(Action::Down);
    }
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn confirm_120x30_systemd_service_from_the_table() {
    let mut app = app_on_node(120, 30, false);
    act_with(&mut app, Action::Kill(Signal::Term), service_details);
    let shown = format!("{}", render(&app, 120, 30).backend());
    assert!(shown.contains("it will be restarted"), "{shown}");
    assert!(
        shown.contains("`systemctl stop shop-web.service`"),
        "{shown}"
    );
    insta::assert_snapshot!(render(&app, 120, 30).backend());
}

#[test]
fn confirm_80x24_systemd_service_force_from_inspect() {
    let mut app = app_on_node(80, 24, false);
    act_with(&mut app, Action::Inspect, service_details);
    act_with(&mut app, Action::Kill(Signal::Kill), service_details);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

/// The rows of the dialog's box: where its top and bottom borders are.
fn dialog_rows(terminal: &Terminal<TestBackend>) -> (usize, usize) {
    let text = format!("{}", terminal.backend());
    let lines: Vec<&str> = text.lines().collect();
    let top = lines.iter().position(|l| l.contains("┌ stop")).unwrap();
    let bottom = top + lines[top..].iter().position(|l| l.contains('┘')).unwrap();
    (top, bottom)
}

/// The dialog opens before the details are read: a reserved line says so, and what comes in
/// later fills the same room, so nothing moves under the user.
#[test]
fn confirm_80x24_reading_then_read_keeps_its_size() {
    let mut app = app_on_node(80, 24, false);
    let Some(crate::app::action::Effect::Describe(key)) = app.update(Action::Kill(Signal::Term))
    else {
        panic!("the dialog asks for the details");
    };
    let reading = render(&app, 80, 24);
    assert!(format!("{}", reading.backend()).contains("behind    reading…"));
    insta::assert_snapshot!(reading.backend());
    for details in [service_details(&app, key), details_for(&app, key)] {
        app.update(Action::Details(key, Box::new(Ok(details))));
        assert_eq!(dialog_rows(&render(&app, 80, 24)), dialog_rows(&reading));
    }
    app.update(Action::Details(
        key,
        Box::new(Err(crate::model::DetailsError::Gone(key.pid))),
    ));
    let gone = render(&app, 80, 24);
    assert!(format!("{}", gone.backend()).contains("unknown: process 4812 has exited"));
    assert_eq!(dialog_rows(&gone), dialog_rows(&reading));
}

/// What stands behind the target changes while the dialog is open (its supervisor exits):
/// the dialog says what is true now, in the same room, and still asks about the same process.
#[test]
fn an_ancestry_that_changes_while_the_dialog_is_open_is_shown_as_it_is_now() {
    let mut app = app_on_node(120, 30, false);
    act_with(&mut app, Action::Kill(Signal::Term), |app, key| {
        let mut details = details_for(app, key);
        details.ancestry = vec![
            Ancestor {
                pid: 4700,
                name: "supervisord".into(),
                argv: Readable::Value(vec!["supervisord".into(), "-n".into()]),
            },
            Ancestor::named(1, "systemd"),
        ];
        details.cgroup = Readable::Value("0::/\n".into());
        details
    });
    let before = render(&app, 120, 30);
    assert!(format!("{}", before.backend()).contains("managed by supervisord 4700"));
    // A new snapshot asks for the details again; the supervisor has gone meanwhile.
    let effect = app.update(Action::Snapshot(sample_snapshot()));
    let Some(crate::app::action::Effect::Describe(key)) = effect else {
        panic!("the open dialog's target is read again: {effect:?}");
    };
    let mut orphan = details_for(&app, key);
    orphan.ancestry = vec![Ancestor::named(1, "systemd")];
    orphan.cgroup = Readable::Value("0::/\n".into());
    app.update(Action::Details(key, Box::new(Ok(orphan))));
    let after = render(&app, 120, 30);
    let text = format!("{}", after.backend());
    assert!(!text.contains("supervisord"), "{text}");
    assert!(text.contains("no service manager (cgroup /)"), "{text}");
    assert_eq!(dialog_rows(&after), dialog_rows(&before));
    assert_eq!(
        app.update(Action::ConfirmKill),
        Some(crate::app::action::Effect::Signal {
            target: app_on_node(120, 30, false)
                .selected_socket()
                .and_then(|s| s.primary_owner())
                .map(crate::model::Target::of)
                .unwrap(),
            signal: Signal::Term,
            port: 5173,
            restart_expected: false,
        })
    );
}

/// A stop that the service manager will undo has its port watched long enough to see it.
#[test]
fn a_confirmed_stop_expects_the_restart_what_stands_behind_it_will_make() {
    for (signal, expected) in [(Signal::Term, true), (Signal::Kill, true)] {
        let mut app = app_on_node(120, 30, false);
        act_with(&mut app, Action::Kill(signal), service_details);
        let Some(crate::app::action::Effect::Signal {
            restart_expected, ..
        }) = app.update(Action::ConfirmKill)
        else {
            panic!("no signal");
        };
        assert_eq!(restart_expected, expected, "{signal}");
    }
    // In tmux, nothing restarts it.
    let mut app = app_on_node(120, 30, false);
    act(&mut app, Action::Kill(Signal::Term));
    assert!(matches!(
        app.update(Action::ConfirmKill),
        Some(crate::app::action::Effect::Signal {
            restart_expected: false,
            ..
        })
    ));
}

/// 40x12: the compact dialog gives what stands behind the process one line, and still fits.
#[test]
fn confirm_40x12_systemd_service_compact() {
    let mut app = app_on_node(40, 12, false);
    act_with(&mut app, Action::Kill(Signal::Term), service_details);
    let area = ratatui::layout::Rect::new(0, 0, 40, 12);
    assert!(super::dialog_fits(area, &app));
    insta::assert_snapshot!(render(&app, 40, 12).backend());
}

/// 40x12, a client's end: the warning does not fit beside everything else. The dialog says it
/// cannot be shown whole, and no key can answer it.
#[test]
fn confirm_40x12_that_does_not_fit_refuses_to_be_answered() {
    let mut app = app_on_node(40, 12, false);
    app.update(Action::Bottom);
    act_with(&mut app, Action::Kill(Signal::Term), service_details);
    let area = ratatui::layout::Rect::new(0, 0, 40, 12);
    assert!(!super::dialog_fits(area, &app), "an unanswerable dialog");
    let frame = render(&app, 40, 12);
    assert!(format!("{}", frame.backend()).contains("nothing is sent"));
    insta::assert_snapshot!(frame.backend());
}

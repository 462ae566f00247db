//! The whole live table in-process: a real poller over a system the test changes, the real
//! event loop on a `TestBackend` that counts frames, and a fake control that records signals.
//! Keys go in; frames and signals come out.

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Position, Size};

use super::event_loop::Event;
use super::{Options, Os, Start, session};
use crate::app::Settings;
use crate::collect::Collector;
use crate::control::{FakeControl, OsError, Pinned, ProcessControl};
use crate::model::fixtures::{listener, node_on_3000, owner};
use crate::model::{CollectError, Query, Signal, Snapshot};
use crate::ui::Theme;

const DEADLINE: Duration = Duration::from_secs(10);

/// What the backend has shown so far: how many frames, and the last one as text.
#[derive(Debug, Default)]
struct Seen {
    frames: usize,
    text: String,
}

/// A `TestBackend` that publishes every frame it is handed (as bandwhich's test backend does).
struct CountingBackend {
    inner: TestBackend,
    seen: Arc<Mutex<Seen>>,
    /// The size the "terminal" has now, when a test changed it without telling loopwatch
    /// (as when the window is resized while loopwatch is stopped and the shell gets SIGWINCH).
    resized: Arc<Mutex<Option<Size>>>,
}

impl CountingBackend {
    fn resized(&self) -> Option<Size> {
        *self.resized.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Backend for CountingBackend {
    type Error = <TestBackend as Backend>::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        // ratatui clears after it notices a new size: the buffer takes that size now.
        if let Some(size) = self.resized() {
            self.inner.resize(size.width, size.height);
        }
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.resized().map_or_else(|| self.inner.size(), Ok)
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }
    /// Called once at the end of every frame.
    fn flush(&mut self) -> Result<(), Self::Error> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.frames += 1;
        seen.text = self.inner.to_string();
        self.inner.flush()
    }
}

/// A machine whose sockets the test changes while the table watches.
#[derive(Clone, Default)]
struct FakeSystem(Arc<Mutex<Snapshot>>);

impl FakeSystem {
    fn set(&self, snapshot: Snapshot) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = snapshot;
    }
}

/// Collects from a [`FakeSystem`]; `collect_changed` says when nothing changed, like the real
/// collector.
struct FakeSystemCollector {
    system: FakeSystem,
    delivered: Option<Snapshot>,
}

impl Collector for FakeSystemCollector {
    fn collect(&mut self, _query: &Query) -> Result<Snapshot, CollectError> {
        Ok(self
            .system
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone())
    }

    fn collect_changed(&mut self, query: &Query) -> Result<Option<Snapshot>, CollectError> {
        let now = self.collect(query)?;
        if self.delivered.as_ref() == Some(&now) {
            return Ok(None);
        }
        self.delivered = Some(now.clone());
        Ok(Some(now))
    }

    fn last_again(&mut self) -> Option<Snapshot> {
        self.delivered.clone()
    }
}

/// A fake control the test keeps a handle to after the session took it.
struct SharedControl(Arc<Mutex<FakeControl>>);

impl ProcessControl for SharedControl {
    fn pin(&mut self, pid: u32) -> Result<Pinned, OsError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pin(pid)
    }
    fn signal(&mut self, pinned: &Pinned, signal: Signal) -> Result<(), OsError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .signal(pinned, signal)
    }
}

/// Process details the test sets and changes while the session runs; a read can be held up
/// until the test lets it go, as a hung systemctl would hold it.
#[derive(Clone, Default)]
struct Details {
    known: Arc<Mutex<crate::collect::details::FakeDetails>>,
    /// While set, every read waits.
    held: Arc<std::sync::atomic::AtomicBool>,
}

impl Details {
    fn set(&self, details: crate::model::ProcessDetails) {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .details
            .insert(details.key.pid, details);
    }

    fn wait_while_held(&self) {
        let start = Instant::now();
        while self.held.load(std::sync::atomic::Ordering::SeqCst) && start.elapsed() < DEADLINE {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl crate::collect::details::DetailsSource for Details {
    fn details(
        &mut self,
        key: crate::model::ProcKey,
    ) -> Result<crate::model::ProcessDetails, crate::model::DetailsError> {
        self.wait_while_held();
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .details(key)
    }

    fn provenance(&mut self, pid: u32) -> Option<crate::model::Provenance> {
        self.wait_while_held();
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .provenance(pid)
    }
}

/// A session running on its own thread, driven by the test.
struct Session {
    input: Sender<Event>,
    seen: Arc<Mutex<Seen>>,
    control: Arc<Mutex<FakeControl>>,
    system: FakeSystem,
    jobs: Jobs,
    resized: Arc<Mutex<Option<Size>>>,
    thread: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Job control that counts instead of stopping the test; a stop lasts while `stopped` is set.
#[derive(Clone, Default)]
struct Jobs {
    counts: Arc<Mutex<(usize, usize)>>,
    stopped: Arc<std::sync::atomic::AtomicBool>,
    discarded: Arc<std::sync::atomic::AtomicUsize>,
}

impl Jobs {
    fn counts(&self) -> (usize, usize) {
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl super::event_loop::JobControl for Jobs {
    fn suspend(&mut self) -> anyhow::Result<()> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).0 += 1;
        let start = Instant::now();
        while self.stopped.load(std::sync::atomic::Ordering::SeqCst) && start.elapsed() < DEADLINE {
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }
    fn resume(&mut self) -> anyhow::Result<()> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).1 += 1;
        Ok(())
    }
    fn discard_typeahead(&mut self) {
        self.discarded
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Session {
    fn start(width: u16, height: u16, snapshot: Snapshot) -> Self {
        Self::start_with_engine(
            width,
            height,
            snapshot,
            Arc::new(|_| crate::model::ContainerStopped::Failed("no engine in this test".into())),
        )
    }

    /// A session whose container engine is `stop_container`.
    fn start_with_engine(
        width: u16,
        height: u16,
        snapshot: Snapshot,
        stop_container: super::runtime::ContainerStopper,
    ) -> Self {
        Self::start_with(width, height, snapshot, stop_container, Details::default())
    }

    /// A session whose process details are `details`, which the test may change.
    fn start_with_details(width: u16, height: u16, snapshot: Snapshot, details: Details) -> Self {
        Self::start_with(
            width,
            height,
            snapshot,
            Arc::new(|_| crate::model::ContainerStopped::Failed("no engine in this test".into())),
            details,
        )
    }

    fn start_with(
        width: u16,
        height: u16,
        snapshot: Snapshot,
        stop_container: super::runtime::ContainerStopper,
        details: Details,
    ) -> Self {
        let system = FakeSystem::default();
        system.set(snapshot);
        let control = Arc::new(Mutex::new(FakeControl::with(
            &[owner(4812, "", "", "").key],
        )));
        let os = {
            let (system, control) = (system.clone(), Arc::clone(&control));
            Os {
                fresh_collector: Box::new(move || {
                    Ok(Box::new(FakeSystemCollector {
                        system: system.clone(),
                        delivered: None,
                    }) as Box<dyn Collector>)
                }),
                control: Box::new(move || {
                    Ok(Box::new(SharedControl(Arc::clone(&control))) as Box<dyn ProcessControl>)
                }),
                details: Box::new(move || Ok(Box::new(details.clone()) as _)),
                stop_container,
            }
        };
        let collector = FakeSystemCollector {
            system: system.clone(),
            delivered: None,
        };
        Self::run(width, height, Box::new(collector), os, system, control)
    }

    /// A session on this machine: the real collector and the real control.
    fn on_this_machine(width: u16, height: u16) -> Self {
        let collector = crate::collect::system_collector().unwrap();
        let unused = Arc::new(Mutex::new(FakeControl::default()));
        Self::run(
            width,
            height,
            collector,
            Os::system(),
            FakeSystem::default(),
            unused,
        )
    }

    fn run(
        width: u16,
        height: u16,
        collector: Box<dyn Collector>,
        os: Os,
        system: FakeSystem,
        control: Arc<Mutex<FakeControl>>,
    ) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (tx, rx) = mpsc::channel();
        let resized = Arc::new(Mutex::new(None));
        let backend = CountingBackend {
            inner: TestBackend::new(width, height),
            seen: Arc::clone(&seen),
            resized: Arc::clone(&resized),
        };
        let loop_tx = tx.clone();
        let jobs = Jobs::default();
        let mut loop_jobs = jobs.clone();
        let thread = std::thread::spawn(move || {
            let mut terminal = Terminal::new(backend)?;
            let theme = Theme::default();
            let settings = Settings {
                interval: Duration::from_millis(100),
                ..Settings::default()
            };
            session(
                &mut terminal,
                collector,
                os,
                &mut loop_jobs,
                Start {
                    options: Options {
                        query: Query::default(),
                        read_only: false,
                    },
                    settings,
                    theme: &theme,
                },
                (loop_tx, &rx),
            )
        });
        Self {
            input: tx,
            seen,
            control,
            system,
            jobs,
            resized,
            thread: Some(thread),
        }
    }

    /// The terminal takes this size without an event reaching loopwatch.
    fn resize_unannounced(&self, width: u16, height: u16) {
        *self.resized.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Size::new(width, height));
    }

    /// Ctrl-Z; the stop lasts until [`Session::continue_`].
    fn stop(&self) {
        self.jobs
            .stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let key = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
        self.input.send(Event::Input(TermEvent::Key(key))).unwrap();
        let start = Instant::now();
        while self.jobs.counts().0 < 1 {
            assert!(start.elapsed() < DEADLINE, "never stopped");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn continue_(&self) {
        self.jobs
            .stopped
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    fn type_text(&self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn key(&self, code: KeyCode) {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        self.input.send(Event::Input(TermEvent::Key(key))).unwrap();
    }

    fn frames(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .frames
    }

    fn screen(&self) -> String {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .text
            .clone()
    }

    /// Waits until the screen shows `text`; panics with the screen after the deadline.
    fn wait_for(&self, text: &str) {
        let start = Instant::now();
        while !self.screen().contains(text) {
            assert!(
                start.elapsed() < DEADLINE,
                "{text:?} never appeared:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the fake control has been asked to send something.
    fn wait_for_a_signal(&self) {
        let start = Instant::now();
        while self.sent().is_empty() {
            assert!(
                start.elapsed() < DEADLINE,
                "nothing was ever sent:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn sent(&self) -> Vec<(u32, Signal)> {
        self.control
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sent
            .clone()
    }

    /// Quits with `q` and waits for the loop to end.
    fn quit(mut self) {
        self.key(KeyCode::Char('q'));
        let thread = self.thread.take().unwrap();
        thread.join().unwrap().unwrap();
    }
}

#[test]
fn a_stop_confirmed_from_the_table_signals_the_target_as_shown_exactly_once() {
    let session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    assert!(session.sent().is_empty(), "asking is not sending");
    session.key(KeyCode::Char('y'));
    session.wait_for_a_signal();
    session.wait_for("watching port 3000");
    // The process exits; the follow-up sees the port come free.
    session.system.set(Snapshot::default());
    session.wait_for("port 3000 released");
    // A second yes has no dialog to answer.
    session.key(KeyCode::Char('y'));
    session.key(KeyCode::Enter);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(session.sent(), [(4812, Signal::Term)]);
    session.quit();
}

#[test]
fn a_pid_taken_by_another_process_since_it_was_shown_is_not_signalled() {
    let session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    // Pid 4812 now belongs to a process that started a minute later.
    {
        let mut control = session.control.lock().unwrap();
        let current = control.processes.get_mut(&4812).unwrap();
        current.start_time += 60;
    }
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    session.key(KeyCode::Char('y'));
    session.wait_for("pid now belongs to another process; nothing was sent");
    assert!(session.sent().is_empty());
    session.quit();
}

/// The process shown in the dialog exits while the dialog is open, and its pid goes to a process
/// no clock can tell from it. The yes goes through the handle taken when the dialog opened.
#[test]
fn a_target_replaced_while_the_dialog_was_open_is_not_signalled() {
    let session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    {
        let mut control = session.control.lock().unwrap();
        assert_eq!(control.pins, 1, "held as soon as the dialog opened");
        let same = control.processes[&4812];
        control.replace(4812, same);
    }
    session.key(KeyCode::Char('y'));
    session.wait_for("node 4812 has already exited; nothing was sent");
    assert!(session.sent().is_empty());
    session.quit();
}

#[test]
fn a_cancelled_stop_sends_nothing() {
    let session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    session.key(KeyCode::Char('n'));
    session.wait_for("cancelled: nothing was sent to node 4812");
    assert!(session.sent().is_empty());
    session.quit();
}

#[test]
fn a_yes_typed_before_the_dialog_was_drawn_answers_nothing() {
    let session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    // "x" and "y" in one burst, as a paste would send them.
    session.key(KeyCode::Char('x'));
    session.key(KeyCode::Char('y'));
    session.wait_for("stop node 4812?");
    std::thread::sleep(Duration::from_millis(300));
    assert!(session.sent().is_empty(), "the queued yes was dropped");
    assert!(
        session.screen().contains("stop node 4812?"),
        "the dialog still asks"
    );
    session.key(KeyCode::Esc);
    session.quit();
}

#[test]
fn a_process_that_let_go_before_the_yes_is_not_signalled() {
    let session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    // Gone before the answer, but the table has not refreshed yet: the fresh read decides.
    session.system.set(Snapshot::default());
    session.key(KeyCode::Char('y'));
    session.wait_for("no longer holds port 3000; nothing was sent");
    assert!(session.sent().is_empty());
    session.quit();
}

#[test]
fn an_idle_table_draws_no_frame_and_a_change_draws_one() {
    let session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    // Let the first snapshot and its frame settle, then watch ten refresh intervals pass.
    std::thread::sleep(Duration::from_millis(300));
    let settled = session.frames();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(session.frames(), settled, "nothing changed, nothing drawn");
    let mut more = node_on_3000();
    more.sockets.push(listener(
        "127.0.0.1",
        5173,
        vec![owner(4900, "vite", "alice", "vite --port 5173")],
    ));
    session.system.set(more);
    session.wait_for("vite");
    assert!(session.frames() > settled);
    session.quit();
}

#[test]
fn a_terminating_signal_ends_the_session_even_with_the_dialog_open() {
    let mut session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    session.input.send(Event::Signal).unwrap();
    let thread = session.thread.take().unwrap();
    thread.join().unwrap().unwrap();
    assert!(session.sent().is_empty());
}

#[cfg(unix)]
#[test]
fn the_live_table_stops_a_real_listener_and_sees_the_port_released() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    let script = include_str!("../../tests/support/listen.py");
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().to_string();
    let pid = child.id();

    let session = Session::on_this_machine(160, 30);
    session.wait_for("LISTEN");
    session.key(KeyCode::Char('/'));
    session.type_text(&port);
    session.key(KeyCode::Enter);
    session.wait_for(&format!("{pid} python3"));
    session.key(KeyCode::Char('x'));
    session.wait_for(&format!("stop python3 {pid}?"));
    assert!(child.try_wait().unwrap().is_none(), "asking is not sending");
    session.key(KeyCode::Char('y'));
    session.wait_for(&format!("port {port} released"));
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(15), "SIGTERM, as the dialog said");
    session.quit();
}

#[test]
fn on_a_terminal_too_small_to_draw_only_quit_does_anything() {
    let session = Session::start(20, 5, node_on_3000());
    session.wait_for("terminal too small");
    // The table is not drawn, so nothing in it can be chosen, let alone stopped.
    for key in [KeyCode::Char('x'), KeyCode::Enter, KeyCode::Char('y')] {
        session.key(key);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(session.sent().is_empty());
    assert!(session.screen().contains("terminal too small"));
    session.quit();
}

#[test]
fn a_dialog_resized_out_of_sight_is_closed_unanswered() {
    let session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    // Shrunk below what the dialog needs, then a yes typed blind, then back to full size.
    let resize = |w, h| {
        session
            .input
            .send(Event::Input(TermEvent::Resize(w, h)))
            .unwrap();
    };
    resize(40, 8);
    session.key(KeyCode::Char('y'));
    resize(120, 20);
    session.wait_for("the stop dialog did not fit the terminal: nothing was sent to node 4812");
    assert!(session.sent().is_empty());
    assert!(!session.screen().contains("stop node 4812?"));
    session.quit();
}

#[test]
fn a_feeding_thread_that_fails_ends_the_session_with_its_error() {
    let mut session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    session
        .input
        .send(Event::Failed(anyhow::anyhow!(
            "cannot read the keyboard: Too many open files (os error 24)"
        )))
        .unwrap();
    let thread = session.thread.take().unwrap();
    let error = thread.join().unwrap().unwrap_err();
    assert!(
        error.to_string().contains("cannot read the keyboard"),
        "{error:#}"
    );
}

#[test]
fn ctrl_z_and_sigtstp_step_aside_and_sigcont_redraws_the_whole_screen() {
    let session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    let key = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
    session
        .input
        .send(Event::Input(TermEvent::Key(key)))
        .unwrap();
    session.input.send(Event::Suspend).unwrap();
    let start = Instant::now();
    while session.jobs.counts().0 < 2 {
        assert!(
            start.elapsed() < DEADLINE,
            "never suspended: {:?}",
            session.jobs.counts()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = session.frames();
    session.input.send(Event::Continue).unwrap();
    while session.jobs.counts().1 < 1 || session.frames() == before {
        assert!(start.elapsed() < DEADLINE, "never redrawn after SIGCONT");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        session.screen().contains("node server.js"),
        "the table is back whole"
    );
    session.quit();
}

/// The window shrinks while loopwatch is stopped (the shell gets the SIGWINCH): back from `fg`,
/// the dialog that no longer fits is closed unanswered, and a `y` answers nothing.
#[test]
fn a_dialog_shrunk_away_while_stopped_is_closed_unanswered() {
    let session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    session.stop();
    session.resize_unannounced(10, 3);
    session.continue_();
    session.wait_for("10x3");
    session.key(KeyCode::Char('y'));
    session.resize_unannounced(120, 20);
    session
        .input
        .send(Event::Input(TermEvent::Resize(120, 20)))
        .unwrap();
    session.wait_for("did not fit");
    assert!(session.sent().is_empty());
    session.quit();
}

/// Keys typed while loopwatch was stopped, or before its screen came back, were typed to a
/// screen that did not show the dialog: they answer nothing.
#[test]
fn keys_typed_while_stopped_do_not_answer_the_dialog() {
    let session = Session::start(120, 20, node_on_3000());
    session.wait_for("node server.js");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    let discarded = session
        .jobs
        .discarded
        .load(std::sync::atomic::Ordering::SeqCst);
    session.stop();
    session.key(KeyCode::Char('y'));
    session.key(KeyCode::Enter);
    session.continue_();
    let start = Instant::now();
    while session
        .jobs
        .discarded
        .load(std::sync::atomic::Ordering::SeqCst)
        == discarded
    {
        assert!(start.elapsed() < DEADLINE, "type-ahead never discarded");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        session.sent().is_empty(),
        "the y typed while stopped was dropped"
    );
    session.wait_for("stop node 4812?");
    // A key pressed now, with the dialog on screen, does answer it.
    session.key(KeyCode::Char('n'));
    session.wait_for("cancelled: nothing was sent");
    session.quit();
}

/// A command line of any length (a Java classpath, a hostile 200 KB argv) leaves a dialog that
/// fits, so its process can still be stopped.
#[test]
fn a_huge_command_line_can_still_be_stopped() {
    let huge = format!("java -cp {}", "lib/a.jar:".repeat(20_000));
    let snapshot = Snapshot {
        sockets: vec![listener(
            "127.0.0.1",
            3000,
            vec![owner(4812, "node", "alice", &huge)],
        )],
        privileged: true,
        ..Default::default()
    };
    let session = Session::start(120, 30, snapshot);
    session.wait_for("java -cp");
    session.key(KeyCode::Char('x'));
    session.wait_for("(whole in inspect)");
    session.key(KeyCode::Char('y'));
    session.wait_for_a_signal();
    assert_eq!(session.sent(), [(4812, Signal::Term)]);
    session.quit();
}

/// 40x12 is a supported size: the dialog lays itself out compactly and a yes there counts.
#[test]
fn a_stop_can_be_confirmed_on_a_small_terminal() {
    let session = Session::start(40, 12, node_on_3000());
    session.wait_for("3000");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    session.key(KeyCode::Char('y'));
    session.wait_for_a_signal();
    assert_eq!(session.sent(), [(4812, Signal::Term)]);
    session.quit();
}

/// Keys 1-9 pick what the last frame drew: at 40 columns the fourth column on screen is the
/// process name (not the scope, fourth of all columns), pressed again it reverses, and a
/// digit past the last column says so.
#[test]
fn digits_sort_by_the_columns_the_last_frame_drew() {
    let session = Session::start(40, 12, crate::model::fixtures::sample_snapshot());
    session.wait_for("postgres");
    session.key(KeyCode::Char('4'));
    session.wait_for("Process▲");
    session.key(KeyCode::Char('4'));
    session.wait_for("Process▼");
    session.key(KeyCode::Char('9'));
    session.wait_for("no column 9 on screen");
    // F10 quits, as in htop.
    let mut session = session;
    session.key(KeyCode::F(10));
    let thread = session.thread.take().unwrap();
    thread.join().unwrap().unwrap();
}

/// A docker-proxy listener on 127.0.0.1:8080 for container `web`.
fn proxied_web() -> (Snapshot, Arc<crate::model::Container>) {
    let web = Arc::new(crate::model::Container {
        id: "0f99e7bbe4febced82d7b90e15dd5aec23f10690043d6275e5349d63a130e477".into(),
        name: "web".into(),
        image: "nginx:1.27".into(),
        compose: None,
        addresses: vec!["172.17.0.2".parse().unwrap()],
        ports: vec![crate::model::PublishedPort {
            proto: crate::model::Proto::Tcp,
            host_addr: Some("127.0.0.1".parse().unwrap()),
            host_port: 8080,
            container_port: 80,
        }],
    });
    let proxy = owner(
        5644,
        "docker-proxy",
        "root",
        "/usr/bin/docker-proxy -proto tcp",
    );
    let mut socket = listener("127.0.0.1", 8080, vec![proxy]);
    socket.container = Some(Arc::clone(&web));
    let snapshot = Snapshot {
        sockets: vec![socket],
        ..Snapshot::default()
    };
    (snapshot, web)
}

#[test]
fn a_published_port_is_freed_by_stopping_its_container_never_by_signalling_the_proxy() {
    let (snapshot, web) = proxied_web();
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let system_after = Arc::new(Mutex::new(None::<FakeSystem>));
    let stopper: super::runtime::ContainerStopper = {
        let (asked, system_after) = (Arc::clone(&asked), Arc::clone(&system_after));
        Arc::new(move |container| {
            asked.lock().unwrap().push(container.id.clone());
            // The engine answers once the container is down, and its proxy with it.
            std::thread::sleep(Duration::from_millis(200));
            if let Some(system) = system_after.lock().unwrap().as_ref() {
                system.set(Snapshot::default());
            }
            crate::model::ContainerStopped::Now
        })
    };
    let session = Session::start_with_engine(120, 24, snapshot, stopper);
    *system_after.lock().unwrap() = Some(session.system.clone());
    session.wait_for("docker-proxy -> web");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop container web?");
    session.wait_for("docker-proxy 5644 (stops with the container)");
    session.key(KeyCode::Char('y'));
    session.wait_for("stopping container web");
    session.wait_for("port 8080 released after");
    assert_eq!(
        *asked.lock().unwrap(),
        vec![web.id.clone()],
        "stopped by its full id"
    );
    assert!(session.sent().is_empty(), "the proxy was never signalled");
    session.quit();
}

#[test]
fn a_container_stop_the_engine_refuses_says_why_and_a_no_stops_nothing() {
    let (snapshot, _) = proxied_web();
    let asked: Arc<Mutex<usize>> = Arc::default();
    let stopper: super::runtime::ContainerStopper = {
        let asked = Arc::clone(&asked);
        Arc::new(move |_| {
            *asked.lock().unwrap() += 1;
            crate::model::ContainerStopped::Failed("permission denied on the engine socket".into())
        })
    };
    let session = Session::start_with_engine(120, 24, snapshot, stopper);
    session.wait_for("docker-proxy -> web");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop container web?");
    session.key(KeyCode::Char('n'));
    session.wait_for("cancelled: container web was not stopped");
    assert_eq!(*asked.lock().unwrap(), 0);
    session.key(KeyCode::Char('x'));
    session.wait_for("stop container web?");
    session.key(KeyCode::Char('y'));
    session.wait_for("cannot stop container web: permission denied on the engine socket");
    assert_eq!(*asked.lock().unwrap(), 1);
    assert!(session.sent().is_empty());
    session.quit();
}

/// `node server.js` 4812 as the stop tests know it, run by `supervisord` 4700 unless told
/// otherwise.
fn node_details(pid: u32, ancestry: Vec<crate::model::Ancestor>) -> crate::model::ProcessDetails {
    use crate::model::{Readable, fixtures};
    let node = fixtures::owner(pid, "node", "alice", "node server.js");
    crate::model::ProcessDetails {
        key: node.key,
        name: node.name,
        user: node.user,
        exe: Readable::Value("/usr/bin/node".into()),
        cmdline: vec!["node".into(), "server.js".into()],
        cwd: Readable::Missing,
        started: "2026-11-26 09:17:40".into(),
        run_time: Duration::from_mins(1),
        cpu_percent: None,
        memory_bytes: 0,
        status: "Sleeping".into(),
        ancestry,
        children: 0,
        cgroup: Readable::Value("0::/\n".into()),
        unit: None,
    }
}

fn supervisord() -> Vec<crate::model::Ancestor> {
    vec![
        crate::model::Ancestor {
            pid: 4700,
            name: "supervisord".into(),
            argv: crate::model::Readable::Value(vec![
                "/usr/bin/python3".into(),
                "/usr/bin/supervisord".into(),
                "-n".into(),
            ]),
        },
        crate::model::Ancestor::named(1, "init"),
    ]
}

/// Opened from the table, the dialog says what stands behind the process; when that changes
/// while it is open, the dialog says so; the yes still goes to the process shown.
#[test]
fn the_dialog_says_what_stands_behind_the_process_as_it_is_now() {
    let details = Details::default();
    details.set(node_details(4812, supervisord()));
    let session = Session::start_with_details(120, 24, node_on_3000(), details.clone());
    session.wait_for("node server.js");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    session.wait_for("managed by supervisord 4700");
    session.wait_for("SIGTERM it will be restarted");
    // supervisord exits; the next snapshot has the dialog's target read again.
    details.set(node_details(
        4812,
        vec![crate::model::Ancestor::named(1, "init")],
    ));
    let mut more = node_on_3000();
    more.sockets.push(listener(
        "127.0.0.1",
        5173,
        vec![owner(4900, "vite", "alice", "vite")],
    ));
    session.system.set(more);
    session.wait_for("no service manager (cgroup /)");
    assert!(
        !session.screen().contains("supervisord"),
        "{}",
        session.screen()
    );
    session.key(KeyCode::Char('y'));
    session.wait_for_a_signal();
    assert_eq!(session.sent(), [(4812, Signal::Term)]);
    session.quit();
}

/// Reading the details can take a hung systemctl's whole timeout: the dialog is drawn at
/// once, says it is reading, answers its keys meanwhile, and keeps its size when they come.
#[test]
fn a_slow_details_read_never_holds_up_the_dialog() {
    let details = Details::default();
    details.set(node_details(4812, supervisord()));
    details
        .held
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let session = Session::start_with_details(120, 24, node_on_3000(), details.clone());
    session.wait_for("node server.js");
    session.key(KeyCode::Char('x'));
    session.wait_for("behind    reading…");
    let box_rows = |screen: &str| screen.lines().filter(|l| l.contains('│')).count();
    let reading = box_rows(&session.screen());
    session.key(KeyCode::Char('n'));
    session.wait_for("cancelled: nothing was sent to node 4812");
    session.key(KeyCode::Char('x'));
    session.wait_for("stop node 4812?");
    details
        .held
        .store(false, std::sync::atomic::Ordering::SeqCst);
    session.wait_for("managed by supervisord 4700");
    assert_eq!(
        box_rows(&session.screen()),
        reading,
        "the dialog kept its size"
    );
    session.key(KeyCode::Char('n'));
    session.wait_for("cancelled");
    assert!(session.sent().is_empty());
    session.quit();
}

/// The port is bound again by a process supervisord started: the follow-up names supervisord
/// in the dialog's own words.
#[test]
fn a_restart_by_a_supervisor_is_named_in_the_follow_up() {
    let details = Details::default();
    details.set(node_details(4812, supervisord()));
    details.set(node_details(4990, supervisord()));
    let session = Session::start_with_details(160, 24, node_on_3000(), details);
    session.wait_for("node server.js");
    session.key(KeyCode::Char('x'));
    session.wait_for("managed by supervisord 4700");
    session.key(KeyCode::Char('y'));
    session.wait_for_a_signal();
    let mut again = listener(
        "127.0.0.1",
        3000,
        vec![owner(4990, "node", "alice", "node server.js")],
    );
    again.inode += 1;
    session.system.set(Snapshot {
        sockets: vec![again],
        privileged: true,
        ..Default::default()
    });
    session.wait_for("port 3000 is held again by node 4990 (supervisord 4700 restarted it;");
    session.quit();
}

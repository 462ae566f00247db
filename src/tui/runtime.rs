//! The runtime's side of the app's effects: collecting, reading process details, stopping a
//! process and following the port up. Every OS touch arrives through [`Os`], so tests drive the
//! whole live table in-process against fakes.
//!
//! Process details are read on a thread of their own ([`Describer`]): asking systemd about a
//! service may take its whole timeout, and the table and the stop dialog never wait for it.

use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use crate::app::App;
use crate::app::action::{Action, Effect, Status};
use crate::collect::Collector;
use crate::collect::details::DetailsSource;
use crate::collect::poller::Poller;
use crate::control::stop::{self, Stop};
use crate::control::{Holds, ProcessControl};
use crate::domain::followup::{self, FollowUp, Outcome, Restarter};
use crate::model::{
    CollectError, Container, ContainerStopped, EngineView, ProcKey, Query, Signal, Target,
};

use super::event_loop::Event;

/// Asks the container engine to stop a container by its id; blocks until the engine answers.
pub(crate) type ContainerStopper = Arc<dyn Fn(&Container) -> ContainerStopped + Send + Sync>;

/// Opens one OS service on first use: most sessions never inspect or stop anything.
pub(crate) type Opener<T> = Box<dyn FnMut() -> Result<T, CollectError> + Send>;

/// Everything the live table needs from the OS besides the poller's collector.
pub(crate) struct Os {
    /// A collector with no owner cache, for the read just before a signal.
    pub(crate) fresh_collector: Opener<Box<dyn Collector>>,
    pub(crate) control: Opener<Box<dyn ProcessControl>>,
    pub(crate) details: Opener<Box<dyn DetailsSource>>,
    pub(crate) stop_container: ContainerStopper,
}

impl Os {
    /// This machine.
    pub(crate) fn system() -> Self {
        Self {
            fresh_collector: Box::new(crate::collect::system_collector),
            control: Box::new(|| {
                crate::control::SystemControl::new().map(|c| Box::new(c) as Box<dyn ProcessControl>)
            }),
            details: Box::new(|| {
                crate::collect::details::SysinfoDetails::new()
                    .map(|d| Box::new(d) as Box<dyn DetailsSource>)
            }),
            stop_container: Arc::new(|container| {
                crate::collect::engine::Endpoint::from_env().stop(&container.id)
            }),
        }
    }
}

/// While a signal is being followed up, look this often instead of waiting for the interval,
/// so "released after 0.4 s" is measured, not rounded to the next refresh.
const FOLLOW_UP_POLL: Duration = Duration::from_millis(150);
/// Past the patience and the longest settle time with room to spare: no outcome is pending
/// any more.
const FOLLOW_UP_GIVE_UP: Duration = Duration::from_secs(12);

/// A signal sent from the table, whose port is being watched.
struct Following {
    follow_up: FollowUp,
    sent_at: Instant,
    signal: Signal,
}

pub(crate) struct Runtime<'p> {
    poller: &'p Poller,
    os: Os,
    /// The query the poller was last given.
    query: Query,
    /// Opens the details source, on the describer's thread, when it is first needed.
    details: Option<Opener<Box<dyn DetailsSource>>>,
    describer: Option<Describer>,
    control: Option<Box<dyn ProcessControl>>,
    /// The stop dialog's target, held since the dialog opened.
    held: Option<Holds>,
    /// No signal can be sent from this session, whatever the app asks.
    read_only: bool,
    following: Option<Following>,
    /// When the poller was last asked for a follow-up snapshot.
    last_poll: Instant,
    /// Where a worker reports back (a container stop takes as long as the container does).
    reports: Sender<Event>,
    /// The follow-up of a container stop the engine is still carrying out.
    container_follow_up: Option<FollowUp>,
}

impl<'p> Runtime<'p> {
    pub(crate) fn new(
        poller: &'p Poller,
        mut os: Os,
        query: Query,
        read_only: bool,
        reports: Sender<Event>,
    ) -> Self {
        // The describer's thread takes the opener; what is left in its place is never called.
        let details = std::mem::replace(
            &mut os.details,
            Box::new(|| {
                Err(CollectError::Processes(
                    "details are read by the describer".into(),
                ))
            }),
        );
        Self {
            poller,
            os,
            query,
            details: Some(details),
            describer: None,
            control: None,
            held: None,
            read_only,
            following: None,
            last_poll: Instant::now(),
            reports,
            container_follow_up: None,
        }
    }

    /// While following up, asks the poller for a fresh snapshot every [`FOLLOW_UP_POLL`];
    /// returns how long until the next ask. Gives up once no answer could still matter.
    pub(crate) fn poll_follow_up(&mut self) -> Option<Duration> {
        let following = self.following.as_ref()?;
        if following.sent_at.elapsed() > FOLLOW_UP_GIVE_UP {
            // Snapshots stopped coming (collection keeps failing): the status keeps its last word.
            self.following = None;
            return None;
        }
        let since = self.last_poll.elapsed();
        if since >= FOLLOW_UP_POLL {
            self.poller.refresh_now();
            self.last_poll = Instant::now();
            return Some(FOLLOW_UP_POLL);
        }
        Some(FOLLOW_UP_POLL.saturating_sub(since))
    }

    /// Performs one effect; returns the actions that report its result.
    pub(crate) fn perform(&mut self, effect: Effect) -> Vec<Action> {
        match effect {
            Effect::SetQuery(query) => {
                self.query = query;
                self.poller.set_query(query);
                Vec::new()
            }
            Effect::Describe(key) => self.ask(Request::Describe(key)),
            Effect::Signal {
                target,
                signal,
                port,
                restart_expected,
            } => vec![Action::Status(self.signal(
                target,
                signal,
                port,
                followup::settle(restart_expected),
            ))],
            Effect::SetInterval(interval) => {
                self.poller.set_interval(interval);
                Vec::new()
            }
            Effect::StopContainer {
                container,
                follow_up,
            } => vec![Action::Status(self.stop_container(container, *follow_up))],
            Effect::FollowStoppedContainer => {
                if let Some(follow_up) = self.container_follow_up.take() {
                    self.following = Some(Following {
                        follow_up,
                        sent_at: Instant::now(),
                        signal: Signal::Term,
                    });
                    self.poller.refresh_now();
                }
                Vec::new()
            }
            // The event loop does these: they need the terminal.
            Effect::Quit | Effect::Suspend => Vec::new(),
        }
    }

    /// Hands a request to the describer, started on first use; what it answers arrives as
    /// an event. Without a describer, says so at once.
    fn ask(&mut self, request: Request) -> Vec<Action> {
        if self.describer.is_none()
            && let Some(opener) = self.details.take()
        {
            match Describer::spawn(opener, self.reports.clone()) {
                Ok(describer) => self.describer = Some(describer),
                Err(error) => {
                    return vec![Action::Status(Status::error(format!(
                        "cannot read process details: no thread to read them on ({error})"
                    )))];
                }
            }
        }
        let sent = self
            .describer
            .as_ref()
            .is_some_and(|d| d.requests.send(request).is_ok());
        if sent {
            Vec::new()
        } else {
            vec![Action::Status(Status::error(
                "cannot read process details: their reader has stopped",
            ))]
        }
    }

    /// Opens the process control on first use.
    fn control(&mut self) -> Result<&mut dyn ProcessControl, CollectError> {
        let control = match self.control.take() {
            Some(control) => control,
            None => (self.os.control)()?,
        };
        Ok(self.control.insert(control).as_mut())
    }

    /// Asks the engine on a thread of its own (it waits for the container to stop) and
    /// reports the answer as an action.
    fn stop_container(&mut self, container: Arc<Container>, follow_up: FollowUp) -> Status {
        if self.read_only {
            return Status::error("stopping containers is disabled: loopwatch runs read-only");
        }
        self.container_follow_up = Some(follow_up);
        let stopper = Arc::clone(&self.os.stop_container);
        let reports = self.reports.clone();
        let name = container.name.to_string();
        let spawned = std::thread::Builder::new()
            .name("container-stop".into())
            .spawn(move || {
                let outcome = stopper(&container);
                let _ = reports.send(Event::Reported(Action::ContainerStopped {
                    container,
                    outcome,
                }));
            });
        match spawned {
            Ok(_) => Status::info(format!(
                "stopping container {name} (SIGKILL follows after its stop timeout, 10 s unless set)…"
            )),
            Err(error) => Status::error(format!(
                "cannot stop container {name}: no thread to ask the engine ({error}); nothing was stopped"
            )),
        }
    }

    fn signal(&mut self, target: Target, signal: Signal, port: u16, settle: Duration) -> Status {
        if self.read_only {
            return Status::error("stopping processes is disabled: loopwatch runs read-only");
        }
        if let Err(error) = self.control() {
            return Status::error(format!("cannot signal: {error}"));
        }
        // The handle taken when the dialog showed this target; the yes reaches that process.
        let held = self
            .held
            .take()
            .filter(|held| held.are_for(std::slice::from_ref(&target)))
            .unwrap_or_default();
        let mut fresh = match (self.os.fresh_collector)() {
            Ok(collector) => collector,
            Err(error) => return Status::error(format!("{error}; nothing was sent")),
        };
        let Some(control) = self.control.as_deref_mut() else {
            return Status::error("cannot signal");
        };
        let request = Stop {
            port,
            targets: vec![target],
            signal,
            patience: followup::DEFAULT_PATIENCE,
            settle,
            listeners_only: false,
        };
        let stopped = match stop::stop(fresh.as_mut(), control, &held, &request, std::process::id())
        {
            Ok(stopped) => stopped,
            Err(error) => return Status::error(format!("{error}; nothing was sent")),
        };
        let sent = match stopped.results.into_iter().next() {
            Some(Ok(sent)) => sent,
            Some(Err(error)) => return Status::error(error.to_string()),
            None => return Status::error("nothing was sent"),
        };
        // A client's end has no port to watch: whether it comes free says nothing.
        let Some(follow_up) = stopped.follow_up else {
            return Status::info(sent.message());
        };
        self.following = Some(Following {
            follow_up,
            sent_at: Instant::now(),
            signal,
        });
        self.poller.refresh_now();
        Status::info(format!("{}; watching port {port}…", sent.message()))
    }

    /// Judges the newest snapshot for the signal being followed up, if any.
    pub(crate) fn follow_up(&mut self, app: &App) -> Option<Action> {
        let following = self.following.as_mut()?;
        let signal = following.signal;
        let outcome = following
            .follow_up
            .observe(app.latest(), following.sent_at.elapsed());
        if following.follow_up.is_done() {
            self.following = None;
        }
        let outcome = outcome?;
        if outcome.new_owner().is_some() {
            // Naming what restarted the new owner reads its ancestry: the describer does it,
            // and reports the line.
            let request = Request::FollowUp {
                outcome: Box::new(outcome),
                signal,
                engine: app.latest().engine.clone(),
            };
            return self.ask(request).into_iter().next();
        }
        Some(follow_up_status(&outcome, None, signal))
    }

    /// Holds the stop dialog's target while the dialog is open, from the moment it opens, and
    /// lets it go when it closes. A control that cannot be opened holds nothing: the yes then
    /// reports why it cannot signal.
    pub(crate) fn sync_held(&mut self, app: &App) {
        let Some(pending) = app.pending_kill().filter(|_| !self.read_only) else {
            self.held = None;
            return;
        };
        let targets = std::slice::from_ref(&pending.target);
        if self.held.as_ref().is_some_and(|held| held.are_for(targets)) {
            return;
        }
        self.held = self
            .control()
            .ok()
            .map(|control| Holds::take(control, targets, std::process::id()));
    }

    /// Inspecting widens what is collected (connections); keep the poller in step.
    pub(crate) fn sync_query(&mut self, app: &App) {
        let wanted = app.collection_query();
        if wanted != self.query {
            self.query = wanted;
            self.poller.set_query(wanted);
        }
    }
}

/// The status line for a follow-up's outcome.
fn follow_up_status(outcome: &Outcome, restarter: Option<&Restarter>, signal: Signal) -> Action {
    let text = outcome.line(restarter, signal, "press X to force");
    Action::Status(if outcome.is_released() {
        Status::info(text)
    } else {
        Status::error(text)
    })
}

/// What the describer is asked to read.
enum Request {
    Describe(ProcKey),
    /// The status line for a port held again: it names what restarted the new owner.
    FollowUp {
        outcome: Box<Outcome>,
        signal: Signal,
        engine: EngineView,
    },
}

/// Reads process details on a thread of its own, reporting each answer as an event.
struct Describer {
    requests: Sender<Request>,
}

impl Describer {
    fn spawn(
        mut open: Opener<Box<dyn DetailsSource>>,
        reports: Sender<Event>,
    ) -> std::io::Result<Self> {
        let (requests, queue) = std::sync::mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("details".into())
            .spawn(move || {
                let mut source: Option<Box<dyn DetailsSource>> = None;
                while let Ok(first) = queue.recv() {
                    let mut batch: Vec<Request> =
                        std::iter::once(first).chain(queue.try_iter()).collect();
                    // While one answer was awaited, a process may have been asked about again:
                    // the newest ask is the one worth reading.
                    let mut seen = std::collections::HashSet::new();
                    batch.reverse();
                    batch.retain(|r| match r {
                        Request::Describe(key) => seen.insert(*key),
                        Request::FollowUp { .. } => true,
                    });
                    batch.reverse();
                    for request in batch {
                        if source.is_none() {
                            match open() {
                                Ok(opened) => source = Some(opened),
                                Err(error) => {
                                    let answer = match request {
                                        Request::Describe(_) => Action::Status(Status::error(
                                            format!("cannot read process details: {error}"),
                                        )),
                                        Request::FollowUp {
                                            outcome, signal, ..
                                        } => follow_up_status(&outcome, None, signal),
                                    };
                                    if reports.send(Event::Reported(answer)).is_err() {
                                        return;
                                    }
                                    continue;
                                }
                            }
                        }
                        let Some(details) = source.as_deref_mut() else {
                            continue;
                        };
                        let answer = match request {
                            Request::Describe(key) => {
                                Action::Details(key, Box::new(details.details(key)))
                            }
                            Request::FollowUp {
                                outcome,
                                signal,
                                engine,
                            } => {
                                let restarter = outcome.new_owner().and_then(|pid| {
                                    Restarter::of(pid, &details.provenance(pid)?, &engine)
                                });
                                follow_up_status(&outcome, restarter.as_ref(), signal)
                            }
                        };
                        // The session has ended: nobody is left to tell.
                        if reports.send(Event::Reported(answer)).is_err() {
                            return;
                        }
                    }
                }
            })?;
        Ok(Self { requests })
    }
}

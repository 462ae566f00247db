//! Asking systemd about a service: `systemctl show UNIT --property=Restart,MainPID,LoadState`.
//!
//! Only for a process whose cgroup names a service, only where systemd runs
//! (`/run/systemd/system` exists), with a timeout (a hung systemctl costs half a second, not a
//! frozen view), and each unit's answer is remembered for a while. The program is a parameter
//! so tests run a script in its place. On a timeout, the process group the query was started
//! in (systemctl and anything it started) is killed: nothing else is.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::model::{Manager, OsText, Unit, UnitAnswer};

/// How long systemctl may take before its answer is given up on.
pub const TIMEOUT: Duration = Duration::from_millis(500);
/// How long an answer is used again without asking.
const FRESH: Duration = Duration::from_secs(30);
/// An answer naming another main process may be stale (the unit restarted since): asked
/// again once it is this old.
const MAIN_PID_FRESH: Duration = Duration::from_secs(2);
/// The most output read from systemctl; its answer is three short lines.
#[cfg(unix)]
const OUTPUT_LIMIT: u64 = 64 * 1024;

/// Asks systemd about services, and remembers its answers.
#[derive(Debug)]
pub struct UnitAsker {
    program: PathBuf,
    timeout: Duration,
    /// Whether systemd runs here: when it does not, nothing is run and the answer says so.
    systemd_runs: bool,
    cache: HashMap<Unit, (Instant, UnitAnswer)>,
}

impl UnitAsker {
    /// `systemctl` from `PATH`, where `/run/systemd/system` says systemd is the init system.
    pub fn system() -> Self {
        Self::new(
            "systemctl",
            TIMEOUT,
            std::path::Path::new("/run/systemd/system").is_dir(),
        )
    }

    /// Runs `program` in systemctl's place (tests), if `systemd_runs`.
    pub fn new(program: impl Into<PathBuf>, timeout: Duration, systemd_runs: bool) -> Self {
        Self {
            program: program.into(),
            timeout,
            systemd_runs,
            cache: HashMap::new(),
        }
    }

    /// What systemd says about `unit`, which process `pid` runs in.
    pub fn ask(&mut self, unit: &Unit, pid: u32) -> UnitAnswer {
        if !self.systemd_runs {
            return UnitAnswer::Unknown(
                "systemd is not running here (no /run/systemd/system), so it cannot be asked"
                    .into(),
            );
        }
        if let Some((at, answer)) = self.cache.get(unit) {
            let age = at.elapsed();
            let names_another = matches!(answer, UnitAnswer::Known(s) if s.main_pid != Some(pid));
            if age < FRESH && (!names_another || age < MAIN_PID_FRESH) {
                return answer.clone();
            }
        }
        let answer = self.run(unit);
        self.cache
            .insert(unit.clone(), (Instant::now(), answer.clone()));
        answer
    }

    fn run(&self, unit: &Unit) -> UnitAnswer {
        let mut args: Vec<String> = Vec::new();
        if let Manager::User(uid) = unit.manager {
            args.push("--user".into());
            // Another user's manager is reached through its own bus.
            if !is_viewer(uid) {
                args.push(format!("--machine={uid}@.host"));
            }
        }
        args.extend([
            "show".to_string(),
            unit.name.clone(),
            format!("--property={}", crate::model::UNIT_PROPERTIES),
            "--no-pager".into(),
            "--no-ask-password".into(),
        ]);
        match run(&self.program, &args, self.timeout) {
            Ok(Ran {
                success: true,
                stdout,
                ..
            }) => UnitAnswer::from_systemctl(&stdout),
            Ok(Ran { stderr, .. }) => {
                let said = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                UnitAnswer::Unknown(OsText::from(if said.is_empty() {
                    "systemctl failed and said nothing".to_string()
                } else {
                    format!("systemctl failed: {}", said.trim())
                }))
            }
            Err(Failed::Timeout) => UnitAnswer::Unknown(
                format!(
                    "systemctl did not answer within {} ms",
                    self.timeout.as_millis()
                )
                .into(),
            ),
            Err(Failed::Start(error)) => {
                UnitAnswer::Unknown(format!("systemctl could not be run: {error}").into())
            }
        }
    }
}

/// Whether loopwatch runs as `uid`.
#[cfg(unix)]
fn is_viewer(uid: u32) -> bool {
    rustix::process::geteuid().as_raw() == uid
}

#[cfg(not(unix))]
fn is_viewer(_uid: u32) -> bool {
    false
}

/// What a program that ran to its end printed.
struct Ran {
    success: bool,
    stdout: String,
    stderr: String,
}

enum Failed {
    Start(std::io::Error),
    #[cfg_attr(not(unix), allow(dead_code))]
    Timeout,
}

/// Runs `program` with `args` in a process group of its own, reading at most
/// [`OUTPUT_LIMIT`] of each output; past `timeout`, kills that group and says so.
#[cfg(unix)]
fn run(program: &std::path::Path, args: &[String], timeout: Duration) -> Result<Ran, Failed> {
    use std::io::Read as _;
    use std::os::unix::process::CommandExt as _;
    use std::process::{Command, Stdio};
    use std::sync::mpsc;

    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(Failed::Start)?;
    let group = rustix::process::Pid::from_child(&child);
    let kill_group = || {
        // Its own group: the query and whatever it started, nothing else.
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    };
    let (tx, rx) = mpsc::channel();
    for (which, pipe) in [
        (
            0,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ),
        (
            1,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ),
    ] {
        let Some(pipe) = pipe else { continue };
        let tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name("systemctl-output".into())
            .spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.take(OUTPUT_LIMIT).read_to_end(&mut bytes);
                let _ = tx.send((which, bytes));
            });
        if spawned.is_err() {
            kill_group();
            let _ = child.wait();
            return Err(Failed::Start(std::io::Error::other(
                "no thread to read its output",
            )));
        }
    }
    drop(tx);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Ok(None) | Err(_) => {
                kill_group();
                let _ = child.wait();
                return Err(Failed::Timeout);
            }
        }
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        // Something it left behind may hold the pipes open: the same deadline applies.
        let left = timeout.saturating_sub(start.elapsed());
        let Ok((which, bytes)) = rx.recv_timeout(left) else {
            kill_group();
            return Err(Failed::Timeout);
        };
        if which == 0 {
            stdout = bytes;
        } else {
            stderr = bytes;
        }
    }
    Ok(Ran {
        success: status.success(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// systemd is a Linux init system: elsewhere nothing is ever run.
#[cfg(not(unix))]
fn run(_program: &std::path::Path, _args: &[String], _timeout: Duration) -> Result<Ran, Failed> {
    Err(Failed::Start(std::io::Error::other("not on this platform")))
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use crate::model::{Restart, UnitState};
    use std::os::unix::fs::PermissionsExt as _;

    /// A directory of its own for one test's fake systemctl and what it records.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("loopwatch-units-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        /// A shell script standing in for systemctl.
        fn program(&self, body: &str) -> PathBuf {
            let path = self.0.join("systemctl");
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        }

        fn file(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn service(name: &str) -> Unit {
        Unit {
            name: name.into(),
            manager: Manager::System,
        }
    }

    #[test]
    fn asks_with_the_unit_and_the_properties_and_remembers_the_answer() {
        let scratch = Scratch::new("asks");
        let log = scratch.file("calls");
        let program = scratch.program(&format!(
            "echo \"$@\" >> '{}'\nprintf 'Restart=always\\nMainPID=812\\nLoadState=loaded\\n'",
            log.display()
        ));
        let mut asker = UnitAsker::new(&program, TIMEOUT, true);
        let known = UnitAnswer::Known(UnitState {
            restart: Restart::Always,
            main_pid: Some(812),
        });
        assert_eq!(asker.ask(&service("redis-server.service"), 812), known);
        assert_eq!(asker.ask(&service("redis-server.service"), 812), known);
        let calls = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            calls,
            "show redis-server.service --property=Restart,MainPID,LoadState --no-pager --no-ask-password\n",
            "asked once, then remembered"
        );
        // A user unit is asked of that user's manager.
        let mine = rustix::process::geteuid().as_raw();
        let user = Unit {
            name: "vite.service".into(),
            manager: Manager::User(mine),
        };
        asker.ask(&user, 812);
        let other = Unit {
            name: "vite.service".into(),
            manager: Manager::User(mine + 1),
        };
        asker.ask(&other, 812);
        let calls = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = calls.lines().collect();
        assert!(lines[1].starts_with("--user show vite.service "), "{calls}");
        assert!(
            lines[2].starts_with(&format!(
                "--user --machine={}@.host show vite.service ",
                mine + 1
            )),
            "{calls}"
        );
    }

    #[test]
    fn nothing_is_run_where_systemd_does_not_run() {
        let scratch = Scratch::new("nosystemd");
        let log = scratch.file("calls");
        let program = scratch.program(&format!("echo called >> '{}'", log.display()));
        let mut asker = UnitAsker::new(&program, TIMEOUT, false);
        let UnitAnswer::Unknown(why) = asker.ask(&service("redis-server.service"), 1) else {
            panic!("known without asking")
        };
        assert!(why.raw().contains("systemd is not running here"), "{why}");
        assert!(!log.exists(), "the program was run");
    }

    #[test]
    fn a_hung_systemctl_is_given_up_on_and_its_group_killed() {
        let scratch = Scratch::new("hangs");
        let pid_file = scratch.file("sleeper");
        // The sleep is a child of the script: it holds the output pipe open as well.
        let program = scratch.program(&format!(
            "sleep 30 &\necho $! > '{}'\nwait",
            pid_file.display()
        ));
        let mut asker = UnitAsker::new(&program, Duration::from_millis(300), true);
        let start = Instant::now();
        let answer = asker.ask(&service("stuck.service"), 1);
        let took = start.elapsed();
        assert_eq!(
            answer,
            UnitAnswer::Unknown("systemctl did not answer within 300 ms".into())
        );
        assert!(took < Duration::from_secs(2), "took {took:?}");
        let sleeper = std::fs::read_to_string(&pid_file).unwrap();
        let sleeper = format!("/proc/{}", sleeper.trim());
        let deadline = Instant::now() + Duration::from_secs(5);
        // Killed with the group; reaped by whoever adopted it, so wait for it to go.
        while std::path::Path::new(&sleeper).exists()
            && !std::fs::read_to_string(format!("{sleeper}/stat"))
                .unwrap_or_default()
                .contains(") Z")
        {
            assert!(Instant::now() < deadline, "{sleeper} still runs");
            std::thread::sleep(Duration::from_millis(20));
        }
        // Remembered: a second look does not wait again.
        let start = Instant::now();
        assert!(matches!(
            asker.ask(&service("stuck.service"), 1),
            UnitAnswer::Unknown(_)
        ));
        assert!(start.elapsed() < Duration::from_millis(100));
    }

    #[test]
    fn garbage_and_failures_are_said_as_unknown_and_inert() {
        let scratch = Scratch::new("garbage");
        let program = scratch.program("printf '\\033]0;pwned\\007Restart=sometimes\\n\\033[2J'");
        let mut asker = UnitAsker::new(&program, TIMEOUT, true);
        let UnitAnswer::Unknown(why) = asker.ask(&service("a.service"), 1) else {
            panic!("garbage understood")
        };
        assert!(
            !why.to_string().chars().any(crate::model::is_unsafe),
            "{why}"
        );

        let program = scratch
            .program("echo 'Failed to connect to bus: No such file or directory' >&2\nexit 1");
        let mut asker = UnitAsker::new(&program, TIMEOUT, true);
        assert_eq!(
            asker.ask(&service("a.service"), 1),
            UnitAnswer::Unknown(
                "systemctl failed: Failed to connect to bus: No such file or directory".into()
            )
        );
        let mut missing = UnitAsker::new(scratch.file("no-such-program"), TIMEOUT, true);
        let UnitAnswer::Unknown(why) = missing.ask(&service("a.service"), 1) else {
            panic!("known")
        };
        assert!(why.raw().starts_with("systemctl could not be run"), "{why}");

        // Output past the limit is cut, not waited on.
        let program = scratch.program("yes Restart=always | head -c 1000000\n");
        let mut asker = UnitAsker::new(&program, Duration::from_secs(5), true);
        let start = Instant::now();
        let _ = asker.ask(&service("a.service"), 1);
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn an_answer_naming_another_main_process_is_asked_again_once_it_ages() {
        let scratch = Scratch::new("mainpid");
        let log = scratch.file("calls");
        let program = scratch.program(&format!(
            "echo x >> '{}'\nprintf 'Restart=always\\nMainPID=900\\n'",
            log.display()
        ));
        let mut asker = UnitAsker::new(&program, TIMEOUT, true);
        asker.ask(&service("web.service"), 901);
        asker.ask(&service("web.service"), 901);
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
        // As if two seconds had passed.
        for (at, _) in asker.cache.values_mut() {
            *at -= MAIN_PID_FRESH;
        }
        asker.ask(&service("web.service"), 900);
        assert_eq!(
            std::fs::read_to_string(&log).unwrap().lines().count(),
            1,
            "it names this one: still fresh"
        );
        asker.ask(&service("web.service"), 901);
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
    }
}

//! Stopping real processes: a child spawned here holds a listener and is stopped through the
//! app's confirm path and through `loopwatch kill`; the port is then seen released, re-bound by
//! a supervisor, or the signal refused for lack of permission.
#![cfg(target_os = "linux")]
// Helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use loopwatch::collect;
use loopwatch::control::{self, SystemControl};
use loopwatch::model::Query;
use loopwatch::model::Signal;

const BIN: &str = env!("CARGO_BIN_EXE_loopwatch");
const DEADLINE: Duration = Duration::from_secs(30);

/// A python child listening on 127.0.0.1; killed and reaped however the test ends.
struct Server {
    child: Child,
    port: u16,
}

/// Prints its port, then holds a listener on 127.0.0.1 until killed.
const LISTEN: &str = include_str!("support/listen.py");

impl Server {
    fn start() -> Self {
        Self::start_with(&mut Command::new("python3"))
    }

    /// Runs the listener script through `command` (e.g. `setpriv ... python3`).
    fn start_with(command: &mut Command) -> Self {
        let mut child = command
            .args(["-c", LISTEN])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is needed for these tests");
        let port = first_line(child.stdout.as_mut().unwrap())
            .parse()
            .expect("the child prints its port");
        Self { child, port }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the child to exit (it should have been signalled) and returns how.
    fn exit_status(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "child {} still running",
                self.pid()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn first_line(out: &mut ChildStdout) -> String {
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    line.trim().to_string()
}

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

fn loopwatch(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let err = thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("loopwatch {args:?} did not exit");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Run {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

#[test]
fn kill_yes_stops_the_owner_and_exits_0_when_the_port_is_released() {
    let mut server = Server::start();
    let port = server.port.to_string();
    let run = loopwatch(&["kill", &port, "--yes"], &[]);
    assert_eq!(run.status.code(), Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("sent SIGTERM to python3 {}", server.pid())),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("port {port} released after")),
        "{}",
        run.stdout
    );
    assert_eq!(server.exit_status().signal(), Some(15));
}

#[test]
fn kill_json_with_a_chosen_signal() {
    let mut server = Server::start();
    let port = server.port.to_string();
    let run = loopwatch(&["kill", &port, "--yes", "--signal", "KILL", "--json"], &[]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["outcome"], "released");
    assert_eq!(doc["signal"], "KILL");
    assert_eq!(doc["targets"][0]["pid"], server.pid());
    assert_eq!(doc["targets"][0]["result"], "sent");
    assert!(doc["released_after"].as_f64().unwrap() < 5.0);
    assert_eq!(server.exit_status().signal(), Some(9));
}

#[test]
fn nothing_is_sent_without_yes_dry_run_or_a_terminal_and_in_read_only_mode() {
    let mut server = Server::start();
    let port = server.port.to_string();

    let no_terminal = loopwatch(&["kill", &port], &[]);
    assert_eq!(no_terminal.status.code(), Some(2));
    assert!(
        no_terminal.stderr.contains("add --yes"),
        "{}",
        no_terminal.stderr
    );

    let dry = loopwatch(&["kill", &port, "--dry-run"], &[]);
    assert_eq!(dry.status.code(), Some(0), "{}", dry.stderr);
    assert!(
        dry.stdout
            .starts_with(&format!("would send SIGTERM to python3 {}", server.pid())),
        "{}",
        dry.stdout
    );

    let flag = loopwatch(&["--read-only", "kill", &port, "--yes"], &[]);
    assert_eq!(flag.status.code(), Some(2));
    assert!(flag.stderr.contains("read-only"), "{}", flag.stderr);
    let env = loopwatch(&["kill", &port, "--yes"], &[("LOOPWATCH_READ_ONLY", "1")]);
    assert_eq!(env.status.code(), Some(2), "{}", env.stderr);

    assert!(server.is_running(), "none of these may signal");
}

#[test]
fn kill_on_a_free_port_exits_1() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let run = loopwatch(&["kill", &port.to_string(), "--yes"], &[]);
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(
        run.stderr.trim(),
        format!("nothing is bound to port {port}")
    );
}

/// A supervisor that restarts its child whenever it exits, like nodemon or systemd.
const SUPERVISOR: &str = r#"
import socket, subprocess, sys, time
port = int(sys.argv[1])
child_code = f"""
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', {port}))
s.listen()
print('ready', flush=True)
time.sleep(300)
"""
while True:
    child = subprocess.Popen([sys.executable, '-c', child_code], stdout=subprocess.PIPE)
    child.stdout.readline()
    print(child.pid, flush=True)
    child.wait()
    time.sleep(0.2)
"#;

#[test]
fn a_supervisor_restart_is_reported_with_the_new_pid_and_its_parent() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut supervisor = Command::new("python3")
        .args(["-c", SUPERVISOR, &port.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let supervisor_pid = supervisor.id();
    let mut lines = BufReader::new(supervisor.stdout.take().unwrap()).lines();
    let first_child: u32 = lines.next().unwrap().unwrap().parse().unwrap();
    let run = loopwatch(&["kill", &port.to_string(), "--yes", "--timeout", "5"], &[]);
    let second_child: u32 = lines.next().unwrap().unwrap().parse().unwrap();
    let _ = supervisor.kill();
    let _ = supervisor.wait();
    let _ = Command::new("kill").arg(second_child.to_string()).status();

    assert_ne!(first_child, second_child);
    assert_eq!(run.status.code(), Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("sent SIGTERM to python3 {first_child}")),
        "{}",
        run.stdout
    );
    let expected = format!(
        "port {port} is held again by python3 {second_child} (parent python3 {supervisor_pid} restarted it)"
    );
    assert!(
        run.stdout.contains(&expected),
        "want {expected:?} in:\n{}",
        run.stdout
    );
}

/// Set by the permission test when it re-runs this binary as an unprivileged user.
const ROLE_ENV: &str = "LOOPWATCH_TEST_SIGNAL_TARGET";

/// As root, start a listener owned by `nobody`, then run this very test binary as another
/// unprivileged user to signal it: the real kernel refuses (EPERM) and the message says why.
#[test]
fn a_process_of_another_user_is_refused_with_the_reason() {
    if std::env::var_os(ROLE_ENV).is_some() {
        return; // the unprivileged half runs in `unprivileged_signal_attempt`
    }
    let Some(setpriv) = root_tool("setpriv") else {
        return;
    };
    // The system python: one under /root (pyenv) is out of nobody's reach.
    let Some(python) = ["/usr/bin/python3", "/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        println!("note: skipped: needs a system python3 that nobody can run");
        return;
    };
    let mut server = Server::start_with(Command::new(setpriv).args([
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        python,
    ]));
    // The identity the table would have shown, read by the collector as root.
    let snapshot = collect::system_collector()
        .unwrap()
        .collect(&Query::default())
        .unwrap();
    let owner = snapshot
        .sockets
        .iter()
        .filter(|s| s.local_port == server.port)
        .flat_map(|s| s.owners.iter())
        .find(|o| o.name.raw().starts_with("python"))
        .expect("root sees the owner")
        .clone();
    assert_eq!(
        owner.user.as_ref().map(loopwatch::model::OsText::raw),
        Some("nobody")
    );

    // A copy other users can execute (the build directory may be private).
    let dir = std::env::temp_dir().join(format!("loopwatch-eperm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("kill-test");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    set_mode(&dir, 0o755);
    set_mode(&exe, 0o755);
    let out = Command::new(setpriv)
        .args(["--reuid=4242", "--regid=4242", "--clear-groups"])
        .arg(&exe)
        .args(["--exact", "unprivileged_signal_attempt", "--nocapture"])
        .env(
            ROLE_ENV,
            format!(
                "{} {} {} {}",
                owner.key.pid, owner.key.start_time, "nobody", owner.key.start_ticks
            ),
        )
        .current_dir("/")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    other_half_passed(&out, "1 passed");
    assert!(server.is_running(), "EPERM: nothing was delivered");
}

/// The unprivileged half of the test above; does nothing when run on its own.
#[test]
fn unprivileged_signal_attempt() {
    let Ok(spec) = std::env::var(ROLE_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split(' ').collect();
    let target = loopwatch::model::Target {
        key: loopwatch::model::ProcKey {
            pid: parts[0].parse().unwrap(),
            start_time: parts[1].parse().unwrap(),
            start_ticks: parts[3].parse().unwrap(),
        },
        name: "python3".into(),
        user: Some(parts[2].into()),
    };
    let mut control = SystemControl::new().unwrap();
    let error = control::send(&mut control, &target, Signal::Term, std::process::id())
        .expect_err("another user's process cannot be signalled");
    assert_eq!(
        error.to_string(),
        format!(
            "not permitted: python3 {} belongs to user nobody; run loopwatch as root or as that user",
            target.key.pid
        )
    );
}

/// A util-linux tool from the system, when this test runs as root; `None` (with a note) when
/// the test must be skipped.
fn root_tool(name: &str) -> Option<&'static str> {
    let found = [
        ("setpriv", "/usr/bin/setpriv"),
        ("setpriv", "/bin/setpriv"),
        ("unshare", "/usr/bin/unshare"),
        ("unshare", "/bin/unshare"),
    ]
    .into_iter()
    .find(|(tool, path)| *tool == name && Path::new(path).exists())
    .map(|(_, path)| path);
    let usable = found.filter(|_| rustix::process::geteuid().is_root());
    if usable.is_none() {
        println!("note: skipped: needs root and {name} (util-linux)");
    }
    usable
}

/// The half of a test that ran in another process succeeded and printed `marker`.
fn other_half_passed(out: &std::process::Output, marker: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(marker), "the other half ran: {stdout}");
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The default config file may hold `read_only = true`: one this user cannot read stops
/// loopwatch with the reason instead of being skipped (which would lift read-only).
#[test]
fn an_unreadable_default_config_is_an_error_not_skipped() {
    let Some(setpriv) = root_tool("setpriv") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("loopwatch-unreadable-{}", std::process::id()));
    let config_dir = dir.join("config").join("loopwatch");
    std::fs::create_dir_all(&config_dir).unwrap();
    let config = config_dir.join("config.toml");
    std::fs::write(&config, "read_only = true\n").unwrap();
    set_mode(&config, 0o600);
    for d in [&dir, &dir.join("config"), &config_dir] {
        set_mode(d, 0o755);
    }
    let exe = dir.join("loopwatch");
    std::fs::copy(BIN, &exe).unwrap();
    set_mode(&exe, 0o755);
    let out = Command::new(setpriv)
        .args(["--reuid=4242", "--regid=4242", "--clear-groups"])
        .arg(&exe)
        .args(["kill", "9", "--dry-run"])
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .current_dir("/")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert!(stderr.starts_with("loopwatch: config "), "{stderr}");
}

/// A `y` typed before the plan was shown does not answer it: `kill` drops type-ahead, so only
/// an answer given to the question counts.
#[test]
fn keys_typed_before_the_prompt_do_not_answer_it() {
    let mut server = Server::start();
    // On a pseudo-terminal: type "y" and Enter at once, then answer the question "n".
    let driver = r#"
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "kill", sys.argv[2]])
os.write(fd, b"y\r")
seen, end = b"", time.time() + 20
while b"[y/N]" not in seen and time.time() < end:
    if select.select([fd], [], [], 0.1)[0]:
        try:
            seen += os.read(fd, 4096)
        except OSError:
            break
os.write(fd, b"n\r")
while time.time() < end:
    if select.select([fd], [], [], 0.1)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
_, status = os.waitpid(pid, 0)
print(seen.decode(errors="replace"))
print("exit", os.waitstatus_to_exitcode(status))
"#;
    let out = Command::new("python3")
        .args(["-c", driver, BIN, &server.port.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("nothing was sent"), "{text}");
    assert!(text.contains("exit 1"), "{text}");
    assert!(server.is_running(), "the early y answered nothing");
}

/// Set inside the pid namespace where the reuse half of the test below runs.
const REUSE_ENV: &str = "LOOPWATCH_TEST_REUSE_INSIDE";

/// The attack that used to work: the process shown exits and, within the same second, another
/// takes its pid. Forced with `ns_last_pid` in a fresh pid namespace; the signal must not reach
/// the newcomer.
#[test]
fn a_pid_reused_within_the_same_second_is_never_signalled() {
    if std::env::var_os(REUSE_ENV).is_some() {
        return reuse_inside_a_namespace();
    }
    let Some(unshare) = root_tool("unshare") else {
        return;
    };
    let out = Command::new(unshare)
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_pid_reused_within_the_same_second_is_never_signalled",
            "--nocapture",
        ])
        .env(REUSE_ENV, "1")
        .output()
        .unwrap();
    other_half_passed(&out, "reuse refused");
}

fn reuse_inside_a_namespace() {
    let mut shown = Server::start();
    let snapshot = collect::system_collector()
        .unwrap()
        .collect(&Query::port(shown.port))
        .unwrap();
    let owner = snapshot
        .sockets
        .iter()
        .flat_map(|s| s.owners.iter())
        .find(|o| o.key.pid == shown.pid())
        .expect("the listener's owner is seen")
        .clone();
    let target = loopwatch::model::Target::of(&owner);
    let mut control = SystemControl::new().unwrap();
    // Held as the stop dialog and the `kill` plan hold it: from the moment it is shown.
    let held = control::Holds::take(
        &mut control,
        std::slice::from_ref(&target),
        std::process::id(),
    );
    // It exits; the very next process of this namespace gets its pid.
    let _ = shown.child.kill();
    let _ = shown.child.wait();
    std::fs::write(
        "/proc/sys/kernel/ns_last_pid",
        (owner.key.pid - 1).to_string(),
    )
    .unwrap();
    let mut newcomer = Server::start();
    assert_eq!(newcomer.pid(), owner.key.pid, "the pid was reused");
    // The handle taken when it was shown reaches the exited process or nothing, whatever the
    // clocks say about the newcomer.
    let through_hold = held.send(&mut control, &target, Signal::Term, std::process::id());
    assert!(
        through_hold
            .as_ref()
            .is_err_and(|e| e.to_string().contains("has already exited")),
        "{through_hold:?}"
    );
    let result = control::send(&mut control, &target, Signal::Term, std::process::id());
    assert!(
        result
            .as_ref()
            .is_err_and(|e| e.to_string().contains("pid now belongs to another process")),
        "{result:?}"
    );
    assert!(newcomer.is_running(), "nothing reached the newcomer");
    println!("reuse refused");
}

/// The question goes to stderr. With stderr sent to /dev/null or closed, the terminal shows no
/// plan and no `[y/N]`: a `y` typed there must answer nothing.
#[test]
fn a_question_nobody_can_see_is_never_asked() {
    let driver = r#"
import os, pty, sys, time
mode = sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    if mode == "null":
        os.dup2(os.open("/dev/null", os.O_WRONLY), 2)
    else:
        os.close(2)
    os.execv(sys.argv[1], [sys.argv[1], "kill", sys.argv[2]])
time.sleep(1)
try:
    os.write(fd, b"y\r")
except OSError:
    pass
end = time.time() + 20
while time.time() < end:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("exit", os.waitstatus_to_exitcode(status))
        break
    time.sleep(0.05)
"#;
    for mode in ["null", "closed"] {
        let mut server = Server::start();
        let out = Command::new("python3")
            .args(["-c", driver, BIN, &server.port.to_string(), mode])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("exit 2"), "stderr {mode}: {text}");
        assert!(
            server.is_running(),
            "stderr {mode}: the blind y answered nothing"
        );
    }
}

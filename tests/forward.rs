//! Forwarders on the real OS: an `sshd` started here on a loopback port with its own host key,
//! client key and configuration, a real `ssh -L` through it, and a real `socat`, each leading
//! to a python server on another loopback port. The built binary must name where the forwarded
//! port leads (`who`, `who --json`, `explain`), and a connection through the forward must reach
//! that server, which proves the forward is real.
#![cfg(target_os = "linux")]
// Helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_loopwatch");
const DEADLINE: Duration = Duration::from_secs(30);
/// sshd re-executes itself, so it must be started by its absolute path.
const SSHD: &str = "/usr/sbin/sshd";
/// What the far-end server says to every connection.
const GREETING: &str = "greetings from the far end\n";

/// Every process a test starts: killed, latest first, and reaped however the test ends.
#[derive(Default)]
struct Started(Vec<Child>);

impl Started {
    fn spawn(&mut self, command: &mut Command) -> &mut Child {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        self.0.push(child);
        self.0.last_mut().unwrap()
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        for child in self.0.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A private directory for keys and configuration, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("loopwatch-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Whether every one of `tools` is installed (a name on PATH, or an absolute path). When not,
/// the test is skipped with a message, unless `require` is set, when that fails it.
fn have(tools: &[&str], require: &str) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !installed(t)).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os(require).is_none(),
        "{} required ({require} is set) but not installed",
        missing.join(", ")
    );
    eprintln!(
        "SKIPPED: {} not installed (Debian: openssh-server openssh-client socat)",
        missing.join(", ")
    );
    false
}

fn installed(tool: &str) -> bool {
    if tool.starts_with('/') {
        return Path::new(tool).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

/// Starts the far-end server; returns its port.
fn far_end(started: &mut Started) -> u16 {
    let child = started.spawn(
        Command::new("python3")
            .args(["-c", include_str!("support/greet.py")])
            .stdout(Stdio::piped()),
    );
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim().parse().expect("the server prints its port")
}

/// The built binary's output for `args` (no configuration file read).
fn loopwatch(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--no-config")
        .stdin(Stdio::null())
        .output()
        .expect("run loopwatch")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Words separated by single spaces: explain wraps its paragraphs to 80 columns.
fn unwrapped(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Waits (with a deadline) until `who PORT --json` shows `pid` listening on `port`, while the
/// forwarder is still running; returns that listener's JSON.
fn listening(port: u16, forwarder: &mut Child, what: &str) -> Value {
    let start = Instant::now();
    loop {
        if let Some(status) = forwarder.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut pipe) = forwarder.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("{what} exited ({status}) before port {port} listened: {stderr}");
        }
        let out = loopwatch(&["who", &port.to_string(), "--json"]);
        if out.status.success() {
            let doc: Value = serde_json::from_str(&text(&out)).unwrap();
            let found = doc["sockets"].as_array().unwrap().iter().find(|s| {
                s["state"] == "LISTEN"
                    && s["owners"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|o| o["pid"] == forwarder.id())
            });
            if let Some(socket) = found {
                return socket.clone();
            }
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{what} did not listen on port {port} within {DEADLINE:?}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// What a connection to `port` receives: the far end's greeting when the forward is real.
fn through(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut received = String::new();
    stream.read_to_string(&mut received).unwrap();
    received
}

/// Waits until `port` on 127.0.0.1 accepts connections, or `child` exits.
fn accepting(port: u16, child: &mut Child, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("{what} exited ({status}): {stderr}");
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{what} did not accept on port {port} within {DEADLINE:?}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// An sshd of this test's own, listening on 127.0.0.1:`port`, which lets in the key at
/// `scratch/client`.
fn sshd(started: &mut Started, scratch: &Scratch, port: u16) {
    for key in ["host", "client"] {
        let made = Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "loopwatch-test",
                "-f",
            ])
            .arg(scratch.path(key))
            .output()
            .unwrap();
        assert!(made.status.success(), "ssh-keygen: {made:?}");
    }
    fs::copy(scratch.path("client.pub"), scratch.path("authorized_keys")).unwrap();
    let config = format!(
        "ListenAddress 127.0.0.1\nPort {port}\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
         StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\nAllowTcpForwarding yes\n",
        scratch.path("host").display(),
        scratch.path("sshd.pid").display(),
        scratch.path("authorized_keys").display(),
    );
    fs::write(scratch.path("sshd_config"), config).unwrap();
    // Its privilege separation directory; only root can make it, and only root needs it.
    let _ = fs::create_dir_all("/run/sshd");
    let server = started.spawn(
        Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(scratch.path("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    accepting(port, server, "sshd");
}

#[test]
fn an_ssh_tunnel_is_named_with_where_it_leads() {
    if !have(
        &[SSHD, "ssh", "ssh-keygen", "python3"],
        "LOOPWATCH_REQUIRE_SSH",
    ) {
        return;
    }
    let mut started = Started::default();
    let scratch = Scratch::new("forward-ssh");
    let target = far_end(&mut started);
    let ssh_port = free_port();
    sshd(&mut started, &scratch, ssh_port);
    let local = free_port();
    let forward = format!("127.0.0.1:{local}:127.0.0.1:{target}");
    let ssh = started.spawn(
        Command::new("ssh")
            .args(["-N", "-L", &forward, "-i"])
            .arg(scratch.path("client"))
            .args([
                "-F",
                "/dev/null",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "ExitOnForwardFailure=yes",
                "-p",
                &ssh_port.to_string(),
                "127.0.0.1",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let pid = ssh.id();
    let socket = listening(local, ssh, "ssh -L");

    assert_eq!(socket["owners"][0]["name"], "ssh");
    let to = &socket["forwards_to"];
    assert_eq!(to["via"], "ssh", "{socket}");
    assert_eq!(to["kind"], "local");
    assert_eq!(to["target_kind"], "host");
    assert_eq!(to["target_host"], "127.0.0.1");
    assert_eq!(to["target_port"], target);
    assert_eq!(to["destination"], "127.0.0.1");
    assert_eq!(to["jump"], Value::Null);

    let who = text(&loopwatch(&["who", &local.to_string()]));
    let row = who
        .lines()
        .find(|l| l.contains(&format!(" {pid} ")))
        .unwrap_or_else(|| panic!("no row for ssh {pid}:\n{who}"));
    assert!(
        row.contains(&format!(" ssh -> 127.0.0.1:{target} ")),
        "{who}"
    );

    let explained = unwrapped(&text(&loopwatch(&["explain", &local.to_string()])));
    assert!(
        explained.contains(&format!(
            "forwards ssh {pid} forwards 127.0.0.1:{local} to 127.0.0.1:{target} as seen from 127.0.0.1 (ssh -L)"
        )),
        "{explained}"
    );

    // kill's plan says what stopping the tunnel ends, and what it leaves running.
    let plan = unwrapped(&text(&loopwatch(&[
        "kill",
        &local.to_string(),
        "--dry-run",
    ])));
    assert!(
        plan.contains(&format!(
            "this port leads to 127.0.0.1:{target} (ssh -L): stopping ssh {pid} ends this forward; the service at 127.0.0.1:{target} keeps running"
        )),
        "{plan}"
    );

    // sshd's own port is no forward: its listener says nothing of the kind.
    let sshd_socket = loopwatch(&["who", &ssh_port.to_string(), "--json"]);
    let doc: Value = serde_json::from_str(&text(&sshd_socket)).unwrap();
    assert!(
        doc["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["forwards_to"].is_null()),
        "{doc}"
    );

    assert_eq!(through(local), GREETING, "the tunnel reaches the far end");
}

#[test]
fn a_socat_relay_is_named_with_where_it_leads() {
    if !have(&["socat", "python3"], "LOOPWATCH_REQUIRE_SOCAT") {
        return;
    }
    let mut started = Started::default();
    let target = far_end(&mut started);
    let local = free_port();
    let socat = started.spawn(
        Command::new("socat")
            .arg(format!("TCP-LISTEN:{local},bind=127.0.0.1,fork,reuseaddr"))
            .arg(format!("TCP:127.0.0.1:{target}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let pid = socat.id();
    let socket = listening(local, socat, "socat");

    let to = &socket["forwards_to"];
    assert_eq!(to["via"], "socat", "{socket}");
    assert_eq!(to["target_host"], "127.0.0.1");
    assert_eq!(to["target_port"], target);
    assert_eq!(to["destination"], Value::Null);

    let who = text(&loopwatch(&["who", &local.to_string()]));
    assert!(
        who.contains(&format!(" {pid}  socat -> 127.0.0.1:{target} ")),
        "{who}"
    );
    let explained = unwrapped(&text(&loopwatch(&["explain", &local.to_string()])));
    assert!(
        explained.contains(&format!(
            "socat {pid} forwards 127.0.0.1:{local} to 127.0.0.1:{target} (socat)"
        )),
        "{explained}"
    );

    assert_eq!(through(local), GREETING, "the relay reaches the far end");
}

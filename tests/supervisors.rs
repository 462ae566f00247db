//! What stands behind a real process, as `loopwatch kill` says it before anything is sent: a
//! listener started in a tmux pane, and one a real supervisord runs with `autorestart=true`,
//! stopped for real afterwards and restarted by supervisord, which the follow-up names.
//!
//! supervisord (Debian's `supervisor`) runs in the foreground with its own configuration,
//! socket, pidfile and logs in a temporary directory; the test skips, saying so, where it is
//! not installed, unless `LOOPWATCH_REQUIRE_SUPERVISORD` is set (CI sets it).
#![cfg(target_os = "linux")]
// Helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use support::binary::loopwatch;
use support::tmux::Tmux;

/// How long anything here may take: a supervisord start, a restart, a tmux prompt.
const DEADLINE: Duration = Duration::from_secs(20);

/// Waits until something accepts connections on 127.0.0.1:`port`.
fn wait_listening(port: u16, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < DEADLINE,
            "{what} never listened on {port}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// The pid of the process listening on `port`, as `loopwatch who --json` reads it.
fn listener_pid(port: u16) -> u32 {
    let run = loopwatch(&["who", &port.to_string(), "--json", "-t"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let pid = doc["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["state"] == "LISTEN")
        .and_then(|s| s["owners"][0]["pid"].as_u64())
        .unwrap_or_else(|| panic!("no owner on {port}: {}", run.stdout));
    u32::try_from(pid).unwrap()
}

#[test]
fn kill_says_a_listener_in_a_tmux_pane_is_not_restarted_and_names_the_session() {
    let Some(tmux) = Tmux::start("behind", 120, 30) else {
        return;
    };
    tmux.wait_for("the shell prompt", DEADLINE, |s| s.contains('$'));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/listen.py");
    tmux.type_text(&format!("python3 {}", script.display()));
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the listener's port", DEADLINE, |s| {
        s.lines().any(|l| l.trim().parse::<u16>().is_ok())
    });
    let port: u16 = screen.lines().find_map(|l| l.trim().parse().ok()).unwrap();
    let server = tmux.pane_var("pid");

    let run = loopwatch(&["kill", &port.to_string(), "--dry-run"]);
    assert_eq!(run.status.code(), Some(0), "{}{}", run.stdout, run.stderr);
    let expected = format!(
        "run in tmux (tmux: server {server}, started with session behind, socket {})",
        tmux.socket()
    );
    assert!(
        run.stdout.contains(&expected),
        "want {expected:?} in:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "after SIGTERM it will not be restarted: tmux does not restart it; the shell in its window stays"
        ),
        "{}",
        run.stdout
    );
    let json = loopwatch(&["kill", &port.to_string(), "--dry-run", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let managed = &doc["targets"][0]["managed_by"];
    assert_eq!(managed["kind"], "tmux", "{managed}");
    assert_eq!(managed["restarts"], false);
    assert_eq!(managed["pid"].as_u64().unwrap().to_string(), server);
    assert_eq!(managed["stop_for_good"], serde_json::Value::Null);
}

/// A supervisord of the test's own: its configuration, socket, pidfile and logs in a temporary
/// directory, one program (`web`, a python listener on a port the test picked,
/// `autorestart=true`). Stopped, with everything it runs, however the test ends.
struct Supervisord {
    child: Child,
    dir: PathBuf,
    conf: PathBuf,
}

impl Supervisord {
    /// `None`, saying why, where supervisord is not installed (a failure if it is required).
    fn start(port: u16) -> Option<Self> {
        if Command::new("supervisord")
            .arg("--version")
            .output()
            .is_err()
        {
            assert!(
                std::env::var_os("LOOPWATCH_REQUIRE_SUPERVISORD").is_none(),
                "supervisord is required (LOOPWATCH_REQUIRE_SUPERVISORD is set) but not installed: apt-get install supervisor"
            );
            eprintln!(
                "supervisord is not installed (apt-get install supervisor); SKIPPING the supervisord test"
            );
            return None;
        }
        let dir =
            std::env::temp_dir().join(format!("loopwatch-supervisord-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // The program dies with supervisord (PR_SET_PDEATHSIG), so none outlives the test.
        let program = dir.join("web.py");
        std::fs::write(
            &program,
            "import ctypes, socket, sys, time\n\
             ctypes.CDLL(None).prctl(1, 9)\n\
             s = socket.socket()\n\
             s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('127.0.0.1', int(sys.argv[1])))\n\
             s.listen()\n\
             time.sleep(300)\n",
        )
        .unwrap();
        let conf = dir.join("supervisord.conf");
        let d = dir.display();
        std::fs::write(
            &conf,
            format!(
                "[unix_http_server]\nfile={d}/supervisor.sock\n\n\
                 [supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\nchildlogdir={d}\n\n\
                 [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
                 [supervisorctl]\nserverurl=unix://{d}/supervisor.sock\n\n\
                 [program:web]\ncommand=python3 {} {port}\nautorestart=true\nstartsecs=0\n",
                program.display()
            ),
        )
        .unwrap();
        let child = Command::new("supervisord")
            .arg("-n")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Some(Self { child, dir, conf })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// supervisord's own log, for a failure's message.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("supervisord.log")).unwrap_or_default()
    }

    fn supervisorctl(&self, args: &[&str]) -> String {
        let out = Command::new("supervisorctl")
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Supervisord {
    fn drop(&mut self) {
        // SIGTERM: supervisord stops its programs, then itself.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn kill_says_supervisord_will_restart_it_then_the_follow_up_names_supervisord() {
    let port = support::free_port();
    let Some(supervisord) = Supervisord::start(port) else {
        return;
    };
    wait_listening(port, "supervisord's program");
    // Stopped before supervisord counts it as started, it would be held back, not restarted.
    let start = Instant::now();
    while !supervisord
        .supervisorctl(&["status", "web"])
        .contains("RUNNING")
    {
        assert!(start.elapsed() < DEADLINE, "web never RUNNING");
        thread::sleep(Duration::from_millis(50));
    }
    let first = listener_pid(port);
    let conf = supervisord.conf.display().to_string();
    let sup = supervisord.pid();

    let dry = loopwatch(&["kill", &port.to_string(), "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}{}", dry.stdout, dry.stderr);
    for expected in [
        format!("would send SIGTERM to python3 {first}"),
        format!("\n  managed by supervisord {sup}, config {conf}\n"),
        "\n  after SIGTERM it will be restarted: supervisord restarts a program a signal ends, unless it sets autorestart=false; not one that exits 0 on SIGTERM\n".to_string(),
        format!(
            "\n  `supervisorctl -c {conf} stop PROGRAM` stops it for good (`supervisorctl -c {conf} status` shows which program has pid {first})\n"
        ),
        format!("\n  chain: supervisord {sup} > python3 {first}\n"),
    ] {
        assert!(
            dry.stdout.contains(&expected),
            "want {expected:?} in:\n{}",
            dry.stdout
        );
    }
    let json = loopwatch(&[
        "kill",
        &port.to_string(),
        "--dry-run",
        "--json",
        "--signal",
        "KILL",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let managed = &doc["targets"][0]["managed_by"];
    assert_eq!(managed["kind"], "supervisord", "{managed}");
    assert_eq!(managed["pid"], sup);
    assert_eq!(managed["restarts"], true);
    // What the plan says the program is, supervisorctl confirms.
    let status = supervisord.supervisorctl(&["status"]);
    assert!(status.contains(&format!("pid {first}")), "{status}");

    // Stopped for real: supervisord starts it again, and the follow-up says who did.
    let run = loopwatch(&["kill", &port.to_string(), "--yes", "--timeout", "8"]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "held again: {}{}\nsupervisord's log:\n{}",
        run.stdout,
        run.stderr,
        supervisord.log()
    );
    assert!(
        run.stdout
            .contains(&format!("sent SIGTERM to python3 {first}")),
        "{}",
        run.stdout
    );
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("port {port} is held again by python3 ")))
        .unwrap_or_else(|| panic!("no rebind reported:\n{}", run.stdout));
    let second = listener_pid(port);
    assert_ne!(first, second);
    assert_eq!(
        line,
        format!(
            "port {port} is held again by python3 {second} (supervisord {sup} restarted it; `supervisorctl -c {conf} stop PROGRAM` stops it for good; `supervisorctl -c {conf} status` shows which program has pid {second})"
        )
    );

    // The way the plan gave stops it for good.
    let stopped = supervisord.supervisorctl(&["stop", "web"]);
    assert!(stopped.contains("stopped"), "{stopped}");
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            start.elapsed() < DEADLINE,
            "port {port} still held after supervisorctl stop"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// A listener this test spawns lives in the test's own cgroup: `kill --dry-run` says what that
/// cgroup says, whatever machine this runs on (on a bare container, `0::/` and cgroup v1
/// lines: no service manager).
#[test]
fn kill_says_what_the_real_cgroup_says() {
    use loopwatch::model::{Placement, Unit};

    let (mut child, port, _) = support::spawn_listener();
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let text = loopwatch(&["kill", &port, "--dry-run"]);
    let json = loopwatch(&["kill", &port, "--dry-run", "--json"]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        text.status.code(),
        Some(0),
        "{}{}",
        text.stdout,
        text.stderr
    );
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let managed = &doc["targets"][0]["managed_by"];
    match Placement::from_proc(&own) {
        Placement::Plain(path) => {
            // Started from a terminal multiplexer, that stands behind it; nothing else can.
            if managed.is_null() {
                let said = format!(
                    "\n  no service manager (cgroup {path}), no container, no known supervisor among its ancestors\n  after SIGTERM it will not be restarted by anything loopwatch knows of\n"
                );
                assert!(
                    text.stdout.contains(&said),
                    "want {said:?} in:\n{}",
                    text.stdout
                );
            } else {
                assert!(
                    ["tmux", "screen", "npm", "yarn", "pnpm", "npx"]
                        .contains(&managed["kind"].as_str().unwrap()),
                    "{managed}"
                );
            }
            assert!(!text.stdout.contains("systemd unit"), "{}", text.stdout);
        }
        Placement::Unit(Unit { name, .. }) | Placement::Session(name) => {
            assert!(text.stdout.contains(&name), "{}", text.stdout);
        }
        Placement::Container { id, .. } => {
            assert!(text.stdout.contains(&id[..12]), "{}", text.stdout);
        }
        Placement::Garbled => panic!("unreadable /proc/self/cgroup: {own:?}"),
    }
}

//! `loopwatch doctor` on a machine the test arranges for real: a database-named server on
//! every interface, executables deleted and replaced under running servers, a server left
//! behind by the shell that started it, a CLOSE_WAIT pile-up, a listener inside the
//! ephemeral range and one on the family `localhost` does not resolve to first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;
use support::binary::loopwatch;
use support::spawn_fresh;

/// Debian's python3: one file with no library beside it, so a copy runs from anywhere.
const PYTHON: &str = "/usr/bin/python3";

/// Listens on each address in `sys.argv[1]` (comma-separated) at port `sys.argv[2]` (0: any,
/// then the same for the rest), prints `port pid`, then holds them until killed.
const SERVE: &str = r"import os, socket, sys, time
port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
held = []
for address in sys.argv[1].split(','):
    s = socket.socket(socket.AF_INET6 if ':' in address else socket.AF_INET)
    s.bind((address, port))
    s.listen()
    port = s.getsockname()[1]
    held.append(s)
print(port, os.getpid(), flush=True)
time.sleep(300)
";

/// A folder of the test's own, removed with everything started from it.
struct Scratch {
    dir: PathBuf,
    pids: Vec<u32>,
    children: Vec<Child>,
}

impl Scratch {
    /// A folder of its own for the test `name` (tests run in parallel).
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("loopwatch-doctor-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch {
            dir,
            pids: Vec::new(),
            children: Vec::new(),
        }
    }

    /// A copy of python3 named `name` in the folder.
    fn program(&self, name: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::copy(PYTHON, &path).unwrap();
        path
    }

    /// `program` serving on `address`: its port and pid.
    fn serve(&mut self, program: &Path, address: &str) -> (u16, u32) {
        self.serve_at(program, address, 0).unwrap()
    }

    /// `program` serving on `addresses` at `port`; `None` when it could not bind them. Each
    /// server leads a process group of its own, as a shell's job does: however the test itself
    /// was started (from a shell that has exited since, say), its servers are not left behind.
    fn serve_at(&mut self, program: &Path, addresses: &str, port: u16) -> Option<(u16, u32)> {
        let mut command = Command::new(program);
        command
            .args(["-c", SERVE, addresses, &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0);
        let mut child = spawn_fresh(&mut command);
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        self.children.push(child);
        parse_port_and_pid(&line)
    }

    /// A server started in the background by a shell that then exits, in a process group of
    /// its own (as a terminal's job control puts it): left behind, adopted by init.
    fn serve_left_behind(&mut self) -> (u16, u32, u32) {
        let script = format!(
            "'{PYTHON}' -c \"$SERVE\" 127.0.0.1 > '{}' & exit 0",
            self.dir.join("left").display()
        );
        let mut shell = Command::new("/bin/sh")
            .args(["-c", &script])
            .env("SERVE", SERVE)
            .process_group(0)
            .spawn()
            .unwrap();
        let group = shell.id();
        shell.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(self.dir.join("left")).unwrap_or_default();
            if let Some((port, pid)) = parse_port_and_pid(&text) {
                self.pids.push(pid);
                return (port, pid, group);
            }
            assert!(
                Instant::now() < deadline,
                "the left-behind server never listened"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for &pid in &self.pids {
            if let Some(pid) = rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn parse_port_and_pid(line: &str) -> Option<(u16, u32)> {
    let mut words = line.split_whitespace();
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}

/// The findings about `port`, by kind.
fn findings_on(doc: &Value, port: u16) -> Vec<(String, Value)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["sockets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["local_port"] == port)
        })
        .map(|f| (f["kind"].as_str().unwrap().to_string(), f.clone()))
        .collect()
}

fn kinds(found: &[(String, Value)]) -> Vec<&str> {
    found.iter().map(|(kind, _)| kind.as_str()).collect()
}

/// What the test arranged: each server's port and pid.
struct Arranged {
    redis: (u16, u32),
    redis_path: PathBuf,
    upgraded: (u16, u32),
    left: (u16, u32),
    /// The group the left-behind server's shell started.
    group: u32,
    /// A server on the family `localhost` does not resolve to first, and that first address.
    one_family: Option<(u16, u32, IpAddr)>,
}

/// Starts every server the findings are about.
fn arrange(scratch: &mut Scratch) -> Arranged {
    assert!(
        Path::new(PYTHON).exists(),
        "{PYTHON} (Debian's python3) is needed: .ci/run installs it"
    );
    // A database, by its name, on every interface, inside the ephemeral range; then its
    // executable deleted under it.
    let redis_path = scratch.program("redis-server");
    let redis = scratch.serve(&redis_path, "0.0.0.0");
    std::fs::remove_file(&redis_path).unwrap();

    // A server whose executable is replaced the way a package upgrade does it.
    let program = scratch.program("appserver");
    let upgraded = scratch.serve(&program, "127.0.0.1");
    let fresh = scratch.program("appserver.new");
    std::fs::rename(&fresh, &program).unwrap();

    let (left_port, left_pid, group) = scratch.serve_left_behind();

    let first = ("localhost", 0)
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap()
        .ip();
    let other = if first.is_ipv4() { "::1" } else { "127.0.0.1" };
    let one_family = if other == "127.0.0.1" || TcpListener::bind("[::1]:0").is_ok() {
        let program = scratch.program("onefamily");
        let (port, pid) = scratch.serve(&program, other);
        Some((port, pid, first))
    } else {
        None
    };
    Arranged {
        redis,
        redis_path,
        upgraded,
        left: (left_port, left_pid),
        group,
        one_family,
    }
}

/// Ten connections whose clients closed while this process never closes its ends.
fn close_wait_pile() -> (u16, Vec<TcpStream>) {
    let leaky = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = leaky.local_addr().unwrap().port();
    let mut held = Vec::new();
    for _ in 0..10 {
        let client = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        held.push(leaky.accept().unwrap().0);
        drop(client);
    }
    (port, held)
}

/// The finding of `kind` about `port`.
fn finding(doc: &Value, port: u16, kind: &str) -> Value {
    findings_on(doc, port)
        .into_iter()
        .find(|(k, _)| k == kind)
        .map_or_else(
            || panic!("no {kind} finding on port {port}: {doc:#}"),
            |(_, f)| f,
        )
}

fn text_of(finding: &Value) -> &str {
    finding["text"].as_str().unwrap()
}

#[test]
fn every_finding_made_real_is_reported_with_its_process() {
    let mut scratch = Scratch::new("every");
    let arranged = arrange(&mut scratch);
    let (leaky_port, held) = close_wait_pile();

    let run = loopwatch(&["doctor", "--json"]);
    assert_eq!(
        run.code(),
        Some(1),
        "findings exit 1; stderr: {}",
        run.stderr
    );
    let doc = run.json();

    let (port, pid) = arranged.redis;
    assert_eq!(
        kinds(&findings_on(&doc, port)),
        [
            "exposed_database",
            "deleted_executable",
            "ephemeral_listener"
        ],
        "{doc:#}"
    );
    for (_, found) in findings_on(&doc, port) {
        assert_eq!(found["process"]["pid"], pid);
        assert_eq!(found["process"]["name"], "redis-server");
    }
    let deleted = finding(&doc, port, "deleted_executable");
    let path = arranged.redis_path.display();
    assert!(text_of(&deleted).contains(&format!("runs {path}, which was deleted")));

    let (port, pid) = arranged.upgraded;
    assert_eq!(
        finding(&doc, port, "replaced_executable")["process"]["pid"],
        pid
    );

    let (port, pid) = arranged.left;
    let left = finding(&doc, port, "orphaned");
    assert_eq!(left["process"]["pid"], pid);
    let group = arranged.group;
    assert!(
        text_of(&left).contains(&format!(
            "the process that started its group (pid {group}) has exited"
        )),
        "{left:#}"
    );
    assert_eq!(
        left["fix"],
        format!("if it is stale, stop it: `loopwatch kill {port}`")
    );

    if let Some((port, pid, first)) = arranged.one_family {
        let family = finding(&doc, port, "localhost_family");
        assert_eq!(family["process"]["pid"], pid);
        assert!(
            text_of(&family).contains(&format!("`localhost` resolves to {first} first here")),
            "{family:#}"
        );
    }

    let pile = finding(&doc, leaky_port, "close_wait");
    assert_eq!(pile["process"]["pid"], std::process::id());
    assert_eq!(pile["sockets"].as_array().unwrap().len(), 10);

    // The same findings as text, each with its fix, nothing wider than 80 columns.
    let text = loopwatch(&["doctor"]);
    assert_eq!(text.code(), Some(1));
    assert!(
        text.stdout.contains("⚠ database on every interface\n"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("⚠ left behind\n"), "{}", text.stdout);
    assert!(
        text.stdout.lines().all(|l| l.chars().count() <= 80),
        "{}",
        text.stdout
    );
    drop(held);
}

#[test]
fn a_loopback_server_on_both_families_outside_the_ephemeral_range_is_clean() {
    // A fixed port below the ephemeral range, on both loopback addresses.
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let both = if TcpListener::bind("[::1]:0").is_ok() {
        "127.0.0.1,::1"
    } else {
        "127.0.0.1"
    };
    let mut scratch = Scratch::new("clean");
    let program = scratch.program("appserver");
    let Some((port, pid)) = (20000..low.min(30000)).find_map(|port| {
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).ok()?;
        scratch.serve_at(&program, both, port)
    }) else {
        panic!("no free port below {low}");
    };
    let doc = loopwatch(&["doctor", "--json"]).json();
    assert_eq!(findings_on(&doc, port), Vec::new(), "{doc:#}");
    assert!(doc["listeners_checked"].as_u64() >= Some(1));
    assert!(
        doc["processes_checked"].as_u64() >= Some(1),
        "pid {pid} was looked into"
    );
}

/// A shell of its own session running `true | server` as a job: the pipeline's first process
/// leads the group and exits at once, the server is still the shell's job.
const JOB_SHELL: &str = r"import os, sys, time
os.setsid()
r, w = os.pipe()
first = os.fork()
if first == 0:
    os.setpgid(0, 0)
    os.read(r, 1)
    os._exit(0)
os.setpgid(first, first)
server = os.fork()
if server == 0:
    os.setpgid(0, first)
    os.execv(sys.argv[1], [sys.argv[1], '-c', sys.argv[2], '127.0.0.1'])
os.setpgid(server, first)
os.write(w, b'x')
os.waitpid(first, 0)
print('ready', flush=True)
time.sleep(300)
";

/// Until a shell is gone, the job it runs is not left behind; once it is, the same server is.
#[test]
fn a_job_of_a_live_shell_is_not_left_behind_until_the_shell_is_gone() {
    let mut scratch = Scratch::new("job");
    let mut shell = spawn_fresh(
        Command::new(PYTHON)
            .args(["-c", JOB_SHELL, PYTHON, SERVE])
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    // The server's port and pid, and the shell's word that the group's first process is gone
    // (in either order: both write to the pipe). Killed before that, the shell would leave
    // the first process waiting on the pipe, alive, and the group never without its leader.
    let mut lines = BufReader::new(shell.stdout.take().unwrap()).lines();
    let (mut served, mut ready) = (None, false);
    while served.is_none() || !ready {
        let line = lines.next().unwrap().unwrap();
        ready |= line == "ready";
        served = served.or_else(|| parse_port_and_pid(&line));
    }
    scratch.children.push(shell);
    let (port, pid) = served.unwrap();
    scratch.pids.push(pid);
    let orphaned = |doc: &Value| {
        findings_on(doc, port)
            .iter()
            .any(|(kind, _)| kind == "orphaned")
    };
    let doc = loopwatch(&["doctor", "--json"]).json();
    assert!(!orphaned(&doc), "a live shell's job: {doc:#}");

    // The shell goes (its terminal closed); the server ignores nothing and still runs.
    let shell = &mut scratch.children[0];
    shell.kill().unwrap();
    shell.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let doc = loopwatch(&["doctor", "--json"]).json();
        if orphaned(&doc) {
            assert_eq!(finding(&doc, port, "orphaned")["process"]["pid"], pid);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never left behind once its shell was gone: {doc:#}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

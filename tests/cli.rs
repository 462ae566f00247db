//! The built binary against real sockets: exit codes, messages, `--json` and pipes.
//!
//! Each test binds its own listeners on port 0 and looks them up by the port the OS chose, so
//! tests run in parallel without stepping on each other or on services already running.
// Helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests; a failed
// setup step should panic with its message here like anywhere else in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};

use serde_json::Value;

mod support;
use support::binary::{
    BIN, as_nobody, as_nobody_under, drain, loopwatch, loopwatch_with, run, wait_with_deadline,
};
use support::free_port;

fn localhost_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    (listener, port)
}

/// The JSON entries for sockets on `port`.
fn sockets_on(doc: &Value, port: u16) -> Vec<Value> {
    doc["sockets"]
        .as_array()
        .expect("sockets array")
        .iter()
        .filter(|s| s["local_port"] == port)
        .cloned()
        .collect()
}

fn owner_pids(socket: &Value) -> Vec<u64> {
    socket["owners"]
        .as_array()
        .expect("owners array")
        .iter()
        .map(|o| o["pid"].as_u64().expect("numeric pid"))
        .collect()
}

/// Whether some line of `text` has all of `words` as whitespace-separated words.
fn has_line_with(text: &str, words: &[&str]) -> bool {
    text.lines().any(|line| {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        words.iter().all(|w| tokens.contains(w))
    })
}

#[test]
fn who_names_the_process_holding_the_port() {
    let (_listener, port) = localhost_listener();
    let pid = std::process::id().to_string();

    let out = loopwatch(&["who", &port.to_string()]);
    assert_eq!(out.code(), Some(0), "stderr: {}", out.stderr);
    assert!(
        has_line_with(
            &out.stdout,
            &[&port.to_string(), &pid, "LISTEN", "127.0.0.1"]
        ),
        "no line with port {port} and pid {pid}:\n{}",
        out.stdout
    );
}

#[test]
fn who_json_shows_every_socket_on_the_port() {
    let (listener, port) = localhost_listener();
    // The same port number in other families and protocols, and a connection's server end.
    let _udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).expect("bind udp on the same port");
    let v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, port)).ok();
    let _client = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    let (_server_end, _) = listener.accept().expect("accept");
    let pid = u64::from(std::process::id());

    // The shorthand form.
    let out = loopwatch(&[&port.to_string(), "--json"]);
    assert_eq!(out.code(), Some(0), "stderr: {}", out.stderr);
    let doc = out.json();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["port"], port);

    let sockets = sockets_on(&doc, port);
    let find = |proto: &str, address: &str, state: &str| {
        sockets
            .iter()
            .find(|s| s["proto"] == proto && s["local_address"] == address && s["state"] == state)
            .unwrap_or_else(|| panic!("no {proto} {address}:{port} {state} in {sockets:#?}"))
    };
    let mut expected = vec![
        find("tcp", "127.0.0.1", "LISTEN"),
        find("udp", "127.0.0.1", "BOUND"),
        find("tcp", "127.0.0.1", "ESTABLISHED"),
    ];
    if v6.is_some() {
        expected.push(find("tcp", "::1", "LISTEN"));
    }
    for socket in expected {
        assert_eq!(socket["scope"], "loopback", "{socket:#}");
        assert!(
            owner_pids(socket).contains(&pid),
            "pid {pid} not in {socket:#}"
        );
        let owner = &socket["owners"][0];
        assert!(
            owner["name"].is_string() && owner["cmdline"].is_string(),
            "{owner:#}"
        );
        assert!(owner["start_time"].as_u64().is_some(), "{owner:#}");
    }
    let connection_end = find("tcp", "127.0.0.1", "ESTABLISHED");
    assert_eq!(connection_end["remote_address"], "127.0.0.1");
    assert!(connection_end["remote_port"].as_u64().is_some());
}

#[test]
fn list_json_contains_a_loopback_listener() {
    let (_listener, port) = localhost_listener();
    let out = loopwatch(&["list", "--json"]);
    assert_eq!(out.code(), Some(0), "stderr: {}", out.stderr);
    let doc = out.json();
    assert_eq!(doc["version"], 1);
    assert!(doc["hidden_owners"].is_u64() && doc["privileged"].is_boolean());
    let sockets = sockets_on(&doc, port);
    assert_eq!(sockets.len(), 1, "{sockets:#?}");
    assert_eq!(sockets[0]["state"], "LISTEN");
    assert!(owner_pids(&sockets[0]).contains(&u64::from(std::process::id())));
}

#[test]
fn a_free_port_exits_1_with_one_line() {
    let port = free_port();

    let out = loopwatch(&["who", &port.to_string()]);
    assert_eq!(out.code(), Some(1), "stdout: {}", out.stdout);
    assert_eq!(
        out.stderr,
        format!("loopwatch: nothing is bound to port {port}\n")
    );
    assert_eq!(out.stdout, "");

    // Scripts still get a document to parse.
    let out = loopwatch(&[&port.to_string(), "--json"]);
    assert_eq!(out.code(), Some(1));
    assert_eq!(out.json()["sockets"], serde_json::json!([]));
    assert_eq!(
        out.stderr,
        format!("loopwatch: nothing is bound to port {port}\n")
    );
}

#[test]
fn bad_input_exits_2_with_the_fix_on_the_first_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["70000"], "port must be a number from 1 to 65535"),
        (&["abc"], "expected a port from 1 to 65535 or a command"),
        (&["0"], "port must be a number from 1 to 65535"),
        (&["who", "abc"], "port must be a number from 1 to 65535"),
        (&["who", "70000"], "port must be a number from 1 to 65535"),
        (
            &["--interval", "5ms"],
            "from 100ms to 60s, got 5ms (e.g. --interval 500ms",
        ),
        (
            &["--interval", "soon"],
            "from 100ms to 60s, got soon (e.g. --interval 500ms",
        ),
        (&["list", "5432"], "unexpected argument '5432'"),
        (&["--json"], "loopwatch list --json"),
        (&["-1"], "port must be a number from 1 to 65535, got -1"),
        (
            &["who", "-5"],
            "port must be a number from 1 to 65535, got -5",
        ),
        (
            &["--interval", "-1"],
            "interval must be from 100ms to 60s, got -1",
        ),
        (
            &["--interval", "1h"],
            "interval must be from 100ms to 60s, got 1h",
        ),
        (
            &["kill", "80", "--timeout", "-1"],
            "timeout must be from 0.1 to 600",
        ),
        (&["who"], "required arguments were not provided"),
        (
            &["lsit"],
            "or a command (list, who, kill, watch, explain, why, doctor, completions, man), got lsit",
        ),
    ];
    for (args, fix) in cases {
        let out = loopwatch(args);
        assert_eq!(out.code(), Some(2), "{args:?}: {}", out.stderr);
        let first = out.stderr_first_line();
        assert!(first.starts_with("loopwatch: "), "{args:?}: {first:?}");
        assert!(first.contains(fix), "{args:?}: {first:?} lacks {fix:?}");
        assert!(!out.stderr.contains("error:"), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("'-- "), "{args:?}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{args:?}");
    }
}

#[test]
fn a_subcommands_usage_error_shows_that_subcommands_usage() {
    for (args, usage) in [
        (&["watch", "--timeout", "5"][..], "Usage: loopwatch watch"),
        (&["who"][..], "Usage: loopwatch who"),
        (&["who", "0"][..], "Usage: loopwatch who"),
        (&["watch", "80,x"][..], "Usage: loopwatch watch"),
        (&["--read-only", "kill", "80"][..], "Usage: loopwatch kill"),
        (&["kill", "80", "--bogus"][..], "Usage: loopwatch kill"),
        (&["why", "0"][..], "Usage: loopwatch explain"),
        (&["doctor", "80"][..], "Usage: loopwatch doctor"),
    ] {
        let out = loopwatch(args);
        assert_eq!(out.code(), Some(2), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr_first_line().starts_with("loopwatch: "),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(usage), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    let out = loopwatch(&["--help"]);
    assert_eq!(out.code(), Some(0));
    assert!(out.stdout.contains("Examples:"), "{}", out.stdout);
    let out = loopwatch(&["--version"]);
    assert_eq!(out.code(), Some(0));
    assert!(out.stdout.starts_with("loopwatch "), "{}", out.stdout);
}

#[test]
fn no_arguments_with_stdout_piped_prints_the_list() {
    let (_listener, port) = localhost_listener();
    let out = loopwatch(&[]);
    assert_eq!(out.code(), Some(0), "stderr: {}", out.stderr);
    assert!(
        out.stdout.starts_with("  PROTO  LOCAL ADDRESS"),
        "{}",
        out.stdout
    );
    assert!(
        has_line_with(
            &out.stdout,
            &["tcp", "127.0.0.1", &port.to_string(), "LISTEN"]
        ),
        "port {port} missing:\n{}",
        out.stdout
    );
}

#[test]
fn a_reader_that_went_away_is_not_an_error() {
    let (_listener, port) = localhost_listener();
    for args in [
        vec!["list".to_string()],
        vec!["list".to_string(), "--json".to_string()],
        vec!["who".to_string(), port.to_string()],
    ] {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn loopwatch");
        // Close the only read end before loopwatch writes: its first write gets EPIPE.
        drop(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = wait_with_deadline(&mut child);
        let stderr = stderr.join().expect("stderr reader");
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

#[cfg(unix)]
#[test]
fn a_pipe_to_head_and_a_closed_stdout_are_quiet() {
    for script in [
        // `head` exits after one byte; loopwatch may still be writing.
        r#""$0" list -c -a | head -c1 >/dev/null; exit "${PIPESTATUS[0]}""#,
        // No stdout at all.
        r#"exec "$0" list >&-"#,
    ] {
        let mut command = Command::new("bash");
        command.args(["-c", script, BIN]);
        let out = run(command);
        assert_eq!(out.code(), Some(0), "{script}: {}", out.stderr);
        assert_eq!(out.stderr, "", "{script}");
    }
}

/// A listener held by root, looked up by an unprivileged user who may not read root's file
/// descriptors: the socket must still be listed, with its owner marked hidden.
#[cfg(target_os = "linux")]
#[test]
fn another_users_socket_is_listed_with_its_owner_hidden() {
    let (_listener, port) = localhost_listener();
    let Some(out) = as_nobody(&["who", &port.to_string(), "--json"]) else {
        return;
    };

    assert_eq!(out.code(), Some(0), "stderr: {}", out.stderr);
    let doc = out.json();
    assert_eq!(doc["privileged"], false);
    assert!(doc["hidden_owners"].as_u64() >= Some(1), "{doc:#}");
    let sockets = sockets_on(&doc, port);
    let listener = sockets
        .iter()
        .find(|s| s["state"] == "LISTEN" && s["local_address"] == "127.0.0.1")
        .unwrap_or_else(|| panic!("listener on {port} missing: {doc:#}"));
    assert_eq!(listener["owners"], serde_json::json!([]), "{listener:#}");
    assert_eq!(
        listener["owner_unknown"], "permission_denied",
        "{listener:#}"
    );
    assert_eq!(listener["uid"], 0, "{listener:#}");
    assert_eq!(listener["user"], "root", "{listener:#}");
}

/// A process whose argv holds escape sequences, a newline and bidi controls: every text
/// command shows them escaped, so the reader's terminal is never driven by them.
#[test]
fn a_hostile_argv_reaches_every_text_output_inert() {
    use std::io::{BufRead, BufReader};
    let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}evil\nforged line\u{9b}1m";
    let mut holder = Command::new("python3")
        .args(["-c", include_str!("support/listen.py"), hostile])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test");
    let mut port = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let port = port.trim().to_string();
    for args in [
        vec!["who", &port],
        vec!["list"],
        vec!["explain", &port],
        vec!["kill", &port, "--dry-run"],
    ] {
        let mut command = Command::new(BIN);
        command.args(&args);
        let out = run(command);
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(
            text.contains("\\e]0;pwned"),
            "{args:?} shows it escaped:\n{text}"
        );
        let unsafe_char = text.chars().find(|&c| {
            (c.is_control() && c != '\n') || ('\u{80}'..='\u{9f}').contains(&c) || c == '\u{202e}'
        });
        assert_eq!(unsafe_char, None, "{args:?}:\n{text}");
        // The argv's newline forged no line of its own.
        assert!(
            !text.lines().any(|l| l.starts_with("forged line")),
            "{args:?}:\n{text}"
        );
    }
    let _ = holder.kill();
    let _ = holder.wait();
}

/// With no descriptor left to read `/proc` with, an owner is not "not found": loopwatch says it
/// ran out of descriptors, and how to raise the limit.
#[cfg(target_os = "linux")]
#[test]
fn owners_looked_up_without_descriptors_say_so() {
    let (_listener, port) = localhost_listener();
    // stdin, stdout and stderr, then the netlink socket: nothing left for /proc.
    let mut command = Command::new("bash");
    command.args(["-c", &format!("ulimit -n 4; exec {BIN} who {port} --json")]);
    let out = run(command);
    assert_eq!(out.code(), Some(0), "stderr: {}", out.stderr);
    let doc = out.json();
    let sockets = sockets_on(&doc, port);
    assert_eq!(sockets[0]["owner_unknown"], "out_of_descriptors", "{doc:#}");
    assert!(
        sockets[0]["owner_unknown_reason"]
            .as_str()
            .is_some_and(|r| r.contains("ulimit -n")),
        "{doc:#}"
    );
}

/// With just enough descriptors for one reader of `/proc` at a time, every owner is still
/// named: describing many processes on two threads takes two descriptors more, and a process a
/// thread could not open is not "not found".
#[cfg(target_os = "linux")]
#[test]
fn owners_read_with_barely_enough_descriptors_are_all_named() {
    /// Killed and reaped however the test ends.
    struct Listeners(Vec<(std::process::Child, String, String)>);
    impl Drop for Listeners {
        fn drop(&mut self) {
            for (child, _, _) in &mut self.0 {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    let listeners = Listeners((0..40).map(|_| support::spawn_listener()).collect());
    // stdin, stdout, stderr, then two for reading one process: its folder and one file. The
    // threads meet at the limit only now and then: a few runs make it near certain.
    for _ in 0..5 {
        let mut command = Command::new("bash");
        command.args(["-c", &format!("ulimit -n 6; exec {BIN} list --json")]);
        let out = run(command);
        assert_eq!(out.code(), Some(0), "stderr: {}", out.stderr);
        let doc = out.json();
        for (_, port, pid) in &listeners.0 {
            let sockets = sockets_on(&doc, port.parse().unwrap());
            assert_eq!(
                sockets[0]["owners"][0]["pid"].to_string(),
                *pid,
                "port {port}: {:#}",
                sockets[0]
            );
        }
    }
}

/// A user at their limit of processes (`ulimit -u`) cannot have another thread: the lookups
/// that share their work between two threads do it on one, and answer all the same.
#[cfg(target_os = "linux")]
#[test]
fn with_no_thread_to_be_had_the_answer_comes_all_the_same() {
    let (_listener, port) = localhost_listener();
    // nobody's only task is loopwatch's own first thread.
    let Some(out) = as_nobody_under(&["--nproc=1"], &["list", "--json"]) else {
        return;
    };
    assert_eq!(out.code(), Some(0), "stderr: {}", out.stderr);
    assert_eq!(sockets_on(&out.json(), port).len(), 1);
}

/// A config file in a fresh temporary folder, removed when dropped.
struct ConfigFile(std::path::PathBuf);

impl ConfigFile {
    fn new(name: &str, text: &str) -> ConfigFile {
        let dir = std::env::temp_dir().join(format!("loopwatch-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, text).unwrap();
        ConfigFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
    }
}

#[test]
fn loopwatch_config_names_the_file_and_no_config_ignores_it() {
    let broken = ConfigFile::new("broken", "interval = \"forever\"\n");
    let env = [("LOOPWATCH_CONFIG", broken.path())];
    let out = loopwatch_with(&["list"], &env);
    assert_eq!(out.code(), Some(2), "{}", out.stderr);
    assert!(
        out.stderr_first_line()
            .starts_with(&format!("loopwatch: config {}: `interval`", broken.path())),
        "{}",
        out.stderr
    );
    // --config wins over the variable.
    let fine = ConfigFile::new("fine", "grouped = true\n");
    let out = loopwatch_with(&["list", "--config", fine.path()], &env);
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    // --no-config reads no settings at all.
    let out = loopwatch_with(&["list", "--no-config"], &env);
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    // Giving both on the command line is a contradiction.
    let out = loopwatch(&["--config", fine.path(), "--no-config", "list"]);
    assert_eq!(out.code(), Some(2), "{}", out.stderr);
    assert!(
        out.stderr_first_line().contains("contradict"),
        "{}",
        out.stderr
    );
}

#[test]
fn read_only_in_the_config_is_lifted_by_no_flag() {
    let file = ConfigFile::new("read-only", "read_only = true\n");
    let port = free_port().to_string();
    for args in [
        vec!["kill", &port, "--yes"],
        vec!["kill", &port, "--yes", "--no-config"],
    ] {
        let out = loopwatch_with(&args, &[("LOOPWATCH_CONFIG", file.path())]);
        assert_eq!(out.code(), Some(2), "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr,
            "loopwatch: kill is disabled in read-only mode (read_only = true in the config file): \
             no flag lifts it; edit the file and set it to false to stop processes\n",
            "{args:?}"
        );
    }
}

#[test]
fn who_takes_several_ports_and_names_each_free_one() {
    let (_a, a) = localhost_listener();
    let (_b, b) = localhost_listener();
    let free = free_port();
    let (a_s, b_s, free_s) = (a.to_string(), b.to_string(), free.to_string());

    let out = loopwatch(&["who", &a_s, &b_s]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    assert!(
        has_line_with(&out.stdout, &[&a_s, "LISTEN"]),
        "{}",
        out.stdout
    );
    assert!(
        has_line_with(&out.stdout, &[&b_s, "LISTEN"]),
        "{}",
        out.stdout
    );

    // The shorthand, comma-separated, with a free port among them: exit 1, as lsof does.
    let out = loopwatch(&[&format!("{a},{free}")]);
    assert_eq!(out.code(), Some(1), "{}", out.stderr);
    assert!(
        has_line_with(&out.stdout, &[&a_s, "LISTEN"]),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stderr,
        format!("loopwatch: nothing is bound to port {free}\n")
    );

    // JSON: one port keeps `port`; several give `ports`.
    let doc = loopwatch(&["who", &a_s, &b_s, &free_s, "--json"]).json();
    assert_eq!(doc["ports"], serde_json::json!([a, b, free]));
    assert!(doc.get("port").is_none(), "{doc:#}");
    assert_eq!(sockets_on(&doc, a).len(), 1, "{doc:#}");
    assert_eq!(sockets_on(&doc, b).len(), 1, "{doc:#}");
    let doc = loopwatch(&["who", &a_s, "--json"]).json();
    assert_eq!(doc["port"], a);
    assert!(doc.get("ports").is_none(), "{doc:#}");

    // A bad member spoils the list: exit 2, nothing looked up.
    let out = loopwatch(&["who", &a_s, "0"]);
    assert_eq!(out.code(), Some(2));
    assert!(
        out.stderr_first_line()
            .contains("port must be a number from 1 to 65535, got 0"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn tcp_udp_and_family_flags_narrow_one_shots() {
    let (_tcp, port) = localhost_listener();
    let _udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).expect("udp on the same port");
    let v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, port)).ok();
    let p = port.to_string();
    let protos = |args: &[&str]| -> Vec<(String, String)> {
        let out = loopwatch(args);
        assert_eq!(out.code(), Some(0), "{args:?}: {}", out.stderr);
        let mut found: Vec<(String, String)> = sockets_on(&out.json(), port)
            .iter()
            .map(|s| {
                (
                    s["proto"].as_str().unwrap().to_string(),
                    s["local_address"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let pair = |proto: &str, addr: &str| (proto.to_string(), addr.to_string());
    let mut everything = vec![pair("tcp", "127.0.0.1"), pair("udp", "127.0.0.1")];
    if v6.is_some() {
        everything.insert(1, pair("tcp", "::1"));
    }
    assert_eq!(protos(&["who", &p, "--json"]), everything);
    assert_eq!(protos(&["who", &p, "--json", "-t", "-u"]), everything);
    assert_eq!(protos(&["who", &p, "--json", "-4", "-6"]), everything);
    assert_eq!(
        protos(&["who", &p, "--json", "-u"]),
        vec![pair("udp", "127.0.0.1")]
    );
    assert_eq!(
        protos(&["-t", "-4", &p, "--json"]),
        vec![pair("tcp", "127.0.0.1")]
    );
    if v6.is_some() {
        assert_eq!(
            protos(&["who", "-6", &p, "--json"]),
            vec![pair("tcp", "::1")]
        );
    }
    let listed = loopwatch(&["list", "-u", "--json"]).json();
    assert!(
        listed["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["proto"] == "udp"),
        "{listed:#}"
    );
}

#[test]
fn no_header_and_the_remote_column_of_list_c() {
    let (listener, port) = localhost_listener();
    let client = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    let (_server_end, _) = listener.accept().expect("accept");
    let client_port = client.local_addr().unwrap().port();
    let p = port.to_string();

    let out = loopwatch(&["list", "-c"]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    let header = out.stdout.lines().next().unwrap();
    assert!(
        header.contains("STATE") && header.contains("REMOTE"),
        "{header}"
    );
    // The server's end names the client as its peer; the listener has none.
    assert!(
        has_line_with(
            &out.stdout,
            &[&p, "ESTABLISHED", &format!("127.0.0.1:{client_port}")]
        ),
        "{}",
        out.stdout
    );
    assert!(
        has_line_with(&out.stdout, &[&p, "LISTEN", "*"]),
        "{}",
        out.stdout
    );
    // Without -c, no REMOTE column.
    let out = loopwatch(&["list"]);
    assert!(!out.stdout.lines().next().unwrap().contains("REMOTE"));

    for args in [
        vec!["who", &p, "-H"],
        vec!["--no-header", &p],
        vec!["list", "-H"],
    ] {
        let out = loopwatch(&args);
        assert_eq!(out.code(), Some(0), "{args:?}: {}", out.stderr);
        assert!(!out.stdout.contains("PROTO"), "{args:?}: {}", out.stdout);
        assert!(
            has_line_with(&out.stdout, &[&p, "LISTEN"]),
            "{args:?}: {}",
            out.stdout
        );
    }
}

/// Environment variables for one run.
type Vars<'a> = &'a [(&'a str, &'a str)];

#[test]
fn color_flag_and_environment_decide_the_colour_of_text_tables() {
    let (_listener, port) = localhost_listener();
    let p = port.to_string();
    let listen = "\u{1b}[32mLISTEN\u{1b}[0m";
    let cases: &[(&[&str], Vars, bool)] = &[
        // A pipe is not a terminal: auto means none.
        (&[], &[], false),
        (&["--color", "auto"], &[], false),
        (&["--color=always"], &[], true),
        (&["--color", "never"], &[("CLICOLOR_FORCE", "1")], false),
        (&[], &[("CLICOLOR_FORCE", "1")], true),
        (&[], &[("CLICOLOR_FORCE", "0")], false),
        (&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], false),
        // The flag wins over NO_COLOR.
        (&["--color=always"], &[("NO_COLOR", "1")], true),
        (&["--color=always"], &[("TERM", "dumb")], true),
    ];
    for (flags, env, coloured) in cases {
        let mut args = vec!["who", p.as_str()];
        args.extend_from_slice(flags);
        let out = loopwatch_with(&args, env);
        assert_eq!(out.code(), Some(0), "{flags:?} {env:?}: {}", out.stderr);
        assert_eq!(
            out.stdout.contains(listen),
            *coloured,
            "{flags:?} {env:?}:\n{}",
            out.stdout
        );
        if !coloured {
            assert!(!out.stdout.contains('\u{1b}'), "{flags:?} {env:?}");
        }
    }
    // JSON never has colour.
    let out = loopwatch_with(&["who", &p, "--json", "--color=always"], &[]);
    assert!(!out.stdout.contains('\u{1b}'));
    out.json();

    let out = loopwatch(&["--color=bogus"]);
    assert_eq!(out.code(), Some(2));
    assert_eq!(
        out.stderr_first_line(),
        "loopwatch: invalid value 'bogus' for '--color <WHEN>' [possible values: auto, always, never]"
    );
    assert!(
        out.stderr.lines().all(|l| !l.starts_with("error")),
        "{}",
        out.stderr
    );
}

#[test]
fn a_locale_without_utf8_gets_ascii_glyphs() {
    let (listener, port) = localhost_listener();
    let _client = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    let (_server_end, _) = listener.accept().expect("accept");
    let p = port.to_string();
    // explain draws an arrow from a connection's end to its peer.
    let utf8 = loopwatch_with(&["explain", &p], &[("LC_ALL", "en_US.UTF-8")]);
    assert!(utf8.stdout.contains('\u{2192}'), "{}", utf8.stdout);
    for env in [
        &[("LC_ALL", "C"), ("LANG", "en_US.UTF-8")][..],
        &[
            ("LC_ALL", ""),
            ("LC_CTYPE", "POSIX"),
            ("LANG", "en_US.UTF-8"),
        ][..],
        &[("LANG", "en_US.ISO-8859-1")][..],
    ] {
        let mut command = Command::new(BIN);
        command
            .args(["explain", &p])
            .env_remove("LC_ALL")
            .env_remove("LC_CTYPE")
            .env_remove("LANG")
            .envs(env.iter().copied());
        let out = run(command);
        assert_eq!(out.code(), Some(0), "{env:?}: {}", out.stderr);
        assert!(out.stdout.is_ascii(), "{env:?}:\n{}", out.stdout);
        assert!(out.stdout.contains(" > "), "{env:?}:\n{}", out.stdout);
    }
}

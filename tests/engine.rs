//! The container engine client against a server on a Unix socket that answers with recorded
//! Docker Engine API responses (chunked, as the real engine sends them), through the real
//! binary with `DOCKER_HOST` pointing at it: what `who`, `list` and `kill` make of the engine's
//! answers, and of an engine that cannot be asked.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::Value;
use support::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_loopwatch");

/// `GET /containers/json` as Docker 20.10 answers it, for one container publishing `port`
/// on every IPv4 address with no proxy (the engine's `userland-proxy: false`).
fn listing(port: u16, name: &str) -> String {
    format!(
        r#"[{{"Id":"0f99e7bbe4febced82d7b90e15dd5aec23f10690043d6275e5349d63a130e477","Names":["/{name}"],"Image":"nginx:1.27","ImageID":"sha256:d0800b63","Command":"nginx -g 'daemon off;'","Created":1796238034,"Ports":[{{"IP":"127.0.0.1","PrivatePort":80,"PublicPort":{port},"Type":"tcp"}}],"Labels":{{"com.docker.compose.project":"shop","com.docker.compose.service":"web"}},"State":"running","Status":"Up 3 minutes","HostConfig":{{"NetworkMode":"shop_default"}},"NetworkSettings":{{"Networks":{{"shop_default":{{"IPAddress":"172.18.0.2","GlobalIPv6Address":""}}}}}},"Mounts":[]}}]"#
    )
}

/// A recorded engine on a Unix socket: answers each request from `answer(method, target)`
/// with a chunked body, and keeps every request line it was sent.
struct Engine {
    path: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Engine {
    fn start(answer: impl Fn(&str, &str) -> (u16, String) + Send + 'static) -> Engine {
        let dir = std::env::temp_dir().join(format!(
            "loopwatch-engine-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("docker.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // The rest of the head, up to the blank line.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let mut parts = request_line.split_whitespace();
                let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                log.lock().unwrap().push(format!("{method} {target}"));
                if target.starts_with("/events") {
                    // Hold the stream open, as the engine does, until the client goes.
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                    );
                    thread::spawn(move || {
                        let _ = reader.read_line(&mut String::new());
                    });
                    continue;
                }
                let (status, body) = answer(method, target);
                let mut response = format!(
                    "HTTP/1.1 {status} X\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                )
                .into_bytes();
                // Two chunks, so a client that reads only the first gets half a document.
                let (a, b) = body.as_bytes().split_at(body.len() / 2);
                for chunk in [a, b] {
                    if !chunk.is_empty() {
                        response.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
                        response.extend(chunk);
                        response.extend(b"\r\n");
                    }
                }
                response.extend(b"0\r\n\r\n");
                let _ = stream.write_all(&response);
            }
        });
        Engine {
            path,
            requests,
            _dir: TempDir(dir),
        }
    }

    fn docker_host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn loopwatch(docker_host: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DOCKER_HOST", docker_host)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn a_port_published_by_nat_rules_alone_is_a_row_owned_by_its_container() {
    let port = free_port();
    let engine = Engine::start(move |_, _| (200, listing(port, "shop-web-1")));
    let who = loopwatch(&engine.docker_host(), &["who", &port.to_string(), "--json"]);
    assert_eq!(
        who.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&who.stderr)
    );
    let doc = json(&who);
    assert_eq!(doc["engine"]["reachable"], true);
    let socket = &doc["sockets"][0];
    assert_eq!(socket["local_address"], "127.0.0.1");
    assert_eq!(socket["state"], "LISTEN");
    assert_eq!(socket["owners"], Value::Array(vec![]));
    assert_eq!(socket["owner_unknown"], "nat");
    assert_eq!(socket["container"]["name"], "shop-web-1");
    assert_eq!(socket["container"]["compose_service"], "web");
    assert_eq!(socket["container"]["container_port"], 80);
    assert_eq!(socket["container"]["addresses"][0], "172.18.0.2");

    let list = loopwatch(&engine.docker_host(), &["list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    let row = text
        .lines()
        .find(|l| l.contains(&format!(" {port} ")))
        .unwrap_or_else(|| panic!("no row for {port}:\n{text}"));
    assert!(row.contains("container shop-web-1"), "{row}");
    assert!(
        engine
            .requests()
            .iter()
            .all(|r| r == "GET /containers/json"),
        "a one-shot lists once and follows no events: {:?}",
        engine.requests()
    );
}

#[test]
fn kill_stops_the_container_by_its_id_and_follows_the_port() {
    let port = free_port();
    let engine = Engine::start(move |method, _| match method {
        "POST" => (204, String::new()),
        _ => (200, listing(port, "web")),
    });
    let dry = loopwatch(
        &engine.docker_host(),
        &["kill", &port.to_string(), "--dry-run"],
    );
    let said = String::from_utf8_lossy(&dry.stderr);
    assert!(said.contains("published by container web"), "{said}");
    assert!(said.contains("would stop container web"), "{said}");
    assert!(
        !engine.requests().iter().any(|r| r.starts_with("POST")),
        "a dry run stops nothing"
    );

    let kill = loopwatch(
        &engine.docker_host(),
        &["kill", &port.to_string(), "--yes", "--json"],
    );
    let doc = json(&kill);
    assert_eq!(doc["container"]["result"], "stopped", "{doc}");
    assert_eq!(doc["outcome"], "released", "{doc}");
    assert_eq!(
        doc["targets"],
        Value::Array(vec![]),
        "no process was signalled"
    );
    assert_eq!(kill.status.code(), Some(0));
    assert!(
        engine.requests().contains(
            &"POST /containers/0f99e7bbe4febced82d7b90e15dd5aec23f10690043d6275e5349d63a130e477/stop"
                .to_string()
        ),
        "{:?}",
        engine.requests()
    );
}

#[test]
fn a_container_replaced_under_the_same_name_is_not_stopped() {
    let port = free_port();
    let engine = Engine::start(move |method, _| match method {
        "POST" => (
            404,
            r#"{"message":"No such container: 0f99e7bbe4fe"}"#.to_string(),
        ),
        _ => (200, listing(port, "web")),
    });
    let kill = loopwatch(&engine.docker_host(), &["kill", &port.to_string(), "--yes"]);
    let said = String::from_utf8_lossy(&kill.stderr);
    assert!(
        said.contains("container web (0f99e7bbe4fe) no longer exists; nothing was stopped"),
        "{said}"
    );
    assert_eq!(kill.status.code(), Some(1));
}

#[test]
fn hostile_container_names_reach_the_terminal_inert() {
    let port = free_port();
    let engine =
        Engine::start(move |_, _| (200, listing(port, "x\\u001b]0;pwned\\u0007\\u001b[2J")));
    let port_text = port.to_string();
    for args in [vec!["list"], vec!["who", port_text.as_str()]] {
        let out = loopwatch(&engine.docker_host(), &args);
        for stream in [&out.stdout, &out.stderr] {
            assert!(
                !stream.iter().any(|&b| b == 0x1b || b == 0x07),
                "{args:?}: {:?}",
                String::from_utf8_lossy(stream)
            );
        }
    }
    let dry = loopwatch(
        &engine.docker_host(),
        &["kill", &port.to_string(), "--dry-run"],
    );
    assert!(
        !dry.stderr.contains(&0x1b),
        "{:?}",
        String::from_utf8_lossy(&dry.stderr)
    );
}

#[test]
fn an_engine_that_cannot_be_asked_is_said_so_and_changes_nothing_else() {
    let port = free_port();
    let _listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    for (host, reason) in [
        ("unix:///nonexistent/loopwatch-test.sock", "not running"),
        ("tcp://127.0.0.1:2375", "non-Unix endpoint"),
    ] {
        let who = loopwatch(host, &["who", &port.to_string(), "--json"]);
        assert_eq!(who.status.code(), Some(0));
        let doc = json(&who);
        assert_eq!(doc["engine"]["reachable"], false, "{host}");
        let said = doc["engine"]["reason"].as_str().unwrap();
        assert!(said.contains(reason), "{host}: {said}");
        assert_eq!(doc["sockets"][0]["owners"][0]["pid"], std::process::id());
        assert_eq!(doc["sockets"][0]["container"], Value::Null);
    }
}

#[test]
fn an_engine_that_answers_garbage_is_unreachable_not_a_crash() {
    let engine = Engine::start(|_, _| (200, "[{\"Id\": 7".to_string()));
    let list = loopwatch(&engine.docker_host(), &["list", "--json"]);
    assert_eq!(list.status.code(), Some(0));
    let doc = json(&list);
    assert_eq!(doc["engine"]["reachable"], false);
    assert!(
        doc["engine"]["reason"]
            .as_str()
            .unwrap()
            .contains("could not be read")
    );
}

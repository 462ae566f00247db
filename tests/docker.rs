//! A real container on the machine's Docker Engine: an image built here from Debian's
//! busybox-static (nothing can be pulled), publishing a port on 127.0.0.1 through the engine's
//! proxy. loopwatch must name the container behind `docker-proxy`, and free the port by
//! stopping the container, from `kill` and from the live table.
//!
//! Skipped, loudly, where no engine answers or busybox-static is missing, unless
//! `LOOPWATCH_REQUIRE_DOCKER` is set (CI sets it).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::free_port;
use support::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_loopwatch");
const IMAGE: &str = "loopwatch-test-busybox:1";
const BUSYBOX: &str = "/bin/busybox";

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs")
}

/// Whether the engine answers and the image can be built; says why not, loudly.
fn engine_ready() -> bool {
    let required = std::env::var_os("LOOPWATCH_REQUIRE_DOCKER").is_some();
    let answers = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    let why = if !answers {
        Some("no Docker Engine answers (`docker info` failed)")
    } else if !std::path::Path::new(BUSYBOX).exists() {
        Some("busybox-static is not installed (apt-get install busybox-static)")
    } else {
        None
    };
    if let Some(why) = why {
        assert!(!required, "LOOPWATCH_REQUIRE_DOCKER is set but {why}");
        eprintln!("SKIPPED: the real-container tests need an engine: {why}");
        return false;
    }
    build_image();
    true
}

/// `docker import` of a folder holding busybox and its applet links: a whole image, offline.
fn build_image() {
    if docker(&["image", "inspect", IMAGE]).status.success() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("loopwatch-image-{}", std::process::id()));
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(BUSYBOX, bin.join("busybox")).unwrap();
    for applet in ["sh", "httpd", "sleep"] {
        let _ = std::os::unix::fs::symlink("busybox", bin.join(applet));
    }
    let tar = Command::new("tar")
        .args(["-C", dir.to_str().unwrap(), "-c", "."])
        .output()
        .unwrap();
    assert!(tar.status.success());
    let mut import = Command::new("docker")
        .args(["import", "-", IMAGE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut import.stdin.take().unwrap(), &tar.stdout).unwrap();
    assert!(import.wait().unwrap().success(), "docker import failed");
    let _ = std::fs::remove_dir_all(dir);
}

/// A running container serving HTTP on 127.0.0.1:`port`; removed when dropped.
struct Container {
    name: String,
}

impl Container {
    fn run(port: u16) -> Container {
        let name = format!("loopwatch-test-{}-{port}", std::process::id());
        let publish = format!("127.0.0.1:{port}:8080");
        // As PID 1, httpd would ignore SIGTERM; the shell exits on it, as a server should.
        let out = docker(&[
            "run",
            "-d",
            "--rm",
            "--name",
            &name,
            "-p",
            &publish,
            "--label",
            "com.docker.compose.project=loopwatch-test",
            "--label",
            "com.docker.compose.service=web",
            IMAGE,
            "/bin/sh",
            "-c",
            "trap 'exit 0' TERM; httpd -f -p 8080 & wait",
        ]);
        assert!(out.status.success(), "docker run failed: {out:?}");
        Container { name }
    }

    fn is_running(&self) -> bool {
        let out = docker(&["ps", "-q", "--filter", &format!("name=^{}$", self.name)]);
        !out.stdout.is_empty()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.name]);
    }
}

fn loopwatch(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Waits until something listens on 127.0.0.1:`port` (the proxy starts just after the run).
fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listened on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_container_behind_docker_proxy_is_named_and_kill_stops_the_container() {
    if !engine_ready() {
        return;
    }
    let port = free_port();
    let container = Container::run(port);
    wait_listening(port);

    let who = loopwatch(&["who", &port.to_string(), "--json"]);
    let doc: Value = serde_json::from_slice(&who.stdout).unwrap();
    let socket = &doc["sockets"][0];
    let owner = socket["owners"][0]["name"].as_str().unwrap_or_default();
    if owner != "docker-proxy" {
        // The engine publishes with NAT rules alone here: the row is the container's own.
        assert_eq!(socket["owner_unknown"], "nat", "{doc}");
    }
    assert_eq!(
        socket["container"]["name"],
        container.name.as_str(),
        "{doc}"
    );
    assert_eq!(socket["container"]["image"], IMAGE);
    assert_eq!(socket["container"]["compose_project"], "loopwatch-test");
    assert_eq!(socket["container"]["container_port"], 8080);
    assert_eq!(doc["engine"]["reachable"], true);

    let list = loopwatch(&["list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    let row = text
        .lines()
        .find(|l| l.contains(&format!(" {port} ")))
        .unwrap_or_else(|| panic!("no row for {port}:\n{text}"));
    assert!(row.contains(&container.name), "{row}");

    let kill = loopwatch(&["kill", &port.to_string(), "--yes", "--json"]);
    let report: Value = serde_json::from_slice(&kill.stdout).unwrap();
    assert_eq!(report["container"]["result"], "stopped", "{report}");
    assert_eq!(report["outcome"], "released", "{report}");
    assert_eq!(
        report["targets"],
        Value::Array(vec![]),
        "docker-proxy was not signalled"
    );
    assert!(!container.is_running());
}

#[test]
fn the_live_table_sees_a_container_start_and_stops_it_after_confirmation() {
    if !engine_ready() {
        return;
    }
    let Some(tmux) = Tmux::start("docker", 160, 30) else {
        return;
    };
    tmux.type_text(&format!("NO_COLOR=1 {BIN} --interval 200ms"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the table", Duration::from_secs(10), |s| {
        s.contains("Proto")
    });
    // Started after the table: the engine's event stream must bring its name in.
    let port = free_port();
    let container = Container::run(port);
    wait_listening(port);
    tmux.type_text(&format!("/{port}"));
    tmux.keys(&["Enter"]);
    // The name may be cut to the column's width; the filter leaves only this row.
    tmux.wait_for(
        "the container's name in the row",
        Duration::from_secs(15),
        |s| {
            s.contains("docker-proxy -> loopwatch-test-") || s.contains("container loopwatch-test-")
        },
    );
    tmux.type_text("x");
    let title = format!("stop container {}?", container.name);
    tmux.wait_for("the container stop dialog", Duration::from_secs(10), |s| {
        s.contains(&title)
    });
    assert!(container.is_running(), "nothing happens before the yes");
    tmux.type_text("y");
    let released = format!("port {port} released after");
    tmux.wait_for("the port released", Duration::from_secs(30), |s| {
        s.contains(&released)
    });
    assert!(!container.is_running());
    tmux.type_text("q");
}

//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub(crate) mod binary;
pub(crate) mod tmux;

/// A TCP port on 127.0.0.1 that nothing listens on now (bound, then let go).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A python child listening on a free port of 127.0.0.1 (`listen.py`): it, its port and its
/// pid.
pub(crate) fn spawn_listener() -> (std::process::Child, String, String) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new("python3")
        .args(["-c", include_str!("listen.py")])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().to_string();
    let pid = child.id().to_string();
    (child, port, pid)
}

/// Spawns a program copied a moment ago. A child another test thread forks meanwhile holds the
/// copy's descriptor open for writing until it execs, and exec then fails with ETXTBSY: the
/// window is short, so try again.
pub(crate) fn spawn_fresh(command: &mut std::process::Command) -> std::process::Child {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match command.spawn() {
            Ok(child) => return child,
            Err(e)
                if e.kind() == std::io::ErrorKind::ExecutableFileBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("cannot start {command:?}: {e}"),
        }
    }
}

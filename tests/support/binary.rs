//! The built binary run to completion with a deadline, its output captured.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_loopwatch");
/// Far above a normal run (milliseconds); only a hung binary reaches it.
pub(crate) const DEADLINE: Duration = Duration::from_mins(1);

pub(crate) struct Run {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    pub(crate) fn stderr_first_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or_default()
    }
}

/// Runs loopwatch with `args`, stdout and stderr captured (so stdout is not a terminal).
pub(crate) fn loopwatch(args: &[&str]) -> Run {
    let mut command = Command::new(BIN);
    command.args(args);
    run(command)
}

/// Runs loopwatch with `args` and these environment variables set.
pub(crate) fn loopwatch_with(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(BIN);
    command.args(args).envs(env.iter().copied());
    run(command)
}

/// Runs `command` to completion with a deadline, capturing its output.
pub(crate) fn run(mut command: Command) -> Run {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn loopwatch");
    // Drain both pipes on threads so a large output cannot block the child before it exits.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_with_deadline(&mut child);
    Run {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

pub(crate) fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            pipe.read_to_string(&mut text).expect("read child output");
        }
        text
    })
}

pub(crate) fn wait_with_deadline(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for loopwatch") {
            return status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("loopwatch did not exit within {DEADLINE:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(unix)]
/// Runs loopwatch with `args` as the user nobody, or `None` (said on stdout) where that cannot
/// be done: it needs root and setpriv (util-linux).
pub(crate) fn as_nobody(args: &[&str]) -> Option<Run> {
    as_nobody_under(&[], args)
}

#[cfg(unix)]
/// [`as_nobody`] under `limits`, `prlimit` options such as `--nproc=1` (util-linux).
pub(crate) fn as_nobody_under(limits: &[&str], args: &[&str]) -> Option<Run> {
    let is_root = rustix::process::geteuid().is_root();
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(setpriv) = setpriv.filter(|_| is_root) else {
        println!("note: skipped: needs root and setpriv (util-linux) to run loopwatch as nobody");
        return None;
    };
    // nobody may not be able to reach the build directory (e.g. under /root): run a copy.
    let dir = std::env::temp_dir().join(format!(
        "loopwatch-nobody-{}-{}",
        std::process::id(),
        COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bin = dir.join("loopwatch");
    std::fs::copy(BIN, &bin).expect("copy binary");
    set_mode(&dir, 0o755);
    set_mode(&bin, 0o755);
    // setpriv execs a copy made a moment ago: a child another test thread forks meanwhile
    // holds it open for writing until it execs itself, and the exec fails (ETXTBSY).
    let mut tries = 0;
    let out = loop {
        let mut command = Command::new(if limits.is_empty() {
            setpriv
        } else {
            "prlimit"
        });
        if !limits.is_empty() {
            command.args(limits).arg("--").arg(setpriv);
        }
        command
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(&bin)
            .args(args)
            .current_dir("/");
        let out = run(command);
        tries += 1;
        if !out.stderr.contains("Text file busy") || tries == 50 {
            break out;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let _ = std::fs::remove_dir_all(&dir);
    Some(out)
}

/// Each copy of the binary gets a folder of its own: tests run in parallel.
static COPIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[cfg(unix)]
pub(crate) fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

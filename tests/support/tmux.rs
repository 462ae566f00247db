//! A real terminal for end-to-end tests: the binary runs in a tmux pane on a private tmux
//! server; tests type with send-keys and read the screen with capture-pane, waiting on
//! conditions with deadlines instead of sleeping.

use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

/// A private tmux server with one pane running a shell, torn down on drop.
pub(crate) struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts a `width`x`height` session running `sh`, or `None` (with a note) without tmux.
    pub(crate) fn start(name: &str, width: u16, height: u16) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(
                std::env::var_os("LOOPWATCH_REQUIRE_TMUX").is_none(),
                "tmux is required (LOOPWATCH_REQUIRE_TMUX is set) but not installed"
            );
            eprintln!("tmux is not installed; skipping the end-to-end test");
            return None;
        }
        let tmux = Self {
            socket: format!("loopwatch-test-{name}-{}", std::process::id()),
        };
        // The session is named too: loopwatch reads the name from the server's command line.
        let out = tmux.cmd(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "env PS1='$ ' TERM=xterm-256color sh",
        ]);
        assert!(out.status.success(), "tmux new-session failed: {out:?}");
        Some(tmux)
    }

    /// The socket name (`tmux -L NAME`) of this private server.
    pub(crate) fn socket(&self) -> &str {
        &self.socket
    }

    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Types literal text into the pane.
    pub(crate) fn type_text(&self, text: &str) {
        assert!(self.cmd(&["send-keys", "-l", text]).status.success());
    }

    /// Sends named keys (`Enter`, `Escape`, `C-c`, ...).
    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status.success());
    }

    /// Resizes the window, as a user dragging the terminal's edge would.
    pub(crate) fn resize(&self, width: u16, height: u16) {
        let (w, h) = (width.to_string(), height.to_string());
        assert!(
            self.cmd(&["resize-window", "-x", &w, "-y", &h])
                .status
                .success()
        );
    }

    /// The visible screen as text.
    pub(crate) fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p"]).stdout).into_owned()
    }

    /// A tmux format variable of the pane, e.g. `alternate_on` or `mouse_any_flag`.
    pub(crate) fn pane_var(&self, name: &str) -> String {
        let format = format!("#{{{name}}}");
        String::from_utf8_lossy(&self.cmd(&["display-message", "-p", &format]).stdout)
            .trim()
            .to_string()
    }

    /// Waits until `condition` holds for the screen and the screen has settled (two captures a
    /// moment apart agree); panics with the last screen at the deadline. The settling matters:
    /// the pty hands a large frame to tmux in pieces, and a capture taken between them shows
    /// half a dialog that the next capture shows whole.
    pub(crate) fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        condition: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if condition(&screen) {
                thread::sleep(Duration::from_millis(40));
                if self.screen() == screen {
                    return screen;
                }
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}; screen was:\n{screen}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until a pane variable has the expected value.
    pub(crate) fn wait_for_var(&self, name: &str, expected: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.pane_var(name);
            if value == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {name}={expected} (is {value}); screen:\n{}",
                self.screen()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

//! The real terminal: raw mode, the alternate screen and mouse reporting, given back on every
//! way out (return, error, panic); and the thread that reads its input.

use std::io::{BufWriter, Stdout, stdout};
use std::sync::mpsc::Sender;
use std::thread;

use anyhow::Context as _;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{EnterAlternateScreen, enable_raw_mode};

/// Frames go out whole: `Stdout` alone flushes every 1 KiB, so a terminal (or a tmux pane)
/// could show half a frame, half a stop dialog. Buffered here, each frame is one write, sent
/// when ratatui flushes at the end of a draw. 64 KiB holds a full redraw of a large screen.
const FRAME_BUFFER: usize = 64 * 1024;

pub(crate) type FrameTerminal = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

use super::event_loop::{Event, JobControl};

/// The terminal in TUI mode. Dropping it puts the terminal back.
pub(crate) struct Screen {
    pub(crate) terminal: FrameTerminal,
    active: bool,
}

impl Screen {
    pub(crate) fn enter() -> anyhow::Result<Self> {
        install_panic_restore();
        let terminal = match take_screen() {
            Ok(terminal) => terminal,
            Err(error) => {
                restore_terminal();
                return Err(error).context("cannot set up the terminal");
            }
        };
        if let Err(error) = execute!(stdout(), EnableMouseCapture) {
            restore_terminal();
            return Err(error).context("cannot enable mouse reporting");
        }
        Ok(Self {
            terminal,
            active: true,
        })
    }

    pub(crate) fn leave(&mut self) {
        if self.active {
            self.active = false;
            restore_terminal();
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        self.leave();
    }
}

/// Raw mode and the alternate screen, and a terminal that writes each frame in one go.
fn take_screen() -> std::io::Result<FrameTerminal> {
    enable_raw_mode()?;
    execute!(stdout(), EnterAlternateScreen)?;
    Terminal::new(CrosstermBackend::new(BufWriter::with_capacity(
        FRAME_BUFFER,
        stdout(),
    )))
}

/// Job control on the real terminal.
pub(crate) struct RealJobControl;

impl JobControl for RealJobControl {
    fn suspend(&mut self) -> anyhow::Result<()> {
        restore_terminal();
        crate::collect::signals::stop_self()?;
        // Continued (`fg`): here again.
        self.resume()
    }

    fn resume(&mut self) -> anyhow::Result<()> {
        ratatui::crossterm::terminal::enable_raw_mode().context("cannot set up the terminal")?;
        execute!(
            stdout(),
            ratatui::crossterm::terminal::EnterAlternateScreen,
            EnableMouseCapture,
            ratatui::crossterm::terminal::Clear(ratatui::crossterm::terminal::ClearType::All)
        )
        .context("cannot set up the terminal")
    }

    fn discard_typeahead(&mut self) {
        #[cfg(unix)]
        let _ = rustix::termios::tcflush(std::io::stdin(), rustix::termios::QueueSelector::IFlush);
    }
}

/// Undoes mouse capture, raw mode and the alternate screen. Safe to call more than once.
fn restore_terminal() {
    let _ = execute!(stdout(), DisableMouseCapture);
    ratatui::restore();
}

/// Restores the terminal before a panic message is printed, so it is readable and the shell
/// is usable afterwards.
fn install_panic_restore() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// Reads terminal input on its own thread so the loop never blocks on the keyboard. A read that
/// fails (no descriptor left for the terminal, the terminal gone) is handed to the loop, which
/// ends with it: a table that cannot hear `q` must not stay on screen.
pub(crate) fn spawn_input_reader(tx: Sender<Event>) -> anyhow::Result<()> {
    thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            loop {
                match event::read() {
                    Ok(input) => {
                        if tx.send(Event::Input(input)).is_err() {
                            break;
                        }
                    }
                    Err(error) => {
                        let _ = tx.send(Event::Failed(why_input_failed(error)));
                        break;
                    }
                }
            }
        })
        .context("cannot start the input thread")?;
    Ok(())
}

/// The input reader's error, with the cause it often hides: crossterm reports only "Failed to
/// initialize input reader" when this process has no descriptor left for it.
fn why_input_failed(error: std::io::Error) -> anyhow::Error {
    // The reader needs a handful of descriptors at once (tty, poll, wake pipe); see whether
    // that many can still be opened.
    let mut held = Vec::new();
    let mut out_of_descriptors = None;
    for _ in 0..8 {
        match std::fs::File::open("/dev/null") {
            Ok(file) => held.push(file),
            Err(e) if matches!(e.raw_os_error(), Some(23 | 24)) => {
                out_of_descriptors = Some(e);
                break;
            }
            Err(_) => break,
        }
    }
    drop(held);
    match out_of_descriptors {
        Some(cause) => {
            anyhow::Error::new(cause).context(format!("cannot read the keyboard ({error})"))
        }
        None => anyhow::Error::new(error).context("cannot read the keyboard"),
    }
}

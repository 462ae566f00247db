//! The real terminal: raw mode, the alternate screen and mouse reporting, given back on every
//! way out (return, error, panic); and the thread that reads its input.

use std::io::stdout;
use std::sync::mpsc::Sender;
use std::thread;

use anyhow::Context as _;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;

use super::event_loop::Event;

/// The terminal in TUI mode. Dropping it puts the terminal back.
pub(crate) struct Screen {
    pub(crate) terminal: DefaultTerminal,
    active: bool,
}

impl Screen {
    pub(crate) fn enter() -> anyhow::Result<Self> {
        install_panic_restore();
        let terminal = ratatui::try_init().context("cannot set up the terminal")?;
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

/// Reads terminal input on its own thread so the loop never blocks on the keyboard.
pub(crate) fn spawn_input_reader(tx: Sender<Event>) -> anyhow::Result<()> {
    thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            while let Ok(input) = event::read() {
                if tx.send(Event::Input(input)).is_err() {
                    break;
                }
            }
        })
        .context("cannot start the input thread")?;
    Ok(())
}

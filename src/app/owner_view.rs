//! The inspect view and the stop dialog: which socket and process they show, and the one
//! path from a key press to `Effect::Signal` (only `ConfirmKill` takes it).

use super::{App, Inspected, Mode, PendingKill};
use crate::app::action::{Action, Effect, Status};
use crate::model::{Signal, Target};

impl App {
    /// The inspect view and the stop dialog.
    pub(super) fn update_owner_view(&mut self, action: Action) -> Option<Effect> {
        match action {
            Action::Inspect => self.inspect_selected(),
            Action::NextHolder => self.next_holder(),
            Action::Kill(signal) => self.ask_to_kill(signal),
            Action::ConfirmKill => self.confirm_kill(),
            Action::CancelKill => {
                let pending = self.pending_kill.take()?;
                self.mode = pending.from;
                self.status = Some(Status::info(format!(
                    "cancelled: nothing was sent to {}",
                    pending.target.label()
                )));
                None
            }
            Action::Details(key, details) => {
                let inspected = self.inspected.as_ref().and_then(Inspected::owner);
                let wanted = inspected.map(|o| o.key) == Some(key)
                    || self.pending_kill.as_ref().map(|p| p.target.key) == Some(key);
                if wanted {
                    self.details = Some((key, *details));
                }
                None
            }
            _ => None,
        }
    }

    fn inspect_selected(&mut self) -> Option<Effect> {
        let socket = self.selected_socket()?.clone();
        let owner = socket.primary_owner().map(|o| o.key);
        self.inspected = Some(Inspected {
            socket,
            holder: 0,
            closed: false,
            scroll: 0,
        });
        self.mode = Mode::Inspect;
        owner.map(Effect::Describe)
    }

    fn next_holder(&mut self) -> Option<Effect> {
        let inspected = self.inspected.as_mut()?;
        let holders = inspected.socket.owners.len();
        if holders < 2 {
            return None;
        }
        inspected.holder = (inspected.holder + 1) % holders;
        inspected.owner().map(|o| Effect::Describe(o.key))
    }

    /// Keeps the inspected socket current, or marks it closed; asks for fresh details (CPU,
    /// memory) while the inspect view is open.
    pub(super) fn refresh_inspected(&mut self) -> Option<Effect> {
        let inspected = self.inspected.as_mut()?;
        let key = inspected.socket.key();
        // The newest collection, even while the table is paused.
        let latest = self.held.as_ref().unwrap_or(&self.snapshot);
        match latest.sockets.iter().find(|s| s.key() == key) {
            Some(socket) => {
                inspected.socket = socket.clone();
                inspected.holder = inspected.holder.min(socket.owners.len().saturating_sub(1));
                inspected.closed = false;
            }
            None => inspected.closed = true,
        }
        if self.mode == Mode::Inspect {
            inspected.owner().map(|o| Effect::Describe(o.key))
        } else {
            None
        }
    }

    /// Opens the stop dialog for the owner of the inspected or selected socket.
    fn ask_to_kill(&mut self, signal: Signal) -> Option<Effect> {
        if self.read_only {
            self.status = Some(Status::error(
                "stopping processes is disabled: loopwatch runs read-only",
            ));
            return None;
        }
        let (socket, owner) = if let (Some(inspected), Mode::Inspect) = (&self.inspected, self.mode)
        {
            (inspected.socket.clone(), inspected.owner().cloned())
        } else {
            let socket = self.selected_socket()?.clone();
            let owner = socket.primary_owner().cloned();
            (socket, owner)
        };
        let Some(owner) = owner else {
            let reason = socket
                .unknown
                .map_or("its owner is unknown", |r| r.explain());
            self.status = Some(Status::error(format!(
                "cannot stop the owner of port {}: {reason}",
                socket.local_port
            )));
            return None;
        };
        let target = Target {
            key: owner.key,
            name: owner.name.clone(),
            user: owner.user.clone(),
        };
        self.pending_kill = Some(PendingKill {
            target,
            signal,
            socket,
            cmdline: owner.cmdline,
            from: self.mode,
        });
        self.mode = Mode::Confirm;
        Some(Effect::Describe(owner.key))
    }

    fn confirm_kill(&mut self) -> Option<Effect> {
        let pending = self.pending_kill.take()?;
        self.mode = pending.from;
        self.status = Some(Status::info(format!(
            "sending {} to {}...",
            pending.signal,
            pending.target.label()
        )));
        Some(Effect::Signal {
            target: pending.target,
            signal: pending.signal,
            port: pending.socket.local_port,
        })
    }
}

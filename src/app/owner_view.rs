//! The inspect view and the stop dialog: which socket and process they show, and the one
//! path from a key press to `Effect::Signal` (only `ConfirmKill` takes it).

use super::{App, Inspected, PendingContainerStop, PendingKill, View};
use crate::app::action::{Action, Effect, Status};
use crate::domain::followup::{self, FollowUp};
use crate::domain::supervisor::{Behind, Restarts, Supervision};
use crate::model::{ContainerStopped, Signal, Target};

impl App {
    /// The inspect view and the stop dialog.
    pub(super) fn update_owner_view(&mut self, action: Action) -> Option<Effect> {
        match action {
            Action::Inspect => self.inspect_selected(),
            Action::NextHolder => self.next_holder(),
            Action::Kill(signal) => self.ask_to_kill(signal),
            Action::ConfirmKill => self.confirm_kill(),
            Action::CancelKill => {
                let subject = self.close_any_dialog()?;
                self.status = Some(Status::info(format!("cancelled: {subject}")));
                None
            }
            Action::CancelUnseen => {
                let subject = self.close_any_dialog()?;
                self.status = Some(Status::error(format!(
                    "the stop dialog did not fit the terminal: {subject}"
                )));
                None
            }
            Action::ContainerStopped { container, outcome } => {
                let text = outcome.message(&container);
                if outcome == ContainerStopped::Now {
                    self.status = Some(Status::info(format!("{text}; watching the port…")));
                    return Some(Effect::FollowStoppedContainer);
                }
                self.status = Some(if outcome == ContainerStopped::Already {
                    Status::info(text)
                } else {
                    Status::error(text)
                });
                None
            }
            Action::Details(key, details) => {
                let inspected = self.view.inspected().and_then(Inspected::owner);
                let wanted = inspected.map(|o| o.key) == Some(key)
                    || self.pending_kill().map(|p| p.target.key) == Some(key);
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
        self.view = View::Inspect(Inspected {
            socket,
            holder: 0,
            closed: false,
            scroll: 0,
        });
        owner.map(Effect::Describe)
    }

    fn next_holder(&mut self) -> Option<Effect> {
        let View::Inspect(inspected) = &mut self.view else {
            return None;
        };
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
        // The newest collection, even while the table is paused.
        let latest = self.feed.held.as_ref().unwrap_or(&self.feed.snapshot);
        let in_view = matches!(self.view, View::Inspect(_));
        let inspected = self.view.inspected_mut()?;
        let key = inspected.socket.key();
        match latest.sockets.iter().find(|s| s.key() == key) {
            Some(socket) => {
                inspected.socket = socket.clone();
                inspected.holder = inspected.holder.min(socket.owners.len().saturating_sub(1));
                inspected.closed = false;
            }
            None => inspected.closed = true,
        }
        if in_view {
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
        let (socket, owner, over) = if let View::Inspect(inspected) = &self.view {
            let owner = inspected.owner().cloned();
            (inspected.socket.clone(), owner, Some(inspected.clone()))
        } else {
            let socket = self.selected_socket()?.clone();
            let owner = socket.primary_owner().cloned();
            (socket, owner, None)
        };
        if let Some(container) = socket.container.clone() {
            // The container is what holds the port: stopping its proxy would only break it.
            self.view = View::ConfirmContainer(Box::new(PendingContainerStop {
                container,
                socket,
                over,
            }));
            return None;
        }
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
        self.view = View::Confirm(Box::new(PendingKill {
            target: Target::of(&owner),
            signal,
            socket,
            cmdline: owner.cmdline,
            over,
        }));
        Some(Effect::Describe(owner.key))
    }

    fn confirm_kill(&mut self) -> Option<Effect> {
        if matches!(self.view, View::ConfirmContainer(_)) {
            return self.confirm_container_stop();
        }
        let pending = self.close_dialog()?;
        self.status = Some(Status::info(format!(
            "sending {} to {}...",
            pending.signal,
            pending.target.label()
        )));
        let restart_expected = match self.details_of(pending.target.key) {
            Some(Ok(details)) => {
                Supervision::of(&Behind::details(details, &self.latest().engine))
                    .after(pending.signal)
                    .restarts
                    == Restarts::Yes
            }
            _ => false,
        };
        Some(Effect::Signal {
            target: pending.target,
            signal: pending.signal,
            port: pending.socket.local_port,
            restart_expected,
        })
    }

    fn confirm_container_stop(&mut self) -> Option<Effect> {
        let pending = self.close_container_dialog()?;
        self.status = Some(Status::info(format!(
            "stopping container {} (SIGKILL follows after its stop timeout, 10 s unless set)…",
            pending.container.name
        )));
        let follow_up = FollowUp::of_container(
            &pending.socket,
            self.latest(),
            // The engine returns once the container is down: the port goes with it.
            followup::DEFAULT_PATIENCE,
        );
        Some(Effect::StopContainer {
            container: pending.container,
            follow_up: Box::new(follow_up),
        })
    }

    /// Closes whichever stop dialog is open; what was not done, in words.
    fn close_any_dialog(&mut self) -> Option<String> {
        if let Some(pending) = self.close_container_dialog() {
            return Some(format!(
                "container {} was not stopped",
                pending.container.name
            ));
        }
        let pending = self.close_dialog()?;
        Some(format!("nothing was sent to {}", pending.target.label()))
    }

    fn close_container_dialog(&mut self) -> Option<PendingContainerStop> {
        if !matches!(self.view, View::ConfirmContainer(_)) {
            return None;
        }
        let View::ConfirmContainer(mut pending) = std::mem::replace(&mut self.view, View::Table)
        else {
            return None;
        };
        if let Some(inspected) = pending.over.take() {
            self.view = View::Inspect(inspected);
        }
        Some(*pending)
    }

    /// Closes the stop dialog, back to what it was opened over; the stop it asked about.
    fn close_dialog(&mut self) -> Option<PendingKill> {
        if !matches!(self.view, View::Confirm(_)) {
            return None;
        }
        let View::Confirm(mut pending) = std::mem::replace(&mut self.view, View::Table) else {
            return None;
        };
        if let Some(inspected) = pending.over.take() {
            self.view = View::Inspect(inspected);
        }
        Some(*pending)
    }
}

//! What systemd says about a service: its `Restart=` policy and its main process, parsed from
//! the output of `systemctl show UNIT --property=Restart,MainPID,LoadState` (pure; `collect`
//! runs the program).

use super::OsText;

/// The properties asked for, as `systemctl show --property=` takes them.
pub const UNIT_PROPERTIES: &str = "Restart,MainPID,LoadState";

/// systemd's `Restart=` setting of a service: when it starts the service again after its main
/// process exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Restart {
    No,
    Always,
    OnSuccess,
    OnFailure,
    OnAbnormal,
    OnAbort,
    OnWatchdog,
}

impl Restart {
    pub const ALL: [Restart; 7] = [
        Restart::No,
        Restart::Always,
        Restart::OnSuccess,
        Restart::OnFailure,
        Restart::OnAbnormal,
        Restart::OnAbort,
        Restart::OnWatchdog,
    ];

    /// The value as systemd writes it (`on-failure`).
    pub fn as_str(self) -> &'static str {
        match self {
            Restart::No => "no",
            Restart::Always => "always",
            Restart::OnSuccess => "on-success",
            Restart::OnFailure => "on-failure",
            Restart::OnAbnormal => "on-abnormal",
            Restart::OnAbort => "on-abort",
            Restart::OnWatchdog => "on-watchdog",
        }
    }

    pub fn parse(value: &str) -> Option<Restart> {
        Restart::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

/// A service as systemd described it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnitState {
    pub restart: Restart,
    /// The process whose exit the policy applies to; `None` when systemd names none.
    pub main_pid: Option<u32>,
}

/// What asking systemd about a service came to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UnitAnswer {
    Known(UnitState),
    /// systemd has no such unit loaded (`LoadState=not-found`).
    NotFound,
    /// systemd could not be asked, or said nothing usable: why, in words (what systemctl
    /// printed is part of it, so it prints inert).
    Unknown(OsText),
}

impl UnitAnswer {
    /// Parses what `systemctl show --property=Restart,MainPID,LoadState` printed on stdout:
    /// `Key=Value` lines in any order. Anything else is said to be unknown, never guessed.
    pub fn from_systemctl(stdout: &str) -> UnitAnswer {
        let value = |key: &str| {
            stdout.lines().find_map(|line| {
                line.trim_end_matches('\r')
                    .strip_prefix(key)
                    .and_then(|rest| rest.strip_prefix('='))
            })
        };
        match value("LoadState") {
            Some("loaded") | None => {}
            Some("not-found") => return UnitAnswer::NotFound,
            Some(other) => {
                return UnitAnswer::Unknown(
                    format!("systemd reports the unit's LoadState={other}").into(),
                );
            }
        }
        let Some(restart) = value("Restart") else {
            return UnitAnswer::Unknown(
                "systemctl printed no Restart= line loopwatch could read".into(),
            );
        };
        let Some(restart) = Restart::parse(restart) else {
            return UnitAnswer::Unknown(
                format!("systemd answered Restart={restart}, a value loopwatch does not know")
                    .into(),
            );
        };
        let main_pid = value("MainPID")
            .and_then(|pid| pid.parse::<u32>().ok())
            .filter(|&pid| pid != 0);
        UnitAnswer::Known(UnitState { restart, main_pid })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemctls_answer_parses_in_any_order() {
        assert_eq!(
            UnitAnswer::from_systemctl("Restart=always\nMainPID=812\nLoadState=loaded\n"),
            UnitAnswer::Known(UnitState {
                restart: Restart::Always,
                main_pid: Some(812)
            })
        );
        assert_eq!(
            UnitAnswer::from_systemctl("LoadState=loaded\r\nMainPID=0\r\nRestart=on-failure\r\n"),
            UnitAnswer::Known(UnitState {
                restart: Restart::OnFailure,
                main_pid: None
            })
        );
        for restart in Restart::ALL {
            let text = format!("Restart={}\nMainPID=1\n", restart.as_str());
            assert!(
                matches!(UnitAnswer::from_systemctl(&text), UnitAnswer::Known(s) if s.restart == restart)
            );
        }
    }

    #[test]
    fn an_unknown_unit_or_garbage_is_never_guessed() {
        assert_eq!(
            UnitAnswer::from_systemctl("Restart=no\nMainPID=0\nLoadState=not-found\n"),
            UnitAnswer::NotFound
        );
        for garbage in [
            "",
            "\u{1b}[2J",
            "Restart\nMainPID",
            "Restart=sometimes\nMainPID=5\n",
            "XRestart=always\n",
            "Restart= always\n",
            "LoadState=masked\nRestart=always\n",
        ] {
            let UnitAnswer::Unknown(why) = UnitAnswer::from_systemctl(garbage) else {
                panic!("{garbage:?} was understood");
            };
            assert!(!why.inert().chars().any(crate::model::is_unsafe));
        }
        let UnitAnswer::Unknown(why) = UnitAnswer::from_systemctl("Restart=\u{1b}]0;x\u{7}\n")
        else {
            panic!("understood")
        };
        assert_eq!(
            why.inert(),
            "systemd answered Restart=\\e]0;x\\x07, a value loopwatch does not know"
        );
    }
}

//! The values the command line and the config file accept: ports and durations, each with the
//! one-line message that says what a valid one looks like.

use std::time::Duration;

use crate::model::Signal;

use crate::app::{MAX_INTERVAL, MIN_INTERVAL};

/// A value that is not one the option accepts; the message names the valid ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvalidValue {
    Port,
    PortOrCommand,
    WaitTimeout,
    Interval,
    KillTimeout,
}

impl InvalidValue {
    /// What a valid value is.
    pub(crate) fn rule(self) -> &'static str {
        match self {
            InvalidValue::Port => "port must be a number from 1 to 65535",
            InvalidValue::PortOrCommand => {
                "port must be a number from 1 to 65535, or a command: list, who, kill, watch, explain, why, doctor, completions, man"
            }
            InvalidValue::WaitTimeout => "timeout must be a number of seconds from 0.1 to 86400",
            InvalidValue::Interval => "interval must be from 100ms to 60s",
            InvalidValue::KillTimeout => "timeout must be from 0.1 to 600 seconds",
        }
    }

    /// An example of a valid value, when one helps.
    pub(crate) fn example(self) -> Option<&'static str> {
        match self {
            InvalidValue::Port | InvalidValue::PortOrCommand => None,
            InvalidValue::WaitTimeout => Some("e.g. --timeout 30"),
            InvalidValue::Interval => Some("e.g. --interval 500ms or --interval 2s"),
            InvalidValue::KillTimeout => Some("e.g. --timeout 5"),
        }
    }

    /// The one-line message for the value the user gave: `port must be a number from 1 to
    /// 65535, got -1`.
    pub(crate) fn message(self, got: &str) -> String {
        // `who 1,,2`: an empty member is named as such, not as nothing after "got".
        let got = if got.trim().is_empty() {
            "an empty value".into()
        } else {
            crate::model::inert(got)
        };
        match self.example() {
            Some(example) => format!("{}, got {got} ({example})", self.rule()),
            None if self == InvalidValue::PortOrCommand => {
                format!(
                    "expected a port from 1 to 65535 or a command (list, who, kill, watch, explain, why, doctor, completions, man), got {got}"
                )
            }
            None => format!("{}, got {got}", self.rule()),
        }
    }
}

impl std::fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.rule())?;
        match self.example() {
            Some(example) => write!(f, ", {example}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for InvalidValue {}

/// A local port, 1 to 65535 (0 means "any port" to the OS, so nothing is ever bound to it).
pub(crate) fn parse_port(text: &str) -> Result<u16, InvalidValue> {
    match text.trim().parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(InvalidValue::Port),
    }
}

/// The shorthand `loopwatch PORT` sits where a command name goes, so a word there is more
/// likely a mistyped command than a port: say so.
pub(crate) fn parse_port_or_command(text: &str) -> Result<u16, InvalidValue> {
    parse_port(text).map_err(|range| {
        // A number out of range (`-1` included) is a bad port, not a bad command name.
        let digits = text.trim().trim_start_matches(['-', '+']);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            range
        } else {
            InvalidValue::PortOrCommand
        }
    })
}

/// A timeout in seconds (`30`, `2.5`, or with a unit: `500ms`, `10s`), up to a day.
pub(crate) fn parse_wait_timeout(text: &str) -> Result<Duration, InvalidValue> {
    parse_duration(text, Duration::from_millis(100)..=Duration::from_hours(24))
        .ok_or(InvalidValue::WaitTimeout)
}

/// A refresh interval: `250ms`, `1s`, `1.5s`, or a bare number of seconds (`2`), within
/// [`MIN_INTERVAL`]..=[`MAX_INTERVAL`].
pub(crate) fn parse_interval(text: &str) -> Result<Duration, InvalidValue> {
    parse_duration(text, MIN_INTERVAL..=MAX_INTERVAL).ok_or(InvalidValue::Interval)
}

/// How long `kill` waits for the port: `3`, `0.5`, `500ms`, from 0.1 to 600 seconds.
pub(crate) fn parse_timeout(text: &str) -> Result<Duration, InvalidValue> {
    parse_duration(text, Duration::from_millis(100)..=Duration::from_mins(10))
        .ok_or(InvalidValue::KillTimeout)
}

/// A duration as people type it, inside `range`: a bare number of seconds (`2`, `1.5`, `.5`),
/// read exactly so a value written on a limit stays inside it, or anything `humantime` reads
/// (`500ms`, `2s`, `1m`, `1.5s`, `1m30s`).
fn parse_duration(text: &str, range: std::ops::RangeInclusive<Duration>) -> Option<Duration> {
    let text = text.trim();
    let duration = if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        parse_decimal(text, 1_000_000_000)?
    } else {
        humantime::parse_duration(text).ok()?
    };
    Some(duration).filter(|d| range.contains(d))
}
/// Parses a plain decimal (`2`, `1.5`, `.5`) times a unit given in nanoseconds, exactly: a
/// float cannot hold most decimals, and a value written on a limit must not fall outside it.
fn parse_decimal(number: &str, unit_nanos: u128) -> Option<Duration> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    // Far past the 60 s limit either way; the cap keeps the arithmetic below from overflowing.
    if whole.len() > 12 {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    // Padded or cut to nine digits: the fraction in billionths of the unit.
    let fraction_nanos: u128 = format!("{fraction:0<9.9}").parse().ok()?;
    let nanos = whole * unit_nanos + fraction_nanos * unit_nanos / 1_000_000_000;
    Some(Duration::from_nanos(u64::try_from(nanos).ok()?))
}

/// `--signal`: every spelling [`Signal::parse`] takes (`TERM`, `sigterm`, `15`), and the four
/// names as the possible values, so shell completions offer them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignalParser;

impl clap::builder::TypedValueParser for SignalParser {
    type Value = Signal;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Signal, clap::Error> {
        // Parsed, and refused, exactly as a plain function parser would be.
        let parse: fn(&str) -> Result<Signal, crate::model::UnknownSignal> = Signal::parse;
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            ["TERM", "INT", "HUP", "KILL"]
                .into_iter()
                .map(clap::builder::PossibleValue::new),
        ))
    }
}

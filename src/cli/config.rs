//! The configuration file: TOML in the platform's config directory
//! (`$XDG_CONFIG_HOME/loopwatch/config.toml` on Linux) or the file `--config` names.
//!
//! Every key is checked by hand so a mistake is reported as one line naming the key, and a
//! file with any bad value is refused whole: defaults are never half-replaced by garbage.
//!
//! ```toml
//! interval = "500ms"          # as --interval: 100ms to 60s
//! connections = true          # start with TCP connections shown (c)
//! all_addresses = false       # start with other addresses shown (a)
//! grouped = false             # start grouped by process (v)
//! sort = "process"            # proto, address, port, scope, state, pid, process, user, command
//! sort_descending = false
//! theme = "high-contrast"     # default, high-contrast, colour-blind
//! read_only = true            # no way to stop processes from loopwatch
//! hidden_columns = ["user", "command"]
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Value;

use crate::app::Settings;
use crate::cli::{Command, Unset, parse_interval};
use crate::domain::sort::{Column, SortSpec};
use crate::model::Query;
use crate::model::SystemFacts;
use crate::ui::theme::ThemeName;

/// The settings a config file may give; `None` (or empty) where it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) interval: Option<Duration>,
    pub(crate) connections: Option<bool>,
    pub(crate) all_addresses: Option<bool>,
    pub(crate) grouped: Option<bool>,
    pub(crate) sort: Option<Column>,
    pub(crate) sort_descending: Option<bool>,
    pub(crate) theme: Option<ThemeName>,
    pub(crate) read_only: Option<bool>,
    pub(crate) hidden_columns: Vec<Column>,
}

/// Why a config file was refused. `Display` is one line, naming the file and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigError {
    /// The file, when there is one.
    pub(crate) path: Option<PathBuf>,
    pub(crate) problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// There is no such file.
    Missing,
    Unreadable(String),
    Syntax {
        line: usize,
        message: String,
    },
    UnknownKey(String),
    BadValue {
        key: String,
        expected: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The path, a key and a parser's message can all carry text from the file (or a
        // shared file's name): shown inert, as any text loopwatch did not write.
        use crate::model::inert;
        match &self.path {
            Some(path) => write!(f, "config {}: ", inert(&path.to_string_lossy()))?,
            None => f.write_str("config: ")?,
        }
        match &self.problem {
            Problem::Missing => f.write_str("cannot read it: no such file"),
            Problem::Unreadable(why) => write!(f, "cannot read it: {}", inert(why)),
            Problem::Syntax { line, message } => write!(f, "line {line}: {}", inert(message)),
            Problem::UnknownKey(key) => write!(
                f,
                "unknown key `{}` (known keys: {})",
                inert(key),
                KEYS.join(", ")
            ),
            Problem::BadValue { key, expected } => write!(f, "`{}` {expected}", inert(key)),
        }
    }
}

impl std::error::Error for ConfigError {}

const KEYS: [&str; 9] = [
    "interval",
    "connections",
    "all_addresses",
    "grouped",
    "sort",
    "sort_descending",
    "theme",
    "read_only",
    "hidden_columns",
];

const COLUMN_NAMES: [(&str, Column); 9] = [
    ("proto", Column::Proto),
    ("address", Column::Address),
    ("port", Column::Port),
    ("scope", Column::Scope),
    ("state", Column::State),
    ("pid", Column::Pid),
    ("process", Column::Process),
    ("user", Column::User),
    ("command", Column::Command),
];

/// Where read-only mode was asked for: each has its own way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOnly {
    /// `--read-only` or `LOOPWATCH_READ_ONLY`.
    Flag,
    /// `read_only = true` in the config file.
    ConfigFile,
}

impl ReadOnly {
    /// Why `kill` does not run, and what lifts it.
    pub(crate) fn refusal(self) -> String {
        let (source, fix) = match self {
            ReadOnly::Flag => (
                "--read-only or LOOPWATCH_READ_ONLY",
                "drop the flag to stop processes",
            ),
            ReadOnly::ConfigFile => (
                "read_only = true in the config file",
                "no flag lifts it; edit the file and set it to false to stop processes",
            ),
        };
        format!("kill is disabled in read-only mode ({source}): {fix}")
    }
}

/// How the live table starts: the config file under the command line's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveTable {
    pub(crate) query: Query,
    pub(crate) read_only: bool,
    pub(crate) settings: Settings,
    pub(crate) theme: ThemeName,
}

impl Config {
    /// The one place the config file meets the command line: a `kill` the config's
    /// read-only mode forbids is refused (the message says how to lift it).
    pub(crate) fn refusal(&self, command: &Command) -> Option<String> {
        (self.read_only == Some(true) && matches!(command, Command::Kill(_)))
            .then(|| ReadOnly::ConfigFile.refusal())
    }

    /// What `--no-config` keeps of a file: only `read_only = true`, which no flag lifts.
    #[must_use]
    pub(crate) fn read_only_part(self) -> Config {
        Config {
            read_only: self.read_only,
            ..Config::default()
        }
    }

    /// The live table's start: `interval`, the query toggles and `read_only` from the command
    /// line win over the config's, which win over the defaults; `unset` turns the config's
    /// toggles off.
    pub(crate) fn live_table(
        &self,
        interval: Option<Duration>,
        query: Query,
        read_only: bool,
        unset: Unset,
        facts: SystemFacts,
    ) -> LiveTable {
        LiveTable {
            query: self.query(query, unset),
            read_only: read_only || self.read_only == Some(true),
            settings: self.settings(interval, unset, facts),
            theme: self.theme.unwrap_or_default(),
        }
    }

    /// The table's starting settings: the config's, under whatever the command line gave
    /// (`interval_flag` is `--interval` when it was given).
    fn settings(
        &self,
        interval_flag: Option<Duration>,
        unset: Unset,
        facts: SystemFacts,
    ) -> Settings {
        let defaults = Settings::default();
        let unless = |off: bool, value: Option<bool>| if off { None } else { value };
        Settings {
            interval: interval_flag.or(self.interval).unwrap_or(defaults.interval),
            sort: SortSpec {
                column: self.sort.unwrap_or(defaults.sort.column),
                descending: unless(unset.sort_descending, self.sort_descending)
                    .unwrap_or(defaults.sort.descending),
            },
            grouped: unless(unset.grouped, self.grouped).unwrap_or(defaults.grouped),
            hidden_columns: self.hidden_columns.clone(),
            facts,
        }
    }

    /// The table's starting query: `-a`/`-c` on the command line, or the config's toggles
    /// unless `--no-all`/`--no-connections` turned them off.
    fn query(&self, flags: Query, unset: Unset) -> Query {
        Query {
            connections: flags.connections
                || !unset.connections && self.connections.unwrap_or(false),
            all_addresses: flags.all_addresses
                || !unset.all_addresses && self.all_addresses.unwrap_or(false),
            ..flags
        }
    }
}

/// Where the config file lives when `--config` is not given.
pub(crate) fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("loopwatch").join("config.toml"))
}

/// Loads `explicit` (which must exist), or else the default file if there is one.
pub(crate) fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
    let (path, required) = match explicit {
        Some(path) => (path.to_path_buf(), true),
        None => match default_path() {
            Some(path) => (path, false),
            None => return Ok(Config::default()),
        },
    };
    match read_capped(&path) {
        Ok(bytes) => decode(&bytes).map_err(|problem| ConfigError {
            path: Some(path),
            problem,
        }),
        // No default file: nothing configured. Any other failure is an error, even for the
        // default file: it may hold `read_only = true`, and skipping it would lift that.
        Err(Problem::Missing) if !required => Ok(Config::default()),
        Err(Problem::Unreadable(_)) if !required && !reachable(&path) => Ok(Config::default()),
        Err(problem) => Err(ConfigError {
            path: Some(path),
            problem,
        }),
    }
}

/// Whether this user could see a file at `path` at all: its folder can be searched. A default
/// path inside another user's home (a `$HOME` kept across a change of user) is nobody's
/// config for this user, so it counts as absent; a file this user can find but not read
/// does not.
fn reachable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        path.parent()
            .is_none_or(|dir| rustix::fs::access(dir, rustix::fs::Access::EXEC_OK).is_ok())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        true
    }
}

/// The most a config file may hold: far more than every key at once, far less than memory.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Reads a config file: a regular file (or a character device such as /dev/null) of at most
/// [`MAX_CONFIG_BYTES`]. A FIFO, a socket or a directory is refused without waiting on it or
/// reading it.
fn read_capped(path: &Path) -> Result<Vec<u8>, Problem> {
    use std::io::Read as _;
    let unreadable = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => Problem::Missing,
        std::io::ErrorKind::PermissionDenied => Problem::Unreadable(
            "permission denied; make it readable, or pass another file with --config".into(),
        ),
        _ => Problem::Unreadable(e.to_string()),
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Opening a FIFO for reading would wait for a writer; non-blocking, it returns at once
    // and is then refused as not a regular file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(i32::try_from(rustix::fs::OFlags::NONBLOCK.bits()).unwrap_or(0));
    }
    let file = options.open(path).map_err(unreadable)?;
    let metadata = file.metadata().map_err(unreadable)?;
    // A regular file, or a device such as /dev/null (`--config /dev/null`: no configuration);
    // a device that never ends is cut short by the size cap below.
    #[cfg(unix)]
    let readable_kind = {
        use std::os::unix::fs::FileTypeExt as _;
        metadata.is_file() || metadata.file_type().is_char_device()
    };
    #[cfg(not(unix))]
    let readable_kind = metadata.is_file();
    if !readable_kind {
        return Err(Problem::Unreadable(
            "not a regular file; pass a file with --config".into(),
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(Problem::Unreadable(format!(
            "larger than {} KiB; a config file is a few lines",
            MAX_CONFIG_BYTES / 1024
        )));
    }
    Ok(bytes)
}

/// A config file's bytes, as read from disk: UTF-8 text, then parsed. Everything a file can
/// hold goes through here, so this is what the properties below feed arbitrary bytes.
fn decode(bytes: &[u8]) -> Result<Config, Problem> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| Problem::Unreadable("not UTF-8 text".into()))?;
    parse(text)
}

/// Parses a config file's text.
pub(crate) fn parse(text: &str) -> Result<Config, Problem> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map_or(1, |span| {
            // Lines are counted by the newlines before the error: `lines()` would miss the
            // last one when the error starts a line.
            1 + text[..span.start.min(text.len())].matches('\n').count()
        });
        let message = e
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_string();
        Problem::Syntax { line, message }
    })?;
    let mut config = Config::default();
    for (key, value) in &table {
        let bad = |expected: &str| Problem::BadValue {
            key: key.clone(),
            expected: expected.to_string(),
        };
        let flag = || value.as_bool().ok_or_else(|| bad("must be true or false"));
        match key.as_str() {
            "interval" => {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Integer(n) => n.to_string(),
                    Value::Float(x) => x.to_string(),
                    _ => String::new(),
                };
                config.interval = Some(parse_interval(&text).map_err(|_| {
                    bad("must be a duration from 100ms to 60s, e.g. \"500ms\" or \"2s\"")
                })?);
            }
            "connections" => config.connections = Some(flag()?),
            "all_addresses" => config.all_addresses = Some(flag()?),
            "grouped" => config.grouped = Some(flag()?),
            "sort_descending" => config.sort_descending = Some(flag()?),
            "read_only" => config.read_only = Some(flag()?),
            "sort" => {
                config.sort = Some(
                    value
                        .as_str()
                        .and_then(column_named)
                        .ok_or_else(|| bad(&format!("must be one of {}", column_list())))?,
                );
            }
            "theme" => {
                config.theme =
                    Some(value.as_str().and_then(ThemeName::parse).ok_or_else(|| {
                        bad("must be \"default\", \"high-contrast\" or \"colour-blind\"")
                    })?);
            }
            "hidden_columns" => {
                let expected = format!("must be a list of {}", column_list());
                let items = value.as_array().ok_or_else(|| bad(&expected))?;
                let mut columns = Vec::new();
                for item in items {
                    let column = item
                        .as_str()
                        .and_then(column_named)
                        .ok_or_else(|| bad(&expected))?;
                    if column == Column::Port {
                        return Err(bad("cannot hide the port column"));
                    }
                    columns.push(column);
                }
                config.hidden_columns = columns;
            }
            _ => return Err(Problem::UnknownKey(key.clone())),
        }
    }
    Ok(config)
}

fn column_named(name: &str) -> Option<Column> {
    COLUMN_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
        .map(|(_, c)| *c)
}

fn column_list() -> String {
    COLUMN_NAMES
        .iter()
        .map(|(n, _)| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_parses() {
        let config = parse(
            r#"
            # comments are fine
            interval = "500ms"
            connections = true
            all_addresses = false
            grouped = true
            sort = "process"
            sort_descending = true
            theme = "high-contrast"
            read_only = true
            hidden_columns = ["user", "Command"]
            "#,
        )
        .unwrap();
        assert_eq!(
            config,
            Config {
                interval: Some(Duration::from_millis(500)),
                connections: Some(true),
                all_addresses: Some(false),
                grouped: Some(true),
                sort: Some(Column::Process),
                sort_descending: Some(true),
                theme: Some(ThemeName::HighContrast),
                read_only: Some(true),
                hidden_columns: vec![Column::User, Column::Command],
            }
        );
    }

    #[test]
    fn an_empty_file_is_all_defaults_and_numbers_are_seconds() {
        assert_eq!(parse("").unwrap(), Config::default());
        assert_eq!(
            parse("interval = 2").unwrap().interval,
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse("interval = 0.25").unwrap().interval,
            Some(Duration::from_millis(250))
        );
        // The forms the command line takes.
        for (text, ms) in [
            ("\"1m\"", 60_000),
            ("\"1.5s\"", 1500),
            ("\"1s500ms\"", 1500),
        ] {
            assert_eq!(
                parse(&format!("interval = {text}")).unwrap().interval,
                Some(Duration::from_millis(ms)),
                "{text}"
            );
        }
        assert_eq!(
            parse("theme = \"color-blind\"").unwrap().theme,
            Some(ThemeName::ColourBlind)
        );
    }

    #[test]
    fn bad_values_name_their_key_on_one_line() {
        for (text, message) in [
            (
                "interval = \"5ms\"",
                "`interval` must be a duration from 100ms to 60s",
            ),
            ("interval = true", "`interval` must be a duration"),
            (
                "connections = \"yes\"",
                "`connections` must be true or false",
            ),
            ("read_only = 1", "`read_only` must be true or false"),
            ("sort = \"colour\"", "`sort` must be one of \"proto\""),
            (
                "theme = \"neon\"",
                "`theme` must be \"default\", \"high-contrast\"",
            ),
            (
                "hidden_columns = \"user\"",
                "`hidden_columns` must be a list of",
            ),
            (
                "hidden_columns = [\"user\", 3]",
                "`hidden_columns` must be a list of",
            ),
            (
                "hidden_columns = [\"port\"]",
                "`hidden_columns` cannot hide the port column",
            ),
        ] {
            let error = ConfigError {
                path: Some(PathBuf::from("/home/ana/.config/loopwatch/config.toml")),
                problem: parse(text).unwrap_err(),
            }
            .to_string();
            assert!(
                error.starts_with("config /home/ana/.config/loopwatch/config.toml: "),
                "{error}"
            );
            assert!(error.contains(message), "{text}: {error}");
            assert_eq!(error.lines().count(), 1, "{error}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_with_the_known_ones() {
        let problem = parse("interval = \"1s\"\ncolour = \"red\"").unwrap_err();
        assert_eq!(problem, Problem::UnknownKey("colour".to_string()));
        let line = ConfigError {
            path: None,
            problem,
        }
        .to_string();
        assert!(
            line.starts_with("config: unknown key `colour` (known keys: interval,"),
            "{line}"
        );
        // Tables are keys too.
        assert!(matches!(
            parse("[colors]\nlisten = \"green\""),
            Err(Problem::UnknownKey(k)) if k == "colors"
        ));
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let problem = parse("interval = \"1s\"\nconnections = \n").unwrap_err();
        let Problem::Syntax { line, message } = &problem else {
            panic!("{problem:?}");
        };
        assert_eq!(*line, 2, "{message}");
        assert!(!message.contains('\n'));
        // An error at the very start of a line is on that line, not the one before.
        for (text, want) in [
            ("interval = \"1s\"\n= 3\n", 2),
            (
                "paused = false\nsort = \"port\"\ninterval = \"1s\"\ninterval = \"2s\"\n",
                4,
            ),
        ] {
            let Err(Problem::Syntax { line, .. }) = parse(text) else {
                panic!("{text:?} should not parse");
            };
            assert_eq!(line, want, "{text:?}");
        }
    }

    #[test]
    fn command_line_flags_win_over_the_file() {
        let config = parse("interval = \"5s\"\nconnections = true\nsort = \"pid\"").unwrap();
        let from_file = config.settings(None, Unset::default(), SystemFacts::default());
        assert_eq!(from_file.interval, Duration::from_secs(5));
        assert_eq!(from_file.sort.column, Column::Pid);
        let flag = config.settings(
            Some(Duration::from_millis(250)),
            Unset::default(),
            SystemFacts::default(),
        );
        assert_eq!(flag.interval, Duration::from_millis(250));
        let query = config.query(
            Query {
                all_addresses: true,
                ..Query::default()
            },
            Unset::default(),
        );
        assert!(query.connections && query.all_addresses);
        assert_eq!(
            Config::default().settings(None, Unset::default(), SystemFacts::default()),
            Settings::default()
        );
    }

    #[test]
    fn no_flags_undo_the_files_toggles_but_not_read_only() {
        let config = parse(
            "connections = true\nall_addresses = true\ngrouped = true\nsort_descending = true\nread_only = true",
        )
        .unwrap();
        let kept = config.live_table(
            None,
            Query::default(),
            false,
            Unset::default(),
            SystemFacts::default(),
        );
        assert!(kept.query.connections && kept.query.all_addresses && kept.read_only);
        assert!(kept.settings.grouped && kept.settings.sort.descending);
        let all_off = Unset {
            connections: true,
            all_addresses: true,
            grouped: true,
            sort_descending: true,
        };
        let undone = config.live_table(
            None,
            Query::default(),
            false,
            all_off,
            SystemFacts::default(),
        );
        assert!(!undone.query.connections && !undone.query.all_addresses);
        assert!(!undone.settings.grouped && !undone.settings.sort.descending);
        assert!(undone.read_only, "no flag lifts the file's read_only");
        // --no-config keeps only read_only.
        let bare = config.clone().read_only_part();
        assert_eq!(
            bare,
            Config {
                read_only: Some(true),
                ..Config::default()
            }
        );
        let refusal = bare.refusal(&Command::Kill(crate::cli::KillRequest {
            port: 80,
            signal: crate::model::Signal::Term,
            yes: true,
            dry_run: false,
            format: crate::cli::Format::Text,
            timeout: Duration::from_secs(3),
        }));
        let refusal = refusal.expect("refused");
        assert!(
            refusal.contains("no flag lifts it; edit the file"),
            "{refusal}"
        );
    }

    #[test]
    fn an_explicit_file_must_exist_and_is_read() {
        let dir = std::env::temp_dir().join(format!("loopwatch-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.toml");
        let error = load(Some(&missing)).unwrap_err();
        assert_eq!(error.problem, Problem::Missing, "{error}");
        let file = dir.join("config.toml");
        std::fs::write(&file, "grouped = true\n").unwrap();
        assert_eq!(load(Some(&file)).unwrap().grouped, Some(true));
        std::fs::write(&file, "grouped = maybe\n").unwrap();
        assert!(load(Some(&file)).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// What a hostile or careless `--config` can point at: each is refused at once, with the
    /// reason, and nothing is read without bound.
    #[cfg(unix)]
    #[test]
    fn devices_fifos_directories_and_huge_files_are_refused_quickly() {
        let dir = std::env::temp_dir().join(format!("loopwatch-hostile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let huge = dir.join("huge.toml");
        std::fs::write(&huge, format!("# {}\n", "x".repeat(2 * 1024 * 1024))).unwrap();
        let binary = dir.join("binary.toml");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        let start = std::time::Instant::now();
        for (path, why) in [
            (Path::new("/dev/zero"), "larger than 1024 KiB"),
            (fifo.as_path(), "not a regular file"),
            (dir.as_path(), "not a regular file"),
            (huge.as_path(), "larger than 1024 KiB"),
            (binary.as_path(), "not UTF-8"),
        ] {
            let error = load(Some(path)).unwrap_err().to_string();
            assert!(error.contains(why), "{}: {error}", path.display());
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "no wait, no huge read"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A hostile file name or key reaches stderr as visible escapes, never as a sequence.
    #[test]
    fn a_hostile_path_or_key_is_reported_inert() {
        let error = ConfigError {
            path: Some(PathBuf::from("z\u{1b}[2J\u{202e}")),
            // TOML's own escapes put an ESC and a bidi override into the key.
            problem: parse(r#""k\u001b]0;pwn\u202e" = 1"#).unwrap_err(),
        };
        let message = error.to_string();
        assert!(!message.chars().any(crate::model::is_unsafe), "{message:?}");
        assert!(message.contains("z\\e[2J\\u{202e}"), "{message}");
        assert!(message.contains("k\\e]0;pwn"), "{message}");
    }

    proptest::proptest! {
        #![proptest_config(crate::model::fixtures::fuzz_config(512))]

        /// Whatever a config file holds, parsing answers with a config or a one-line problem.
        #[test]
        fn any_text_parses_or_is_refused_in_one_line(text in "(?s).{0,200}") {
            if let Err(problem) = parse(&text) {
                let message = ConfigError { path: None, problem }.to_string();
                proptest::prop_assert!(!message.contains('\n'), "{message}");
            }
        }

        /// Raw bytes as a file holds them, valid UTF-8 or not, with a real config's lines
        /// spliced in so the parser gets past its first line: an answer or one line, always.
        #[test]
        fn any_bytes_decode_or_are_refused_in_one_line(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            keep in proptest::sample::select(KEYS.to_vec()),
            at in 0usize..300,
        ) {
            let mut bytes = format!("{keep} = 1\n").into_bytes();
            bytes.splice(at.min(bytes.len())..at.min(bytes.len()), noise);
            if let Err(problem) = decode(&bytes) {
                let message = ConfigError { path: None, problem }.to_string();
                proptest::prop_assert!(!message.contains('\n'), "{message}");
            }
        }

        /// Near-valid files, key by key, with garbage values.
        #[test]
        fn known_keys_with_any_value_never_panic(
            key in proptest::sample::select(KEYS.to_vec()),
            value in "[ -~]{0,40}",
        ) {
            let _ = parse(&format!("{key} = {value}\n"));
        }
    }
}

//! The one table of keys. Input handling, the help overlay and the footer all read it, so
//! they cannot disagree.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::Mode;
use crate::app::action::Action;
use crate::domain::sort::Column;
use crate::model::Signal;

/// A key as the table names it, independent of the terminal library's event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Char(char),
    Ctrl(char),
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Enter,
    Esc,
    Backspace,
    Tab,
    Left,
    Right,
    /// A function key, `F(1)` to `F(12)`.
    F(u8),
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// The table (and the help overlay, which passes unknown keys through to close itself).
    Table,
    /// Typing a filter (the table's, or the history's).
    Filter,
    /// The history of changes.
    History,
    /// The explanation of a row.
    Explain,
    /// The inspect view.
    Inspect,
    /// The stop dialog.
    Confirm,
    /// Any mode.
    Global,
}

#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub(crate) context: Context,
    pub(crate) keys: &'static [Key],
    /// How the help overlay and footer name the keys. Keys after a space are aliases (the
    /// function keys htop users reach for): the help names them, the footer leaves them out.
    pub(crate) label: &'static str,
    pub(crate) action: Action,
    pub(crate) help: &'static str,
    /// Short text for the footer, for the few keys worth showing there.
    pub(crate) footer: Option<&'static str>,
}

macro_rules! bind {
    ($ctx:ident, [$($key:expr),+], $label:expr, $action:expr, $help:expr) => {
        Binding { context: Context::$ctx, keys: &[$($key),+], label: $label, action: $action, help: $help, footer: None }
    };
    ($ctx:ident, [$($key:expr),+], $label:expr, $action:expr, $help:expr, footer $footer:expr) => {
        Binding { context: Context::$ctx, keys: &[$($key),+], label: $label, action: $action, help: $help, footer: Some($footer) }
    };
}

/// Every key loopwatch understands, in help-overlay order.
pub(crate) fn bindings() -> &'static [Binding] {
    use Key::{
        Backspace, Char, Ctrl, Down, End, Enter, Esc, F, Home, Left, PageDown, PageUp, Right, Tab,
        Up,
    };
    static BINDINGS: std::sync::OnceLock<Vec<Binding>> = std::sync::OnceLock::new();
    BINDINGS.get_or_init(|| {
        let mut table = vec![
            bind!(Global, [Ctrl('c')], "Ctrl-C", Action::Quit, "quit"),
            bind!(Global, [Ctrl('z')], "Ctrl-Z", Action::Suspend, "suspend to the shell (fg comes back)"),
            bind!(Table, [Char('q'), F(10)], "q F10", Action::Quit, "quit", footer "quit"),
            bind!(Table, [Char('j'), Down], "j/↓", Action::Down, "next row"),
            bind!(Table, [Char('k'), Up], "k/↑", Action::Up, "previous row"),
            bind!(Table, [PageDown], "PgDn", Action::PageDown, "next page"),
            bind!(Table, [PageUp], "PgUp", Action::PageUp, "previous page"),
            bind!(Table, [Ctrl('d')], "Ctrl-D/U", Action::HalfPageDown, "half a page down/up"),
            bind!(Table, [Ctrl('u')], "Ctrl-D/U", Action::HalfPageUp, "half a page down/up"),
            bind!(Table, [Left], "←/→", Action::CommandLeft, "scroll the selected command line"),
            bind!(Table, [Right], "←/→", Action::CommandRight, "scroll the selected command line"),
            bind!(Table, [Char('g'), Home], "g/Home", Action::Top, "first row"),
            bind!(Table, [Char('G'), End], "G/End", Action::Bottom, "last row"),
            bind!(Table, [Char('/'), F(3)], "/ F3", Action::StartFilter, "filter by port, address, process, user, command", footer "filter"),
            bind!(Table, [Esc], "Esc", Action::ClearFilter, "clear the filter"),
            bind!(Table, [Enter], "Enter", Action::Inspect, "inspect the socket and its owner", footer "inspect"),
            bind!(Table, [Char('x'), F(9)], "x F9", Action::Kill(Signal::Term), "stop the owner (SIGTERM), after you confirm", footer "stop"),
            bind!(Table, [Char('X')], "X", Action::Kill(Signal::Kill), "force-stop the owner (SIGKILL), after you confirm"),
            bind!(Table, [Char('s')], "s", Action::SortNext, "sort by the next column", footer "sort"),
            bind!(Table, [Char('S')], "S", Action::SortReverse, "reverse the sort"),
            bind!(Table, [Char('c')], "c", Action::ToggleConnections, "show/hide TCP connections", footer "connections"),
            bind!(Table, [Char('a')], "a", Action::ToggleAllAddresses, "show/hide sockets on other addresses of this host", footer "all addresses"),
            bind!(Table, [Char('h')], "h", Action::ToggleHistory, "history of opened and closed sockets", footer "history"),
            bind!(Table, [Char('e')], "e", Action::ToggleExplain, "explain the selected row in plain words", footer "explain"),
            bind!(Table, [Char('v')], "v", Action::ToggleGrouped, "group rows by process, or not"),
            bind!(Table, [Char('p')], "p", Action::TogglePause, "pause/resume updates (changes are still recorded)"),
            bind!(Table, [Char('+')], "+/-", Action::SlowerRefresh, "refresh less (+) or more (-) often"),
            bind!(Table, [Char('-')], "+/-", Action::FasterRefresh, "refresh less (+) or more (-) often"),
            bind!(Table, [Char('?'), F(1)], "? F1", Action::ToggleHelp, "show/hide this help", footer "help"),
            bind!(Inspect, [Esc, Backspace], "Esc", Action::Back, "back to the table", footer "back"),
            bind!(Inspect, [Char('q')], "q", Action::Quit, "quit", footer "quit"),
            bind!(Inspect, [Char('j'), Down], "j/↓", Action::Down, "scroll down"),
            bind!(Inspect, [Char('k'), Up], "k/↑", Action::Up, "scroll up"),
            bind!(Inspect, [Tab], "Tab", Action::NextHolder, "next process holding a shared socket", footer "next holder"),
            bind!(Inspect, [Char('x')], "x", Action::Kill(Signal::Term), "stop this process (SIGTERM), after you confirm", footer "stop"),
            bind!(Inspect, [Char('X')], "X", Action::Kill(Signal::Kill), "force-stop this process (SIGKILL), after you confirm", footer "force stop"),
            bind!(Confirm, [Char('y'), Enter], "y/Enter", Action::ConfirmKill, "send the signal", footer "send"),
            bind!(Confirm, [Char('n'), Esc], "n/Esc", Action::CancelKill, "cancel: send nothing", footer "cancel"),
            bind!(Filter, [Enter], "Enter", Action::FilterDone, "keep the filter, back to the table"),
            bind!(Filter, [Esc], "Esc", Action::ClearFilter, "clear the filter"),
            bind!(Filter, [Backspace], "Backspace", Action::FilterBackspace, "delete a character"),
            bind!(History, [Char('q')], "q", Action::Quit, "quit", footer "quit"),
            bind!(History, [Esc, Char('h')], "Esc/h", Action::Back, "back to the table", footer "back"),
            bind!(History, [Char('k'), Up], "k/↑", Action::Up, "older events"),
            bind!(History, [Char('j'), Down], "j/↓", Action::Down, "newer events"),
            bind!(History, [PageUp], "PgUp", Action::PageUp, "a page older"),
            bind!(History, [PageDown], "PgDn", Action::PageDown, "a page newer"),
            bind!(History, [Char('g'), Home], "g/Home", Action::Top, "oldest event"),
            bind!(History, [Char('G'), End], "G/End", Action::Bottom, "newest event, and follow new ones"),
            bind!(History, [Char('/')], "/", Action::StartFilter, "filter the history", footer "filter"),
            bind!(History, [Char('p')], "p", Action::TogglePause, "pause/resume the table", footer "pause"),
            bind!(Explain, [Char('q')], "q", Action::Quit, "quit", footer "quit"),
            bind!(Explain, [Esc, Char('e')], "Esc/e", Action::Back, "back to the table", footer "back"),
            bind!(Explain, [Char('k'), Up], "k/↑", Action::Up, "scroll up", footer "scroll"),
            bind!(Explain, [Char('j'), Down], "j/↓", Action::Down, "scroll down"),
            bind!(Explain, [PageUp], "PgUp", Action::PageUp, "a page up"),
            bind!(Explain, [PageDown], "PgDn", Action::PageDown, "a page down"),
        ];
        // `1`-`9` pick the column at that place on screen; one help line covers them all.
        for position in 1..=Column::ALL.len() {
            let digit = char::from_digit(u32::try_from(position).unwrap_or(0), 10).unwrap_or('0');
            table.push(Binding {
                context: Context::Table,
                keys: digit_key(digit),
                label: "1-9",
                action: Action::SortByPosition(position),
                help: "sort by on-screen column 1-9 (again: reverse)",
                footer: None,
            });
        }
        table
    })
}

/// `&'static [Key]` for a digit, since the table borrows its keys.
fn digit_key(digit: char) -> &'static [Key] {
    const DIGITS: [[Key; 1]; 10] = [
        [Key::Char('0')],
        [Key::Char('1')],
        [Key::Char('2')],
        [Key::Char('3')],
        [Key::Char('4')],
        [Key::Char('5')],
        [Key::Char('6')],
        [Key::Char('7')],
        [Key::Char('8')],
        [Key::Char('9')],
    ];
    let i = digit.to_digit(10).unwrap_or(0) as usize;
    &DIGITS[i]
}

/// Translates a terminal key event into the table's key.
pub(crate) fn key_of(event: KeyEvent) -> Option<Key> {
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    Some(match event.code {
        KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Tab => Key::Tab,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::F(n) => Key::F(n),
        _ => return None,
    })
}

/// What a key does in a mode. In the filter, unbound printable keys are typed; in the help
/// overlay any key closes it (and `q` still quits).
pub(crate) fn action_for(mode: Mode, key: Key) -> Option<Action> {
    let context = context_of(mode);
    let bound = bindings()
        .iter()
        .find(|b| (b.context == context || b.context == Context::Global) && b.keys.contains(&key))
        .map(|b| b.action.clone());
    match mode {
        Mode::Filter | Mode::HistoryFilter => bound.or(match key {
            Key::Char(c) => Some(Action::FilterChar(c)),
            _ => None,
        }),
        // Moving keys scroll a help taller than the terminal; any other key closes it.
        Mode::Help => match bound {
            Some(
                action @ (Action::Quit
                | Action::Up
                | Action::Down
                | Action::PageUp
                | Action::PageDown),
            ) => Some(action),
            _ => Some(Action::Back),
        },
        Mode::Table | Mode::Inspect | Mode::Confirm | Mode::History | Mode::Explain => bound,
    }
}

/// Help overlay lines `(keys, what they do)`, one per distinct label, for a context.
pub(crate) fn help_lines(context: Context) -> Vec<(&'static str, &'static str)> {
    let mut lines: Vec<(&'static str, &'static str)> = Vec::new();
    for b in bindings().iter().filter(|b| b.context == context) {
        if !lines.iter().any(|(label, _)| *label == b.label) {
            lines.push((b.label, b.help));
        }
    }
    lines
}

/// Footer hints `(key, short text)` for a context; stop keys are left out when `read_only`.
pub(crate) fn footer_hints(context: Context, read_only: bool) -> Vec<(&'static str, &'static str)> {
    bindings()
        .iter()
        .filter(|b| b.context == context && !(read_only && matches!(b.action, Action::Kill(_))))
        .filter_map(|b| b.footer.map(|f| (primary(b.label), f)))
        .collect()
}

/// A label without its aliases: `x F9` is `x`.
pub(crate) fn primary(label: &'static str) -> &'static str {
    label.split(' ').next().unwrap_or(label)
}

/// The key context a mode reads.
pub(crate) fn context_of(mode: Mode) -> Context {
    match mode {
        Mode::Table | Mode::Help => Context::Table,
        Mode::Filter | Mode::HistoryFilter => Context::Filter,
        Mode::Inspect => Context::Inspect,
        Mode::Confirm => Context::Confirm,
        Mode::History => Context::History,
        Mode::Explain => Context::Explain,
    }
}

/// Whether the keys labelled `label` ask to send a signal (disabled, and said to be, in
/// read-only mode).
pub(crate) fn is_stop_label(context: Context, label: &str) -> bool {
    bindings()
        .iter()
        .any(|b| b.context == context && b.label == label && matches!(b.action, Action::Kill(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEvent;

    fn press(code: KeyCode) -> Key {
        key_of(KeyEvent::new(code, KeyModifiers::NONE)).unwrap()
    }

    #[test]
    fn table_keys_map_to_their_actions() {
        for (key, action) in [
            (Key::Char('q'), Action::Quit),
            (Key::Ctrl('c'), Action::Quit),
            (Key::Char('j'), Action::Down),
            (Key::Down, Action::Down),
            (Key::Char('k'), Action::Up),
            (Key::Char('G'), Action::Bottom),
            (Key::Char('/'), Action::StartFilter),
            (Key::Char('s'), Action::SortNext),
            (Key::Char('S'), Action::SortReverse),
            (Key::Char('3'), Action::SortByPosition(3)),
            (Key::Char('9'), Action::SortByPosition(9)),
            (Key::F(1), Action::ToggleHelp),
            (Key::F(3), Action::StartFilter),
            (Key::F(9), Action::Kill(Signal::Term)),
            (Key::F(10), Action::Quit),
            (Key::Ctrl('d'), Action::HalfPageDown),
            (Key::Ctrl('u'), Action::HalfPageUp),
            (Key::Left, Action::CommandLeft),
            (Key::Right, Action::CommandRight),
            (Key::Char('c'), Action::ToggleConnections),
            (Key::Char('a'), Action::ToggleAllAddresses),
            (Key::Char('?'), Action::ToggleHelp),
            (Key::Char('h'), Action::ToggleHistory),
            (Key::Char('e'), Action::ToggleExplain),
            (Key::Char('v'), Action::ToggleGrouped),
            (Key::Char('p'), Action::TogglePause),
            (Key::Char('+'), Action::SlowerRefresh),
            (Key::Char('-'), Action::FasterRefresh),
        ] {
            assert_eq!(action_for(Mode::Table, key), Some(action), "{key:?}");
        }
        assert_eq!(action_for(Mode::Table, Key::Char('z')), None);
    }

    #[test]
    fn filter_mode_types_letters_that_are_keys_elsewhere() {
        assert_eq!(
            action_for(Mode::Filter, Key::Char('q')),
            Some(Action::FilterChar('q'))
        );
        assert_eq!(
            action_for(Mode::Filter, Key::Char('/')),
            Some(Action::FilterChar('/'))
        );
        assert_eq!(
            action_for(Mode::Filter, Key::Esc),
            Some(Action::ClearFilter)
        );
        assert_eq!(
            action_for(Mode::Filter, Key::Enter),
            Some(Action::FilterDone)
        );
        assert_eq!(action_for(Mode::Filter, Key::Ctrl('c')), Some(Action::Quit));
    }

    #[test]
    fn help_closes_on_any_key_but_q_still_quits() {
        assert_eq!(action_for(Mode::Help, Key::Char('x')), Some(Action::Back));
        assert_eq!(action_for(Mode::Help, Key::Char('?')), Some(Action::Back));
        assert_eq!(action_for(Mode::Help, Key::Char('q')), Some(Action::Quit));
        assert_eq!(action_for(Mode::Help, Key::Down), Some(Action::Down));
        assert_eq!(action_for(Mode::Help, Key::Char('k')), Some(Action::Up));
    }

    #[test]
    fn history_and_explain_have_their_own_keys() {
        for (mode, key, action) in [
            (Mode::History, Key::Esc, Action::Back),
            (Mode::History, Key::Char('h'), Action::Back),
            (Mode::History, Key::Char('/'), Action::StartFilter),
            (Mode::History, Key::Char('k'), Action::Up),
            (Mode::History, Key::Char('G'), Action::Bottom),
            (Mode::History, Key::Char('q'), Action::Quit),
            (Mode::HistoryFilter, Key::Char('h'), Action::FilterChar('h')),
            (Mode::HistoryFilter, Key::Esc, Action::ClearFilter),
            (Mode::HistoryFilter, Key::Enter, Action::FilterDone),
            (Mode::Explain, Key::Esc, Action::Back),
            (Mode::Explain, Key::Char('e'), Action::Back),
            (Mode::Explain, Key::Down, Action::Down),
            (Mode::Explain, Key::Ctrl('c'), Action::Quit),
        ] {
            assert_eq!(action_for(mode, key), Some(action), "{mode:?} {key:?}");
        }
        assert_eq!(action_for(Mode::Explain, Key::Char('c')), None);
        assert!(footer_hints(Context::History, false).contains(&("/", "filter")));
    }

    #[test]
    fn crossterm_events_translate() {
        assert_eq!(press(KeyCode::Char('j')), Key::Char('j'));
        assert_eq!(press(KeyCode::PageDown), Key::PageDown);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(key_of(ctrl_c), Some(Key::Ctrl('c')));
        assert_eq!(press(KeyCode::F(10)), Key::F(10));
        assert_eq!(press(KeyCode::Left), Key::Left);
        assert_eq!(
            key_of(KeyEvent::new(KeyCode::Insert, KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn help_and_footer_come_from_the_table() {
        let help = help_lines(Context::Table);
        for b in bindings().iter().filter(|b| b.context == Context::Table) {
            assert!(
                help.iter().any(|(label, _)| *label == b.label),
                "{} missing from help",
                b.label
            );
        }
        assert_eq!(help.iter().filter(|(label, _)| *label == "1-9").count(), 1);
        let footer = footer_hints(Context::Table, false);
        assert!(footer.contains(&("q", "quit")));
        assert!(footer.contains(&("/", "filter")));
        assert!(
            !footer.iter().any(|(key, _)| key.starts_with('F')),
            "aliases stay out of the footer"
        );
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        let all = bindings();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                let overlap = a.keys.iter().any(|k| b.keys.contains(k));
                let same_scope = a.context == b.context
                    || a.context == Context::Global
                    || b.context == Context::Global;
                assert!(
                    !(overlap && same_scope),
                    "{} and {} overlap",
                    a.label,
                    b.label
                );
            }
        }
    }
}

//! Text that a process chose (its name, its arguments, its user's name, its directory): shown
//! only inert. Printing an [`OsText`] writes every control, escape and format character as a
//! visible escape (`\e`, `\n`, `\u{202e}`), so nothing a local user puts in an argv can move the
//! cursor, set a window title, reorder a line or hide part of it. The raw text is reachable only
//! through [`OsText::raw`], for JSON (escaped there too) and for comparisons.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};

/// A string from the OS, displayed inert. Shared, not copied, when cloned: every socket of a
/// process carries its owner's name and arguments, and at 100,000 sockets copies would be most
/// of loopwatch's memory.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OsText(Arc<str>);

impl OsText {
    pub fn new(text: impl Into<String>) -> Self {
        Self(Arc::from(text.into()))
    }

    /// The text exactly as the OS gave it: for JSON and comparisons, never for a terminal.
    pub fn raw(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text as a terminal may show it.
    pub fn inert(&self) -> Cow<'_, str> {
        inert(&self.0)
    }
}

impl fmt::Display for OsText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inert())
    }
}

impl fmt::Debug for OsText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<&str> for OsText {
    fn from(text: &str) -> Self {
        Self(Arc::from(text))
    }
}

impl From<String> for OsText {
    fn from(text: String) -> Self {
        Self(Arc::from(text))
    }
}

impl PartialEq<str> for OsText {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for OsText {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

/// Whether a terminal would act on `c` rather than draw it, or draw it invisibly: C0 and C1
/// controls (ESC starts every escape sequence), DEL, and the format characters (bidi
/// overrides and isolates, zero-width spaces and joiners, the byte-order mark...), line and
/// paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    // Printable ASCII is every character of most names and arguments: no table lookup.
    if (' '..='~').contains(&c) {
        return false;
    }
    c.is_control()
        || matches!(
            c.general_category(),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

/// `text` with every unsafe character written as a visible escape; borrowed when there is none.
///
/// A backslash that would read as the start of one of these escapes (`\e`, `\n`, `\x..`,
/// `\u{..}`, ...) is itself written `\\`, so text that spells an escape can never pass for a
/// control character (`C:\Users` stays as it is).
pub fn inert(text: &str) -> Cow<'_, str> {
    escaped(text, true)
}

/// For text built from already inert parts (a table cell, a prompt line): any unsafe character
/// still in it is escaped, and backslashes are left as they are, so it changes nothing in text
/// that is inert already.
pub fn inert_residue(text: &str) -> Cow<'_, str> {
    escaped(text, false)
}

fn escaped(text: &str, backslashes: bool) -> Cow<'_, str> {
    let forges = |next: Option<char>| {
        backslashes && matches!(next, Some('e' | 'n' | 'r' | 't' | 'x' | 'u' | '\\'))
    };
    let mut chars = text.chars().peekable();
    let mut clean = true;
    while let Some(c) = chars.next() {
        if is_unsafe(c) || (c == '\\' && forges(chars.peek().copied())) {
            clean = false;
            break;
        }
    }
    if clean {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && forges(chars.peek().copied()) {
            out.push_str("\\\\");
            continue;
        }
        if !is_unsafe(c) {
            out.push(c);
            continue;
        }
        // Writing to a String cannot fail.
        let _ = match c {
            '\u{1b}' => out.write_str("\\e"),
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            '\t' => out.write_str("\\t"),
            c if u32::from(c) < 0x80 => write!(out, "\\x{:02x}", u32::from(c)),
            c => write!(out, "\\u{{{:x}}}", u32::from(c)),
        };
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_escapes_and_format_characters_become_visible_escapes() {
        let hostile = "node\u{1b}]0;owned\u{7}\u{1b}[2J\r\nfake line\t\u{9b}31m\u{202e}gnp.exe\u{200b}\u{feff}\u{2028}";
        let shown = inert(hostile);
        assert_eq!(
            shown,
            "node\\e]0;owned\\x07\\e[2J\\r\\nfake line\\t\\u{9b}31m\\u{202e}gnp.exe\\u{200b}\\u{feff}\\u{2028}"
        );
        assert!(!shown.chars().any(is_unsafe));
    }

    /// Text that spells an escape is told apart from the control character it spells.
    #[test]
    fn a_backslash_that_spells_an_escape_is_escaped_itself() {
        assert_eq!(inert("\u{1b}[1m"), "\\e[1m");
        assert_eq!(inert("\\e[1m"), "\\\\e[1m");
        assert_eq!(inert("a\\\\nb"), "a\\\\\\\\nb");
        assert_eq!(
            inert("grep a\\|b C:\\Users\\ana"),
            "grep a\\|b C:\\Users\\ana"
        );
        assert_ne!(inert("\u{1b}"), inert("\\e"));
        // Inert text stays as it is under the residue pass; a control left in it does not.
        let once = inert("\\e \u{1b}");
        assert_eq!(inert_residue(&once), once);
        assert_eq!(inert_residue("a\u{1b}b"), "a\\eb");
    }

    #[test]
    fn ordinary_text_is_untouched_and_not_copied() {
        for text in [
            "node server.js --port 3000",
            "C:\\Users\\ana",
            "日本語 café ✓ 🚀",
            "",
        ] {
            assert!(
                matches!(inert(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn printing_is_inert_and_raw_is_exact() {
        let name = OsText::from("evil\u{1b}[31m");
        assert_eq!(name.to_string(), "evil\\e[31m");
        assert_eq!(format!("{name}"), "evil\\e[31m");
        assert_eq!(name.raw(), "evil\u{1b}[31m");
        assert!(name == "evil\u{1b}[31m");
    }
}

//! A page of plain lines for a bordered view: headings, fields, warnings and list items, laid
//! out to a width. The inspect view fills one; `ui` only styles each line by its kind, and the
//! app counts the lines to know how far the view scrolls.

use super::text::{WARNING_MARK, width, wrap};

/// Width of the field names, so values line up.
pub(crate) const LABEL: usize = 11;

/// What a line is, which decides its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Heading,
    Blank,
    /// A remark that matters less ("reading…").
    Dim,
    Warning,
    /// An entry of a list under a heading.
    Item,
    /// `lead` is the field's name column.
    Field,
}

/// One laid-out line: `lead` (indent, mark or field name) then `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) kind: Kind,
    pub(crate) lead: String,
    pub(crate) text: String,
}

/// Lines laid out to `width` columns as they are added.
#[derive(Debug)]
pub(crate) struct Page {
    width: usize,
    lines: Vec<Line>,
}

impl Page {
    pub(crate) fn new(width: usize) -> Self {
        Self {
            width,
            lines: Vec::new(),
        }
    }

    pub(crate) fn into_lines(self) -> Vec<Line> {
        self.lines
    }

    fn push(&mut self, kind: Kind, lead: String, text: String) {
        self.lines.push(Line { kind, lead, text });
    }

    /// One line; the view cuts it to the width.
    pub(crate) fn heading(&mut self, text: &str) {
        self.push(Kind::Heading, String::new(), text.to_string());
    }

    pub(crate) fn blank(&mut self) {
        self.push(Kind::Blank, String::new(), String::new());
    }

    /// One indented line; the view cuts it to the width.
    pub(crate) fn dim(&mut self, text: &str) {
        self.push(Kind::Dim, "  ".to_string(), text.to_string());
    }

    /// Behind the warning mark, wrapped under itself.
    pub(crate) fn warning(&mut self, text: &str) {
        let indent = 2 + width(WARNING_MARK) + 1;
        for (i, chunk) in wrap(text, self.width.saturating_sub(indent))
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 {
                format!("  {WARNING_MARK} ")
            } else {
                " ".repeat(indent)
            };
            self.push(Kind::Warning, lead, chunk);
        }
    }

    /// A list entry under a heading.
    pub(crate) fn item(&mut self, text: &str) {
        for chunk in wrap(text, self.width.saturating_sub(4)) {
            self.push(Kind::Item, "    ".to_string(), chunk);
        }
    }

    /// `  label      value`, the value wrapped under itself when it is too long.
    pub(crate) fn field(&mut self, label: &str, value: &str) {
        let indent = 2 + LABEL + 1;
        for (i, chunk) in wrap(value, self.width.saturating_sub(indent))
            .into_iter()
            .enumerate()
        {
            let name = if i == 0 { label } else { "" };
            self.push(Kind::Field, format!("  {name:<LABEL$} "), chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_wrap_under_themselves_and_headings_stay_one_line() {
        let mut page = Page::new(30);
        page.heading("a heading far longer than thirty columns");
        page.field("command", "node server.js --port 3000 --host 127.0.0.1");
        page.warning("stopping the proxy does not stop the container");
        let lines = page.into_lines();
        assert_eq!(lines[0].kind, Kind::Heading);
        let field: Vec<&Line> = lines.iter().filter(|l| l.kind == Kind::Field).collect();
        assert_eq!(field[0].lead, "  command     ");
        assert!(field.len() > 1 && field[1].lead.trim().is_empty());
        for line in &lines[1..] {
            assert!(width(&line.lead) + width(&line.text) <= 30, "{line:?}");
        }
        assert!(lines.iter().any(|l| l.lead.contains(WARNING_MARK)));
    }
}

//! Shell completions and the man page, generated from the same clap definition the command
//! line is parsed with, so they never describe options loopwatch does not have.

use clap::CommandFactory;
use clap_complete::Shell;

use super::Args;

/// The completion script for `shell`, as bytes to print.
///
/// Generated into memory first: clap_complete panics on a failed write, and a reader that went
/// away (`loopwatch completions bash | head -1`) must end loopwatch quietly instead.
pub(crate) fn completions(shell: Shell) -> Vec<u8> {
    let mut command = Args::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "loopwatch", &mut script);
    script
}

/// The man page (section 1, roff), as bytes to print: one page, with every command's synopsis
/// and options under COMMANDS (there are no separate `loopwatch-list(1)` pages to point to).
pub(crate) fn man_page() -> Vec<u8> {
    let mut command = Args::command();
    // Gives each subcommand its full name (`loopwatch list`) for its synopsis.
    command.build();
    let mut page = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = render_man(&command, &mut page);
    page
}

fn render_man(command: &clap::Command, page: &mut Vec<u8>) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(page)?;
    man.render_name_section(page)?;
    man.render_synopsis_section(page)?;
    man.render_description_section(page)?;
    man.render_options_section(page)?;
    page.extend_from_slice(b".SH COMMANDS\n");
    for sub in command.get_subcommands() {
        let name = sub.get_bin_name().unwrap_or_else(|| sub.get_name());
        page.extend_from_slice(format!(".SS \"{name}\"\n").as_bytes());
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            page.extend_from_slice(roff_text(&about.to_string()).as_bytes());
        }
        let sub_man = clap_mangen::Man::new(sub.clone());
        for section in [
            clap_mangen::Man::render_synopsis_section,
            clap_mangen::Man::render_options_section,
        ] {
            let mut text = Vec::new();
            section(&sub_man, &mut text)?;
            // A section of the command's own page becomes a paragraph of this one.
            page.extend_from_slice(&demote_heading(&text));
        }
    }
    man.render_extra_section(page)?;
    man.render_version_section(page)
}

/// `.SH SYNOPSIS` (a page's section heading) as a plain `.PP` paragraph break.
fn demote_heading(section: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(section);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with(".SH ") {
            out.push_str(".PP\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// Plain text as roff paragraphs: backslashes escaped, no line starting as a request.
fn roff_text(text: &str) -> String {
    let mut out = String::from(".PP\n");
    for line in text.lines() {
        if line.trim().is_empty() {
            out.push_str(".PP\n");
            continue;
        }
        let line = line.replace('\\', "\\e");
        if line.starts_with('.') || line.starts_with('\'') {
            out.push_str("\\&");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBCOMMANDS: [&str; 8] = [
        "list",
        "who",
        "kill",
        "watch",
        "explain",
        "doctor",
        "completions",
        "man",
    ];

    #[test]
    fn plain_text_cannot_become_a_roff_request() {
        assert_eq!(
            roff_text(".TH x\n\n'br \\n"),
            ".PP\n\\&.TH x\n.PP\n\\&'br \\en\n"
        );
    }

    #[test]
    fn every_shell_gets_a_script_naming_the_subcommands() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::PowerShell,
            Shell::Elvish,
        ] {
            let script = String::from_utf8(completions(shell)).unwrap();
            for name in SUBCOMMANDS {
                assert!(script.contains(name), "{shell}: no {name}");
            }
            assert!(
                script.contains("--until-open"),
                "{shell}: no subcommand flag"
            );
        }
    }

    #[test]
    fn the_man_page_is_roff_and_names_every_subcommand() {
        let page = String::from_utf8(man_page()).unwrap();
        assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
        assert!(page.contains(".TH loopwatch 1"), "{page}");
        for name in SUBCOMMANDS {
            assert!(
                page.contains(&format!(".SS \"loopwatch {name}\"")),
                "no section for {name} in the man page"
            );
        }
        assert!(
            page.contains("until\\-open"),
            "subcommand options are on the page"
        );
        assert!(
            !page.contains("loopwatch\\-list(1)"),
            "no pointer to a missing page"
        );
    }
}

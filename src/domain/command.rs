//! The command column: what identifies a program, read from its argv.
//!
//! `/root/.pyenv/versions/3.11.7/bin/python3 -m http.server 8000` is shown as
//! `python3 -m http.server 8000`: the program's base name, then its arguments, so the script or
//! module an interpreter runs shows too. The full path stays in the inspect view. The result is
//! still an [`OsText`] (it is made of what the process chose) and prints inert.

use std::borrow::Cow;
use unicode_width::UnicodeWidthChar as _;

use crate::model::{OsText, Socket};

/// Arguments a JVM takes whose values are class paths: long, and not what identifies the
/// program, so they are shown as `…` (`java -cp … com.example.Main`).
const CLASS_PATH_FLAGS: [&str; 3] = ["-cp", "-classpath", "--class-path"];

/// The readable command of a process called `name` (its kernel name) started with `argv`.
/// Linear in the length of `argv`. Empty when `argv` is (kernel threads, zombies).
pub(crate) fn readable(name: &OsText, argv: &[OsText]) -> OsText {
    let Some((first, rest)) = argv.split_first() else {
        return OsText::default();
    };
    let program = first.raw();
    if rest.is_empty() && program.contains(' ') {
        return OsText::new(retitled(name.raw(), program));
    }
    let base = base_name(program);
    let mut out =
        String::with_capacity(base.len() + rest.iter().map(|a| a.raw().len() + 3).sum::<usize>());
    out.push_str(base);
    let java = is_java(base);
    let mut hide_next = false;
    for arg in rest {
        out.push(' ');
        if hide_next {
            out.push('…');
            hide_next = false;
            continue;
        }
        let arg = arg.raw();
        hide_next = java && CLASS_PATH_FLAGS.contains(&arg);
        push_arg(&mut out, arg);
    }
    OsText::new(out)
}

/// `argv` as far as its first `bytes` bytes, and whether anything was cut: whole when short (no
/// copy), so a hostile megabyte of arguments costs a sort or a frame no more than a line does.
/// (Only a program path longer than `bytes` could then show another base name.)
pub(crate) fn argv_upto(argv: &[OsText], bytes: usize) -> (Cow<'_, [OsText]>, bool) {
    if argv.iter().map(|a| a.raw().len()).sum::<usize>() <= bytes {
        return (Cow::Borrowed(argv), false);
    }
    let mut left = bytes;
    let mut bounded = Vec::new();
    for arg in argv {
        let raw = arg.raw();
        if raw.len() <= left {
            bounded.push(arg.clone());
            left -= raw.len();
            continue;
        }
        let mut cut = left;
        while !raw.is_char_boundary(cut) {
            cut -= 1;
        }
        bounded.push(OsText::from(&raw[..cut]));
        break;
    }
    (Cow::Owned(bounded), true)
}

/// The readable command of the socket's first owner as far as `columns` display columns of it
/// can show, built from at most four bytes of argv a column (escapes only widen a byte), with
/// `…` where argv was cut; empty without an owner.
pub(crate) fn of_socket_upto(socket: &Socket, columns: usize) -> OsText {
    let Some(owner) = socket.primary_owner() else {
        return OsText::default();
    };
    let (argv, cut) = argv_upto(&owner.argv, columns.saturating_add(1).saturating_mul(4));
    let shown = readable(&owner.name, &argv);
    if cut {
        OsText::new(format!("{}…", shown.raw()))
    } else {
        shown
    }
}

/// The readable command of the socket's first owner; empty without one.
pub(crate) fn of_socket(socket: &Socket) -> OsText {
    socket
        .primary_owner()
        .map_or_else(OsText::default, |o| readable(&o.name, &o.argv))
}

/// The part of `shown` (already inert) left after scrolling `columns` display columns off its
/// left edge: a borrowed tail, found in one pass.
/// The tail never starts with a zero-width character (a combining mark): cut from the letter it
/// belonged to, it would land on whatever is drawn before the tail.
pub(crate) fn scrolled(shown: &str, columns: usize) -> &str {
    let mut skipped = 0;
    for (i, c) in shown.char_indices() {
        let width = c.width().unwrap_or(0);
        if skipped >= columns && width > 0 {
            return &shown[i..];
        }
        skipped += width;
    }
    ""
}

/// After the last `/` (or `\`, for Windows paths); the whole text when that leaves nothing.
fn base_name(program: &str) -> &str {
    match program.rfind(['/', '\\']) {
        Some(i) if i + 1 < program.len() => &program[i + 1..],
        _ => program,
    }
}

/// `java`, `java.exe`, `javaw`: the JVM launchers.
fn is_java(base: &str) -> bool {
    let stem = base.strip_suffix(".exe").unwrap_or(base);
    matches!(stem, "java" | "javaw")
}

/// One argument; quoted when it is empty or holds a space, so argument boundaries still show.
fn push_arg(out: &mut String, arg: &str) {
    if arg.is_empty() || arg.contains(' ') {
        out.push('\'');
        out.push_str(arg);
        out.push('\'');
    } else {
        out.push_str(arg);
    }
}

/// A one-element argv with spaces: either a title the program wrote over its arguments
/// (`postgres: checkpointer`, `nginx: master process ...`), shown as it is, or a path with
/// spaces (`/opt/My App/bin/app --serve`), which is cut after the directory that holds the
/// program named `name`.
fn retitled<'a>(name: &str, program: &'a str) -> &'a str {
    if !program.starts_with(['/', '\\']) || name.is_empty() {
        return program;
    }
    let mut from = 0;
    while let Some(found) = program[from..].find(name) {
        let at = from + found;
        let end = at + name.len();
        let after_separator = program[..at].ends_with(['/', '\\']);
        let ends_word = program[end..].is_empty() || program[end..].starts_with(' ');
        if after_separator && ends_word {
            return &program[at..];
        }
        from = end;
    }
    program
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::is_unsafe;

    fn shown(name: &str, argv: &[&str]) -> String {
        let argv: Vec<OsText> = argv.iter().map(|a| OsText::from(*a)).collect();
        readable(&OsText::from(name), &argv).to_string()
    }

    #[test]
    fn interpreters_keep_the_script_or_module_they_run() {
        for (name, argv, expected) in [
            (
                "python3",
                &[
                    "/root/.pyenv/versions/3.11.7/bin/python3",
                    "-m",
                    "http.server",
                    "8000",
                ][..],
                "python3 -m http.server 8000",
            ),
            (
                "python3.11",
                &["/usr/bin/python3.11", "/srv/app/manage.py", "runserver"],
                "python3.11 /srv/app/manage.py runserver",
            ),
            ("node", &["node", "server.js"], "node server.js"),
            (
                "node",
                &[
                    "/home/ana/.nvm/versions/node/v20.11.0/bin/node",
                    "/home/ana/app/node_modules/.bin/vite",
                ],
                "node /home/ana/app/node_modules/.bin/vite",
            ),
            (
                "ruby",
                &["/usr/bin/ruby", "bin/rails", "server"],
                "ruby bin/rails server",
            ),
            (
                "perl",
                &["/usr/bin/perl", "-w", "serve.pl"],
                "perl -w serve.pl",
            ),
            (
                "bash",
                &["/bin/bash", "./run.sh", "--port", "9000"],
                "bash ./run.sh --port 9000",
            ),
            (
                "sh",
                &["sh", "-c", "python3 -m http.server"],
                "sh -c 'python3 -m http.server'",
            ),
            (
                "deno",
                &["/home/ana/.deno/bin/deno", "run", "-A", "main.ts"],
                "deno run -A main.ts",
            ),
            (
                "bun",
                &["/home/ana/.bun/bin/bun", "run", "index.ts"],
                "bun run index.ts",
            ),
            (
                "java",
                &[
                    "/usr/lib/jvm/java-17/bin/java",
                    "-Xmx512m",
                    "-jar",
                    "/opt/app/app.jar",
                ],
                "java -Xmx512m -jar /opt/app/app.jar",
            ),
            (
                "java",
                &["java", "-cp", "/a.jar:/b.jar:/c.jar", "com.example.Main"],
                "java -cp … com.example.Main",
            ),
        ] {
            assert_eq!(shown(name, argv), expected, "{argv:?}");
        }
    }

    #[test]
    fn daemons_show_their_base_name_and_arguments() {
        assert_eq!(
            shown(
                "postgres",
                &[
                    "/usr/lib/postgresql/16/bin/postgres",
                    "-D",
                    "/var/lib/postgresql/16/main"
                ]
            ),
            "postgres -D /var/lib/postgresql/16/main"
        );
        assert_eq!(
            shown("redis-server", &["redis-server", "127.0.0.1:6379"]),
            "redis-server 127.0.0.1:6379"
        );
        assert_eq!(shown("sleep", &["sleep"]), "sleep");
        assert_eq!(shown("app", &["./target/debug/app"]), "app");
        assert_eq!(
            shown(
                "node",
                &["C:\\Program Files\\nodejs\\node.exe", "server.js"]
            ),
            "node.exe server.js"
        );
    }

    #[test]
    fn titles_a_program_wrote_over_its_arguments_are_kept() {
        assert_eq!(
            shown("postgres", &["postgres: checkpointer "]),
            "postgres: checkpointer "
        );
        assert_eq!(
            shown(
                "nginx",
                &["nginx: master process /usr/sbin/nginx -g daemon off;"]
            ),
            "nginx: master process /usr/sbin/nginx -g daemon off;"
        );
        assert_eq!(
            shown("postgres", &["/usr/bin/postgres -D /var/lib/pg"]),
            "postgres -D /var/lib/pg"
        );
    }

    #[test]
    fn paths_with_spaces_lose_their_directory_only() {
        assert_eq!(
            shown("app", &["/opt/My App/bin/app", "--serve"]),
            "app --serve"
        );
        assert_eq!(shown("app", &["/opt/My App/bin/app"]), "app");
        assert_eq!(
            shown("app", &["/opt/My app x/bin/app --port 1"]),
            "app --port 1"
        );
        assert_eq!(
            shown("python3", &["python3", "/home/ana/My Scripts/serve.py"]),
            "python3 '/home/ana/My Scripts/serve.py'"
        );
    }

    #[test]
    fn hostile_and_degenerate_argv_stay_inert_and_whole() {
        assert_eq!(shown("kworker/0:1", &[]), "");
        assert_eq!(shown("x", &[""]), "");
        assert_eq!(shown("x", &["/"]), "/");
        assert_eq!(shown("x", &["dir/"]), "dir/");
        assert_eq!(shown("x", &["x", ""]), "x ''");
        let hostile = shown(
            "ev\u{1b}il",
            &["/tmp/ev\u{1b}]0;t\u{7}il", "\u{1b}[2J\nfake row\u{202e}"],
        );
        assert!(!hostile.chars().any(is_unsafe), "{hostile}");
        assert_eq!(hostile, "ev\\e]0;t\\x07il '\\e[2J\\nfake row\\u{202e}'");
        let long = "a".repeat(100_000);
        let shown_long = shown("x", &["/usr/bin/x", &long]);
        assert_eq!(shown_long.len(), 2 + long.len());
        // A name that never matches the path leaves the title whole.
        assert_eq!(shown("zzz", &["/a b/c"]), "/a b/c");
    }

    #[test]
    fn a_scrolled_tail_never_starts_with_a_combining_mark() {
        // "e" + COMBINING ACUTE ACCENT, then "xyz": one column, then three.
        let shown = "e\u{301}xyz";
        assert_eq!(scrolled(shown, 1), "xyz");
        assert_eq!(scrolled("\u{301}\u{301}ab", 0), "ab");
    }

    #[test]
    fn scrolling_skips_display_columns_and_stops_at_the_end() {
        assert_eq!(scrolled("python3 -m http.server", 8), "-m http.server");
        assert_eq!(scrolled("abc", 0), "abc");
        assert_eq!(scrolled("abc", 3), "");
        assert_eq!(scrolled("abc", 99), "");
        // Wide characters count two columns.
        assert_eq!(scrolled("日本x", 2), "本x");
        assert_eq!(scrolled("日本x", 3), "x");
    }

    /// A megabyte of arguments is read for a cell only as far as the cell can show, and the
    /// cut is marked; a short command line is the whole of it, unmarked.
    #[test]
    fn a_cell_reads_a_huge_argv_only_as_far_as_it_shows() {
        use crate::model::fixtures::{listener, owner};
        let short = listener(
            "127.0.0.1",
            80,
            vec![owner(1, "node", "ana", "node server.js")],
        );
        assert_eq!(of_socket_upto(&short, 5).raw(), "node server.js");
        let arg = "A".repeat(512 * 1024);
        let mut huge = listener("127.0.0.1", 81, vec![owner(2, "x", "ana", "x")]);
        let mut owners = huge.owners.to_vec();
        owners[0].argv = [OsText::from("/bin/x"), OsText::from(arg.as_str())].into();
        huge.owners = owners.into();
        let shown = of_socket_upto(&huge, 40);
        assert!(shown.raw().starts_with("x AAAA"), "{}", shown.raw());
        assert!(shown.raw().ends_with('…'));
        assert!(shown.raw().len() < 41 * 4 + 8, "{}", shown.raw().len());
        let whole = of_socket(&huge);
        assert!(whole.raw().starts_with(shown.raw().trim_end_matches('…')));
    }
}

//! How output looks on this terminal: whether to colour it (`--color`, `NO_COLOR`,
//! `CLICOLOR_FORCE`, `TERM=dumb`) and whether the locale can show glyphs such as ⚠ and ▲.
//!
//! Pure: the environment comes in as a lookup, so every rule is tested as a table.

/// `--color WHEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorWhen {
    /// Colour when the output is a terminal, unless the environment says otherwise.
    Auto,
    /// Always colour, whatever the output and the environment.
    Always,
    /// Never colour.
    Never,
}

/// Whether to colour output. `--color always|never` wins over everything; otherwise a
/// non-empty `NO_COLOR` means no colour, then a `CLICOLOR_FORCE` other than empty or `0`
/// means colour, then `TERM=dumb` means none, and else colour only on a terminal.
pub(crate) fn colour(
    when: Option<ColorWhen>,
    env: &dyn Fn(&str) -> Option<String>,
    is_terminal: bool,
) -> bool {
    let set = |name: &str| env(name).filter(|value| !value.is_empty());
    match when {
        Some(ColorWhen::Always) => true,
        Some(ColorWhen::Never) => false,
        Some(ColorWhen::Auto) | None => {
            if set("NO_COLOR").is_some() {
                false
            } else if set("CLICOLOR_FORCE").is_some_and(|value| value != "0") {
                true
            } else if env("TERM").as_deref() == Some("dumb") {
                false
            } else {
                is_terminal
            }
        }
    }
}

/// Whether the locale shows UTF-8: the first of `LC_ALL`, `LC_CTYPE` and `LANG` that is set
/// (and not empty) decides; `C`, `POSIX` or a name without UTF-8 means plain ASCII. With none
/// set, `fallback` (Windows consoles show UTF-8; a bare Unix environment is the C locale).
pub(crate) fn utf8_locale(env: &dyn Fn(&str) -> Option<String>, fallback: bool) -> bool {
    let Some(locale) = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|name| env(name).filter(|value| !value.is_empty()))
    else {
        return fallback;
    };
    let charset = locale
        .split_once('.')
        .map_or("", |(_, rest)| rest.split('@').next().unwrap_or(""))
        .to_ascii_lowercase()
        .replace('-', "");
    charset == "utf8"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_string())
        }
    }

    #[test]
    fn colour_follows_the_flag_then_the_environment_then_the_terminal() {
        use ColorWhen::{Always, Auto, Never};
        type Vars<'a> = &'a [(&'a str, &'a str)];
        let table: &[(Option<ColorWhen>, Vars, bool, bool)] = &[
            (None, &[], true, true),
            (None, &[], false, false),
            (Some(Auto), &[], true, true),
            (Some(Auto), &[], false, false),
            (Some(Always), &[], false, true),
            (Some(Never), &[], true, false),
            (None, &[("NO_COLOR", "1")], true, false),
            (None, &[("NO_COLOR", "")], true, true),
            (Some(Auto), &[("NO_COLOR", "yes")], true, false),
            // The flag wins over the environment.
            (Some(Always), &[("NO_COLOR", "1")], false, true),
            (Some(Never), &[("CLICOLOR_FORCE", "1")], true, false),
            (None, &[("CLICOLOR_FORCE", "1")], false, true),
            (None, &[("CLICOLOR_FORCE", "0")], false, false),
            (None, &[("CLICOLOR_FORCE", "")], false, false),
            (
                None,
                &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
                true,
                false,
            ),
            (None, &[("TERM", "dumb")], true, false),
            (
                None,
                &[("TERM", "dumb"), ("CLICOLOR_FORCE", "1")],
                false,
                true,
            ),
            (None, &[("TERM", "xterm-256color")], true, true),
        ];
        for (when, vars, terminal, expected) in table {
            assert_eq!(
                colour(*when, &env_of(vars), *terminal),
                *expected,
                "{when:?} {vars:?} terminal={terminal}"
            );
        }
    }

    #[test]
    fn the_first_locale_variable_set_decides_the_glyphs() {
        let table: &[(&[(&str, &str)], bool)] = &[
            (&[("LANG", "en_GB.UTF-8")], true),
            (&[("LANG", "de_DE.utf8")], true),
            (&[("LANG", "C.UTF-8")], true),
            (&[("LANG", "sr_RS.UTF-8@latin")], true),
            (&[("LANG", "C")], false),
            (&[("LANG", "POSIX")], false),
            (&[("LANG", "en_US.ISO-8859-1")], false),
            (&[("LANG", "en_US")], false),
            (&[("LC_ALL", "C"), ("LANG", "en_US.UTF-8")], false),
            (&[("LC_ALL", ""), ("LANG", "en_US.UTF-8")], true),
            (&[("LC_CTYPE", "POSIX"), ("LANG", "en_US.UTF-8")], false),
            (&[("LC_ALL", "en_US.UTF-8"), ("LC_CTYPE", "C")], true),
            (&[("LC_CTYPE", "fr_FR.UTF-8"), ("LANG", "C")], true),
        ];
        for (vars, expected) in table {
            assert_eq!(utf8_locale(&env_of(vars), false), *expected, "{vars:?}");
        }
        assert!(!utf8_locale(&env_of(&[]), false));
        assert!(utf8_locale(&env_of(&[]), true));
    }
}

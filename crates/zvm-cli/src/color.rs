//! Whether what `zvm` prints may carry colour, decided once for every place that prints:
//! clap's help and errors, the logs, the progress bars. The rules are the ones clap's own
//! terminal layer (anstream) applies, so help text and everything else always agree:
//! `--color always|never` wins; otherwise `NO_COLOR` (any non-empty value) turns colour off,
//! then `CLICOLOR_FORCE` (non-empty, not `0`) turns it on even into a pipe, then `CLICOLOR=0`
//! turns it off; otherwise colour only on a terminal whose `TERM` is not `dumb`.

use std::io::IsTerminal;

use crate::cli::ColorWhen;

/// The environment variables the decision reads (a struct, so tests need not set them).
#[derive(Debug, Default, Clone)]
pub struct ColorEnv {
    pub no_color: Option<String>,
    pub clicolor_force: Option<String>,
    pub clicolor: Option<String>,
    pub term: Option<String>,
}

impl ColorEnv {
    pub fn from_process() -> Self {
        let get = |k: &str| std::env::var(k).ok();
        Self {
            no_color: get("NO_COLOR"),
            clicolor_force: get("CLICOLOR_FORCE"),
            clicolor: get("CLICOLOR"),
            term: get("TERM"),
        }
    }

    /// `TERM=dumb`: a terminal that understands no escape codes at all (Emacs shells, some
    /// CI consoles): no colour and no redrawn progress bars either.
    pub fn dumb_terminal(&self) -> bool {
        self.term.as_deref() == Some("dumb")
    }
}

/// Whether a stream that is (or is not) a terminal gets colour.
pub fn colour_on(when: ColorWhen, env: &ColorEnv, is_terminal: bool) -> bool {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            if set(&env.no_color) {
                false
            } else if set(&env.clicolor_force) && env.clicolor_force.as_deref() != Some("0") {
                true
            } else if env.clicolor.as_deref() == Some("0") {
                false
            } else {
                is_terminal && !env.dumb_terminal()
            }
        }
    }
}

/// Whether progress bars (redrawn in place with cursor movements) may be drawn on stderr:
/// only on a terminal that can move its cursor. Colour is a separate question.
pub fn bars_possible(env: &ColorEnv) -> bool {
    std::io::stderr().is_terminal() && !env.dumb_terminal()
}

/// `--color` read from the raw arguments, before clap parses them: clap needs the choice to
/// colour its own help and errors. The last occurrence wins, as clap would have it.
pub fn prescan(args: &[std::ffi::OsString]) -> ColorWhen {
    let mut when = ColorWhen::Auto;
    let mut it = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        let value = if a == "--color" {
            it.next().map(|v| v.into_owned())
        } else {
            a.strip_prefix("--color=").map(str::to_owned)
        };
        match value.as_deref() {
            Some("always") => when = ColorWhen::Always,
            Some("never") => when = ColorWhen::Never,
            Some("auto") => when = ColorWhen::Auto,
            _ => {}
        }
    }
    when
}

/// The decision for stderr (logs, progress), made once in `main` before anything prints.
static STDERR_COLOUR: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Records the decision for stderr; later calls keep the first.
pub fn set_stderr_colour(on: bool) {
    let _ = STDERR_COLOUR.set(on);
}

/// Whether stderr gets colour (false until `main` decided).
pub fn stderr_colour() -> bool {
    STDERR_COLOUR.get().copied().unwrap_or(false)
}

/// The stream's choice in clap's terms.
pub fn for_clap(when: ColorWhen, env: &ColorEnv, is_terminal: bool) -> clap::ColorChoice {
    if colour_on(when, env, is_terminal) {
        clap::ColorChoice::Always
    } else {
        clap::ColorChoice::Never
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ColorEnv {
        let mut e = ColorEnv::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "NO_COLOR" => e.no_color = v,
                "CLICOLOR_FORCE" => e.clicolor_force = v,
                "CLICOLOR" => e.clicolor = v,
                "TERM" => e.term = v,
                _ => unreachable!(),
            }
        }
        e
    }

    #[test]
    fn a_terminal_gets_colour_and_a_pipe_does_not() {
        assert!(colour_on(ColorWhen::Auto, &env(&[("TERM", "xterm")]), true));
        assert!(!colour_on(
            ColorWhen::Auto,
            &env(&[("TERM", "xterm")]),
            false
        ));
    }

    #[test]
    fn no_color_wins_over_a_terminal_and_over_clicolor_force() {
        assert!(!colour_on(
            ColorWhen::Auto,
            &env(&[("NO_COLOR", "1")]),
            true
        ));
        let both = env(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]);
        assert!(!colour_on(ColorWhen::Auto, &both, true));
        // An empty NO_COLOR is unset, as the convention says.
        assert!(colour_on(ColorWhen::Auto, &env(&[("NO_COLOR", "")]), true));
    }

    #[test]
    fn clicolor_force_colours_a_pipe_unless_it_is_zero() {
        assert!(colour_on(
            ColorWhen::Auto,
            &env(&[("CLICOLOR_FORCE", "1")]),
            false
        ));
        assert!(!colour_on(
            ColorWhen::Auto,
            &env(&[("CLICOLOR_FORCE", "0")]),
            false
        ));
    }

    #[test]
    fn clicolor_zero_and_a_dumb_terminal_mean_no_colour() {
        assert!(!colour_on(
            ColorWhen::Auto,
            &env(&[("CLICOLOR", "0")]),
            true
        ));
        assert!(!colour_on(ColorWhen::Auto, &env(&[("TERM", "dumb")]), true));
    }

    #[test]
    fn the_flag_wins_over_the_environment() {
        assert!(colour_on(
            ColorWhen::Always,
            &env(&[("NO_COLOR", "1")]),
            false
        ));
        assert!(!colour_on(
            ColorWhen::Never,
            &env(&[("CLICOLOR_FORCE", "1")]),
            true
        ));
    }

    #[test]
    fn prescan_reads_both_spellings_and_the_last_wins() {
        let a = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            prescan(&a(&["zvm", "--color", "never", "list"])),
            ColorWhen::Never
        );
        assert_eq!(prescan(&a(&["zvm", "--color=always"])), ColorWhen::Always);
        assert_eq!(
            prescan(&a(&["zvm", "--color=never", "sync", "--color", "always"])),
            ColorWhen::Always
        );
        assert_eq!(
            prescan(&a(&["zvm", "--", "--color=never"])),
            ColorWhen::Auto
        );
    }
}

//! The conventions of a command-line tool: shell completions that the shells accept and
//! that complete, a man page that `man` renders, and colour that honours `--color`,
//! `NO_COLOR`, `CLICOLOR_FORCE`, `TERM=dumb` and a non-terminal output, in help, errors,
//! logs and progress bars. Tools the checks need (bash, zsh, fish, man, script) are
//! installed by `.ci/run`; a missing one fails the test under CI=true and is reported
//! otherwise.

// A tool missing outside CI is reported on stderr (never a silent skip).
#![allow(clippy::print_stderr)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{TestContext, small_account};

fn zvm() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zvm"));
    // A clean environment: no inherited colour settings, no real config.
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir());
    c
}

fn run(mut c: Command) -> Output {
    c.output().expect("zvm runs")
}

/// Whether `tool` is on PATH; under CI=true a missing tool is a failure, never a skip.
fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is not installed, and CI=true: .ci/run must install it"
        );
        eprintln!("SKIPPED part of this test: {tool} is not installed");
    }
    found
}

const ESC: char = '\u{1b}';

/// An SGR (colour or style) escape sequence: ESC [ digits/semicolons m.
fn has_sgr(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        b[i] == 0x1b && b.get(i + 1) == Some(&b'[') && {
            let rest = &b[i + 2..];
            let n = rest
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == b';')
                .count();
            rest.get(n) == Some(&b'm')
        }
    })
}

fn completion(shell: &str) -> String {
    let mut c = zvm();
    c.args(["completions", shell]);
    let out = run(c);
    assert!(out.status.success(), "zvm completions {shell}: {out:?}");
    let s = String::from_utf8(out.stdout).expect("utf-8");
    // Each shell spells flags its own way (fish: `-l older-than`).
    assert!(
        s.contains("sync") && s.contains("older-than"),
        "the {shell} script knows the commands and their flags"
    );
    s
}

#[test]
fn every_shell_gets_a_completion_script() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        completion(shell);
    }
    let mut c = zvm();
    c.args(["completions", "tcsh"]);
    let out = run(c);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn the_bash_script_parses_and_completes_commands_and_flags() {
    if !have("bash") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("zvm.bash");
    std::fs::write(&script, completion("bash")).unwrap();
    let out = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "bash -n: {out:?}");
    // Ask the completion function what it offers, as bash would on <TAB>.
    let ask = |words: &str, cword: usize| {
        let prog = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; \
             COMP_POINT=${{#COMP_LINE}}; _zvm zvm \"${{COMP_WORDS[$COMP_CWORD]}}\" \
             \"${{COMP_WORDS[$((COMP_CWORD-1))]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = Command::new("bash").arg("-c").arg(prog).output().unwrap();
        assert!(out.status.success(), "completion ran: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let commands = ask("zvm sy", 1);
    assert!(
        commands.lines().any(|l| l == "sync"),
        "zvm sy<TAB> offers sync: {commands:?}"
    );
    let flags = ask("zvm move --older", 2);
    assert!(
        flags.lines().any(|l| l == "--older-than"),
        "zvm move --older<TAB> offers --older-than: {flags:?}"
    );
}

#[test]
fn the_zsh_and_fish_scripts_parse() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, check) in [("zsh", vec!["-n"]), ("fish", vec!["--no-execute"])] {
        if !have(shell) {
            continue;
        }
        let script = dir.path().join(format!("zvm.{shell}"));
        std::fs::write(&script, completion(shell)).unwrap();
        let out = Command::new(shell)
            .args(&check)
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell} {check:?} accepts the script: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// What `man -l` renders of a page, as plain text.
fn render_man(page: &Path) -> String {
    let out = Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "man -l {}: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    plain_text(&String::from_utf8_lossy(&out.stdout))
}

/// Text without the overstrikes (`N\bN` for bold, `_\bx` for underline) that man's
/// formatter writes when its output is not a terminal.
fn plain_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_man_pages_render() {
    if !have("man") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("zvm.1");
    let mut c = zvm();
    c.arg("man");
    let out = run(c);
    assert!(out.status.success(), "zvm man: {out:?}");
    std::fs::write(&page, &out.stdout).unwrap();
    let text = render_man(&page);
    for part in ["NAME", "SYNOPSIS", "zvm-sync(1)", "Zoom Video Mover"] {
        assert!(text.contains(part), "zvm.1 shows {part:?}:\n{text}");
    }

    // One page per command into a folder.
    let pages = dir.path().join("man1");
    let mut c = zvm();
    c.arg("man").arg("--dir").arg(&pages);
    let out = run(c);
    assert!(out.status.success(), "zvm man --dir: {out:?}");
    let sync = render_man(&pages.join("zvm-sync.1"));
    assert!(
        sync.contains("--segments") && sync.contains("--all-users"),
        "zvm-sync.1 documents sync's flags:\n{sync}"
    );
    assert!(
        pages.join("zvm-auth-login.1").exists(),
        "sub-commands get pages too"
    );
}

#[test]
fn help_and_errors_are_coloured_only_where_allowed() {
    let help = |env: &[(&str, &str)], extra: &[&str]| {
        let mut c = zvm();
        c.args(extra).arg("--help");
        for (k, v) in env {
            c.env(k, v);
        }
        String::from_utf8(run(c).stdout).unwrap()
    };
    // The control: colour can appear at all (forced into this pipe).
    assert!(has_sgr(&help(&[("CLICOLOR_FORCE", "1")], &[])));
    assert!(has_sgr(&help(&[], &["--color", "always"])));
    // A pipe, NO_COLOR, --color never, CLICOLOR=0: none.
    for (env, extra) in [
        (vec![], vec![]),
        (vec![("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")], vec![]),
        (vec![("CLICOLOR_FORCE", "1")], vec!["--color=never"]),
        (vec![("CLICOLOR", "0")], vec![]),
    ] {
        let text = help(&env, &extra);
        assert!(
            !text.contains(ESC),
            "no escape codes with {env:?} {extra:?}"
        );
        assert!(text.contains("Usage"), "still the help");
    }

    // A usage error on stderr follows the same rules.
    let error = |env: &[(&str, &str)]| {
        let mut c = zvm();
        c.args(["sync", "--no-such-flag"]);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = run(c);
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(has_sgr(&error(&[("CLICOLOR_FORCE", "1")])));
    let plain = error(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]);
    assert!(!plain.contains(ESC) && plain.contains("--no-such-flag"));
}

#[tokio::test]
async fn logs_follow_no_color() {
    let ctx = TestContext::start(small_account(71, 3)).await;
    let logs = |env: &'static [(&'static str, &'static str)]| {
        let mut c = ctx.zvm();
        c.args(ctx.sync_args(&["-vv"]));
        for (k, v) in env {
            c.env(k, v);
        }
        c
    };
    let forced = common::run_cmd(logs(&[("CLICOLOR_FORCE", "1")])).await;
    forced.expect_code(0, "forced colour");
    assert!(
        has_sgr(&forced.stderr),
        "debug logs are coloured when forced"
    );
    let none = common::run_cmd(logs(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])).await;
    none.expect_code(0, "NO_COLOR");
    assert!(none.stderr.contains("DEBUG"), "the logs are there");
    assert!(!none.all().contains(ESC), "and carry no escape codes");
}

/// Runs `zvm ARGS` on a pseudo-terminal (util-linux `script`), with `env`, and returns
/// everything the terminal received.
fn on_a_terminal(ctx: &TestContext, args: &[String], env: &[(&str, &str)]) -> Option<String> {
    if !have("script") {
        return None;
    }
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(env!("CARGO_BIN_EXE_zvm"));
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let sim = &ctx.sim;
    let creds = sim.credentials();
    let mut c = Command::new("script");
    c.args(["-q", "-e", "-c", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &ctx.home)
        .env("XDG_CONFIG_HOME", ctx.home.join("config"))
        .env("XDG_DATA_HOME", ctx.home.join("data"))
        .env("ZVM_API_BASE", sim.api_base_url())
        .env("ZVM_OAUTH_BASE", sim.oauth_base_url())
        .env("ZOOM_ACCOUNT_ID", creds.account_id)
        .env("ZOOM_CLIENT_ID", creds.client_id)
        .env("ZOOM_CLIENT_SECRET", creds.client_secret)
        .env("ZVM_PLAN", "business")
        .env("ZVM_TEST_FAST_RETRY", "1")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    // A safety net, never reached when things work (the run takes seconds): a run that
    // never ends fails here instead of hanging the suite.
    // Into a file, not a pipe: nobody reads a pipe while this waits.
    let run_name = Path::new(&args[1]).file_name().expect("a dest folder");
    let screen = ctx
        .dir
        .path()
        .join(format!("screen-{}.txt", run_name.to_string_lossy()));
    let file = std::fs::File::create(&screen).expect("screen file");
    let mut child = c
        .stdout(file)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("script runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let seen = std::fs::read(&screen).unwrap_or_default();
            panic!(
                "zvm on a terminal did not finish within 180 s; its screen:\n{}",
                String::from_utf8_lossy(&seen)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = child.wait().expect("wait");
    let text = String::from_utf8_lossy(&std::fs::read(&screen).expect("screen")).into_owned();
    assert!(status.success(), "zvm on a terminal: {status}\n{text}");
    Some(text)
}

// Several threads: this test waits for `script` on its own thread while the simulator
// answers zvm on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_bars_on_a_terminal_follow_no_color_and_term_dumb() {
    // Slow enough that the bars are drawn a few times (8 a second).
    let mut cfg = small_account(72, 6);
    cfg.faults.bandwidth_bps = 64 << 10;
    let ctx = TestContext::start(cfg).await;
    let fresh = |name: &str| {
        let dest = ctx.dir.path().join(name);
        let state = ctx.dir.path().join(format!("{name}.sqlite3"));
        vec![
            "sync".to_string(),
            dest.display().to_string(),
            "--all-users".into(),
            "--from".into(),
            "37m".into(),
            "--state".into(),
            state.display().to_string(),
        ]
    };
    let Some(coloured) = on_a_terminal(&ctx, &fresh("a"), &[("TERM", "xterm")]) else {
        return;
    };
    assert!(has_sgr(&coloured), "bars are coloured on a terminal");
    let plain = on_a_terminal(&ctx, &fresh("b"), &[("TERM", "xterm"), ("NO_COLOR", "1")])
        .expect("script is there");
    assert!(
        plain.contains("total"),
        "the bars are still drawn: {plain:?}"
    );
    assert!(!has_sgr(&plain), "but without colour under NO_COLOR");
    // --color never is zvm's own decision (the terminal library knows NO_COLOR by itself).
    let mut never = fresh("d");
    never.extend(["--color".to_string(), "never".to_string()]);
    let never = on_a_terminal(&ctx, &never, &[("TERM", "xterm")]).expect("script is there");
    assert!(never.contains("total"), "the bars are drawn: {never:?}");
    assert!(!has_sgr(&never), "without colour with --color never");
    let dumb = on_a_terminal(&ctx, &fresh("c"), &[("TERM", "dumb")]).expect("script is there");
    assert!(
        !dumb.contains(ESC),
        "TERM=dumb: plain lines, no escape codes at all: {dumb:?}"
    );
    assert!(
        dumb.contains("listed"),
        "the plain lines are there: {dumb:?}"
    );
}

//! Opens an address in the user's browser, the same way for every front end. Best effort:
//! a missing browser is not an error, because the front end shows the address anyway.

/// Starts the system's opener for `url` and does not wait for it.
pub fn open(url: &str) {
    let (program, args) = opener(url);
    let _ = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// The program and arguments that open `url`. On Windows `cmd /C start "" URL`: the empty
/// argument is `start`'s window title, so the address is never taken for one. (The CLI and
/// the GUI used to launch differently there; now both come here.)
fn opener(url: &str) -> (&'static str, Vec<&str>) {
    #[cfg(target_os = "macos")]
    return ("open", vec![url]);
    #[cfg(target_os = "windows")]
    return ("cmd", vec!["/C", "start", "", url]);
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    return ("xdg-open", vec![url]);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_whole_address_is_one_argument() {
        let url = "https://zoom.us/oauth/authorize?a=1&b=2";
        let (_, args) = super::opener(url);
        assert_eq!(args.last(), Some(&url));
    }
}

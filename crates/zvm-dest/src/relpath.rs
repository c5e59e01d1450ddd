//! Validation of relative destination paths. The naming crate already produces safe names;
//! this is defence in depth so that no bug upstream can ever write outside the root.

use crate::DestError;

/// Checks that `rel` is a '/'-separated relative path that stays under the root, and returns
/// its components. Refuses: empty paths, absolute paths, empty, `.` or `..` components and
/// NUL everywhere; on Windows also backslashes (a separator there) and `:` (drive letters,
/// alternate data streams). Elsewhere those two are ordinary file name characters.
pub fn validate_rel(rel: &str) -> Result<Vec<&str>, DestError> {
    let bad = |reason| {
        Err(DestError::InvalidPath {
            path: rel.to_owned(),
            reason,
        })
    };
    if rel.is_empty() {
        return bad("empty path");
    }
    if rel.starts_with('/') {
        return bad("absolute path");
    }
    if rel.contains('\0') {
        return bad("contains NUL");
    }
    if cfg!(windows) && rel.contains('\\') {
        return bad("contains a backslash");
    }
    if cfg!(windows) && rel.contains(':') {
        return bad("contains ':' (a drive or stream prefix on Windows)");
    }
    let parts: Vec<&str> = rel.split('/').collect();
    for p in &parts {
        match *p {
            "" => return bad("empty path component"),
            "." | ".." => return bad("'.' or '..' component"),
            _ => {}
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::validate_rel;

    #[test]
    fn accepts_ordinary_relative_paths() {
        assert_eq!(
            validate_rel("a/b c/録画.mp4").unwrap(),
            ["a", "b c", "録画.mp4"]
        );
        assert_eq!(
            validate_rel("x..y/..z").unwrap(),
            ["x..y", "..z"],
            "dots inside names are fine"
        );
    }

    #[test]
    fn refuses_escapes() {
        for rel in ["", "/a", "..", "a/../b", "a//b", "a/", "./a", "a\0"] {
            assert!(validate_rel(rel).is_err(), "{rel:?}");
        }
    }

    #[cfg(windows)]
    #[test]
    fn refuses_windows_prefixes_and_separators() {
        for rel in ["a\\b", "C:/x", "C:x", "a/b:stream"] {
            assert!(validate_rel(rel).is_err(), "{rel:?}");
        }
    }
}

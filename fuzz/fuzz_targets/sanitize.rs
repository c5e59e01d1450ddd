//! The name sanitizer and allocator: any topic, host or template input gives a component that
//! stays inside the destination, is at most 255 bytes, is stable, and never repeats.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zvm_naming::{NameAllocator, sanitize_component, sanitize_file_name};

fn check(name: &str) {
    assert!(!name.is_empty(), "empty component");
    assert!(name.len() <= 255, "component of {} bytes", name.len());
    assert!(name != "." && name != "..", "dot component {name:?}");
    assert!(!name.contains('/') && !name.contains('\\'), "separator in {name:?}");
    assert!(!name.contains('\0'), "NUL in {name:?}");
    assert!(!name.ends_with(' ') && !name.ends_with('.'), "Windows-trimmed end in {name:?}");
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let a = sanitize_component(&text);
    check(&a);
    assert_eq!(a, sanitize_component(&text), "not stable");
    let f = sanitize_file_name(&text);
    check(&f);
    // Sanitizing is idempotent: a sanitized name is left alone.
    assert_eq!(sanitize_component(&a), a);

    // Split the input into names and allocate them all in one folder: no two may be equal,
    // even ignoring case (Windows and macOS folders are case-insensitive).
    let mut alloc = NameAllocator::new();
    let mut seen = std::collections::HashSet::new();
    for part in text.split('\n').take(64) {
        let n = alloc.allocate(&sanitize_file_name(part));
        check(&n);
        assert!(seen.insert(n.to_lowercase()), "allocated {n:?} twice");
    }
});

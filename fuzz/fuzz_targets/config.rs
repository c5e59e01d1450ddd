//! The parsers of user input: `config.toml` (zvm-app's config and parse modules, compiled in as is),
//! the date, rate and file-type arguments, and the simulator's scenario files. Any input is
//! accepted or refused with an error; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, clippy::print_stderr)]
#[path = "../../crates/zvm-app/src/parse.rs"]
mod parse;
#[allow(dead_code)]
#[path = "../../crates/zvm-app/src/config.rs"]
mod config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = toml::from_str::<config::ConfigFile>(text)
        && let Some(t) = cfg.transfers
    {
        let _ = t.parse();
    }
    let _ = parse::parse_transfers(text);
    let _ = parse::parse_date(text, "--from");
    let _ = parse::parse_rate(text);
    let list: Vec<String> = text.split(',').map(str::to_string).collect();
    let _ = parse::parse_file_types(&list);
    let _ = zoom_sim::SimConfig::from_toml_str(text);
});

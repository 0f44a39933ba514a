//! `Revision::parse` (the reader of a revision file's text): no panic, and a revision it reads
//! is written again as text that reads back the same. What loading a folder does next
//! (downgrade steps, the graph, replaying into a schema) does not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orm_core::migrate::{Revision, Revisions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(rev) = Revision::parse("fuzz.toml", text) else { return };
    let _ = rev.downgrade_steps();
    let _ = rev.file_name();
    let written = rev.to_toml();
    match Revision::parse("fuzz.toml", &written) {
        Ok(back) => assert_eq!(back.to_toml(), written, "read from:\n{text}"),
        Err(e) => {
            panic!("a revision read from\n{text}\nis written as\n{written}\nwhich reads as: {e}")
        }
    }
    if let Ok(all) = Revisions::new(vec![rev]) {
        let _ = all.replay_all(None);
        let _ = all.replay_all(Some("postgresql"));
    }
});

//! The conformance suite every [`Destination`] implementation must pass (the local disk, and
//! S3-compatible storage in `zvm-dest-opendal`).
//! It pins what the engine relies on: resume offsets, truncation when reopening at a smaller
//! offset, no final name before `finalize`, the size check that keeps the `.part`,
//! `write_atomic`, refusal of unsafe paths and `sha256_final`; and, for destinations that
//! write at offsets, the ranged file of segmented downloads.
//!
//! Functions panic with a descriptive message on a violation, like `assert!` in a test.
//! [`run_all`] expects an empty, writable destination.

#![allow(clippy::missing_panics_doc)]

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::{DestError, Destination, RangeWriter};

/// Runs every check below.
pub async fn run_all(dest: &dyn Destination) {
    check_writable_works(dest).await;
    write_resume_finalize(dest).await;
    reopen_at_smaller_offset_truncates(dest).await;
    resume_beyond_end_is_refused(dest).await;
    size_mismatch_keeps_the_part(dest).await;
    large_file_in_odd_chunks(dest).await;
    owned_and_borrowed_writes_keep_their_order(dest).await;
    finalize_replaces_an_existing_file(dest).await;
    write_atomic_roundtrip(dest).await;
    read_final_is_bounded(dest).await;
    invalid_paths_are_refused(dest).await;
    unicode_names(dest).await;
    remove_partial_is_idempotent(dest).await;
    if dest.writes_at_offsets() {
        ranges_land_at_their_offsets(dest).await;
        a_ranged_file_keeps_its_bytes_unless_fresh(dest).await;
        written_counts_completed_writes(dest).await;
        partial_and_ranged_files_convert(dest).await;
        ranged_size_mismatch_keeps_the_file(dest).await;
        remove_ranged_is_idempotent(dest).await;
    }
}

/// Deterministic test bytes (not all equal, so misplaced bytes are caught).
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ ((i >> 8) as u8))
        .collect()
}

fn sha_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub async fn check_writable_works(dest: &dyn Destination) {
    dest.check_writable()
        .await
        .expect("check_writable on a writable destination");
    assert!(
        !dest.describe().is_empty(),
        "describe() must say where files go"
    );
}

pub async fn write_resume_finalize(dest: &dyn Destination) {
    let rel = "2026/05/meeting one/video.mp4";
    let data = pattern(300_000, 1);
    assert_eq!(dest.stat_final(rel).await.unwrap(), None);
    assert_eq!(dest.partial_len(rel).await.unwrap(), None);

    let mut part = dest.open_partial(rel, 0).await.unwrap();
    assert_eq!(part.len(), 0);
    part.write_all(&data[..100_000]).await.unwrap();
    assert_eq!(part.len(), 100_000, "len() counts buffered bytes");
    part.sync().await.unwrap();
    assert_eq!(
        dest.partial_len(rel).await.unwrap(),
        Some(100_000),
        "sync() makes bytes visible"
    );
    assert_eq!(
        dest.stat_final(rel).await.unwrap(),
        None,
        "no final name before finalize"
    );
    drop(part); // an interrupted transfer

    let have = dest.partial_len(rel).await.unwrap().unwrap();
    let mut part = dest.open_partial(rel, have).await.unwrap();
    assert_eq!(part.len(), have, "a resumed file starts at its offset");
    part.write_all(&data[have as usize..]).await.unwrap();
    assert_eq!(
        dest.stat_final(rel).await.unwrap(),
        None,
        "no final name before finalize"
    );
    let size = part.finalize(data.len() as u64).await.unwrap();
    assert_eq!(size, data.len() as u64);
    assert_eq!(dest.stat_final(rel).await.unwrap(), Some(data.len() as u64));
    // Many at once: the same answers, in the order asked; a bad path fails alone.
    let many = dest
        .stat_final_many(&[
            "no/such/file.mp4".into(),
            rel.to_string(),
            "../escape".into(),
        ])
        .await;
    assert_eq!(many.len(), 3);
    assert!(matches!(many[0], Ok(None)));
    assert_eq!(many[1].as_ref().ok(), Some(&Some(data.len() as u64)));
    assert!(many[2].is_err());
    assert_eq!(
        dest.partial_len(rel).await.unwrap(),
        None,
        "finalize consumes the .part"
    );
    assert_eq!(
        dest.sha256_final(rel).await.unwrap(),
        sha_hex(&data),
        "resumed content must be exact"
    );
}

pub async fn reopen_at_smaller_offset_truncates(dest: &dyn Destination) {
    if !dest.truncates_partials() {
        reopen_at_smaller_offset_is_refused(dest).await;
        return;
    }
    let rel = "trunc/a.m4a";
    let data = pattern(50_000, 2);
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    part.write_all(&pattern(40_000, 99)).await.unwrap(); // bytes that must be discarded
    part.sync().await.unwrap();
    drop(part);

    // Only the first 10 000 bytes are trusted: rewrite from there with the right content.
    let mut part = dest.open_partial(rel, 10_000).await.unwrap();
    assert_eq!(
        dest.partial_len(rel).await.unwrap(),
        Some(10_000),
        "reopen must truncate"
    );
    part.write_all(&data[10_000..]).await.unwrap();
    part.finalize(50_000).await.unwrap();
    let mut expected = pattern(40_000, 99)[..10_000].to_vec();
    expected.extend_from_slice(&data[10_000..]);
    assert_eq!(dest.sha256_final(rel).await.unwrap(), sha_hex(&expected));

    // Offset 0 starts over even if a .part exists.
    let mut part = dest.open_partial("trunc/b.bin", 0).await.unwrap();
    part.write_all(b"old old old").await.unwrap();
    part.sync().await.unwrap();
    drop(part);
    let mut part = dest.open_partial("trunc/b.bin", 0).await.unwrap();
    part.write_all(b"new").await.unwrap();
    part.finalize(3).await.unwrap();
    assert_eq!(
        dest.sha256_final("trunc/b.bin").await.unwrap(),
        sha_hex(b"new")
    );
}

/// For destinations that cannot cut an upload in progress: resuming below its length is an
/// error that leaves it as it was, and offset 0 still starts over.
pub async fn reopen_at_smaller_offset_is_refused(dest: &dyn Destination) {
    let rel = "trunc/refused.m4a";
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    part.write_all(&pattern(40_000, 99)).await.unwrap();
    part.sync().await.unwrap();
    drop(part);
    assert!(
        dest.open_partial(rel, 10_000).await.is_err(),
        "a destination that cannot truncate must refuse to resume below the .part's length"
    );
    assert_eq!(
        dest.partial_len(rel).await.unwrap(),
        Some(40_000),
        "a refused resume leaves the .part alone"
    );
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    assert_eq!(
        dest.partial_len(rel).await.unwrap(),
        Some(0),
        "offset 0 starts over"
    );
    part.write_all(b"new").await.unwrap();
    part.finalize(3).await.unwrap();
    assert_eq!(dest.sha256_final(rel).await.unwrap(), sha_hex(b"new"));
}

pub async fn resume_beyond_end_is_refused(dest: &dyn Destination) {
    let rel = "beyond/x.bin";
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    part.write_all(&[7; 10]).await.unwrap();
    part.sync().await.unwrap();
    drop(part);
    match dest.open_partial(rel, 11).await {
        Err(DestError::ResumeBeyondEnd {
            offset: 11,
            actual: 10,
            ..
        }) => {}
        Err(e) => panic!("expected ResumeBeyondEnd, got {e:?}"),
        Ok(_) => panic!("resuming past the end of a .part must be refused"),
    }
    assert_eq!(
        dest.partial_len(rel).await.unwrap(),
        Some(10),
        "a refused resume leaves the .part alone"
    );
}

pub async fn size_mismatch_keeps_the_part(dest: &dyn Destination) {
    let rel = "mismatch/short.mp4";
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    part.write_all(&pattern(1000, 3)).await.unwrap();
    match part.finalize(2000).await {
        Err(DestError::SizeMismatch {
            expected: 2000,
            actual: 1000,
            ..
        }) => {}
        other => panic!("expected SizeMismatch, got {other:?}"),
    }
    assert_eq!(
        dest.stat_final(rel).await.unwrap(),
        None,
        "a short file must never get its final name"
    );
    assert_eq!(
        dest.partial_len(rel).await.unwrap(),
        Some(1000),
        "the .part is kept for resume"
    );

    let mut part = dest.open_partial(rel, 1000).await.unwrap();
    part.write_all(&pattern(1500, 4)).await.unwrap();
    assert!(
        matches!(
            part.finalize(2000).await,
            Err(DestError::SizeMismatch { actual: 2500, .. })
        ),
        "too long is a mismatch too"
    );
    assert_eq!(dest.stat_final(rel).await.unwrap(), None);
}

/// `write_bytes` and `write_all` interleaved, in sizes around and above the local buffer, with
/// a sync in the middle: the file holds the bytes in call order.
pub async fn owned_and_borrowed_writes_keep_their_order(dest: &dyn Destination) {
    let rel = "mixed/owned.mp4";
    let data = pattern(3 * 1024 * 1024 + 777, 6);
    let sizes = [1, 65_536, 7, 300_000, 262_144, 13, 1_000_000, 4096];
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    let mut at = 0;
    for (i, &n) in sizes.iter().cycle().enumerate() {
        if at == data.len() {
            break;
        }
        let end = (at + n).min(data.len());
        if i % 2 == 0 {
            part.write_bytes(Bytes::copy_from_slice(&data[at..end]))
                .await
                .unwrap();
        } else {
            part.write_all(&data[at..end]).await.unwrap();
        }
        at = end;
        assert_eq!(part.len(), at as u64, "len() counts every byte handed over");
        if i == 5 {
            part.sync().await.unwrap();
            assert_eq!(dest.partial_len(rel).await.unwrap(), Some(at as u64));
        }
    }
    part.write_bytes(Bytes::new()).await.unwrap();
    part.finalize(data.len() as u64).await.unwrap();
    assert_eq!(dest.sha256_final(rel).await.unwrap(), sha_hex(&data));
}

pub async fn large_file_in_odd_chunks(dest: &dyn Destination) {
    // Larger than the local buffer (1 MiB) several times, in chunk sizes that do not divide it.
    let rel = "large/big.mp4";
    let data = pattern(5 * 1024 * 1024 + 12_345, 5);
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    for (i, chunk) in data.chunks(16_411).enumerate() {
        part.write_all(chunk).await.unwrap();
        if i == 100 {
            part.sync().await.unwrap();
            assert_eq!(
                dest.partial_len(rel).await.unwrap(),
                Some(part.len()),
                "sync flushes everything"
            );
        }
        // Background syncs while writing goes on, back to back (each waits for the last).
        if i % 60 == 30 {
            part.sync_in_background().await.unwrap();
            assert_eq!(
                dest.partial_len(rel).await.unwrap(),
                Some(part.len()),
                "a background sync hands every written byte to the file first"
            );
        }
    }
    assert_eq!(part.len(), data.len() as u64);
    // One big write as well.
    part.write_all(&data).await.unwrap();
    part.finalize(2 * data.len() as u64).await.unwrap();
    let mut both = data.clone();
    both.extend_from_slice(&data);
    assert_eq!(dest.sha256_final(rel).await.unwrap(), sha_hex(&both));
}

pub async fn finalize_replaces_an_existing_file(dest: &dyn Destination) {
    let rel = "replace/v.mp4";
    dest.write_atomic(rel, b"stale").await.unwrap();
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    part.write_all(b"fresh content").await.unwrap();
    part.finalize(13).await.unwrap();
    assert_eq!(dest.stat_final(rel).await.unwrap(), Some(13));
    assert_eq!(
        dest.sha256_final(rel).await.unwrap(),
        sha_hex(b"fresh content")
    );
}

pub async fn write_atomic_roundtrip(dest: &dyn Destination) {
    let rel = "atomic/deeper/meeting.json";
    dest.write_atomic(rel, b"{\"a\":1}").await.unwrap();
    assert_eq!(dest.stat_final(rel).await.unwrap(), Some(7));
    assert_eq!(dest.sha256_final(rel).await.unwrap(), sha_hex(b"{\"a\":1}"));
    dest.write_atomic(rel, b"{}").await.unwrap();
    assert_eq!(
        dest.sha256_final(rel).await.unwrap(),
        sha_hex(b"{}"),
        "write_atomic replaces"
    );
    dest.write_atomic("atomic/empty.md", b"").await.unwrap();
    assert_eq!(dest.stat_final("atomic/empty.md").await.unwrap(), Some(0));
    assert_eq!(
        dest.partial_len(rel).await.unwrap(),
        None,
        "write_atomic leaves no .part"
    );
}

/// `read_final` gives a final file's bytes, refuses one over the limit (and a missing one),
/// and never reads a `.part` in progress.
pub async fn read_final_is_bounded(dest: &dyn Destination) {
    let rel = "readback/日本語 transcript.vtt";
    let text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n予算の確認\n".as_bytes();
    dest.write_atomic(rel, text).await.unwrap();
    let limit = text.len() as u64;
    assert_eq!(dest.read_final(rel, limit).await.unwrap(), text);
    assert!(
        matches!(
            dest.read_final(rel, limit - 1).await,
            Err(DestError::TooLarge { limit: l, .. }) if l == limit - 1
        ),
        "a file over the limit is refused"
    );
    let big = "readback/big.bin";
    dest.write_atomic(big, &pattern(300_000, 4)).await.unwrap();
    assert!(matches!(
        dest.read_final(big, 1000).await,
        Err(DestError::TooLarge { .. })
    ));
    assert!(
        dest.read_final("readback/absent.vtt", 1000).await.is_err(),
        "a missing file is an error"
    );
    let mut p = dest.open_partial("readback/growing.vtt", 0).await.unwrap();
    p.write_all(b"half").await.unwrap();
    p.sync().await.unwrap();
    assert!(
        dest.read_final("readback/growing.vtt", 1000).await.is_err(),
        "a file still being written is not read"
    );
    drop(p);
    dest.remove_partial("readback/growing.vtt").await.unwrap();
}

/// Paths that could escape the root, refused by every method.
pub fn unsafe_paths() -> Vec<&'static str> {
    let mut v = vec![
        "",
        "/etc/passwd",
        "../x",
        "a/../../x",
        "a/..",
        "./a",
        "a/./b",
        "a//b",
        "a/",
        "a\0b",
    ];
    if cfg!(windows) {
        v.extend(["a\\..\\..\\x", "C:/x", "C:x", "\\\\server\\share\\x"]);
    }
    v
}

pub async fn invalid_paths_are_refused(dest: &dyn Destination) {
    let invalid = |r: Result<(), DestError>, what: &str, rel: &str| {
        assert!(
            matches!(r, Err(DestError::InvalidPath { .. })),
            "{what}({rel:?}) must be refused: {r:?}"
        );
    };
    for rel in unsafe_paths() {
        invalid(dest.stat_final(rel).await.map(drop), "stat_final", rel);
        invalid(dest.partial_len(rel).await.map(drop), "partial_len", rel);
        invalid(
            dest.open_partial(rel, 0).await.map(drop),
            "open_partial",
            rel,
        );
        invalid(dest.write_atomic(rel, b"x").await, "write_atomic", rel);
        invalid(dest.sha256_final(rel).await.map(drop), "sha256_final", rel);
        invalid(dest.remove_partial(rel).await, "remove_partial", rel);
    }
}

pub async fn unicode_names(dest: &dyn Destination) {
    // NFC Japanese, as produced by the naming crate.
    let rel = "2026/03/2026-03-04 定例会議/録画 – 画面共有.mp4";
    let data = pattern(4096, 6);
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    part.write_all(&data).await.unwrap();
    part.finalize(4096).await.unwrap();
    assert_eq!(dest.stat_final(rel).await.unwrap(), Some(4096));
    assert_eq!(dest.sha256_final(rel).await.unwrap(), sha_hex(&data));
}

pub async fn remove_partial_is_idempotent(dest: &dyn Destination) {
    let rel = "rm/x.bin";
    dest.remove_partial(rel)
        .await
        .expect("removing an absent .part is fine");
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    part.write_all(b"abc").await.unwrap();
    part.sync().await.unwrap();
    drop(part);
    dest.remove_partial(rel).await.unwrap();
    assert_eq!(dest.partial_len(rel).await.unwrap(), None);
    dest.remove_partial(rel).await.unwrap();
    assert!(
        dest.sha256_final(rel).await.is_err(),
        "hashing an absent final file is an error"
    );
}

/// Writes `data[from..to]` through `w` in chunks of `step` bytes.
async fn write_range(w: &mut dyn RangeWriter, data: &[u8], from: usize, to: usize, step: usize) {
    let mut at = from;
    while at < to {
        let end = (at + step).min(to);
        w.write_bytes(Bytes::copy_from_slice(&data[at..end]))
            .await
            .unwrap();
        at = end;
    }
    w.flush().await.unwrap();
    assert_eq!(
        w.written(),
        (to - from) as u64,
        "after flush, written() counts every byte of the range"
    );
}

pub async fn ranges_land_at_their_offsets(dest: &dyn Destination) {
    let rel = "ranged/long lecture.mp4";
    let data = pattern(1_000_003, 9);
    let cuts = [0usize, 333_333, 700_001, data.len()];
    let file = dest.open_ranged(rel, true).await.unwrap();
    let mut writers = Vec::new();
    for &at in &cuts[..3] {
        writers.push(file.writer_at(at as u64).await.unwrap());
    }
    // The three ranges at once, in odd chunk sizes, the last range started first.
    let (a, rest) = writers.split_at_mut(1);
    let (b, c) = rest.split_at_mut(1);
    tokio::join!(
        write_range(c[0].as_mut(), &data, cuts[2], cuts[3], 70_001),
        write_range(b[0].as_mut(), &data, cuts[1], cuts[2], 4_097),
        write_range(a[0].as_mut(), &data, cuts[0], cuts[1], 65_536),
    );
    drop(writers);
    assert_eq!(
        dest.stat_final(rel).await.unwrap(),
        None,
        "no final name before finalize"
    );
    assert_eq!(
        dest.partial_len(rel).await.unwrap(),
        None,
        "a ranged download is not a .part whose length is a resume point"
    );
    file.sync().await.unwrap();
    assert_eq!(
        file.finalize(data.len() as u64).await.unwrap(),
        data.len() as u64
    );
    assert_eq!(dest.ranged_len(rel).await.unwrap(), None, "renamed away");
    assert_eq!(
        dest.sha256_final(rel).await.unwrap(),
        sha_hex(&data),
        "every range at its offset"
    );
}

pub async fn a_ranged_file_keeps_its_bytes_unless_fresh(dest: &dyn Destination) {
    let rel = "ranged/resumed.bin";
    let data = pattern(6_000, 3);
    let file = dest.open_ranged(rel, true).await.unwrap();
    let mut w = file.writer_at(0).await.unwrap();
    write_range(w.as_mut(), &data, 0, 1_000, 300).await;
    let mut w2 = file.writer_at(5_000).await.unwrap();
    write_range(w2.as_mut(), &data, 5_000, 6_000, 300).await;
    drop((w, w2, file)); // an interrupted run

    // The next run fills the hole and keeps the rest.
    let file = dest.open_ranged(rel, false).await.unwrap();
    let mut w = file.writer_at(1_000).await.unwrap();
    write_range(w.as_mut(), &data, 1_000, 5_000, 999).await;
    drop(w);
    file.finalize(6_000).await.unwrap();
    assert_eq!(dest.sha256_final(rel).await.unwrap(), sha_hex(&data));

    let rel = "ranged/fresh.bin";
    let file = dest.open_ranged(rel, true).await.unwrap();
    let mut w = file.writer_at(0).await.unwrap();
    write_range(w.as_mut(), &data, 0, 2_000, 500).await;
    drop((w, file));
    let _fresh = dest.open_ranged(rel, true).await.unwrap();
    assert_eq!(
        dest.ranged_len(rel).await.unwrap(),
        Some(0),
        "fresh empties the file"
    );
    dest.remove_ranged(rel).await.unwrap();
}

pub async fn written_counts_completed_writes(dest: &dyn Destination) {
    let rel = "ranged/counted.bin";
    let data = pattern(3 << 20, 5);
    let file = dest.open_ranged(rel, true).await.unwrap();
    let mut w = file.writer_at(0).await.unwrap();
    let mut given = 0u64;
    for chunk in data.chunks(64 * 1024) {
        w.write_bytes(Bytes::copy_from_slice(chunk)).await.unwrap();
        given += chunk.len() as u64;
        assert!(
            w.written() <= given,
            "written() {} counts more than was given ({given})",
            w.written()
        );
    }
    w.flush().await.unwrap();
    assert_eq!(w.written(), given);
    drop(w);
    file.finalize(data.len() as u64).await.unwrap();
    assert_eq!(dest.sha256_final(rel).await.unwrap(), sha_hex(&data));
}

pub async fn partial_and_ranged_files_convert(dest: &dyn Destination) {
    let rel = "ranged/converted.bin";
    let data = pattern(4_000, 7);
    assert_eq!(
        dest.partial_into_ranged(rel).await.unwrap(),
        None,
        "no .part: nothing to convert"
    );
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    part.write_all(&data[..1_000]).await.unwrap();
    part.sync().await.unwrap();
    drop(part);
    // A download begun in one piece continues as ranges, keeping its start.
    assert_eq!(dest.partial_into_ranged(rel).await.unwrap(), Some(1_000));
    assert_eq!(dest.partial_len(rel).await.unwrap(), None);
    assert_eq!(dest.ranged_len(rel).await.unwrap(), Some(1_000));
    let file = dest.open_ranged(rel, false).await.unwrap();
    let mut w = file.writer_at(3_000).await.unwrap();
    write_range(w.as_mut(), &data, 3_000, 4_000, 333).await;
    let mut w = file.writer_at(1_000).await.unwrap();
    write_range(w.as_mut(), &data, 1_000, 1_500, 333).await;
    drop((w, file));
    // And back to one piece: only the first 1,500 bytes are known to be there.
    match dest.ranged_into_partial(rel, 4_001).await {
        Err(DestError::ResumeBeyondEnd { .. }) => {}
        other => panic!("cutting to more than the file holds must be refused, got {other:?}"),
    }
    dest.ranged_into_partial(rel, 1_500).await.unwrap();
    assert_eq!(dest.ranged_len(rel).await.unwrap(), None);
    assert_eq!(dest.partial_len(rel).await.unwrap(), Some(1_500));
    let mut part = dest.open_partial(rel, 1_500).await.unwrap();
    part.write_all(&data[1_500..]).await.unwrap();
    part.finalize(4_000).await.unwrap();
    assert_eq!(dest.sha256_final(rel).await.unwrap(), sha_hex(&data));
}

pub async fn ranged_size_mismatch_keeps_the_file(dest: &dyn Destination) {
    let rel = "ranged/short.bin";
    let data = pattern(2_000, 1);
    let file = dest.open_ranged(rel, true).await.unwrap();
    let mut w = file.writer_at(0).await.unwrap();
    write_range(w.as_mut(), &data, 0, 2_000, 700).await;
    drop(w);
    match file.finalize(2_001).await {
        Err(DestError::SizeMismatch {
            expected: 2_001,
            actual: 2_000,
            ..
        }) => {}
        other => panic!("expected a size mismatch, got {other:?}"),
    }
    assert_eq!(dest.stat_final(rel).await.unwrap(), None);
    assert_eq!(dest.ranged_len(rel).await.unwrap(), Some(2_000), "kept");
    dest.remove_ranged(rel).await.unwrap();
}

pub async fn remove_ranged_is_idempotent(dest: &dyn Destination) {
    let rel = "ranged/gone.bin";
    dest.remove_ranged(rel).await.unwrap();
    let file = dest.open_ranged(rel, true).await.unwrap();
    drop(file);
    assert_eq!(dest.ranged_len(rel).await.unwrap(), Some(0));
    dest.remove_ranged(rel).await.unwrap();
    assert_eq!(dest.ranged_len(rel).await.unwrap(), None);
    dest.remove_ranged(rel).await.unwrap();
}

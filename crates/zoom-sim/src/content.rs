//! File bytes computed on the fly from a per-file key: no disk, any offset, fast.
//!
//! The file is cut into 64 KiB blocks; block `b` is a wyrand stream seeded with
//! `(key, b)`, so a `Range` request can start anywhere and a 50 GiB account costs nothing.
//! Generation runs at several GiB/s, far above what a loopback client reads.

use sha2::{Digest, Sha256};

pub const BLOCK: u64 = 64 * 1024;

#[inline]
fn wyrand(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0xa076_1d64_78bd_642f);
    let t = u128::from(*state) * u128::from(*state ^ 0xe703_7ed1_a0b4_28db);
    ((t >> 64) as u64) ^ (t as u64)
}

fn block_seed(key: u64, block: u64) -> u64 {
    let mut s = key ^ block.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    wyrand(&mut s)
}

/// Fills `buf` with the file's bytes starting at `offset` (a text file's from its document,
/// see [`crate::text`]; zeros past its end).
pub fn fill(key: u64, offset: u64, buf: &mut [u8]) {
    if let Some(doc) = crate::text::document(key) {
        let from = usize::try_from(offset).unwrap_or(usize::MAX).min(doc.len());
        let n = buf.len().min(doc.len() - from);
        buf[..n].copy_from_slice(&doc[from..from + n]);
        buf[n..].fill(0);
        return;
    }
    let mut pos = offset;
    let mut out = 0usize;
    while out < buf.len() {
        let block = pos / BLOCK;
        let within = (pos % BLOCK) as usize;
        let take = ((BLOCK as usize) - within).min(buf.len() - out);
        let mut s = block_seed(key, block);
        // Skip whole words before `within`, then copy.
        let skip_words = within / 8;
        for _ in 0..skip_words {
            wyrand(&mut s);
        }
        let mut i = 0usize;
        let mut word_off = within % 8;
        while i < take {
            let w = wyrand(&mut s).to_le_bytes();
            let n = (8 - word_off).min(take - i);
            buf[out + i..out + i + n].copy_from_slice(&w[word_off..word_off + n]);
            i += n;
            word_off = 0;
        }
        out += take;
        pos += take as u64;
    }
}

/// SHA-256 (hex) of a whole file; computed on demand (tests use small files).
pub fn sha256_hex(key: u64, size: u64) -> String {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0u64;
    while off < size {
        let n = (size - off).min(buf.len() as u64) as usize;
        fill(key, off, &mut buf[..n]);
        h.update(&buf[..n]);
        off += n as u64;
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_offset_matches_the_whole() {
        let mut whole = vec![0u8; 300_000];
        fill(7, 0, &mut whole);
        for off in [0usize, 1, 7, 8, 65535, 65536, 65537, 131_071, 200_003] {
            let mut part = vec![0u8; 50_000.min(whole.len() - off)];
            fill(7, off as u64, &mut part);
            assert_eq!(&part[..], &whole[off..off + part.len()], "offset {off}");
        }
        let mut other = vec![0u8; 1000];
        fill(8, 0, &mut other);
        assert_ne!(&other[..], &whole[..1000]);
    }
}

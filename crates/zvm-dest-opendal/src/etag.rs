//! The ETag S3 gives an object, computed from the bytes zvm sent: the MD5 of the object for
//! a single PUT, and for a multipart upload the MD5 of the parts' MD5s followed by `-` and
//! the number of parts. Comparing it with the ETag the server reports after the upload
//! proves the server stored these bytes, not only this many bytes.

use md5::{Digest, Md5};

/// MD5s of the parts of an upload as its bytes go by, parts being `part_size` bytes long
/// (the last one shorter), exactly as the multipart writer cuts them.
pub(crate) struct PartHasher {
    part_size: u64,
    current: Md5,
    in_current: u64,
    done: Vec<[u8; 16]>,
    /// The upload is a multipart one whatever its length (one taken over from an earlier
    /// run), so even one part gets the `-1` form.
    multipart: bool,
}

impl PartHasher {
    pub(crate) fn new(part_size: usize) -> Self {
        Self {
            part_size: part_size as u64,
            current: Md5::new(),
            in_current: 0,
            done: Vec::new(),
            multipart: false,
        }
    }

    /// Goes on after the parts of an earlier run's multipart upload, whose MD5s the
    /// service reported (their ETags).
    #[cfg(feature = "s3")]
    pub(crate) fn resumed(part_size: usize, done: Vec<[u8; 16]>) -> Self {
        Self {
            done,
            multipart: true,
            ..Self::new(part_size)
        }
    }

    /// The MD5 of an upload sent in one PUT, however long.
    pub(crate) fn whole() -> Self {
        Self {
            part_size: u64::MAX,
            current: Md5::new(),
            in_current: 0,
            done: Vec::new(),
            multipart: false,
        }
    }

    pub(crate) fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = self.part_size - self.in_current;
            let take = room.min(data.len() as u64) as usize;
            self.current.update(&data[..take]);
            self.in_current += take as u64;
            data = &data[take..];
            if self.in_current == self.part_size {
                let md5 = std::mem::take(&mut self.current).finalize();
                self.done.push(md5.into());
                self.in_current = 0;
            }
        }
    }

    /// The ETag (lowercase hex, without quotes) the upload of these bytes gets. Up to one
    /// part's worth the writer sends a single PUT; beyond, a multipart upload.
    pub(crate) fn expected_etag(&self) -> String {
        let mut parts = self.done.clone();
        if self.in_current > 0 {
            parts.push(self.current.clone().finalize().into());
        }
        match parts.len() {
            0 => hex::encode(Md5::digest(b"")),
            1 if !self.multipart => hex::encode(parts[0]),
            n => {
                let mut all = Md5::new();
                for p in &parts {
                    all.update(p);
                }
                format!("{}-{n}", hex::encode(all.finalize()))
            }
        }
    }
}

/// Whether an ETag as servers send it (quoted, maybe weak) has the MD5 shape this module
/// computes: 32 hex digits, optionally `-N`. Others (SSE-KMS, some gateways) are not
/// comparable and are left unchecked.
pub(crate) fn md5_shaped(etag: &str) -> Option<String> {
    let e = etag
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_ascii_lowercase();
    let (hexpart, count) = match e.split_once('-') {
        Some((h, n)) => (h, Some(n)),
        None => (e.as_str(), None),
    };
    let hex_ok = hexpart.len() == 32 && hexpart.chars().all(|c| c.is_ascii_hexdigit());
    let count_ok = count.is_none_or(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    (hex_ok && count_ok).then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn etag_of(data: &[u8], part: usize, feed: usize) -> String {
        let mut h = PartHasher::new(part);
        for c in data.chunks(feed) {
            h.update(c);
        }
        h.expected_etag()
    }

    #[test]
    fn single_put_is_the_md5() {
        assert_eq!(etag_of(b"", 8, 3), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(etag_of(b"hello", 8, 2), hex::encode(Md5::digest(b"hello")));
        // Exactly one part is still a single PUT.
        assert_eq!(
            etag_of(b"12345678", 8, 3),
            hex::encode(Md5::digest(b"12345678"))
        );
    }

    #[test]
    fn a_whole_file_hasher_gives_the_md5_however_long() {
        let data = vec![5u8; 100_000];
        let mut h = PartHasher::whole();
        for c in data.chunks(7_000) {
            h.update(c);
        }
        assert_eq!(h.expected_etag(), hex::encode(Md5::digest(&data)));
    }

    #[test]
    fn multipart_is_the_md5_of_part_md5s() {
        let data = b"0123456789abcdefXYZ";
        let parts = [&data[..8], &data[8..16], &data[16..]];
        let mut all = Md5::new();
        for p in parts {
            all.update(Md5::digest(p));
        }
        let want = format!("{}-3", hex::encode(all.finalize()));
        for feed in [1, 3, 8, 19] {
            assert_eq!(etag_of(data, 8, feed), want, "fed {feed} at a time");
        }
    }

    #[test]
    fn etag_shapes() {
        assert_eq!(
            md5_shaped("\"D41D8CD98F00B204E9800998ECF8427E\"").as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert!(md5_shaped("\"d41d8cd98f00b204e9800998ecf8427e-12\"").is_some());
        assert!(md5_shaped("W/\"d41d8cd98f00b204e9800998ecf8427e\"").is_some());
        assert!(md5_shaped("\"abc\"").is_none());
        assert!(md5_shaped("\"d41d8cd98f00b204e9800998ecf8427e-\"").is_none());
        assert!(md5_shaped("1c2f3d").is_none());
    }
}

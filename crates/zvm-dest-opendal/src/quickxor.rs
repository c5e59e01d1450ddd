//! OneDrive's QuickXorHash (`file.hashes.quickXorHash`, base64): each byte at position `k`
//! is XORed into a 160-bit ring at bit `11·k mod 160`, then the length (64 bits,
//! little-endian) is XORed into the last 8 of its 20 bytes. Since `11·160 ≡ 0 (mod 160)`,
//! bytes 160 apart land on the same bits: they are XORed together first (one XOR per byte)
//! and placed on the ring at the end.

use base64::Engine as _;

#[derive(Clone)]
pub(crate) struct QuickXor {
    /// The XOR of the bytes at each position modulo 160.
    lanes: [u8; 160],
    len: u64,
}

impl Default for QuickXor {
    fn default() -> Self {
        Self {
            lanes: [0; 160],
            len: 0,
        }
    }
}

impl QuickXor {
    pub(crate) fn update(&mut self, data: &[u8]) {
        let mut lane = (self.len % 160) as usize;
        for &b in data {
            self.lanes[lane] ^= b;
            lane += 1;
            if lane == 160 {
                lane = 0;
            }
        }
        self.len += data.len() as u64;
    }

    /// The 20 bytes of the hash.
    pub(crate) fn finish(&self) -> [u8; 20] {
        let mut ring = [0u8; 20];
        for (j, &b) in self.lanes.iter().enumerate() {
            let bit = (j * 11) % 160;
            let v = u16::from(b) << (bit % 8);
            ring[bit / 8] ^= v as u8;
            ring[(bit / 8 + 1) % 20] ^= (v >> 8) as u8;
        }
        for (i, l) in self.len.to_le_bytes().iter().enumerate() {
            ring[12 + i] ^= l;
        }
        ring
    }

    /// The hash as OneDrive reports it (base64).
    pub(crate) fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.finish())
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::QuickXor;

    /// Vectors of the reference implementation (as rclone's tests carry them): input and
    /// hash, base64.
    const VECTORS: [(&str, &str); 6] = [
        ("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ("Sg==", "SgAAAAAAAAAAAAAAAQAAAAAAAAA="),
        ("tbQ=", "taAFAAAAAAAAAAAAAgAAAAAAAAA="),
        ("2fuxhBJXtpWFe8dOfdGeHw==", "O9tHLAghgSvYohKFyMMxnNCHaHg="),
        (
            "T6LYJIfDh81JrAK309H2JMJTXis=",
            "zBTHrspn3mEcohlJdIUAbjGNaNg=",
        ),
        (
            "qwGf2ESubE5jOUHHyc94ORczFYYbc2OmEzo+hBIyzJiNwAzC8PvJqtTzwkWkSslgHFGWQZR2BV5+uYTrYT7HVwRM40vqfj0dBgeDENyTenIOL1LHkjtDKoXEnQ0mXAHoJ8PjbNC93zi5TovVRXTNzfGEs5dpWVqxUzb5lc7dwkyvOluBw482mQ4xrzYyIY1t+//OrNi1ObGXuUw2jBQOFfJVj2Y6BOyYmfB1y36eBxi3zxeG5d5NYjm2GSh6e08QMAwu3zrINcqIzLOuNIiGXBtl7DjKt7b5wqi4oFiRpZsCyx2smhSrdrtK/CkdU6nDN+34vSR/M8rZpWQdBE7a8g==",
            "WYT9JY3JIo/pEBp+tIM6Gt2nyTM=",
        ),
    ];

    #[test]
    fn the_reference_vectors_whole_and_in_pieces() {
        for (input, want) in VECTORS {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(input)
                .expect("base64");
            for piece in [1, 3, 7, 64, 161, 1000] {
                let mut h = QuickXor::default();
                for p in bytes.chunks(piece) {
                    h.update(p);
                }
                assert_eq!(h.base64(), want, "{} bytes, pieces of {piece}", bytes.len());
            }
        }
    }
}

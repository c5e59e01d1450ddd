//! The copy loop's local half: bytes arriving in network-sized chunks written into a `.part`
//! file, for several write-buffer sizes, with and without the final fsync + rename. It
//! decides the buffer size (`BUF_SIZE`) and shows what durability costs. A second group
//! compares, for the same chunks arriving as `Bytes` (as hyper hands them over), copying them
//! into the buffer (`write_all`) with keeping them and writing them vectored (`write_bytes`).
//!
//! `cargo bench -p zvm-dest --bench copy_loop` (files go to `$ZVM_BENCH_DIR` or the system
//! temp dir: put it on the disk you care about).

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use zvm_dest::{Destination, LocalDestination, PartialFile};

/// What one iteration writes.
const TOTAL: usize = 64 << 20;
/// What hyper hands over per read from a fast socket.
const CHUNK: usize = 64 << 10;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let base = std::env::var_os("ZVM_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(base).expect("bench dir");
    let chunk = vec![0x5au8; CHUNK];

    let mut g = c.benchmark_group("copy 64 MiB in 64 KiB chunks");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(TOTAL as u64));
    let mut n = 0u64;
    for buf in [64 << 10, 256 << 10, 1 << 20, 4 << 20] {
        let dest = LocalDestination::new(dir.path().to_path_buf()).with_write_buffer(buf);
        // "write": to the page cache only, the loop's own cost; "write+finalize": the whole
        // of what a transfer does, then fsync and rename (durable).
        for (label, finalize) in [("write", false), ("write+finalize", true)] {
            g.bench_with_input(
                BenchmarkId::new(label, format!("{} KiB buffer", buf >> 10)),
                &buf,
                |b, _| {
                    b.to_async(&rt).iter(|| {
                        n += 1;
                        copy_once(&dest, &chunk, format!("f{n}.mp4"), finalize)
                    })
                },
            );
        }
    }
    g.finish();

    // Distinct chunks, like fresh network buffers (one reused chunk would stay in the CPU
    // cache and flatter the copy); each iteration hands over clones (a reference count).
    let chunks: Vec<Bytes> = (0..TOTAL / CHUNK)
        .map(|i| Bytes::from(vec![i as u8; CHUNK]))
        .collect();
    let dest = LocalDestination::new(dir.path().to_path_buf());
    let mut g = c.benchmark_group("64 MiB as 64 KiB Bytes, 256 KiB buffer");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(TOTAL as u64));
    for (label, finalize) in [("write", false), ("write+finalize", true)] {
        for (path, owned) in [
            ("copy (write_all)", false),
            ("zero-copy (write_bytes)", true),
        ] {
            g.bench_function(BenchmarkId::new(label, path), |b| {
                b.to_async(&rt).iter(|| {
                    n += 1;
                    copy_chunks(&dest, &chunks, owned, format!("f{n}.mp4"), finalize)
                })
            });
        }
    }
    g.finish();
}

/// Writes `chunks` to `rel`'s partial file, borrowed (`write_all`) or handed over
/// (`write_bytes`), finalizes it if asked, and removes what it wrote.
async fn copy_chunks(
    dest: &LocalDestination,
    chunks: &[Bytes],
    owned: bool,
    rel: String,
    finalize: bool,
) {
    let mut p = dest.open_partial(&rel, 0).await.expect("open");
    for c in chunks {
        if owned {
            p.write_bytes(c.clone()).await.expect("write");
        } else {
            p.write_all(c).await.expect("write");
        }
    }
    done(dest, p, rel, finalize).await;
}

/// Writes `TOTAL` bytes in `CHUNK`s to `rel`'s partial file, finalizes it if asked, and
/// removes what it wrote.
async fn copy_once(dest: &LocalDestination, chunk: &[u8], rel: String, finalize: bool) {
    let mut p = dest.open_partial(&rel, 0).await.expect("open");
    for _ in 0..TOTAL / CHUNK {
        p.write_all(chunk).await.expect("write");
    }
    done(dest, p, rel, finalize).await;
}

/// Finalizes `p` (fsync + rename) if asked, else drops it, then removes the file.
async fn done(dest: &LocalDestination, p: Box<dyn PartialFile>, rel: String, finalize: bool) {
    let written = if finalize {
        p.finalize(TOTAL as u64).await.expect("finalize");
        dest.final_path(&rel)
    } else {
        drop(p);
        dest.part_path(&rel)
    };
    let _ = std::fs::remove_file(written.expect("path"));
}

criterion_group!(benches, bench);
criterion_main!(benches);

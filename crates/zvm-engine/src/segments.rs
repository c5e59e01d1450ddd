//! The ranges of one segmented download: which bytes each connection fetches, what has
//! arrived, and what a later run may trust. Pure bookkeeping, no I/O, unit-tested here.
//!
//! A file starts as one range. A connection that joins takes a range nobody holds (one left
//! by a failed connection or by an earlier run), or else splits the range with the most
//! bytes still to come in two and takes the second half, so connections that join late (the
//! tail of a run) still share the work evenly; a range is never split below twice the
//! minimum segment, since each piece costs a request. The holder of a shrunk range stops at
//! its new end. Per range the plan keeps three marks, each counted from the range's start:
//! `received` (bytes handed to the writer; a split never cuts below it, so two connections
//! never write the same byte), `written` (the writer's writes completed: in the file, kept
//! if the process dies) and `durable` (fsynced: kept across a power cut).

use zvm_state::{FileRange, FileRanges};

/// Connections one file may use at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segments {
    /// As many as the run's transfers leave free (`--segments auto`).
    Auto,
    /// At most this many; 1 downloads every file in one piece.
    AtMost(usize),
}

impl Segments {
    /// The most connections a file may use.
    pub fn per_file(self) -> usize {
        match self {
            Segments::Auto => usize::MAX,
            Segments::AtMost(n) => n.max(1),
        }
    }
}

/// The smallest range a split may leave. 16 MiB takes 0.8 s at 20 MiB/s, so the request a
/// piece costs (two round trips: the web URL's redirect, then the CDN) is a few percent of it,
/// and the last pieces of a file end within about that of each other.
pub const DEFAULT_MIN_SEGMENT: u64 = 16 << 20;

/// A connection's claim on a range: fetch bytes `from..to` of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub id: RangeId,
    pub from: u64,
    /// Where the range ended when claimed; a later split may move its end closer.
    pub to: u64,
}

/// A range's stable name within its plan.
pub type RangeId = usize;

#[derive(Debug, Clone)]
struct Slot {
    start: u64,
    end: u64,
    received: u64,
    written: u64,
    durable: u64,
    held: bool,
}

impl Slot {
    fn len(&self) -> u64 {
        self.end - self.start
    }

    fn to_come(&self) -> u64 {
        self.len() - self.received
    }
}

/// The ranges of one file.
#[derive(Debug, Clone)]
pub struct RangePlan {
    size: u64,
    min_segment: u64,
    /// In creation order, so a [`RangeId`] stays valid; ranges tile `0..size`.
    slots: Vec<Slot>,
}

impl RangePlan {
    /// A file nothing of which has arrived: one range.
    pub fn new(size: u64, min_segment: u64) -> RangePlan {
        RangePlan::with_prefix(size, min_segment, 0)
    }

    /// A file whose first `have` bytes are already there (a `.part` written from its start).
    pub fn with_prefix(size: u64, min_segment: u64, have: u64) -> RangePlan {
        let have = have.min(size);
        RangePlan {
            size,
            min_segment: min_segment.max(1),
            slots: vec![Slot {
                start: 0,
                end: size,
                received: have,
                written: have,
                durable: have,
                held: false,
            }],
        }
    }

    /// The plan a saved record describes, trusting `written` only when `same_boot` (bytes
    /// not yet fsynced are gone after a power cut), otherwise `durable`. `None` when the
    /// record does not tile `0..size` exactly (another file size, or damage): start over.
    pub fn resume(
        size: u64,
        min_segment: u64,
        saved: &FileRanges,
        same_boot: bool,
    ) -> Option<RangePlan> {
        let mut ranges = saved.ranges.clone();
        ranges.sort_by_key(|r| r.start);
        let mut at = 0u64;
        let mut slots = Vec::with_capacity(ranges.len());
        for r in &ranges {
            if r.start != at || r.end <= r.start || r.written > r.end - r.start {
                return None;
            }
            let durable = r.durable.min(r.written);
            let kept = if same_boot { r.written } else { durable };
            slots.push(Slot {
                start: r.start,
                end: r.end,
                received: kept,
                written: kept,
                durable,
                held: false,
            });
            at = r.end;
        }
        (at == size && size > 0).then_some(RangePlan {
            size,
            min_segment: min_segment.max(1),
            slots,
        })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Gives a joining connection its range: one nobody holds (lowest first), else the
    /// second half of the held range with the most to come, if splitting leaves both halves
    /// at least the minimum segment. `None`: nothing for another connection.
    pub fn claim(&mut self, may_split: bool) -> Option<Claim> {
        let free = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.held && s.to_come() > 0)
            .min_by_key(|(_, s)| s.start)
            .map(|(i, _)| i);
        if let Some(id) = free {
            let s = &mut self.slots[id];
            s.held = true;
            return Some(Claim {
                id,
                from: s.start + s.received,
                to: s.end,
            });
        }
        if !may_split {
            return None;
        }
        let (id, to_come) = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.held)
            .map(|(i, s)| (i, s.to_come()))
            .max_by_key(|&(_, n)| n)?;
        if to_come < 2 * self.min_segment {
            return None;
        }
        let old = &mut self.slots[id];
        let mid = old.start + old.received + to_come / 2;
        let end = old.end;
        old.end = mid;
        self.slots.push(Slot {
            start: mid,
            end,
            received: 0,
            written: 0,
            durable: 0,
            held: true,
        });
        Some(Claim {
            id: self.slots.len() - 1,
            from: mid,
            to: end,
        })
    }

    /// Whether another connection would find work (see [`Self::claim`]).
    pub fn has_work(&self, may_split: bool) -> bool {
        self.clone().claim(may_split).is_some()
    }

    /// A chunk of `n` bytes arrived for range `id` at its current position: how many of them
    /// belong to it (fewer when a split moved its end; 0 when it is complete).
    pub fn accept(&mut self, id: RangeId, n: u64) -> u64 {
        let s = &mut self.slots[id];
        let take = n.min(s.to_come());
        s.received += take;
        take
    }

    /// Whether range `id` has received all its bytes.
    pub fn is_received(&self, id: RangeId) -> bool {
        self.slots[id].to_come() == 0
    }

    /// The range's writer has completed `written` bytes from its claim's `from`.
    pub fn note_written(&mut self, id: RangeId, from: u64, written: u64) {
        let s = &mut self.slots[id];
        let upto = (from - s.start + written).min(s.received);
        s.written = s.written.max(upto);
    }

    /// The connection holding `id` lets go of it (done, failed or stopped). Bytes received
    /// but not written are given up: the next holder asks for them again.
    pub fn release(&mut self, id: RangeId) {
        let s = &mut self.slots[id];
        s.held = false;
        s.received = s.written;
    }

    /// Every byte of the file is written.
    pub fn is_complete(&self) -> bool {
        self.slots.iter().all(|s| s.written == s.len())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.slots.iter().map(|s| s.written).sum()
    }

    /// Bytes received so far (for progress).
    pub fn received(&self) -> u64 {
        self.slots.iter().map(|s| s.received).sum()
    }

    /// Ranges, for a caller's reports and tests.
    pub fn ranges(&self) -> usize {
        self.slots.len()
    }

    /// How much of the file, from byte 0, is written without a gap: what a download in one
    /// piece can continue from.
    pub fn contiguous_prefix(&self) -> u64 {
        let mut order: Vec<&Slot> = self.slots.iter().collect();
        order.sort_by_key(|s| s.start);
        let mut at = 0;
        for s in order {
            if s.start != at {
                break;
            }
            at = s.start + s.written;
            if s.written < s.len() {
                break;
            }
        }
        at
    }

    /// The `written` mark of every range now, to pass to [`Self::mark_durable`] once an
    /// fsync that started after this call has returned.
    pub fn written_marks(&self) -> Vec<u64> {
        self.slots.iter().map(|s| s.written).collect()
    }

    /// Records that the marks taken by [`Self::written_marks`] are durable.
    pub fn mark_durable(&mut self, marks: &[u64]) {
        for (s, &m) in self.slots.iter_mut().zip(marks) {
            s.durable = s.durable.max(m.min(s.written));
        }
    }

    /// The record to save, sorted by start.
    pub fn record(&self, boot_id: Option<String>) -> FileRanges {
        let mut ranges: Vec<FileRange> = self
            .slots
            .iter()
            .map(|s| FileRange {
                start: s.start,
                end: s.end,
                written: s.written,
                durable: s.durable,
            })
            .collect();
        ranges.sort_by_key(|r| r.start);
        FileRanges { ranges, boot_id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// Plays connections that each receive and write a whole chunk at a time.
    fn deliver(p: &mut RangePlan, c: &Claim, n: u64) -> u64 {
        let took = p.accept(c.id, n);
        let done = p.slots[c.id].received - (c.from - p.slots[c.id].start);
        p.note_written(c.id, c.from, done);
        took
    }

    #[test]
    fn one_connection_takes_the_whole_file() {
        let mut p = RangePlan::new(100 * MIB, 16 * MIB);
        let c = p.claim(true).unwrap();
        assert_eq!((c.from, c.to), (0, 100 * MIB));
        assert_eq!(deliver(&mut p, &c, 100 * MIB), 100 * MIB);
        p.release(c.id);
        assert!(p.is_complete());
        assert_eq!(p.contiguous_prefix(), 100 * MIB);
    }

    #[test]
    fn joining_connections_split_the_largest_range_in_half() {
        let mut p = RangePlan::new(128 * MIB, 16 * MIB);
        let a = p.claim(true).unwrap();
        deliver(&mut p, &a, 8 * MIB);
        let b = p.claim(true).unwrap();
        // 120 MiB to come in a's range: b takes the second half.
        assert_eq!((b.from, b.to), (68 * MIB, 128 * MIB));
        let c = p.claim(true).unwrap();
        // Now b's range (60 MiB to come) is the largest.
        assert_eq!((c.from, c.to), (98 * MIB, 128 * MIB));
        // a stops at b's start: of a 100 MiB chunk only 60 MiB are its own.
        assert_eq!(deliver(&mut p, &a, 100 * MIB), 60 * MIB);
        assert!(p.is_received(a.id));
        assert_eq!(deliver(&mut p, &b, 30 * MIB), 30 * MIB);
        assert_eq!(deliver(&mut p, &c, 30 * MIB), 30 * MIB);
        assert!(p.is_complete());
        let r = p.record(None);
        let tiles: Vec<_> = r.ranges.iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(
            tiles,
            vec![(0, 68 * MIB), (68 * MIB, 98 * MIB), (98 * MIB, 128 * MIB)]
        );
    }

    #[test]
    fn no_split_below_twice_the_minimum_or_when_not_allowed() {
        let mut p = RangePlan::new(40 * MIB, 16 * MIB);
        let a = p.claim(true).unwrap();
        assert!(p.has_work(true), "40 MiB to come splits into two of 20");
        assert!(!p.has_work(false), "but not when splitting is off");
        deliver(&mut p, &a, 9 * MIB);
        assert!(
            !p.has_work(true),
            "31 MiB to come would leave a piece under 16 MiB"
        );
        assert_eq!(p.claim(true), None);
    }

    #[test]
    fn a_split_never_cuts_below_what_was_received() {
        // The holder has received bytes its writer has not finished: the split point is
        // after them, so no byte is fetched or written by two connections.
        let mut p = RangePlan::new(64 * MIB, 1);
        let a = p.claim(true).unwrap();
        p.accept(a.id, 10 * MIB);
        p.note_written(a.id, a.from, 4 * MIB);
        let b = p.claim(true).unwrap();
        assert_eq!(b.from, 10 * MIB + 27 * MIB);
    }

    #[test]
    fn a_failed_connection_leaves_its_range_to_be_resumed() {
        let mut p = RangePlan::new(64 * MIB, 16 * MIB);
        let a = p.claim(true).unwrap();
        let b = p.claim(true).unwrap();
        assert_eq!(b.from, 32 * MIB);
        // b receives 5 MiB, of which 3 MiB were written when its connection was reset.
        p.accept(b.id, 5 * MIB);
        p.note_written(b.id, b.from, 3 * MIB);
        p.release(b.id);
        // The next connection resumes b's range where its bytes end, not a's range.
        let c = p.claim(true).unwrap();
        assert_eq!((c.id, c.from, c.to), (b.id, 35 * MIB, 64 * MIB));
        deliver(&mut p, &a, 32 * MIB);
        deliver(&mut p, &c, 29 * MIB);
        assert!(p.is_complete());
    }

    #[test]
    fn a_saved_record_resumes_each_range_where_it_was() {
        let mut p = RangePlan::new(96 * MIB, 16 * MIB);
        let a = p.claim(true).unwrap();
        let b = p.claim(true).unwrap();
        deliver(&mut p, &a, 10 * MIB);
        deliver(&mut p, &b, 20 * MIB);
        let marks = p.written_marks();
        p.mark_durable(&marks);
        deliver(&mut p, &b, 5 * MIB);
        let saved = p.record(Some("boot-1".into()));

        // Same boot: every written byte is there.
        let mut q = RangePlan::resume(96 * MIB, 16 * MIB, &saved, true).unwrap();
        assert_eq!(q.written(), 35 * MIB);
        let x = q.claim(false).unwrap();
        let y = q.claim(false).unwrap();
        assert_eq!((x.from, x.to), (10 * MIB, 48 * MIB));
        assert_eq!((y.from, y.to), (48 * MIB + 25 * MIB, 96 * MIB));
        assert_eq!(q.claim(false), None);

        // After a reboot only the fsynced bytes count.
        let q = RangePlan::resume(96 * MIB, 16 * MIB, &saved, false).unwrap();
        assert_eq!(q.written(), 30 * MIB);
    }

    #[test]
    fn a_record_that_does_not_tile_the_file_is_refused() {
        let p = RangePlan::new(96 * MIB, 16 * MIB);
        let saved = p.record(None);
        assert!(RangePlan::resume(96 * MIB, 16 * MIB, &saved, true).is_some());
        assert!(
            RangePlan::resume(97 * MIB, 16 * MIB, &saved, true).is_none(),
            "another size"
        );
        let mut gap = saved.clone();
        gap.ranges[0].end = 50 * MIB;
        assert!(RangePlan::resume(96 * MIB, 16 * MIB, &gap, true).is_none());
        let mut over = saved.clone();
        over.ranges[0].written = 97 * MIB;
        assert!(RangePlan::resume(96 * MIB, 16 * MIB, &over, true).is_none());
        let empty = FileRanges::default();
        assert!(RangePlan::resume(96 * MIB, 16 * MIB, &empty, true).is_none());
    }

    #[test]
    fn the_contiguous_prefix_stops_at_the_first_gap() {
        let mut p = RangePlan::new(64 * MIB, 16 * MIB);
        let a = p.claim(true).unwrap();
        let b = p.claim(true).unwrap();
        deliver(&mut p, &b, 32 * MIB);
        assert_eq!(p.contiguous_prefix(), 0, "range 0 has nothing yet");
        deliver(&mut p, &a, 7 * MIB);
        assert_eq!(p.contiguous_prefix(), 7 * MIB);
        deliver(&mut p, &a, 25 * MIB);
        assert_eq!(p.contiguous_prefix(), 64 * MIB);
    }

    #[test]
    fn a_prefix_from_a_part_file_is_kept() {
        let mut p = RangePlan::with_prefix(64 * MIB, 16 * MIB, 10 * MIB);
        assert_eq!(p.written(), 10 * MIB);
        let a = p.claim(true).unwrap();
        assert_eq!(a.from, 10 * MIB);
    }

    #[test]
    fn segments_per_file() {
        assert_eq!(Segments::AtMost(0).per_file(), 1);
        assert_eq!(Segments::AtMost(8).per_file(), 8);
        assert_eq!(Segments::Auto.per_file(), usize::MAX);
    }
}

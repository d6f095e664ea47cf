//! One direction of the serial line, in the model's time (ns): bytes queued with the
//! time each one has fully arrived. With pacing a byte takes 10 bit times (8N1) at the
//! sender's rate, one after the other; without, bytes arrive when they are sent.

use std::collections::VecDeque;

/// Nanoseconds for `n` bytes (10 bits each) at `baud`.
pub fn bytes_ns(n: u64, baud: u32) -> u64 {
    if baud == 0 {
        return 0;
    }
    (u128::from(n) * 10_000_000_000 / u128::from(baud)) as u64
}

#[derive(Debug, Clone)]
struct Chunk {
    start: u64,
    paced: bool,
    baud: u32,
    data: Vec<u8>,
    pos: usize,
}

impl Chunk {
    /// When byte `i` has fully arrived.
    fn arrival(&self, i: usize) -> u64 {
        if self.paced {
            self.start + bytes_ns(i as u64 + 1, self.baud)
        } else {
            self.start
        }
    }

    fn end(&self) -> u64 {
        if self.data.is_empty() {
            self.start
        } else {
            self.arrival(self.data.len() - 1)
        }
    }
}

/// Bytes that arrived, all sent at one rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The bytes.
    pub data: Vec<u8>,
    /// The rate they were sent at (0: any, they are always understood).
    pub baud: u32,
    start: u64,
    first: usize,
    paced: bool,
}

impl Segment {
    /// Bytes that all arrive at `t`.
    pub fn instant(t: u64, baud: u32, data: Vec<u8>) -> Segment {
        Segment {
            data,
            baud,
            start: t,
            first: 0,
            paced: false,
        }
    }

    /// When byte `i` of the segment arrived.
    pub fn arrival(&self, i: usize) -> u64 {
        if self.paced {
            self.start + bytes_ns((self.first + i) as u64 + 1, self.baud)
        } else {
            self.start
        }
    }
}

/// One direction of the line.
#[derive(Debug, Clone, Default)]
pub struct Wire {
    chunks: VecDeque<Chunk>,
    free_at: u64,
}

impl Wire {
    /// Queues `data` sent at `now` at `baud`; returns when its last byte arrives.
    pub fn push(&mut self, now: u64, baud: u32, paced: bool, data: &[u8]) -> u64 {
        if data.is_empty() {
            return now.max(self.free_at);
        }
        let paced = paced && baud > 0;
        let start = if paced { now.max(self.free_at) } else { now };
        if let Some(last) = self.chunks.back_mut() {
            let joins = last.paced == paced
                && last.baud == baud
                && if paced {
                    last.end() == start && last.data.len() < 1 << 20
                } else {
                    last.start == start
                };
            if joins {
                last.data.extend_from_slice(data);
                let end = last.end();
                self.free_at = self.free_at.max(end);
                return end;
            }
        }
        let c = Chunk {
            start,
            paced,
            baud,
            data: data.to_vec(),
            pos: 0,
        };
        let end = c.end();
        self.free_at = self.free_at.max(end);
        self.chunks.push_back(c);
        end
    }

    /// When the next queued byte has arrived, if any.
    pub fn next_time(&self) -> Option<u64> {
        self.chunks.front().map(|c| c.arrival(c.pos))
    }

    /// When the line is free again (the last queued byte has arrived).
    pub fn free_at(&self) -> u64 {
        self.free_at
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Takes the bytes of the first chunk that have arrived by `limit`, at most `max`
    /// of them when paced (so that a caller sees its timers between them).
    pub fn pop(&mut self, limit: u64, max: usize) -> Option<Segment> {
        let c = self.chunks.front_mut()?;
        if c.arrival(c.pos) > limit {
            return None;
        }
        let mut end = c.data.len();
        if c.paced {
            let cap = c.pos.saturating_add(max.max(1)).min(c.data.len());
            // Bytes arrive in order: find the first one after the limit.
            let (mut lo, mut hi) = (c.pos, cap);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if c.arrival(mid) <= limit {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            end = lo;
        }
        let seg = Segment {
            data: c.data[c.pos..end].to_vec(),
            baud: c.baud,
            start: c.start,
            first: c.pos,
            paced: c.paced,
        };
        c.pos = end;
        if c.pos == c.data.len() {
            self.chunks.pop_front();
        }
        Some(seg)
    }

    /// Forgets everything queued.
    pub fn clear(&mut self) {
        self.chunks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpaced_bytes_arrive_at_once() {
        let mut w = Wire::default();
        w.push(100, 921_600, false, b"AT\r");
        assert_eq!(w.next_time(), Some(100));
        let s = w.pop(100, 1).unwrap();
        assert_eq!(s.data, b"AT\r");
        assert_eq!(s.arrival(2), 100);
        assert!(w.is_empty());
    }

    #[test]
    fn paced_bytes_take_ten_bit_times_each() {
        let mut w = Wire::default();
        let end = w.push(0, 115_200, true, b"0123456789");
        assert_eq!(end, bytes_ns(10, 115_200));
        assert_eq!(w.next_time(), Some(86_805));
        let s = w.pop(bytes_ns(3, 115_200), 100).unwrap();
        assert_eq!(s.data, b"012");
        assert_eq!(w.pop(u64::MAX, 2).unwrap().data, b"34");
        let s = w.pop(u64::MAX, 100).unwrap();
        assert_eq!(s.data, b"56789");
        assert_eq!(s.arrival(0), bytes_ns(6, 115_200));
        // A second write queues behind the first.
        let end2 = w.push(10, 115_200, true, b"ab");
        assert_eq!(end2, end + bytes_ns(2, 115_200));
    }
}

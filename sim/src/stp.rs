//! STP framing and the slave-side session checks (an independent implementation).

/// Signature of host frames ("fast").
pub const SIG_HOST: u32 = 0x6661_7374;
/// Signature of modem frames ("tsaf").
pub const SIG_MODEM: u32 = 0x7473_6166;
/// Size of an STP header.
pub const HDR: usize = 16;
/// Op code RESET.
pub const OP_RESET: u8 = 0;
/// Op code SESSION_OPEN.
pub const OP_OPEN: u8 = 1;
/// Op code TRANSFER_BLOCK_CMD.
pub const OP_CMD: u8 = 2;
/// Op code TRANSFER_BLOCK.
pub const OP_BLOCK: u8 = 3;

/// A partial frame left alone this long (ns) is thrown away.
const STALE_NS: u64 = 1_000_000_000;

const XMODEM: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);

/// CRC-16/XMODEM of `data`.
pub fn crc16(data: &[u8]) -> u16 {
    XMODEM.checksum(data)
}

/// One decoded STP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Op code.
    pub op: u8,
    /// Session id.
    pub sid: u8,
    /// Transaction id.
    pub tid: u32,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

/// Encodes a frame with signature `sig` and both CRCs set.
pub fn encode(sig: u32, f: &Frame) -> Vec<u8> {
    let mut out = Vec::with_capacity(HDR + f.payload.len());
    out.extend_from_slice(&sig.to_be_bytes());
    out.push(f.op);
    out.push(f.sid);
    out.extend_from_slice(&(f.payload.len() as u16).to_be_bytes());
    out.extend_from_slice(&f.tid.to_be_bytes());
    let pcrc = if f.payload.is_empty() {
        0
    } else {
        crc16(&f.payload)
    };
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&pcrc.to_be_bytes());
    let hcrc = crc16(&out);
    out[12..14].copy_from_slice(&hcrc.to_be_bytes());
    out.extend_from_slice(&f.payload);
    out
}

/// Builds the modem's reply to `req` with `payload`.
pub fn reply(req: &Frame, payload: Vec<u8>) -> Vec<u8> {
    let f = Frame {
        op: req.op | 0x80,
        sid: req.sid,
        tid: req.tid,
        payload,
    };
    encode(SIG_MODEM, &f)
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Header CRC as the protocol defines it: CRC field zero, payload CRC filled.
pub fn header_crc(h: &[u8]) -> u16 {
    let mut c = [0u8; HDR];
    c.copy_from_slice(&h[..HDR]);
    c[12] = 0;
    c[13] = 0;
    crc16(&c)
}

/// What the framer found in the byte stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Framed {
    /// A frame whose signature and CRCs are right.
    Frame(Frame),
    /// A framing error (recorded as a violation, answered with nothing).
    Bad(String),
}

/// Cuts host frames out of the byte stream, checking signature and CRCs.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    max_len: usize,
    resync: bool,
    last_rx: Option<u64>,
}

impl Framer {
    /// A framer accepting payloads of at most `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        Framer {
            buf: Vec::new(),
            max_len,
            resync: false,
            last_rx: None,
        }
    }

    /// Appends bytes received at `now_ns`.
    pub fn push(&mut self, bytes: &[u8], now_ns: u64) {
        self.buf.extend_from_slice(bytes);
        self.last_rx = Some(now_ns);
    }

    /// How many more bytes complete the frame being received (at least 1), so that a
    /// caller can hand over the byte stream frame by frame.
    pub fn need(&self) -> usize {
        let sig = SIG_HOST.to_be_bytes();
        if self.buf.len() < HDR || self.buf[..4] != sig {
            return HDR.saturating_sub(self.buf.len()).max(1);
        }
        let len = be16(&self.buf[6..8]) as usize;
        (HDR + len).saturating_sub(self.buf.len()).max(1)
    }

    /// Bytes buffered but not yet framed.
    pub fn take_rest(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Drops a partial frame left alone for too long; returns a violation if so.
    pub fn expire(&mut self, now_ns: u64) -> Option<String> {
        let last = self.last_rx?;
        if self.buf.is_empty() || now_ns.saturating_sub(last) < STALE_NS {
            return None;
        }
        let n = self.buf.len();
        self.buf.clear();
        Some(format!(
            "STP: incomplete frame ({n} bytes) discarded after 1 s of silence"
        ))
    }

    /// Time (ns) at which a buffered partial frame would expire.
    pub fn expiry(&self) -> Option<u64> {
        match self.last_rx {
            Some(t) if !self.buf.is_empty() => Some(t + STALE_NS),
            _ => None,
        }
    }

    /// Returns the next frame or framing error, or None when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Framed> {
        if let Some(v) = self.seek_signature() {
            return Some(Framed::Bad(v));
        }
        if self.buf.len() < HDR {
            return None;
        }
        match self.check_header() {
            Err(v) => Some(Framed::Bad(v)),
            Ok(f) => f,
        }
    }

    /// Discards bytes before the next host signature; a violation on the first bad byte.
    fn seek_signature(&mut self) -> Option<String> {
        let sig = SIG_HOST.to_be_bytes();
        if self.buf.len() < 4 || self.buf[..4] == sig {
            if self.buf.len() >= 4 {
                self.resync = false;
            }
            return None;
        }
        let found = self.buf.windows(4).position(|w| w == sig);
        let skip = found.unwrap_or(self.buf.len() - 3);
        let head: Vec<u8> = self.buf.iter().take(8).copied().collect();
        self.buf.drain(..skip);
        let reported = self.resync;
        self.resync = found.is_none();
        if reported {
            return None;
        }
        Some(format!(
            "STP: bad signature (bytes {}), resynchronising",
            hex(&head)
        ))
    }

    /// Checks a full header at the buffer start; Ok(None) when the payload is incomplete.
    fn check_header(&mut self) -> Result<Option<Framed>, String> {
        let h = &self.buf[..HDR];
        let (len, hcrc, pcrc) = (be16(&h[6..8]) as usize, be16(&h[12..14]), be16(&h[14..16]));
        let want = header_crc(h);
        if hcrc != want {
            self.skip_bad(4);
            return Err(format!(
                "STP: bad header CRC {hcrc:#06x} (expected {want:#06x})"
            ));
        }
        if len > self.max_len {
            self.skip_bad(4);
            return Err(format!(
                "STP: payload length {len} exceeds max transfer {}",
                self.max_len
            ));
        }
        if self.buf.len() < HDR + len {
            return Ok(None);
        }
        let frame: Vec<u8> = self.buf.drain(..HDR + len).collect();
        let payload = frame[HDR..].to_vec();
        let got = if payload.is_empty() {
            0
        } else {
            crc16(&payload)
        };
        if got != pcrc {
            return Err(format!(
                "STP: bad payload CRC {pcrc:#06x} (expected {got:#06x})"
            ));
        }
        let (op, sid, tid) = (frame[4], frame[5], be32(&frame[8..12]));
        Ok(Some(Framed::Frame(Frame {
            op,
            sid,
            tid,
            payload,
        })))
    }

    fn skip_bad(&mut self, n: usize) {
        self.buf.drain(..n);
        self.resync = true;
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The name of an op code for messages.
pub fn op_name(op: u8) -> String {
    match op {
        OP_RESET => "RESET".into(),
        OP_OPEN => "SESSION_OPEN".into(),
        OP_CMD => "TRANSFER_BLOCK_CMD".into(),
        OP_BLOCK => "TRANSFER_BLOCK".into(),
        x => format!("op {x:#04x}"),
    }
}

/// What the session expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The opening RESET.
    Reset,
    /// SESSION_OPEN.
    Open,
    /// A TRANSFER_BLOCK_CMD or the final RESET.
    Cmd,
    /// A TRANSFER_BLOCK of this length.
    Block(u16),
    /// Nothing: the final RESET was received.
    Done,
}

/// The session's verdict on one well-formed frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Answer with this reply payload.
    Reply(Vec<u8>),
    /// A TRANSFER_BLOCK to store, then answer with its residue.
    Block,
    /// A resend of the previous request: send this reply again.
    Resend(Vec<u8>),
    /// The final RESET; `complete` is false when a block was still announced.
    Final {
        /// True when no announced block was missing.
        complete: bool,
    },
    /// A protocol violation, answered with nothing.
    Violation(String),
}

/// The previous request and the reply it got.
#[derive(Debug, Clone)]
struct Last {
    op: u8,
    tid: u32,
    payload: Vec<u8>,
    reply: Vec<u8>,
}

/// Checks the order of STP requests (ops, sids, tids, block lengths).
#[derive(Debug)]
pub struct Session {
    /// Max transfer announced in the SESSION_OPEN reply.
    pub max_transfer: u16,
    /// What comes next.
    pub expect: Expect,
    next_tid: u32,
    last: Option<Last>,
}

impl Session {
    /// A new session announcing `max_transfer`.
    pub fn new(max_transfer: u16) -> Self {
        Session {
            max_transfer,
            expect: Expect::Reset,
            next_tid: 0,
            last: None,
        }
    }

    /// Judges one frame. The caller stores blocks and calls [`Session::answered`].
    pub fn judge(&mut self, f: &Frame) -> Verdict {
        if let Some(l) = &self.last {
            if l.op == f.op && l.tid == f.tid {
                if l.payload == f.payload {
                    return Verdict::Resend(l.reply.clone());
                }
                let what = op_name(f.op);
                return Verdict::Violation(format!(
                    "STP: {what} tid {} resent with a different payload",
                    f.tid
                ));
            }
        }
        match (self.expect, f.op) {
            (Expect::Reset, OP_RESET) => self.first_reset(f),
            (Expect::Open, OP_OPEN) => self.open(f),
            (Expect::Cmd, OP_CMD) => self.cmd(f),
            (Expect::Block(l), OP_BLOCK) => self.block(f, l),
            (Expect::Cmd | Expect::Block(_), OP_RESET) => self.final_reset(f),
            (e, op) => Verdict::Violation(format!(
                "STP: unexpected {} (tid {}) while expecting {}",
                op_name(op),
                f.tid,
                expect_name(e)
            )),
        }
    }

    /// Records the reply sent for request `f`, for resends.
    pub fn answered(&mut self, f: &Frame, reply: &[u8]) {
        let payload = f.payload.clone();
        self.last = Some(Last {
            op: f.op,
            tid: f.tid,
            payload,
            reply: reply.to_vec(),
        });
    }

    fn ids(&self, f: &Frame, sid: u8, tid: u32) -> Result<(), String> {
        if f.sid != sid {
            return Err(format!(
                "STP: {} with sid {} (expected {sid})",
                op_name(f.op),
                f.sid
            ));
        }
        if f.tid != tid {
            return Err(format!(
                "STP: {} with tid {} (expected {tid})",
                op_name(f.op),
                f.tid
            ));
        }
        Ok(())
    }

    fn first_reset(&mut self, f: &Frame) -> Verdict {
        if let Err(v) = self.ids(f, 0, 0) {
            return Verdict::Violation(v);
        }
        self.expect = Expect::Open;
        self.next_tid = 1;
        Verdict::Reply(Vec::new())
    }

    fn open(&mut self, f: &Frame) -> Verdict {
        if let Err(v) = self.ids(f, 1, 1) {
            return Verdict::Violation(v);
        }
        self.expect = Expect::Cmd;
        self.next_tid = 2;
        let m = self.max_transfer.to_be_bytes();
        Verdict::Reply(vec![1, 1, m[0], m[1]])
    }

    fn cmd(&mut self, f: &Frame) -> Verdict {
        if let Err(v) = self.ids(f, 1, self.next_tid) {
            return Verdict::Violation(v);
        }
        if f.payload.len() != 2 {
            let n = f.payload.len();
            return Verdict::Violation(format!(
                "STP: TRANSFER_BLOCK_CMD payload of {n} bytes (expected 2)"
            ));
        }
        let len = be16(&f.payload);
        let max = self.max_transfer.saturating_sub(HDR as u16);
        if len == 0 || len > max {
            return Verdict::Violation(format!("STP: block length {len} not in 1..={max}"));
        }
        self.expect = Expect::Block(len);
        self.next_tid += 1;
        Verdict::Reply(Vec::new())
    }

    fn block(&mut self, f: &Frame, len: u16) -> Verdict {
        if let Err(v) = self.ids(f, 1, self.next_tid) {
            return Verdict::Violation(v);
        }
        if f.payload.len() != len as usize {
            let n = f.payload.len();
            return Verdict::Violation(format!(
                "STP: TRANSFER_BLOCK of {n} bytes, announced {len}"
            ));
        }
        self.expect = Expect::Cmd;
        self.next_tid += 1;
        Verdict::Block
    }

    /// The closing RESET: sid 0 or 1, tid 0 or the next tid are accepted.
    fn final_reset(&mut self, f: &Frame) -> Verdict {
        if f.sid > 1 || (f.tid != 0 && f.tid != self.next_tid) {
            let (s, t, n) = (f.sid, f.tid, self.next_tid);
            return Verdict::Violation(format!(
                "STP: final RESET with sid {s} tid {t} (expected sid 0/1, tid 0 or {n})"
            ));
        }
        let complete = self.expect == Expect::Cmd;
        self.expect = Expect::Done;
        Verdict::Final { complete }
    }
}

fn expect_name(e: Expect) -> String {
    match e {
        Expect::Reset => "RESET".into(),
        Expect::Open => "SESSION_OPEN".into(),
        Expect::Cmd => "TRANSFER_BLOCK_CMD or RESET".into(),
        Expect::Block(l) => format!("TRANSFER_BLOCK of {l} bytes"),
        Expect::Done => "nothing".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(op: u8, sid: u8, tid: u32, payload: &[u8]) -> Frame {
        Frame {
            op,
            sid,
            tid,
            payload: payload.to_vec(),
        }
    }

    fn host(op: u8, sid: u8, tid: u32, payload: &[u8]) -> Vec<u8> {
        encode(SIG_HOST, &req(op, sid, tid, payload))
    }

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16(b"123456789"), 0x31c3);
    }

    #[test]
    fn encode_layout() {
        let b = reply(&req(OP_CMD, 1, 7, &[]), vec![]);
        assert_eq!(&b[..4], &SIG_MODEM.to_be_bytes());
        assert_eq!(b[4], 0x82);
        assert_eq!(b[5], 1);
        assert_eq!(be16(&b[6..8]), 0);
        assert_eq!(be32(&b[8..12]), 7);
        assert_eq!(be16(&b[14..16]), 0);
        assert_eq!(be16(&b[12..14]), header_crc(&b));
        let p = reply(&req(OP_BLOCK, 1, 8, &[]), vec![0, 5]);
        assert_eq!(be16(&p[14..16]), crc16(&[0, 5]));
        assert_eq!(be16(&p[12..14]), header_crc(&p));
    }

    #[test]
    fn framer_splits_and_resyncs() {
        let now = 0;
        let mut fr = Framer::new(8192);
        let mut bytes = b"\nxx".to_vec();
        bytes.extend(host(OP_RESET, 0, 0, &[]));
        bytes.extend(host(OP_CMD, 1, 2, &[0, 4]));
        fr.push(&bytes[..20], now);
        assert!(matches!(fr.next_frame(), Some(Framed::Bad(_))));
        assert!(matches!(fr.next_frame(), Some(Framed::Frame(f)) if f.op == OP_RESET));
        assert_eq!(fr.next_frame(), None);
        fr.push(&bytes[20..], now);
        assert_eq!(
            fr.next_frame(),
            Some(Framed::Frame(req(OP_CMD, 1, 2, &[0, 4])))
        );
        assert_eq!(fr.next_frame(), None);
    }

    #[test]
    fn framer_rejects_bad_crcs() {
        let now = 0;
        let mut fr = Framer::new(8192);
        let mut a = host(OP_CMD, 1, 2, &[0, 4]);
        a[13] ^= 1;
        let mut b = host(OP_BLOCK, 1, 3, &[1, 2, 3, 4]);
        b[17] ^= 1;
        fr.push(&a, now);
        fr.push(&b, now);
        assert!(matches!(fr.next_frame(), Some(Framed::Bad(v)) if v.contains("header CRC")));
        assert!(matches!(fr.next_frame(), Some(Framed::Bad(v)) if v.contains("payload CRC")));
        assert_eq!(fr.next_frame(), None);
        let mut fr = Framer::new(2048);
        fr.push(&host(OP_BLOCK, 1, 3, &vec![0; 3000]), now);
        assert!(matches!(fr.next_frame(), Some(Framed::Bad(v)) if v.contains("exceeds")));
    }

    #[test]
    fn framer_expires_partial() {
        let now = 5;
        let mut fr = Framer::new(8192);
        fr.push(&host(OP_RESET, 0, 0, &[])[..10], now);
        assert_eq!(fr.need(), 6);
        assert_eq!(fr.next_frame(), None);
        assert!(fr.expire(now + 100_000_000).is_none());
        assert!(fr.expire(now + 1_500_000_000).is_some());
    }

    #[test]
    fn framer_need_counts_the_payload() {
        let mut fr = Framer::new(8192);
        assert_eq!(fr.need(), HDR);
        let f = host(OP_BLOCK, 1, 3, &[7; 100]);
        fr.push(&f[..20], 0);
        assert_eq!(fr.need(), 96);
        fr.push(&f[20..], 0);
        assert!(matches!(fr.next_frame(), Some(Framed::Frame(_))));
        assert_eq!(fr.need(), HDR);
    }

    fn answer(s: &mut Session, f: &Frame) -> Verdict {
        let v = s.judge(f);
        if let Verdict::Reply(p) = &v {
            s.answered(f, &reply(f, p.clone()));
        }
        if v == Verdict::Block {
            s.answered(f, &reply(f, vec![0, 0]));
        }
        v
    }

    #[test]
    fn session_happy_path_and_resend() {
        let mut s = Session::new(8192);
        assert_eq!(
            answer(&mut s, &req(OP_RESET, 0, 0, &[])),
            Verdict::Reply(vec![])
        );
        assert!(matches!(
            answer(&mut s, &req(OP_RESET, 0, 0, &[])),
            Verdict::Resend(_)
        ));
        assert_eq!(
            answer(&mut s, &req(OP_OPEN, 1, 1, &[])),
            Verdict::Reply(vec![1, 1, 0x20, 0])
        );
        assert_eq!(
            answer(&mut s, &req(OP_CMD, 1, 2, &[0, 3])),
            Verdict::Reply(vec![])
        );
        assert_eq!(
            answer(&mut s, &req(OP_BLOCK, 1, 3, &[1, 2, 3])),
            Verdict::Block
        );
        assert!(matches!(
            answer(&mut s, &req(OP_BLOCK, 1, 3, &[1, 2, 3])),
            Verdict::Resend(_)
        ));
        assert!(matches!(
            answer(&mut s, &req(OP_BLOCK, 1, 3, &[9, 2, 3])),
            Verdict::Violation(_)
        ));
        assert_eq!(
            answer(&mut s, &req(OP_RESET, 0, 0, &[])),
            Verdict::Final { complete: true }
        );
    }

    #[test]
    fn session_order_errors() {
        let mut s = Session::new(2048);
        assert!(matches!(
            answer(&mut s, &req(OP_OPEN, 1, 1, &[])),
            Verdict::Violation(_)
        ));
        assert_eq!(
            answer(&mut s, &req(OP_RESET, 0, 0, &[])),
            Verdict::Reply(vec![])
        );
        assert!(matches!(
            answer(&mut s, &req(OP_OPEN, 0, 1, &[])),
            Verdict::Violation(_)
        ));
        assert!(matches!(
            answer(&mut s, &req(OP_OPEN, 1, 1, &[])),
            Verdict::Reply(_)
        ));
        assert!(matches!(
            answer(&mut s, &req(OP_CMD, 1, 3, &[0, 3])),
            Verdict::Violation(_)
        ));
        assert!(matches!(
            answer(&mut s, &req(OP_CMD, 1, 2, &[0x07, 0xf1])),
            Verdict::Violation(_)
        ));
        assert!(matches!(
            answer(&mut s, &req(OP_BLOCK, 1, 2, &[0; 3])),
            Verdict::Violation(_)
        ));
        assert!(matches!(
            answer(&mut s, &req(OP_CMD, 1, 2, &[0x07, 0xf0])),
            Verdict::Reply(_)
        ));
        assert!(matches!(
            answer(&mut s, &req(OP_BLOCK, 1, 3, &[0; 3])),
            Verdict::Violation(_)
        ));
        assert!(matches!(
            answer(&mut s, &req(OP_CMD, 1, 4, &[0, 3])),
            Verdict::Violation(_)
        ));
        assert_eq!(
            answer(&mut s, &req(OP_RESET, 0, 3, &[])),
            Verdict::Final { complete: false }
        );
    }
}

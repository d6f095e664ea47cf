//! STP, the modem's binary transfer protocol: frames and a host-side session.
//!
//! Every message is a 16-byte big-endian header, optionally followed by a payload
//! (docs/PROTOCOL.md section 4). The session resends a request whose reply fails any check, handles
//! the residue the modem reports, and streams an image block by block from a caller-given
//! buffer, so nothing is allocated.

use crate::error::{Error, StpProblem};
use crate::hal::{Event, Hal, ImageSource};
use crate::text::contains;
use crate::watch::Deadline;
use crc::{Crc, CRC_16_XMODEM};

/// Signature of frames sent by the host (`fast`).
pub const HOST_SIGNATURE: u32 = 0x6661_7374;
/// Signature of frames sent by the modem (`tsaf`).
pub const MODEM_SIGNATURE: u32 = 0x7473_6166;
/// Size of every frame header.
pub const HEADER_LEN: usize = 16;
/// The block size the field-used updater sends ("2048 − 32").
pub const FIELD_BLOCK_SIZE: usize = 2016;
/// Largest block any session allows (8192 max transfer − 16).
pub const MAX_BLOCK_SIZE: usize = 8192 - HEADER_LEN;

/// On a computer the usual 256-entry table; on a board the table-less (bitwise) form:
/// 512 bytes less of read-only data for a few more instructions per byte, next to a
/// UART that moves a byte in 10 µs.
#[cfg(feature = "std")]
const CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);
#[cfg(not(feature = "std"))]
const CRC16: Crc<u16, crc::NoTable> = Crc::<u16, crc::NoTable>::new(&CRC_16_XMODEM);

/// CRC-16/XMODEM, as STP uses it for headers and payloads.
pub fn crc16(data: &[u8]) -> u16 {
    CRC16.checksum(data)
}

/// STP operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    /// Resets the modem's STP state; opens and closes a transfer.
    Reset = 0,
    /// Opens a session; the reply gives the version and max transfer.
    SessionOpen = 1,
    /// Announces the length of the next block.
    TransferBlockCmd = 2,
    /// Carries one block of the file.
    TransferBlock = 3,
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `HOST_SIGNATURE` or `MODEM_SIGNATURE`.
    pub signature: u32,
    /// Operation; replies have bit 7 set.
    pub op: u8,
    /// Session id.
    pub sid: u8,
    /// Payload length.
    pub len: u16,
    /// Transaction id.
    pub tid: u32,
    /// CRC of the header (0 in a reply means "not given").
    pub header_crc: u16,
    /// CRC of the payload (0 when there is none).
    pub payload_crc: u16,
}

impl Header {
    /// A header for `payload`, with both CRCs filled in.
    pub fn new(signature: u32, op: u8, sid: u8, tid: u32, payload: &[u8]) -> Header {
        let payload_crc = if payload.is_empty() {
            0
        } else {
            crc16(payload)
        };
        let mut h = Header {
            signature,
            op,
            sid,
            len: payload.len() as u16,
            tid,
            header_crc: 0,
            payload_crc,
        };
        h.header_crc = crc16(&h.encode_with_crc(0));
        h
    }

    fn encode_with_crc(&self, header_crc: u16) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&self.signature.to_be_bytes());
        b[4] = self.op;
        b[5] = self.sid;
        b[6..8].copy_from_slice(&self.len.to_be_bytes());
        b[8..12].copy_from_slice(&self.tid.to_be_bytes());
        b[12..14].copy_from_slice(&header_crc.to_be_bytes());
        b[14..16].copy_from_slice(&self.payload_crc.to_be_bytes());
        b
    }

    /// The 16 bytes on the wire.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        self.encode_with_crc(self.header_crc)
    }

    /// Decodes 16 bytes (no checks).
    pub fn decode(b: &[u8; HEADER_LEN]) -> Header {
        Header {
            signature: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            op: b[4],
            sid: b[5],
            len: u16::from_be_bytes([b[6], b[7]]),
            tid: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            header_crc: u16::from_be_bytes([b[12], b[13]]),
            payload_crc: u16::from_be_bytes([b[14], b[15]]),
        }
    }

    /// True when the header CRC matches, or is 0 ("not given", seen in modem replies).
    pub fn header_crc_ok(&self) -> bool {
        self.header_crc == 0 || crc16(&self.encode_with_crc(0)) == self.header_crc
    }

    /// True when this is a valid reply to the request `op`/`sid`/`tid`.
    pub fn answers(&self, op: Op, sid: u8, tid: u32) -> bool {
        self.signature == MODEM_SIGNATURE
            && self.op == (op as u8 | 0x80)
            && self.sid == sid
            && self.tid == tid
            && self.header_crc_ok()
    }
}

/// What `SESSION_OPEN` told us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionInfo {
    /// Protocol version.
    pub version: u8,
    /// Largest frame (header + payload) the modem takes.
    pub max_transfer: u16,
}

/// How a session behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StpConfig {
    /// How long to wait for each reply.
    pub reply_timeout_ms: u32,
    /// How many times a request is sent before giving up.
    pub tries: u8,
    /// Block size wanted; `None` uses the session's whole max transfer − 16.
    pub block_size: Option<u16>,
}

impl Default for StpConfig {
    fn default() -> Self {
        StpConfig {
            reply_timeout_ms: 90_000,
            tries: 4,
            block_size: Some(FIELD_BLOCK_SIZE as u16),
        }
    }
}

/// The state of one reply wait.
struct Wait {
    cancellable: bool,
}

/// Why one exchange failed (internal: decides between resend and abort).
enum Miss {
    Timeout,
    Bad,
    Rebooted,
    Fatal(Error),
}

/// Reads from the link and checks the count it returns against the buffer.
pub(crate) fn link_read<H: Hal + ?Sized>(
    hal: &mut H,
    buf: &mut [u8],
    timeout_ms: u32,
) -> Result<usize, Error> {
    let n = hal.read(buf, timeout_ms)?;
    if n > buf.len() {
        return Err(Error::StreamCount {
            link: true,
            got: n as u32,
            asked: buf.len() as u32,
        });
    }
    Ok(n)
}

/// Reads the next bytes of an image and checks the count the source returns.
pub(crate) fn image_read<I: ImageSource + ?Sized>(
    image: &mut I,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let n = image.read(buf)?;
    if n > buf.len() {
        return Err(Error::StreamCount {
            link: false,
            got: n as u32,
            asked: buf.len() as u32,
        });
    }
    Ok(n)
}

/// A host-side STP session.
pub struct Session {
    cfg: StpConfig,
    sid: u8,
    tid: u32,
    acked: u32,
}

impl Session {
    /// Changes how the rest of the session behaves (after a short probe opened it).
    pub fn configure(&mut self, cfg: StpConfig) {
        self.cfg = cfg;
    }

    /// Starts a session; nothing is sent yet.
    pub fn new(cfg: StpConfig) -> Self {
        Session {
            cfg,
            sid: 0,
            tid: 0,
            acked: 0,
        }
    }

    /// Bytes of the file the modem has acknowledged so far.
    pub fn acked(&self) -> u32 {
        self.acked
    }

    fn fail(&self, problem: StpProblem) -> Error {
        Error::Stp {
            problem,
            offset: self.acked,
        }
    }

    /// Sends a request and waits for its reply, resending on a bad or missing reply.
    /// Returns the reply's payload length (the payload is in `reply`). A Ctrl-C is taken
    /// while waiting, except after a block was announced (TRANSFER_BLOCK_CMD): its data
    /// must follow, so the cancel waits for the next stop between blocks.
    #[inline(never)]
    fn exchange<H: Hal>(
        &mut self,
        hal: &mut H,
        op: Op,
        payload: &[u8],
        reply: &mut [u8; 8],
    ) -> Result<usize, Error> {
        let cancellable = op != Op::TransferBlockCmd;
        let header = Header::new(HOST_SIGNATURE, op as u8, self.sid, self.tid, payload).encode();
        let mut last = StpProblem::NoReply;
        for attempt in 0..self.cfg.tries {
            if attempt > 0 {
                hal.event(&Event::Debug(b"STP: resending request"));
                hal.discard_input()?;
            }
            hal.write_all(&header)?;
            if !payload.is_empty() {
                hal.write_all(payload)?;
            }
            match self.receive(hal, op, reply, cancellable) {
                Ok(n) => return Ok(n),
                Err(Miss::Timeout) => last = StpProblem::NoReply,
                Err(Miss::Bad) => last = StpProblem::BadReply,
                Err(Miss::Rebooted) => {
                    return Err(Error::RebootedDuringTransfer { offset: self.acked })
                }
                Err(Miss::Fatal(e)) => return Err(e),
            }
        }
        Err(self.fail(last))
    }

    /// Reads exactly `buf.len()` bytes before the deadline; says what it waits for every
    /// 10 s of silence.
    fn read_exact<H: Hal>(
        hal: &mut H,
        buf: &mut [u8],
        deadline: Deadline,
        wait: &mut Wait,
    ) -> Result<(), Miss> {
        let mut got = 0;
        while let Some(rest) = buf.get_mut(got..) {
            if rest.is_empty() {
                break;
            }
            let now = hal.now_ms();
            if deadline.passed(now) {
                return Err(Miss::Timeout);
            }
            let chunk = deadline.remaining(now).min(500);
            let n = link_read(hal, rest, chunk).map_err(Miss::Fatal)?;
            if n == 0 && wait.cancellable && hal.cancelled() {
                return Err(Miss::Fatal(Error::Cancelled));
            }
            got += n;
        }
        Ok(())
    }

    fn receive<H: Hal>(
        &mut self,
        hal: &mut H,
        op: Op,
        reply: &mut [u8; 8],
        cancellable: bool,
    ) -> Result<usize, Miss> {
        let deadline = Deadline::after(hal, self.cfg.reply_timeout_ms);
        let mut wait = Wait { cancellable };
        let mut raw = [0u8; HEADER_LEN];
        // The signature first: text instead of a frame (a restarted modem) is seen at once.
        let (sig, rest) = raw.split_at_mut(4);
        Self::read_exact(hal, sig, deadline, &mut wait)?;
        if *sig != MODEM_SIGNATURE.to_be_bytes() {
            return Err(Self::classify_garbage(hal, sig));
        }
        Self::read_exact(hal, rest, deadline, &mut wait)?;
        let h = Header::decode(&raw);
        if !h.answers(op, self.sid, self.tid) {
            return Err(Miss::Bad);
        }
        let Some(body) = reply.get_mut(..usize::from(h.len)) else {
            return Err(Miss::Bad);
        };
        Self::read_exact(hal, body, deadline, &mut wait)?;
        if !body.is_empty() && crc16(body) != h.payload_crc {
            return Err(Miss::Bad);
        }
        Ok(body.len())
    }

    /// A reply that is not STP: text from a modem that restarted, or line noise.
    fn classify_garbage<H: Hal>(hal: &mut H, first: &[u8]) -> Miss {
        let mut text = [0u8; 48];
        let mut seen = 0;
        for (dst, &src) in text.iter_mut().zip(first) {
            *dst = src;
            seen += 1;
        }
        let deadline = Deadline::after(hal, 1_500);
        let mut quiet_since = hal.now_ms();
        loop {
            let window = text.get(..seen).unwrap_or(&[]);
            if contains(window, b"SYSSTART") {
                return Miss::Rebooted;
            }
            let now = hal.now_ms();
            let Some(rest) = text.get_mut(seen..) else {
                return Miss::Bad;
            };
            if rest.is_empty() || deadline.passed(now) {
                return Miss::Bad;
            }
            // 300 ms without a byte: noise, not a restart (a read may end early).
            match link_read(hal, rest, 300) {
                Ok(0) if hal.now_ms().wrapping_sub(quiet_since) >= 300 => return Miss::Bad,
                Ok(0) => {}
                Ok(n) => {
                    seen += n;
                    quiet_since = hal.now_ms();
                }
                Err(e) => return Miss::Fatal(e),
            }
        }
    }

    /// RESET then SESSION_OPEN; returns what the modem offers.
    pub fn open<H: Hal>(&mut self, hal: &mut H) -> Result<SessionInfo, Error> {
        hal.discard_input()?;
        let mut reply = [0u8; 8];
        self.sid = 0;
        self.tid = 0;
        self.exchange(hal, Op::Reset, &[], &mut reply)?;
        self.sid = 1;
        self.tid = 1;
        let n = self.exchange(hal, Op::SessionOpen, &[], &mut reply)?;
        let [ok, version, hi, lo, ..] = reply;
        if n < 4 || ok != 1 {
            return Err(self.fail(StpProblem::SessionRefused));
        }
        let max_transfer = u16::from_be_bytes([hi, lo]);
        if usize::from(max_transfer) <= HEADER_LEN {
            return Err(self.fail(StpProblem::SessionRefused));
        }
        Ok(SessionInfo {
            version,
            max_transfer,
        })
    }

    /// The block size for this session: the configured one, capped by the modem and the buffer.
    pub fn block_size(&self, info: &SessionInfo, buf_len: usize) -> usize {
        let modem = usize::from(info.max_transfer).saturating_sub(HEADER_LEN);
        let wanted = self.cfg.block_size.map_or(modem, usize::from);
        wanted.min(modem).min(buf_len).max(1)
    }

    /// Streams the whole image in blocks of `block` bytes, using `buf` as the block buffer.
    /// The user can stop it between blocks only (never between a block's announcement and
    /// its data).
    #[inline(never)]
    pub fn send_image<H: Hal, I: ImageSource + ?Sized>(
        &mut self,
        hal: &mut H,
        image: &mut I,
        buf: &mut [u8],
        block: usize,
    ) -> Result<u32, Error> {
        let total = image.size();
        let block = block.min(buf.len());
        let mut filled = 0usize; // bytes in buf waiting to be sent
        let mut read_total = 0u32;
        self.acked = 0;
        hal.event(&Event::Progress { done: 0, total });
        loop {
            while filled < block && read_total < total {
                let want = (block - filled).min((total - read_total) as usize);
                let Some(dst) = buf.get_mut(filled..filled + want) else {
                    return Err(Error::ImageRead);
                };
                let n = image_read(image, dst)?;
                if n == 0 {
                    return Err(Error::ImageRead);
                }
                filled += n;
                read_total += n as u32;
            }
            let Some(data) = buf.get(..filled) else {
                return Err(Error::ImageRead);
            };
            if data.is_empty() {
                break;
            }
            // Stop only between blocks, so the modem never sees half an exchange.
            if hal.cancelled() {
                return Err(Error::Cancelled);
            }
            let kept = self.send_block(hal, data)?;
            let kept = kept.min(filled);
            if kept < filled {
                // The modem kept only part of the block: the rest goes first next time.
                // Byte by byte from the front: the rest lies after where it goes, so
                // nothing is overwritten before it is read (and no memmove is linked in).
                for i in kept..filled {
                    let b = buf.get(i).copied().unwrap_or(0);
                    if let Some(d) = buf.get_mut(i - kept) {
                        *d = b;
                    }
                }
            }
            filled -= kept;
            self.acked += kept as u32;
            hal.event(&Event::Progress {
                done: self.acked,
                total,
            });
        }
        Ok(self.acked)
    }

    /// TRANSFER_BLOCK_CMD then TRANSFER_BLOCK; returns how many bytes the modem kept.
    #[inline(never)]
    fn send_block<H: Hal>(&mut self, hal: &mut H, data: &[u8]) -> Result<usize, Error> {
        let mut reply = [0u8; 8];
        self.tid += 1;
        let len = (data.len() as u16).to_be_bytes();
        self.exchange(hal, Op::TransferBlockCmd, &len, &mut reply)?;
        self.tid += 1;
        let n = self.exchange(hal, Op::TransferBlock, data, &mut reply)?;
        let [hi, lo, ..] = reply;
        let residue = if n >= 2 {
            usize::from(u16::from_be_bytes([hi, lo]))
        } else {
            0
        };
        if residue >= data.len() && !data.is_empty() {
            return Err(self.fail(StpProblem::BadResidue));
        }
        Ok(data.len() - residue)
    }

    /// The final RESET; its reply may not come (the modem may already be busy).
    pub fn close<H: Hal>(&mut self, hal: &mut H) -> Result<(), Error> {
        // A session never opened is ended with sid 0 / tid 0 (docs/PROTOCOL.md 4.6).
        if self.sid != 0 {
            self.tid += 1;
        }
        let header = Header::new(HOST_SIGNATURE, Op::Reset as u8, self.sid, self.tid, &[]).encode();
        hal.write_all(&header)?;
        let deadline = Deadline::after(hal, 2_000);
        let mut raw = [0u8; HEADER_LEN];
        let mut wait = Wait { cancellable: false };
        match Self::read_exact(hal, &mut raw, deadline, &mut wait) {
            Ok(()) | Err(Miss::Timeout) | Err(Miss::Bad) | Err(Miss::Rebooted) => Ok(()),
            Err(Miss::Fatal(e)) => Err(e),
        }
    }

    /// Ends a session given up part-way (docs/PROTOCOL.md 4.6): input that may still come is
    /// dropped, then a RESET continuing the session's transactions is sent, and the input
    /// is dropped again (its reply, or stale replies). The modem then answers AT again.
    pub fn abandon<H: Hal>(&mut self, hal: &mut H) -> Result<(), Error> {
        hal.discard_input()?;
        self.close(hal)?;
        hal.sleep_ms(200);
        hal.discard_input()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn reset_frame_vector() {
        // RESET, sid 0, tid 0, no payload: the header CRC covers the 16 bytes with the
        // CRC field zero.
        let h = Header::new(HOST_SIGNATURE, Op::Reset as u8, 0, 0, &[]);
        let b = h.encode();
        assert_eq!(&b[0..12], &[0x66, 0x61, 0x73, 0x74, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut zeroed = b;
        zeroed[12] = 0;
        zeroed[13] = 0;
        assert_eq!(u16::from_be_bytes([b[12], b[13]]), crc16(&zeroed));
        assert_eq!(&b[14..16], &[0, 0]);
    }

    #[test]
    fn block_cmd_frame_vector() {
        // TRANSFER_BLOCK_CMD announcing 2016 bytes, sid 1, tid 2.
        let payload = 2016u16.to_be_bytes();
        let b = Header::new(HOST_SIGNATURE, Op::TransferBlockCmd as u8, 1, 2, &payload).encode();
        assert_eq!(&b[4..12], &[2, 1, 0, 2, 0, 0, 0, 2]);
        assert_eq!(u16::from_be_bytes([b[14], b[15]]), crc16(&[0x07, 0xE0]));
        let d = Header::decode(&b);
        assert_eq!(d.len, 2);
        assert!(d.header_crc_ok());
    }

    #[test]
    fn decode_round_trip_and_checks() {
        let h = Header::new(MODEM_SIGNATURE, 0x83, 1, 7, &[0, 0]);
        let d = Header::decode(&h.encode());
        assert_eq!(d, h);
        assert!(d.answers(Op::TransferBlock, 1, 7));
        assert!(!d.answers(Op::TransferBlock, 1, 8));
        assert!(!d.answers(Op::TransferBlockCmd, 1, 7));
        assert!(!d.answers(Op::TransferBlock, 0, 7));
        let mut bad = h.encode();
        bad[13] ^= 1;
        assert!(!Header::decode(&bad).header_crc_ok());
        let mut zero = h.encode();
        zero[12] = 0;
        zero[13] = 0;
        assert!(
            Header::decode(&zero).header_crc_ok(),
            "CRC 0 means not given"
        );
    }
}

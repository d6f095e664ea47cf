//! One STP transfer: framing, session checks, faults and storing the bytes.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use crate::log::TransferRec;
use crate::modem::{StpKind, FFF_MAX};
use crate::opts::{Fault, Faults};
use crate::stp::{reply, Frame, Framed, Framer, Session, Verdict, HDR};

/// How many leading bytes of the image are kept in memory for inspection.
const HEAD: usize = 512;

/// What the engine must do after feeding bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum StpOut {
    /// Send these bytes now.
    Send(Vec<u8>),
    /// Send these bytes after this many ms.
    SendLater(u64, Vec<u8>),
    /// Record a violation.
    Violation(String),
    /// The final RESET was answered; the transfer is over.
    Finished(bool),
    /// Fault: the modem reboots into upgrade mode now.
    Reboot,
}

/// A running STP transfer.
#[derive(Debug)]
pub struct StpRun {
    /// How it was entered.
    pub kind: StpKind,
    /// Its index in the log's transfers.
    pub index: usize,
    /// The first bytes of the image.
    pub head: Vec<u8>,
    framer: Framer,
    session: Session,
    file: Option<File>,
    blocks: u32,
    skip_lf: bool,
    over_fff: bool,
}

impl StpRun {
    /// Starts a transfer writing to `path`; `skip_lf` drops one leading `\n`.
    pub fn new(kind: StpKind, max: u16, index: usize, path: &Path, skip_lf: bool) -> StpRun {
        let file = File::create(path)
            .map_err(|e| eprintln!("sqnsim: cannot create {}: {e}", path.display()))
            .ok();
        StpRun {
            kind,
            index,
            head: Vec::new(),
            framer: Framer::new(max as usize),
            session: Session::new(max),
            file,
            blocks: 0,
            skip_lf,
            over_fff: false,
        }
    }

    /// Feeds received bytes; returns the actions and, once finished, the unused bytes.
    pub fn feed(
        &mut self,
        bytes: &[u8],
        now: Instant,
        f: &mut Faults,
        rec: &mut TransferRec,
    ) -> (Vec<StpOut>, Vec<u8>) {
        let mut bytes = bytes;
        if self.skip_lf && !bytes.is_empty() {
            self.skip_lf = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        self.framer.push(bytes, now);
        let mut out = Vec::new();
        while let Some(x) = self.framer.next_frame() {
            match x {
                Framed::Bad(v) => out.push(StpOut::Violation(v)),
                Framed::Frame(fr) => self.frame(&fr, f, rec, &mut out),
            }
            if out
                .iter()
                .any(|o| matches!(o, StpOut::Finished(_) | StpOut::Reboot))
            {
                return (out, self.framer.take_rest());
            }
        }
        (out, Vec::new())
    }

    /// Drops a stale partial frame.
    pub fn expire(&mut self, now: Instant) -> Option<String> {
        self.framer.expire(now)
    }

    /// When a partial frame would go stale.
    pub fn expiry(&self) -> Option<Instant> {
        self.framer.expiry()
    }

    fn frame(&mut self, fr: &Frame, f: &mut Faults, rec: &mut TransferRec, out: &mut Vec<StpOut>) {
        match self.session.judge(fr) {
            Verdict::Reply(p) => {
                let r = reply(fr, p);
                self.session.answered(fr, &r);
                out.push(StpOut::Send(r));
            }
            Verdict::Resend(r) => {
                rec.resends += 1;
                out.push(StpOut::Send(r));
            }
            Verdict::Violation(v) => out.push(StpOut::Violation(v)),
            Verdict::Final { complete } => {
                if !complete {
                    out.push(StpOut::Violation(
                        "STP: final RESET while a block was announced".into(),
                    ));
                }
                out.push(StpOut::Send(reply(fr, Vec::new())));
                out.push(StpOut::Finished(complete));
            }
            Verdict::Block => self.block(fr, f, rec, out),
        }
    }

    fn block(&mut self, fr: &Frame, f: &mut Faults, rec: &mut TransferRec, out: &mut Vec<StpOut>) {
        self.blocks += 1;
        let faults = f.take(self.blocks);
        if faults.contains(&Fault::Reboot(self.blocks)) {
            out.push(StpOut::Reboot);
            return;
        }
        let len = fr.payload.len();
        let residue = faults.iter().find_map(|x| match *x {
            Fault::Residue(_, r) => Some((r as usize).min(len)),
            _ => None,
        });
        let residue = residue.unwrap_or(0);
        self.store(&fr.payload[..len - residue], rec, out);
        let r = reply(fr, (residue as u16).to_be_bytes().to_vec());
        self.session.answered(fr, &r);
        out.extend(faulty(r, &faults));
    }

    fn store(&mut self, data: &[u8], rec: &mut TransferRec, out: &mut Vec<StpOut>) {
        if self.head.len() < HEAD {
            let n = (HEAD - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..n]);
        }
        if let Some(file) = &mut self.file {
            if let Err(e) = file.write_all(data) {
                eprintln!("sqnsim: cannot store a block: {e}");
            }
        }
        rec.blocks += 1;
        rec.bytes += data.len() as u64;
        if self.kind == StpKind::Store && rec.bytes > FFF_MAX && !self.over_fff {
            self.over_fff = true;
            out.push(StpOut::Violation(format!(
                "STP: more than {FFF_MAX} bytes sent to AT+SMSTPU (FFF)"
            )));
        }
    }
}

/// Applies the reply faults of one block to its reply (None: dropped).
fn faulty(mut r: Vec<u8>, faults: &[Fault]) -> Option<StpOut> {
    let mut delay = None;
    for x in faults {
        match *x {
            Fault::CorruptReply(_) => r[HDR - 4] ^= 0xff,
            Fault::DropReply(_) => return None,
            Fault::Stall(_, ms) => delay = Some(ms),
            _ => {}
        }
    }
    Some(match delay {
        Some(ms) => StpOut::SendLater(ms, r),
        None => StpOut::Send(r),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stp::{encode, OP_BLOCK, OP_CMD, OP_OPEN, OP_RESET, SIG_HOST};

    fn host(op: u8, sid: u8, tid: u32, payload: &[u8]) -> Vec<u8> {
        encode(
            SIG_HOST,
            &Frame {
                op,
                sid,
                tid,
                payload: payload.to_vec(),
            },
        )
    }

    fn session_bytes(blocks: &[&[u8]]) -> Vec<u8> {
        let mut b = b"\n".to_vec();
        b.extend(host(OP_RESET, 0, 0, &[]));
        b.extend(host(OP_OPEN, 1, 1, &[]));
        let mut tid = 2;
        for blk in blocks {
            b.extend(host(OP_CMD, 1, tid, &(blk.len() as u16).to_be_bytes()));
            b.extend(host(OP_BLOCK, 1, tid + 1, blk));
            tid += 2;
        }
        b.extend(host(OP_RESET, 0, 0, &[]));
        b.extend(b"AT\r");
        b
    }

    fn run(faults: &[Fault]) -> (Vec<StpOut>, Vec<u8>, TransferRec, Vec<u8>) {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let k = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("sqnsim-tr-{}-{k}", std::process::id()));
        let mut t = StpRun::new(StpKind::OnTheFly, 8192, 0, &path, true);
        let mut f = Faults::new(faults);
        let mut rec = TransferRec::default();
        let (out, rest) = t.feed(
            &session_bytes(&[b"UPGRabc", b"defg"]),
            Instant::now(),
            &mut f,
            &mut rec,
        );
        drop(t);
        let stored = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        (out, rest, rec, stored)
    }

    #[test]
    fn whole_transfer() {
        let (out, rest, rec, stored) = run(&[]);
        assert_eq!(out.len(), 8);
        assert_eq!(out.last(), Some(&StpOut::Finished(true)));
        assert_eq!(rest, b"AT\r");
        assert_eq!(stored, b"UPGRabcdefg");
        assert_eq!((rec.blocks, rec.bytes), (2, 11));
    }

    #[test]
    fn block_faults() {
        let (out, _, _, stored) = run(&[Fault::Residue(1, 3), Fault::Stall(2, 50)]);
        assert_eq!(stored, b"UPGRdefg");
        assert!(matches!(&out[3], StpOut::Send(r) if r[16..] == [0, 3]));
        assert!(matches!(&out[5], StpOut::SendLater(50, _)));
        let (out, _, _, _) = run(&[Fault::Reboot(2)]);
        assert_eq!(out.last(), Some(&StpOut::Reboot));
        let (out, _, _, _) = run(&[Fault::CorruptReply(1)]);
        assert!(
            matches!(&out[3], StpOut::Send(r) if crate::stp::header_crc(r) != u16::from_be_bytes([r[12], r[13]]))
        );
        let (out, _, _, _) = run(&[Fault::DropReply(1)]);
        assert_eq!(out.len(), 7);
    }
}

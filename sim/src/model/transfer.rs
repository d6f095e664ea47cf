//! The STP slave: sessions, blocks, faults on frames, the long waits of an ON_THE_FLY
//! transfer, and what the modem makes of a finished transfer (flash, store, load).

use super::commands::{Flash, Upgrade, BOOTROM_MAX, FFF_MAX, OLD_BOOTLOADER};
use super::{Modem, Then, Timer};
use crate::fault::{Kind as FaultKind, Occasion};
use crate::image::{self, ImageInfo};
use crate::log::{Transfer, TransferKind};
use crate::stp::{reply, Frame, Framed, Framer, Session, Verdict, OP_RESET};
use crate::wire::Segment;

/// How an STP transfer was entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `AT+SMSTPU`: store first (FFF).
    Store,
    /// `AT+SMSTPU="ON_THE_FLY"`: flash as it streams.
    OnTheFly,
    /// `AT+STP`: load the updater.
    Updater,
}

/// The share of the image after which the modem erases flash (%).
const ERASE_AT_PERCENT: u64 = 8;

/// A running STP session.
#[derive(Debug)]
pub struct StpRun {
    /// How it was entered.
    pub kind: Kind,
    /// Its index in the log's transfers.
    pub index: usize,
    /// Cuts frames out of the byte stream.
    pub framer: Framer,
    session: Session,
    blocks: u32,
    skip_lf: bool,
    over_fff: bool,
    /// The modem hangs (fault): only a RESET frame ends the session.
    pub hung: bool,
    erased: bool,
    finished: bool,
}

/// The modem's reply to `f`; a RESET reply leaves its header CRC 0 ("not given"), as a
/// real modem's was seen (docs/PROTOCOL.md section 4).
fn answer(f: &Frame, payload: Vec<u8>) -> Vec<u8> {
    let mut r = reply(f, payload);
    if f.op == OP_RESET {
        r[12] = 0;
        r[13] = 0;
    }
    r
}

/// The size an image's `UPGR` header announces (its length field + 46).
fn declared(data: &[u8]) -> Option<u64> {
    image::inspect(&data[..data.len().min(16)]).declared_size
}

impl Modem {
    pub(super) fn start_transfer(&mut self, kind: Kind, max: u16, via: &str) {
        let index = self.log.transfers.len();
        self.log.transfers.push(Transfer {
            via: via.to_string(),
            kind: if kind == Kind::Updater {
                TransferKind::Updater
            } else {
                TransferKind::Firmware
            },
            max_transfer: max,
            data: Vec::new(),
            blocks: 0,
            resends: 0,
            complete: false,
            active: true,
            started_us: self.t_us(),
            ended_us: None,
        });
        self.log
            .event(self.t_us(), format!("STP transfer {} started", index + 1));
        self.stp = Some(Box::new(StpRun {
            kind,
            index,
            framer: Framer::new(max as usize),
            session: Session::new(max),
            blocks: 0,
            skip_lf: self.lines.ended_cr,
            over_fff: false,
            hung: false,
            erased: false,
            finished: false,
        }));
        self.lines.clear();
    }

    /// Bytes received inside the session (at most one frame's worth).
    pub(super) fn stp_input(&mut self, mut bytes: &[u8]) {
        let now = self.now;
        let Some(run) = &mut self.stp else {
            return;
        };
        if run.skip_lf && !bytes.is_empty() {
            run.skip_lf = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        run.framer.push(bytes, now);
        self.stp_frames();
    }

    /// Handles the complete frames buffered.
    pub(super) fn stp_frames(&mut self) {
        loop {
            if self.busy.is_some() || self.resetting || self.gone {
                return;
            }
            let Some(run) = &mut self.stp else {
                return;
            };
            let Some(x) = run.framer.next_frame() else {
                return;
            };
            match x {
                Framed::Bad(v) => self.log.violation(v),
                Framed::Frame(f) => self.stp_frame(f),
            }
        }
    }

    fn stp_frame(&mut self, f: Frame) {
        self.requests += 1;
        let req = self.requests;
        let t_ms = self.t_ms();
        let Some(run) = &mut self.stp else {
            return;
        };
        if run.hung {
            if f.op == OP_RESET {
                if let Verdict::Final { complete } = run.session.judge(&f) {
                    self.log
                        .event(self.t_us(), "RESET frame wakes the hung session".into());
                    self.end_session(&f, complete, &[]);
                }
            }
            return;
        }
        let verdict = run.session.judge(&f);
        if verdict == Verdict::Block {
            self.stp_block(&f, req, t_ms);
            return;
        }
        let hits = self.faults.at(req, Occasion::Frame(None), t_ms);
        if let Some(&k) = hits.iter().find(|k| k.is_event()) {
            self.event_fault(k, "STP frame");
            return;
        }
        let Some(run) = &mut self.stp else {
            return;
        };
        match verdict {
            Verdict::Reply(p) => {
                let r = answer(&f, p);
                run.session.answered(&f, &r);
                self.deliver(r, &hits, 0);
            }
            Verdict::Resend(r) => {
                self.log.transfers[run.index].resends += 1;
                self.deliver(r, &hits, 0);
            }
            Verdict::Violation(v) => self.log.violation(v),
            Verdict::Final { complete } => self.end_session(&f, complete, &hits),
            Verdict::Block => {}
        }
    }

    /// Sends an STP reply, through the reply faults, `extra_ms` late.
    fn deliver(&mut self, mut r: Vec<u8>, hits: &[FaultKind], extra_ms: u64) {
        let mut delay = extra_ms;
        for h in hits {
            match *h {
                FaultKind::DropReply => r.clear(),
                FaultKind::CorruptReply if r.len() > 12 => r[12] ^= 0xff,
                FaultKind::Flip(i) if !r.is_empty() => {
                    let at = i.unwrap_or(r.len() / 2).min(r.len() - 1);
                    r[at] ^= 0xff;
                }
                FaultKind::Stall(ms) => delay += ms,
                _ => {}
            }
        }
        if delay > 0 {
            self.busy_for(delay, Then::Send(r));
        } else {
            self.send(&r);
        }
    }

    fn stp_block(&mut self, f: &Frame, req: u32, t_ms: u64) {
        let Some(run) = &mut self.stp else {
            return;
        };
        run.blocks += 1;
        let n = run.blocks;
        let hits = self.faults.at(req, Occasion::Frame(Some(n)), t_ms);
        if let Some(&k) = hits
            .iter()
            .find(|k| matches!(k, FaultKind::Reboot | FaultKind::LinkGone))
        {
            self.event_fault(k, &format!("TRANSFER_BLOCK {n}"));
            return;
        }
        let len = f.payload.len();
        let residue = hits
            .iter()
            .find_map(|x| match *x {
                FaultKind::Residue(r) => Some((r as usize).min(len)),
                _ => None,
            })
            .unwrap_or(0);
        let extra = self.store(&f.payload[..len - residue]);
        let r = reply(f, (residue as u16).to_be_bytes().to_vec());
        if let Some(run) = &mut self.stp {
            run.session.answered(f, &r);
        }
        if hits.contains(&FaultKind::Hang) {
            self.event_fault(FaultKind::Hang, &format!("TRANSFER_BLOCK {n}"));
            return;
        }
        self.deliver(r, &hits, extra);
    }

    /// Stores block data; returns how long the modem then works before it answers (ms).
    fn store(&mut self, data: &[u8]) -> u64 {
        let Some(run) = &mut self.stp else {
            return 0;
        };
        let t = &mut self.log.transfers[run.index];
        t.data.extend_from_slice(data);
        t.blocks += 1;
        let got = t.data.len() as u64;
        if run.kind == Kind::Store && got > FFF_MAX && !run.over_fff {
            run.over_fff = true;
            self.log.violation(format!(
                "STP: more than {FFF_MAX} bytes sent to AT+SMSTPU (FFF)"
            ));
        }
        if run.kind != Kind::OnTheFly {
            return 0;
        }
        self.app_intact = false;
        let Some(total) = declared(&self.log.transfers[run.index].data) else {
            return 0;
        };
        let mut extra = 0;
        if !run.erased && got * 100 >= total * ERASE_AT_PERCENT {
            run.erased = true;
            extra += self.cfg.erase_ms;
        }
        if !run.finished && got >= total {
            run.finished = true;
            extra += self.cfg.finish_ms;
        }
        extra
    }

    /// The session's closing RESET.
    fn end_session(&mut self, f: &Frame, between_blocks: bool, hits: &[FaultKind]) {
        let mut r = answer(f, Vec::new());
        for h in hits {
            match *h {
                FaultKind::DropReply => r.clear(),
                FaultKind::CorruptReply => r[12] ^= 0xff,
                FaultKind::Flip(i) => {
                    let at = i.unwrap_or(r.len() / 2).min(r.len() - 1);
                    r[at] ^= 0xff;
                }
                _ => {}
            }
        }
        self.send(&r);
        self.finish_transfer(between_blocks);
    }

    /// What the modem makes of a transfer that a RESET closed.
    fn finish_transfer(&mut self, between_blocks: bool) {
        let Some(mut run) = self.stp.take() else {
            return;
        };
        let rest = run.framer.take_rest();
        let k = run.index + 1;
        let now = self.t_us();
        let (info, bytes) = {
            let t = &mut self.log.transfers[run.index];
            t.active = false;
            t.ended_us = Some(now);
            (
                image::inspect(&t.data[..t.data.len().min(512)]),
                t.data.len() as u64,
            )
        };
        self.lines.clear();
        match run.kind {
            Kind::Updater => {
                self.log.transfers[run.index].complete = between_blocks;
                if info.elf {
                    self.log
                        .event(now, format!("STP transfer {k} ended: updater loads"));
                    self.start_reset(1, true);
                } else {
                    self.log
                        .violation(format!("STP transfer {k}: updater.elf is not an ELF file"));
                    self.log
                        .event(now, format!("STP transfer {k} ended: updater refused"));
                }
            }
            Kind::Store | Kind::OnTheFly => {
                let flash = self.judge(run.kind, &info, bytes, between_blocks);
                let whole = between_blocks && info.declared_size.is_none_or(|d| bytes >= d);
                let t = &mut self.log.transfers[run.index];
                t.complete = whole;
                if flash.bootrom {
                    t.kind = TransferKind::Bootrom;
                }
                self.log.event(
                    now,
                    format!("STP transfer {k} ended (complete: {whole}): {}", flash.note),
                );
                if run.kind == Kind::Store {
                    self.stored = Some(flash);
                } else if flash.bootrom && flash.ok {
                    self.bootrom = true;
                    self.upgrade = Some(Upgrade::Success);
                } else if flash.ok {
                    self.upgrade = Some(Upgrade::OnGoing);
                    let due = self.now + self.cfg.upgrade_ms * 1_000_000;
                    self.schedule(due, Timer::FlashDone(flash));
                } else {
                    self.upgrade = Some(Upgrade::Fail);
                    self.app_intact = false;
                }
            }
        }
        self.log.revision += 1;
        if !rest.is_empty() {
            self.input(Segment::instant(self.now, self.baud, rest));
        }
    }

    /// Ends a running transfer as incomplete (a reset or power cycle cut it).
    pub(super) fn abort_transfer(&mut self, why: &str) {
        let Some(run) = self.stp.take() else {
            return;
        };
        let now = self.t_us();
        let t = &mut self.log.transfers[run.index];
        t.active = false;
        t.complete = false;
        t.ended_us = Some(now);
        if run.kind == Kind::OnTheFly {
            self.upgrade = Some(Upgrade::Fail);
            self.app_intact &= t.data.is_empty();
        }
        self.log.event(
            now,
            format!("STP transfer {} aborted: {why}", run.index + 1),
        );
    }

    /// Decides what a finished image transfer will flash.
    fn judge(&self, kind: Kind, info: &ImageInfo, bytes: u64, between_blocks: bool) -> Flash {
        let bootrom = kind == Kind::OnTheFly
            && self.mode == 4
            && self.cfg.bootloader0 == OLD_BOOTLOADER
            && !self.bootrom
            && bytes <= BOOTROM_MAX;
        let cut = match info.declared_size {
            Some(d) if bytes < d => Some(format!(
                "received {bytes} of the {d} bytes the image announces (incomplete file)"
            )),
            _ if !between_blocks => Some("the session ended inside a block".to_string()),
            _ => None,
        };
        let fail = cut.or_else(|| {
            if bootrom {
                None
            } else {
                self.image_problem(kind, info, bytes)
            }
        });
        let note = match (&fail, bootrom) {
            (Some(f), _) => f.clone(),
            (None, true) => "bootrom package".into(),
            (None, false) => format!("image for build {:?}", info.build),
        };
        Flash {
            ok: fail.is_none(),
            build: if bootrom { None } else { info.build },
            bootrom,
            note,
        }
    }

    fn image_problem(&self, kind: Kind, info: &ImageInfo, bytes: u64) -> Option<String> {
        if kind == Kind::Store && bytes > FFF_MAX {
            return Some(format!("{bytes} bytes cannot be stored (FFF)"));
        }
        if !info.upgr {
            return Some("image does not start with UPGR".into());
        }
        match info.diff {
            Some((a, _)) if a != self.software_build => Some(format!(
                "upgdiff from {a} but the running build is {}",
                self.software_build
            )),
            _ => None,
        }
    }

    /// ON_THE_FLY flashing ends.
    pub(super) fn flash_done(&mut self, f: &Flash) {
        self.apply_flash(f);
    }

    /// FFF flashing in the updater (state 3) ends: reset into application mode (upgrade
    /// mode when the application is not whole).
    pub(super) fn fff_done(&mut self) {
        if let Some(f) = self.fff.take() {
            self.apply_flash(&f);
        }
        let target = if self.app_intact { 2 } else { 4 };
        self.start_reset(target, false);
    }

    fn apply_flash(&mut self, f: &Flash) {
        self.upgrade = Some(if f.ok {
            Upgrade::Success
        } else {
            Upgrade::Fail
        });
        if f.ok {
            self.app_intact = true;
            if let Some(b) = f.build {
                self.software_build = b;
            }
        }
        let word = if f.ok { "success" } else { "fail" };
        self.log.event(
            self.t_us(),
            format!("upgrade {word}, build {}", self.software_build),
        );
    }
}

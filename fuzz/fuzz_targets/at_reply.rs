//! The AT reply parser and the parsers of reply bodies (`ATI1`, `showver`, `AT+CGSN`,
//! `AT+SMOD?`). Properties: no panic; the result does not depend on how the bytes were cut
//! into reads; body lines are non-empty printable ASCII with no line breaks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqnsupgrade::at::{ReplyBuf, Status};
use sqnsupgrade::version::{parse_imei, Versions};

const COMMANDS: [&[u8]; 4] = [b"AT", b"AT+SMOD?", b"ATI1", b"AT+CGSN"];

fn parse(command: &[u8], need_body: bool, bytes: &[u8], piece: usize) -> (ReplyBuf, bool) {
    let mut r = ReplyBuf::new();
    r.start(need_body);
    let mut done = false;
    for chunk in bytes.chunks(piece.max(1)) {
        if r.feed(command, chunk) {
            done = true;
            break;
        }
    }
    (r, done)
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, bytes)) = data.split_first() else {
        return;
    };
    let command = COMMANDS[usize::from(flags & 3)];
    let need_body = flags & 4 != 0;
    let piece = usize::from(flags >> 3) + 1;
    let (whole, done) = parse(command, need_body, bytes, bytes.len());
    let (cut, cut_done) = parse(command, need_body, bytes, piece);
    assert_eq!(done, cut_done, "the reads' sizes changed the outcome");
    assert_eq!(
        whole.reply(),
        cut.reply(),
        "the reads' sizes changed the reply"
    );
    assert!(
        whole.lines().eq(cut.lines()),
        "the reads' sizes changed the body"
    );
    assert_eq!(done, whole.reply().status != Status::Timeout);
    for line in whole.lines() {
        assert!(!line.is_empty());
        assert!(line.iter().all(|&b| b == b' ' || b.is_ascii_graphic()));
    }
    let _ = whole.integer();
    let _ = whole.looks_like_micropython();
    let _ = whole.restarted_only();
    if let Some(imei) = parse_imei(whole.lines()) {
        assert_eq!(imei.len(), 15);
        assert!(imei.iter().all(u8::is_ascii_digit));
    }
    let mut v = Versions::default();
    v.add_ati1(whole.lines());
    v.add_showver(whole.lines());
    let _ = v.family();
    let _ = v.has_old_bootloader();
});

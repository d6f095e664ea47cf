//! The checks of the user's files and options: any bytes, any name and any size never
//! panic; what is accepted as firmware starts with UPGR and is not cut short (unless the
//! override is given); an accepted upgdiff name gives its two builds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqnsupgrade::error::FileRole;
use sqnsupgrade::image::{check_bootrom, check_firmware, check_updater, Head, MemImage};
use sqnsupgrade::report::UserOptions;
use sqnsupgrade::version::parse_upgdiff_name;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (ctl, rest) = data.split_at(8);
    let name_len = usize::from(ctl[0]).min(rest.len());
    let (name, bytes) = rest.split_at(name_len);
    let allow_truncated = ctl[1] & 1 != 0;
    for role in [FileRole::Firmware, FileRole::Updater, FileRole::Bootrom] {
        let mut src = MemImage::new(bytes, name);
        let Ok(head) = Head::read(&mut src, role) else {
            continue;
        };
        let size = bytes.len() as u32;
        match role {
            FileRole::Firmware => {
                if check_firmware(&head, size, name, allow_truncated).is_ok() {
                    assert!(
                        bytes.starts_with(b"UPGR"),
                        "accepted a non-.dup as firmware"
                    );
                }
            }
            FileRole::Updater => {
                let _ = check_updater(&head, size);
            }
            FileRole::Bootrom => {
                let _ = check_bootrom(&head, size);
            }
        }
    }
    if let Some((from, to)) = parse_upgdiff_name(name) {
        let _ = (from, to);
    }
    let options = UserOptions {
        fff: ctl[1] & 2 != 0,
        on_the_fly: ctl[1] & 4 != 0,
        block_size: (ctl[1] & 8 != 0).then(|| u32::from_le_bytes([ctl[2], ctl[3], ctl[4], 0])),
        reply_timeout_s: u32::from_le_bytes([ctl[5], ctl[6], ctl[7], 0]),
        ..UserOptions::default()
    };
    if let Ok(o) = options.check() {
        assert!(
            o.stp.reply_timeout_ms > 0,
            "a zero reply timeout was accepted"
        );
        assert!(
            !(options.fff && options.on_the_fly),
            "both methods were accepted"
        );
    }
});

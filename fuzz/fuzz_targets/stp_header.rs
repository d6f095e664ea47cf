//! STP frame headers: decoding any 16 bytes never panics, a decoded header encodes back to
//! the same bytes, and a header built for a payload has a valid CRC and answers itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqnsupgrade::stp::{crc16, Header, HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    let mut raw = [0u8; HEADER_LEN];
    for (d, s) in raw.iter_mut().zip(data) {
        *d = *s;
    }
    let h = Header::decode(&raw);
    assert_eq!(h.encode(), raw, "decode then encode changed the header");
    let _ = h.header_crc_ok();
    let payload = data.get(HEADER_LEN..).unwrap_or(&[]);
    let built = Header::new(0x2b21_2d3f, raw[0], raw[1], u32::from(raw[2]), payload);
    assert!(
        built.header_crc_ok(),
        "a header the engine builds has a bad CRC"
    );
    assert_eq!(Header::decode(&built.encode()), built);
    let _ = crc16(payload);
});

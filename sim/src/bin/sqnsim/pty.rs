//! The pseudo-terminal the host talks to (libc only).

use std::ffi::CStr;
use std::io;
use std::os::raw::c_int;
use std::time::{Duration, Instant};

/// How long a write may wait for room in the pty before the rest is dropped.
const WRITE_WAIT: Duration = Duration::from_millis(500);

/// A pty master plus one slave fd kept open so that the line never hangs up.
#[derive(Debug)]
pub struct Pty {
    master: c_int,
    keep: c_int,
    /// Path of the slave side, e.g. `/dev/pts/3`.
    pub path: String,
}

fn check(r: c_int) -> io::Result<c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl Pty {
    /// Opens a pty, makes the slave raw at `baud` and keeps one slave fd open.
    pub fn open(baud: u32) -> io::Result<Pty> {
        // SAFETY: plain libc calls on fds this function owns; buffers are sized.
        unsafe {
            let master = check(libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY))?;
            check(libc::grantpt(master))?;
            check(libc::unlockpt(master))?;
            let mut name = [0 as libc::c_char; 128];
            let r = libc::ptsname_r(master, name.as_mut_ptr(), name.len());
            if r != 0 {
                return Err(io::Error::from_raw_os_error(r));
            }
            let path = CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned();
            let keep = check(libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY))?;
            let flags = check(libc::fcntl(master, libc::F_GETFL))?;
            check(libc::fcntl(master, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
            let pty = Pty { master, keep, path };
            pty.make_raw(baud)?;
            Ok(pty)
        }
    }

    fn make_raw(&self, baud: u32) -> io::Result<()> {
        // SAFETY: termios is plain data filled by tcgetattr before use.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            check(libc::tcgetattr(self.keep, &mut t))?;
            libc::cfmakeraw(&mut t);
            let speed = speed_const(baud);
            check(libc::cfsetispeed(&mut t, speed))?;
            check(libc::cfsetospeed(&mut t, speed))?;
            check(libc::tcsetattr(self.keep, libc::TCSANOW, &t))?;
        }
        Ok(())
    }

    /// Waits up to `ms` for input; true when there is some.
    pub fn wait_readable(&self, ms: i32) -> bool {
        let mut p = libc::pollfd {
            fd: self.master,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        r > 0 && p.revents & libc::POLLIN != 0
    }

    /// The host's current baud rate (the slave's termios, read on the master).
    pub fn host_baud(&self) -> u32 {
        // A rate set the Linux way for any value (BOTHER, as the serialport crate sets
        // every rate) is only in termios2.
        #[cfg(target_os = "linux")]
        // SAFETY: termios2 is plain data filled by the ioctl before use.
        unsafe {
            let mut t: libc::termios2 = std::mem::zeroed();
            if libc::ioctl(self.master, libc::TCGETS2, &mut t) == 0
                && t.c_cflag & libc::CBAUD == libc::BOTHER
            {
                return t.c_ospeed;
            }
        }
        // SAFETY: termios is plain data filled by tcgetattr before use.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(self.master, &mut t) != 0 {
                return 0;
            }
            speed_value(libc::cfgetospeed(&t))
        }
    }

    /// Reads what is available (non-blocking); an empty vector when nothing is.
    pub fn read(&self, max: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; max];
        // SAFETY: buf is valid for max bytes.
        let n = unsafe { libc::read(self.master, buf.as_mut_ptr().cast(), max) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(Vec::new()),
                _ => Err(e),
            };
        }
        buf.truncate(n as usize);
        Ok(buf)
    }

    /// Writes all bytes, waiting for room; returns how many were written.
    pub fn write(&self, mut data: &[u8]) -> usize {
        let start = Instant::now();
        let total = data.len();
        while !data.is_empty() && start.elapsed() < WRITE_WAIT {
            // SAFETY: data is a valid slice.
            let n = unsafe { libc::write(self.master, data.as_ptr().cast(), data.len()) };
            if n > 0 {
                data = &data[n as usize..];
            } else {
                self.wait_writable();
            }
        }
        total - data.len()
    }

    fn wait_writable(&self) {
        let mut p = libc::pollfd {
            fd: self.master,
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, 20) };
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        // SAFETY: closing fds this struct owns.
        unsafe {
            libc::close(self.keep);
            libc::close(self.master);
        }
    }
}

const SPEEDS: [(libc::speed_t, u32); 18] = [
    (libc::B1200, 1200),
    (libc::B2400, 2400),
    (libc::B4800, 4800),
    (libc::B9600, 9600),
    (libc::B19200, 19200),
    (libc::B38400, 38400),
    (libc::B57600, 57600),
    (libc::B115200, 115200),
    (libc::B230400, 230400),
    (libc::B460800, 460800),
    (libc::B500000, 500000),
    (libc::B576000, 576000),
    (libc::B921600, 921600),
    (libc::B1000000, 1000000),
    (libc::B1152000, 1152000),
    (libc::B1500000, 1500000),
    (libc::B2000000, 2000000),
    (libc::B3000000, 3000000),
];

/// Maps a termios speed constant to baud.
pub fn speed_value(s: libc::speed_t) -> u32 {
    SPEEDS.iter().find(|(c, _)| *c == s).map_or(0, |(_, v)| *v)
}

/// Maps a baud rate to its termios constant (115200 when unknown).
pub fn speed_const(baud: u32) -> libc::speed_t {
    SPEEDS
        .iter()
        .find(|(_, v)| *v == baud)
        .map_or(libc::B115200, |(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_map_both_ways() {
        assert_eq!(speed_value(libc::B921600), 921600);
        assert_eq!(speed_value(speed_const(115200)), 115200);
    }

    #[test]
    fn pty_reads_host_baud() {
        let p = Pty::open(921600).unwrap();
        assert!(p.path.starts_with("/dev/"));
        assert_eq!(p.host_baud(), 921600);
        assert!(p.read(64).unwrap().is_empty());
    }
}

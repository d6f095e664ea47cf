//! A serial port on a computer (a USB serial adapter, the board in mirror mode, or the
//! simulator's pty) as the engine's [`Link`]: raw termios, any standard baud rate up to
//! 4 Mbaud, reads with a deadline through `poll`.

use sqnsupgrade::error::Error;
use sqnsupgrade::hal::Link;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// An open serial port.
pub struct Tty {
    fd: OwnedFd,
    path: String,
}

/// The termios speed constant for a baud rate.
fn speed_constant(baud: u32) -> Option<libc::speed_t> {
    Some(match baud {
        9_600 => libc::B9600,
        19_200 => libc::B19200,
        38_400 => libc::B38400,
        57_600 => libc::B57600,
        115_200 => libc::B115200,
        230_400 => libc::B230400,
        460_800 => libc::B460800,
        500_000 => libc::B500000,
        576_000 => libc::B576000,
        921_600 => libc::B921600,
        1_000_000 => libc::B1000000,
        1_152_000 => libc::B1152000,
        1_500_000 => libc::B1500000,
        2_000_000 => libc::B2000000,
        3_000_000 => libc::B3000000,
        4_000_000 => libc::B4000000,
        _ => return None,
    })
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Tty {
    /// Opens `path` raw (8N1, no flow control) at `baud`.
    pub fn open(path: &str, baud: u32) -> io::Result<Tty> {
        let c_path =
            CString::new(path).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a valid NUL-terminated path; the returned descriptor is owned below.
        let fd = unsafe {
            libc::open(
                c_path.as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let tty = Tty {
            fd,
            path: path.to_string(),
        };
        tty.configure(baud)?;
        Ok(tty)
    }

    /// The path it was opened with.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn configure(&self, baud: u32) -> io::Result<()> {
        let speed = speed_constant(baud).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unsupported baud rate {baud}"),
            )
        })?;
        // SAFETY: termios is plain data; the calls only read/write it and the open fd.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            check(libc::tcgetattr(self.fd.as_raw_fd(), &mut t))?;
            libc::cfmakeraw(&mut t);
            t.c_cflag |= libc::CLOCAL | libc::CREAD;
            t.c_cflag &= !(libc::CRTSCTS | libc::CSTOPB | libc::PARENB);
            t.c_cc[libc::VMIN] = 0;
            t.c_cc[libc::VTIME] = 0;
            check(libc::cfsetispeed(&mut t, speed))?;
            check(libc::cfsetospeed(&mut t, speed))?;
            check(libc::tcsetattr(self.fd.as_raw_fd(), libc::TCSANOW, &t))
        }
    }

    /// Waits up to `timeout_ms` for `events`: true when they came, false on timeout (or
    /// Ctrl-C). A hang-up or an error on the port (a USB adapter unplugged, the other end
    /// of a pty closed) is [`Error::LinkGone`] at once, not a busy loop until the timeout.
    fn poll(&self, events: libc::c_short, timeout_ms: u32) -> Result<bool, Error> {
        let mut p = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events,
            revents: 0,
        };
        let timeout = timeout_ms.min(i32::MAX as u32) as libc::c_int;
        loop {
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut p, 1, timeout) };
            if n > 0 && p.revents & events == 0 {
                // Only POLLHUP, POLLERR or POLLNVAL: nothing will ever come.
                return Err(Error::LinkGone);
            }
            if n >= 0 {
                return Ok(n > 0);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(link_error(err));
            }
            if crate::cancel_requested() {
                return Ok(false);
            }
        }
    }

    fn write_some(&self, data: &[u8]) -> io::Result<usize> {
        // SAFETY: the pointer and length describe `data`.
        let n = unsafe { libc::write(self.fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

/// A failed read or write: the device gone (unplugged, the pty's other end closed) or
/// another error of the port.
fn link_error(e: io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::EIO | libc::ENXIO | libc::ENODEV | libc::EBADF | libc::EPIPE) => Error::LinkGone,
        _ => Error::Link,
    }
}

impl Link for Tty {
    fn write_all(&mut self, mut data: &[u8]) -> Result<(), Error> {
        while !data.is_empty() {
            match self.write_some(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.poll(libc::POLLOUT, 1_000)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(link_error(e)),
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error> {
        if buf.is_empty() || !self.poll(libc::POLLIN, timeout_ms)? {
            return Ok(0);
        }
        // SAFETY: the pointer and length describe `buf`.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            return Ok(n as usize);
        }
        if n == 0 {
            // Readable but end of file: the device is gone.
            return Err(Error::LinkGone);
        }
        let err = io::Error::last_os_error();
        match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
            _ => Err(link_error(err)),
        }
    }

    fn set_baud(&mut self, baud: u32) -> Result<(), Error> {
        // Let what was written go out at the old rate first.
        // SAFETY: plain call on the open fd.
        unsafe { libc::tcdrain(self.fd.as_raw_fd()) };
        self.configure(baud).map_err(link_error)
    }

    fn discard_input(&mut self) -> Result<(), Error> {
        // SAFETY: plain call on the open fd.
        check(unsafe { libc::tcflush(self.fd.as_raw_fd(), libc::TCIFLUSH) }).map_err(link_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_rates() {
        assert_eq!(speed_constant(921_600), Some(libc::B921600));
        assert_eq!(speed_constant(115_200), Some(libc::B115200));
        assert_eq!(speed_constant(12_345), None);
    }
}

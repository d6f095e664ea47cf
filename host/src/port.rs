//! The serial port on a computer (Linux, macOS, Windows) through the `serialport` crate:
//! opened exclusively (a terminal or a second updater cannot interleave with an update),
//! read with a deadline, its hang-up seen at once; and the ports of this computer, with the
//! Pycom boards among them recognised by their USB ids.

use sqnsupgrade::error::{Error, PortProblem};
use sqnsupgrade::hal::Link;
use sqnsupgrade::msg::Msg;
use std::io::{self, Read, Write};
use std::time::Duration;

/// USB vendor id of the Microchip controller on Pycom's expansion boards.
pub const PYCOM_VID: u16 = 0x04d8;
/// USB vendor id of FTDI (the USB serial chip of Expansion Board 2.0).
pub const FTDI_VID: u16 = 0x0403;

/// The Pycom boards a GPy, FiPy or G01 sits on, by USB id (application firmware ids).
pub const PYCOM_BOARDS: [(u16, u16, &str); 6] = [
    (PYCOM_VID, 0xef98, "Pycom Expansion Board 3"),
    (PYCOM_VID, 0xf013, "Pycom Pytrack"),
    (PYCOM_VID, 0xf012, "Pycom Pysense"),
    (PYCOM_VID, 0xef38, "Pycom Pyscan"),
    (PYCOM_VID, 0xed14, "Pycom Pygate"),
    (FTDI_VID, 0x6015, "Pycom Expansion Board 2 (FTDI)"),
];

/// The same boards in their firmware-update (DFU) mode: no serial port, but worth saying.
const PYCOM_DFU: [u16; 5] = [0xef99, 0xf014, 0xf011, 0xef37, 0xed15];

/// The board a USB id belongs to, if it is one of Pycom's.
pub fn pycom_board(vid: u16, pid: u16) -> Option<&'static str> {
    PYCOM_BOARDS
        .iter()
        .find(|&&(v, p, _)| v == vid && p == pid)
        .map(|&(_, _, name)| name)
}

/// One serial port of this computer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its name (`/dev/ttyACM0`, `COM9`, `/dev/cu.usbmodem1101`).
    pub name: String,
    /// USB vendor and product id, for a USB port.
    pub usb: Option<(u16, u16)>,
    /// What the USB device says it is.
    pub product: Option<String>,
    /// Who made it.
    pub manufacturer: Option<String>,
}

impl Found {
    /// The Pycom board behind this port, if it is one.
    pub fn board(&self) -> Option<&'static str> {
        self.usb.and_then(|(v, p)| pycom_board(v, p))
    }

    /// One line for `list-ports`.
    pub fn line(&self) -> String {
        let mut s = self.name.clone();
        if let Some((v, p)) = self.usb {
            s.push_str(&format!("  USB {v:04x}:{p:04x}"));
        }
        let what: Vec<&str> = [self.manufacturer.as_deref(), self.product.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !what.is_empty() {
            s.push_str(&format!("  {}", what.join(" ")));
        }
        if let Some(board) = self.board() {
            s.push_str(&format!("  <- {board}"));
        } else if self
            .usb
            .is_some_and(|(v, p)| v == PYCOM_VID && PYCOM_DFU.contains(&p))
        {
            s.push_str("  ");
            s.push_str(&crate::sentence(Msg::PortDfu, &[]));
        }
        s
    }
}

/// The serial ports of this computer (USB ones first).
pub fn list() -> Vec<Found> {
    // Without /sys (some containers) the crate's Linux scan would panic: no ports then.
    if cfg!(target_os = "linux") && !std::path::Path::new("/sys/class/tty").is_dir() {
        return Vec::new();
    }
    let mut found: Vec<Found> = serialport::available_ports()
        .unwrap_or_default()
        .into_iter()
        .map(|p| match p.port_type {
            serialport::SerialPortType::UsbPort(u) => Found {
                name: p.port_name,
                usb: Some((u.vid, u.pid)),
                product: u.product,
                manufacturer: u.manufacturer,
            },
            _ => Found {
                name: p.port_name,
                usb: None,
                product: None,
                manufacturer: None,
            },
        })
        .collect();
    found.sort_by_key(|f| (f.usb.is_none(), f.name.clone()));
    found
}

/// Where the port came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `-p/--port`.
    Option,
    /// The environment variable [`PORT_ENV`].
    Environment,
    /// The one Pycom board connected.
    Detected(&'static str),
}

/// The environment variable that names the port when `--port` is not given.
pub const PORT_ENV: &str = "SQNSUPGRADE_PORT";

/// The port to use: `--port`, else [`PORT_ENV`], else the one Pycom board among `found`
/// (none or several: an input error, with the ports to list).
pub fn choose(
    option: Option<&str>,
    environment: Option<&str>,
    found: &[Found],
) -> Result<(String, Source), Error> {
    if let Some(p) = option.filter(|p| !p.is_empty()) {
        return Ok((p.to_string(), Source::Option));
    }
    if let Some(p) = environment.filter(|p| !p.is_empty()) {
        return Ok((p.to_string(), Source::Environment));
    }
    let boards: Vec<(&Found, &'static str)> =
        found.iter().filter_map(|f| Some((f, f.board()?))).collect();
    match boards.as_slice() {
        [(one, board)] => Ok((one.name.clone(), Source::Detected(board))),
        [] => Err(Error::Port(PortProblem::NoneFound)),
        _ => Err(Error::Port(PortProblem::Several)),
    }
}

/// An open serial port.
pub struct Port {
    inner: Box<dyn serialport::SerialPort>,
}

/// What an error opening the port `name` means for the user.
fn open_error(name: &str, e: serialport::Error) -> Error {
    use serialport::ErrorKind as K;
    Error::Port(match e.kind() {
        K::NoDevice => no_device(name),
        K::Io(io::ErrorKind::NotFound) => PortProblem::Missing,
        K::Io(io::ErrorKind::PermissionDenied) => PortProblem::Denied,
        _ => PortProblem::Unavailable,
    })
}

/// The crate's `NoDevice` on Unix: another program holds the port (its exclusive lock
/// or TIOCEXCL refused us).
#[cfg(not(windows))]
fn no_device(_name: &str) -> PortProblem {
    PortProblem::Busy
}

/// The crate's `NoDevice` on Windows stands for a missing port (ERROR_FILE_NOT_FOUND,
/// ERROR_PATH_NOT_FOUND) and for one another program holds (ERROR_ACCESS_DENIED): asked
/// again through std, whose error keeps the code.
#[cfg(windows)]
fn no_device(name: &str) -> PortProblem {
    let path = if name.starts_with('\\') {
        name.to_string()
    } else {
        format!(r"\\.\{name}")
    };
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Err(e) => match e.raw_os_error() {
            Some(5) => PortProblem::Busy,
            Some(2 | 3) => PortProblem::Missing,
            _ => PortProblem::Unavailable,
        },
        // Free by now (the other program let go): nothing certain to say.
        Ok(_) => PortProblem::Unavailable,
    }
}

/// A failed read or write: the device gone (unplugged, the other end of a pty closed) or
/// another error of the port, with the operating system's code.
fn link_error(e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::NotConnected
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof => Error::LinkGone,
        _ if is_gone_errno(&e) => Error::LinkGone,
        _ => os_error(&e),
    }
}

/// The engine's link error with the operating system's code of `e` (0 when it has none).
fn os_error(e: &io::Error) -> Error {
    Error::Link {
        os: e.raw_os_error().map_or(0, |c| c as u32),
    }
}

/// A failed setting of the port (its timeout, rate, buffers): serialport keeps the kind,
/// not the operating system's code.
fn setting_error(e: serialport::Error) -> Error {
    os_error(&io::Error::from(e))
}

#[cfg(unix)]
fn is_gone_errno(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EIO | libc::ENXIO | libc::ENODEV | libc::EBADF | libc::EPIPE)
    )
}

#[cfg(not(unix))]
fn is_gone_errno(e: &io::Error) -> bool {
    // ERROR_DEVICE_NOT_CONNECTED, ERROR_OPERATION_ABORTED, ERROR_BAD_COMMAND,
    // ERROR_ACCESS_DENIED (a USB serial device removed while open).
    matches!(e.raw_os_error(), Some(1167 | 995 | 22 | 5))
}

impl Port {
    /// Opens `name` at `baud`, 8N1, no flow control, for this process only.
    pub fn open(name: &str, baud: u32) -> Result<Port, Error> {
        let inner = serialport::new(name, baud)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| open_error(name, e))?;
        Ok(Port { inner })
    }
}

impl Link for Port {
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        // Writes wait for room as long as the port's timeout; a write that makes no
        // progress for 5 s is a failed link.
        let _ = self.inner.set_timeout(Duration::from_secs(5));
        self.inner.write_all(data).map_err(link_error)
    }

    fn read(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.inner
            .set_timeout(Duration::from_millis(u64::from(timeout_ms)))
            .map_err(setting_error)?;
        match self.inner.read(buf) {
            // Readable, yet the end of the file: the device is gone.
            Ok(0) => Err(Error::LinkGone),
            Ok(n) => Ok(n),
            Err(e) => match e.kind() {
                io::ErrorKind::TimedOut
                | io::ErrorKind::WouldBlock
                | io::ErrorKind::Interrupted => Ok(0),
                _ => Err(link_error(e)),
            },
        }
    }

    fn set_baud(&mut self, baud: u32) -> Result<(), Error> {
        // Let what was written go out at the old rate first.
        let _ = self.inner.flush();
        self.inner.set_baud_rate(baud).map_err(setting_error)
    }

    fn discard_input(&mut self) -> Result<(), Error> {
        self.inner
            .clear(serialport::ClearBuffer::Input)
            .map_err(setting_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn a_link_error_keeps_the_operating_systems_code() {
        let e = link_error(io::Error::from_raw_os_error(libc::EINVAL));
        assert_eq!(
            e,
            Error::Link {
                os: libc::EINVAL as u32
            }
        );
        assert_eq!(
            e.to_string(),
            "the serial link to the modem failed (OS error 22)"
        );
        // A device that went away is said so, whatever its code.
        assert_eq!(
            link_error(io::Error::from_raw_os_error(libc::EIO)),
            Error::LinkGone
        );
        let no_code = link_error(io::Error::other("?"));
        assert_eq!(no_code, Error::Link { os: 0 });
    }

    fn usb(name: &str, vid: u16, pid: u16) -> Found {
        Found {
            name: name.into(),
            usb: Some((vid, pid)),
            product: None,
            manufacturer: None,
        }
    }

    fn plain(name: &str) -> Found {
        Found {
            name: name.into(),
            usb: None,
            product: None,
            manufacturer: None,
        }
    }

    #[test]
    fn boards_by_usb_id() {
        assert_eq!(pycom_board(0x04d8, 0xf013), Some("Pycom Pytrack"));
        assert_eq!(pycom_board(0x04d8, 0xef98), Some("Pycom Expansion Board 3"));
        assert_eq!(
            pycom_board(0x04d8, 0xf014),
            None,
            "DFU mode has no serial port"
        );
        assert_eq!(pycom_board(0x1a86, 0x7523), None);
        assert!(usb("/dev/ttyACM0", 0x04d8, 0xef99)
            .line()
            .contains("firmware-update mode"));
    }

    #[test]
    fn the_option_then_the_environment_then_the_one_board() {
        let ports = [
            plain("/dev/ttyS0"),
            usb("/dev/ttyUSB0", 0x1a86, 0x7523),
            usb("/dev/ttyACM0", 0x04d8, 0xf012),
        ];
        assert_eq!(
            choose(Some("COM9"), Some("/dev/x"), &ports).unwrap(),
            ("COM9".into(), Source::Option)
        );
        assert_eq!(
            choose(None, Some("/dev/x"), &ports).unwrap(),
            ("/dev/x".into(), Source::Environment)
        );
        assert_eq!(
            choose(None, Some(""), &ports).unwrap(),
            ("/dev/ttyACM0".into(), Source::Detected("Pycom Pysense"))
        );
    }

    #[test]
    fn no_board_or_several_boards_is_an_input_error() {
        let none = [plain("/dev/ttyS0"), usb("/dev/ttyUSB0", 0x1a86, 0x7523)];
        assert_eq!(
            choose(None, None, &none),
            Err(Error::Port(PortProblem::NoneFound))
        );
        let two = [
            usb("/dev/ttyACM0", 0x04d8, 0xf012),
            usb("/dev/ttyACM1", 0x04d8, 0xef98),
        ];
        assert_eq!(
            choose(None, None, &two),
            Err(Error::Port(PortProblem::Several))
        );
        assert!(Error::Port(PortProblem::Several).is_input_error());
    }
}

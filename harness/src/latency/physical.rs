//! The physical floor: a raw socket ping-pong between two processes, on
//! the plugin's transport (TCP loopback, or a Unix socket when the plugin
//! listens on one), with the same message size as the measured calls. No
//! gRPC, no HTTP/2, no async runtime: one blocking write of the message,
//! one blocking read of its echo. Nothing that talks to a plugin process
//! over that socket can be faster, so every hook's round trip is stated as
//! a ratio to it.
//!
//! The echo side is a child process (the harness re-executed with the
//! hidden `__socket-echo` subcommand, [`serve_echo`]): it binds an
//! ephemeral address, prints it on stdout, serves one connection and exits
//! at its end, after [`ECHO_MAX_EXCHANGES`] exchanges, after
//! [`ECHO_IDLE`] without a message or after [`ECHO_LIFETIME`] in all, so a
//! lost parent never leaves it behind for long. The parent kills it when
//! the probe is dropped.
//!
//! Framing: a 4-byte little-endian length, then that many bytes; the echo
//! answers the same frame.

use std::{
    io::{self, BufRead, BufReader, Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    os::unix::net::{UnixListener, UnixStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

use super::load::{Bounds, Measured};
use crate::launch::PluginAddress;

/// The hidden subcommand the harness answers as the echo side.
pub const ECHO_SUBCOMMAND: &str = "__socket-echo";
/// The echo side exits after this many exchanges...
pub const ECHO_MAX_EXCHANGES: u64 = 200_000_000;
/// ... or this long without a message...
pub const ECHO_IDLE: Duration = Duration::from_secs(120);
/// ... or this long after it started, whichever comes first.
pub const ECHO_LIFETIME: Duration = Duration::from_secs(4 * 3600);
/// How long the parent waits for the echo side's address line.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest frame either side accepts (a 1 MiB upload and then some).
const MAX_FRAME: usize = 64 << 20;

/// The socket family the plugin's gRPC server listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Unix,
}

impl Transport {
    pub fn of(address: &PluginAddress) -> Transport {
        match address {
            PluginAddress::Tcp(_) => Transport::Tcp,
            PluginAddress::Unix(_) => Transport::Unix,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Unix => "unix",
        }
    }

    pub fn parse(text: &str) -> Option<Transport> {
        match text {
            "tcp" => Some(Transport::Tcp),
            "unix" => Some(Transport::Unix),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FloorError {
    #[error("cannot start the socket echo {program}: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("the socket echo printed no address within {0:?}")]
    NoAddress(Duration),
    #[error("the socket echo printed {0:?}, expected `tcp ADDRESS` or `unix PATH`")]
    BadAddress(String),
    #[error("cannot connect to the socket echo at {address}: {source}")]
    Connect { address: String, source: io::Error },
}

/// One connected socket of either family.
#[derive(Debug)]
enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(stream) => stream.read(buf),
            Socket::Unix(stream) => stream.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(stream) => stream.write(buf),
            Socket::Unix(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The echo side: binds `transport` on loopback (a Unix socket in the temp
/// directory), writes `tcp ADDRESS` or `unix PATH` and a newline to `out`,
/// serves one connection until it closes or a bound is reached.
pub fn serve_echo(transport: Transport, out: &mut dyn Write) -> io::Result<()> {
    match transport {
        Transport::Tcp => {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            writeln!(out, "tcp {}", listener.local_addr()?)?;
            out.flush()?;
            let (stream, _) = listener.accept()?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(ECHO_IDLE))?;
            echo(Socket::Tcp(stream))
        }
        Transport::Unix => {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let path = std::env::temp_dir().join(format!(
                "mm-harness-echo-{}-{}.sock",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let listener = UnixListener::bind(&path)?;
            let announced = writeln!(out, "unix {}", path.display()).and_then(|()| out.flush());
            let accepted = announced.and_then(|()| listener.accept());
            // Connected (or failed): the path is no longer needed either way.
            let _ = std::fs::remove_file(&path);
            let (stream, _) = accepted?;
            stream.set_read_timeout(Some(ECHO_IDLE))?;
            echo(Socket::Unix(stream))
        }
    }
}

/// Answers each frame with itself until the peer closes or a bound is hit.
fn echo(mut socket: Socket) -> io::Result<()> {
    let started = Instant::now();
    let mut buffer = Vec::new();
    for _ in 0..ECHO_MAX_EXCHANGES {
        let mut header = [0u8; 4];
        match socket.read_exact(&mut header) {
            Ok(()) => {}
            // The parent closed the connection: the normal end.
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(err) => return Err(err),
        }
        let len = frame_len(header)?;
        buffer.resize(len, 0);
        socket.read_exact(&mut buffer)?;
        socket.write_all(&header)?;
        socket.write_all(&buffer)?;
        if started.elapsed() > ECHO_LIFETIME {
            break;
        }
    }
    Ok(())
}

fn frame_len(header: [u8; 4]) -> io::Result<usize> {
    let len = u32::from_le_bytes(header) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} B, more than the {MAX_FRAME} B allowed"),
        ));
    }
    Ok(len)
}

/// The parent side: a connection to an echo, and the echo child if this
/// probe started it.
#[derive(Debug)]
pub struct SocketProbe {
    socket: Socket,
    child: Option<Child>,
    transport: Transport,
}

impl SocketProbe {
    /// Starts `program __socket-echo TRANSPORT` and connects to it.
    pub fn spawn(program: &Path, transport: Transport) -> Result<SocketProbe, FloorError> {
        let mut child = Command::new(program)
            .arg(ECHO_SUBCOMMAND)
            .arg(transport.name())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| FloorError::Spawn {
                program: program.display().to_string(),
                source,
            })?;
        let stdout = child.stdout.take().expect("stdout was piped above");
        // Read the address line on a thread, so a silent child costs a
        // bounded wait, not a hang.
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let connected = match receiver.recv_timeout(START_TIMEOUT) {
            Ok(line) => SocketProbe::connect(line.trim()),
            Err(_) => Err(FloorError::NoAddress(START_TIMEOUT)),
        };
        match connected {
            Ok(mut probe) => {
                probe.child = Some(child);
                Ok(probe)
            }
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(err)
            }
        }
    }

    /// Connects to an echo that announced itself with `line`
    /// (`tcp 127.0.0.1:PORT` or `unix /path`).
    pub fn connect(line: &str) -> Result<SocketProbe, FloorError> {
        let (family, address) = line
            .split_once(' ')
            .and_then(|(family, address)| Some((Transport::parse(family)?, address)))
            .ok_or_else(|| FloorError::BadAddress(line.to_owned()))?;
        let failed = |source| FloorError::Connect {
            address: address.to_owned(),
            source,
        };
        let socket = match family {
            Transport::Tcp => {
                let stream = TcpStream::connect(address).map_err(failed)?;
                stream.set_nodelay(true).map_err(failed)?;
                Socket::Tcp(stream)
            }
            Transport::Unix => Socket::Unix(UnixStream::connect(address).map_err(failed)?),
        };
        Ok(SocketProbe {
            socket,
            child: None,
            transport: family,
        })
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// One round trip of `message`: written whole, its echo read whole.
    pub fn exchange(&mut self, message: &[u8], echo: &mut Vec<u8>) -> io::Result<Duration> {
        let len = u32::try_from(message.len())
            .ok()
            .filter(|len| *len as usize <= MAX_FRAME)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "message too large"))?;
        let started = Instant::now();
        self.socket.write_all(&len.to_le_bytes())?;
        self.socket.write_all(message)?;
        let mut header = [0u8; 4];
        self.socket.read_exact(&mut header)?;
        echo.resize(frame_len(header)?, 0);
        self.socket.read_exact(echo)?;
        let took = started.elapsed();
        if echo.as_slice() != message {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the echo did not answer the message it was sent",
            ));
        }
        Ok(took)
    }

    /// Back-to-back exchanges of a `size`-byte message until `bounds` or
    /// `cancel`. Blocking: run it on a thread of its own.
    pub fn measure(&mut self, size: usize, bounds: Bounds, cancel: &CancellationToken) -> Measured {
        let message = vec![b'x'; size];
        let mut echo = Vec::with_capacity(size);
        let mut measured = Measured::default();
        let started = Instant::now();
        while measured.calls() < bounds.calls
            && started.elapsed() < bounds.duration
            && !cancel.is_cancelled()
        {
            match self.exchange(&message, &mut echo) {
                Ok(took) => measured.latencies.record(took),
                Err(err) => {
                    measured.errors += 1;
                    measured.first_error.get_or_insert(err.to_string());
                    // The connection is broken; more attempts only repeat it.
                    break;
                }
            }
        }
        measured
    }
}

impl Drop for SocketProbe {
    fn drop(&mut self) {
        let _ = match &self.socket {
            Socket::Tcp(stream) => stream.shutdown(Shutdown::Both),
            Socket::Unix(stream) => stream.shutdown(Shutdown::Both),
        };
        if let Some(child) = &mut self.child {
            // Closing the socket ends it; the kill covers a stuck one.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The program that answers [`ECHO_SUBCOMMAND`]: this harness.
pub fn echo_program() -> Option<PathBuf> {
    std::env::current_exe().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo on a thread of this process, announced through a pipe as
    /// the child would announce it.
    fn echo_in_thread(transport: Transport) -> (SocketProbe, std::thread::JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel();
        let server = std::thread::spawn(move || {
            let mut announced = Vec::new();
            let mut out = ChannelWriter(sender, &mut announced);
            serve_echo(transport, &mut out).expect("the echo serves until closed");
        });
        let line = receiver
            .recv_timeout(Duration::from_secs(10))
            .expect("the echo announces its address (timeout only stops a hang)");
        (SocketProbe::connect(&line).expect("connects"), server)
    }

    /// Sends each completed line on.
    struct ChannelWriter<'a>(mpsc::Sender<String>, &'a mut Vec<u8>);

    impl Write for ChannelWriter<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            let line = String::from_utf8_lossy(self.1).trim().to_owned();
            self.1.clear();
            let _ = self.0.send(line);
            Ok(())
        }
    }

    fn round_trips(transport: Transport) {
        let (mut probe, server) = echo_in_thread(transport);
        assert_eq!(probe.transport(), transport);
        let bounds = Bounds {
            calls: 50,
            duration: Duration::from_secs(60),
        };
        for size in [1, 300, 1 << 20] {
            let measured = probe.measure(size, bounds, &CancellationToken::new());
            assert_eq!(measured.errors, 0, "{:?}", measured.first_error);
            assert_eq!(measured.latencies.count(), 50, "{size} B");
        }
        drop(probe);
        server.join().expect("the echo ends when the probe closes");
    }

    #[test]
    fn the_probe_round_trips_over_tcp() {
        round_trips(Transport::Tcp);
    }

    #[test]
    fn the_probe_round_trips_over_a_unix_socket() {
        round_trips(Transport::Unix);
    }

    #[test]
    fn a_bad_announcement_is_named() {
        let err = SocketProbe::connect("udp 1.2.3.4:5").unwrap_err();
        assert!(err.to_string().contains("udp 1.2.3.4:5"), "{err}");
    }

    #[test]
    fn a_cancelled_measurement_makes_no_calls() {
        let (mut probe, server) = echo_in_thread(Transport::Tcp);
        let cancel = CancellationToken::new();
        cancel.cancel();
        let bounds = Bounds {
            calls: 10,
            duration: Duration::from_secs(60),
        };
        assert_eq!(probe.measure(8, bounds, &cancel).calls(), 0);
        drop(probe);
        server.join().expect("the echo ends when the probe closes");
    }
}

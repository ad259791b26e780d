//! A pseudo-terminal for a child process, and what a person would see on it: the child's
//! standard output and error are a terminal, as under `cargo test` in a shell. Linux only.
//! Include it with `#[path = "support/terminal.rs"] mod terminal;`.
#![allow(dead_code)]

use std::ffi::CStr;
use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A child running on a terminal, and everything it has written to it so far.
pub struct OnTerminal {
    pub child: Child,
    written: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl OnTerminal {
    /// Starts `cmd` with its standard output and error on a new terminal (its input empty).
    pub fn spawn(mut cmd: Command) -> OnTerminal {
        let (controller, terminal) = open();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(terminal.try_clone().expect("dup the terminal")))
            .stderr(Stdio::from(terminal))
            .spawn()
            .expect("the child starts");
        // The command holds the child's ends of the terminal: once it is gone and the child
        // exits, reading the controlling end ends.
        drop(cmd);
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&written);
        let mut controller = File::from(controller);
        let reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            // Linux answers EIO once no process holds the terminal's other end.
            while let Ok(n @ 1..) = controller.read(&mut buffer) {
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        OnTerminal {
            child,
            written,
            reader: Some(reader),
        }
    }

    /// What the child has written so far.
    pub fn written(&self) -> Vec<u8> {
        self.written.lock().unwrap().clone()
    }

    /// Waits until the child has written `text` (panics after `limit`).
    pub fn wait_for(&self, text: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !String::from_utf8_lossy(&self.written()).contains(text) {
            assert!(
                Instant::now() < deadline,
                "{text:?} not written within {limit:?}; written:\n{}",
                String::from_utf8_lossy(&self.written())
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the child to exit; its exit code and everything it wrote.
    pub fn finish(mut self) -> (i32, Vec<u8>) {
        let status = self.child.wait().expect("the child exits");
        self.reader.take().unwrap().join().unwrap();
        (status.code().unwrap_or(-1), self.written())
    }
}

/// A new pseudo-terminal: its controlling end and the terminal a child writes to.
fn open() -> (OwnedFd, File) {
    // SAFETY: plain POSIX calls on descriptors owned here; each result is checked before
    // it is used, and the name buffer outlives the call that fills it.
    unsafe {
        let controller = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(controller >= 0, "posix_openpt");
        let controller = OwnedFd::from_raw_fd(controller);
        let fd = std::os::fd::AsRawFd::as_raw_fd(&controller);
        assert_eq!(libc::grantpt(fd), 0, "grantpt");
        assert_eq!(libc::unlockpt(fd), 0, "unlockpt");
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(
            libc::ptsname_r(fd, name.as_mut_ptr(), name.len()),
            0,
            "ptsname_r"
        );
        let name = CStr::from_ptr(name.as_ptr());
        let terminal = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        assert!(terminal >= 0, "open {name:?}");
        (controller, File::from_raw_fd(terminal))
    }
}

/// The lines a terminal shows after receiving `bytes`: carriage returns go back to the
/// start of the line, `ESC [ K` erases to its end, other escape sequences (colours) show
/// nothing.
pub fn screen(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let mut column = 0;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let line = lines.last_mut().unwrap();
        match c {
            '\r' => column = 0,
            '\n' => {
                lines.push(Vec::new());
                column = 0;
            }
            '\u{1b}' => {
                if chars.next() == Some('[') {
                    let end = chars.by_ref().find(|c| c.is_ascii_alphabetic());
                    if end == Some('K') {
                        line.truncate(column);
                    }
                }
            }
            c => {
                if column < line.len() {
                    line[column] = c;
                } else {
                    line.push(c);
                }
                column += 1;
            }
        }
    }
    lines.into_iter().map(|l| l.into_iter().collect()).collect()
}

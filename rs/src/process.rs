//! process.rs: a command traced from its first instruction, as `./example -- COMMAND` and
//! `strace -f` do. The child stops itself before exec; the caller opens the tracer on its
//! pid (following its children) and then lets it go, so the trace starts with its exec.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;

use crate::ffi;

/// A child process running a command: stopped until `resume()`. Dropped before it was
/// resumed, it is killed and reaped (it never ran a single instruction of the command).
#[derive(Debug)]
pub struct Tracee {
    pid: i32,
    resumed: bool,
    /// Set once reaped: the pid is no longer ours to wait for.
    status: Option<ExitStatus>,
}

impl Tracee {
    /// Forks a child for `argv` (`argv[0]` searched in PATH) and waits until it has
    /// stopped itself. If the exec fails later, the child says why on stderr and exits
    /// with 127 (not found) or 126, as a shell does.
    pub fn spawn<S: AsRef<OsStr>>(argv: &[S]) -> io::Result<Tracee> {
        let args = argv
            .iter()
            .map(|a| CString::new(a.as_ref().as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "an argument contains a NUL byte"))?;
        let command = argv.first().map(|a| Path::new(a.as_ref()).display().to_string()).unwrap_or_default();
        let program = std::env::args_os()
            .next()
            .and_then(|p| Path::new(&p).file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        // Made here: the child may not allocate to format them.
        let not_found = format!("{}: cannot run '{}': not found\n", program, command);
        let not_run = format!("{}: cannot run '{}': not executable\n", program, command);
        let pid = ffi::spawn_stopped(&args, not_found.as_bytes(), not_run.as_bytes())?;
        Ok(Tracee { pid, resumed: false, status: None })
    }

    /// The child's process id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Lets the stopped child go on to exec the command.
    pub fn resume(&mut self) -> io::Result<()> {
        ffi::resume(self.pid)?;
        self.resumed = true;
        Ok(())
    }

    /// The exit status once the command has exited, without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = ffi::try_reap(self.pid)?.map(ExitStatus::from_raw);
        }
        Ok(self.status)
    }

    /// Waits for the command to exit.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        match self.status {
            Some(status) => Ok(status),
            None => {
                let status = ExitStatus::from_raw(ffi::reap(self.pid)?);
                self.status = Some(status);
                Ok(status)
            }
        }
    }
}

impl Drop for Tracee {
    fn drop(&mut self) {
        if !self.resumed && self.status.is_none() {
            ffi::kill_and_reap(self.pid);
        }
    }
}

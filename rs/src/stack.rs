//! stack.rs: stack fields as frames named by a symbolizer, and the symbolizer itself
//! for addresses that come from elsewhere.

pub use crate::ffi::Frame;
use crate::ffi::SymbolizerHandle;
use crate::Error;

/// Stack addresses to function names (`struct bootstrap_symbolizer`): kernel addresses
/// from /proc/kallsyms, user addresses from the process's mappings and the symbol tables
/// (or debuginfo) of its files, cached per process and per file. A tracer has one of its
/// own for its events' stacks ([`Event::stack`](crate::Event::stack)); this one is for
/// addresses from elsewhere.
///
/// ```no_run
/// let mut symbolizer = bootstrap::Symbolizer::new()?;
/// for frame in symbolizer.symbolize(0, 0, &[0xffffffff81000000]) {
///     println!("{}", frame); // "name+0xOFF ([kernel])", or the address
/// }
/// # Ok::<(), bootstrap::Error>(())
/// ```
pub struct Symbolizer(SymbolizerHandle);

impl Symbolizer {
    /// An empty symbolizer (it reads what it needs on first use). ENOMEM is its only error.
    pub fn new() -> Result<Symbolizer, Error> {
        SymbolizerHandle::new().map(Symbolizer).ok_or_else(|| Error::from_errno(-crate::ffi::ENOMEM))
    }

    /// Names the frames of one stack, innermost first (every frame after the first is a
    /// return address, looked up one byte back). `pid` 0: kernel addresses; else
    /// addresses of process `pid`. `upid`, when non-zero (an event header's `upid`), is
    /// the process the stack was taken in: if `pid` is another process by now, its
    /// frames stay unnamed.
    pub fn symbolize(&mut self, pid: i32, upid: u64, addrs: &[u64]) -> Vec<Frame> {
        self.0.symbolize(pid, upid, addrs)
    }
}

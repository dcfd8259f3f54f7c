// readme.rs: the Rust example of README.md and docs/library.md, word for word below this
// comment (tests/readme.rs holds the three together, and cargo test compiles it).
use bootstrap::{signal, Options, Payload, Tracer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut tracer = Tracer::open(Options::new().events("syscalls/sys_enter_openat"))?;
    tracer.stop_handle().stop_on_signals(&[signal::SIGINT])?; // Ctrl-C ends the loop
    while tracer.poll(None, |ev| {
        if let Payload::SyscallsSysEnterOpenat(open) = ev.payload() {
            println!("{} opens {}", ev.header().pid, open.filename.to_str_lossy());
        }
    })?.is_some() {}
    Ok(())
}

//! output.rs: what example-rs writes: one NDJSON line per event (the library's
//! serializer), or with --folded the samples counted by folded stack and written at the
//! end; and the aggregate lines. A file it creates is readable by its owner only, as
//! ./example's: a trace may hold typed passwords and TLS plaintext.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;

use bootstrap::{AggView, Event, Tracer};

pub struct Output {
    out: BufWriter<Box<dyn Write>>,
    line: Vec<u8>,
    /// --folded: each distinct line and how many samples had it.
    folded: Option<HashMap<Vec<u8>, u64>>,
}

impl Output {
    /// Opens `path` (None: stdout).
    pub fn open(path: &Option<OsString>, folded: bool) -> io::Result<Output> {
        let out: Box<dyn Write> = match path {
            Some(path) => Box::new(OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?),
            None => Box::new(io::stdout()),
        };
        Ok(Output { out: BufWriter::with_capacity(1 << 20, out), line: Vec::new(), folded: folded.then(HashMap::new) })
    }

    /// Writes the event's line, or counts its stacks.
    pub fn event(&mut self, ev: &Event<'_>) -> io::Result<()> {
        if let Some(folded) = &mut self.folded {
            self.line.clear();
            if ev.write_folded(&mut self.line) {
                *folded.entry(self.line.clone()).or_insert(0) += 1;
            }
            return Ok(());
        }
        self.line.clear();
        ev.write_json(&mut self.line);
        self.out.write_all(&self.line)
    }

    /// One line per key of every aggregation of the selected events (totals, now).
    pub fn aggregates(&mut self, tracer: &mut Tracer) -> Result<io::Result<()>, bootstrap::Error> {
        let snapshot = tracer.aggregates(AggView::Totals)?;
        for table in snapshot.tables() {
            for row in 0..table.len() {
                self.line.clear();
                table.write_json(row, &mut self.line);
                if let Err(e) = self.out.write_all(&self.line) {
                    return Ok(Err(e));
                }
            }
        }
        Ok(Ok(()))
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Writes the folded stacks, sorted ("LINE COUNT"), and flushes.
    pub fn close(mut self) -> io::Result<()> {
        if let Some(folded) = self.folded.take() {
            // Sorted by bytes, as strcmp sorts ./example's.
            let mut lines: Vec<(Vec<u8>, u64)> = folded.into_iter().collect();
            lines.sort();
            for (line, count) in lines {
                self.out.write_all(&line)?;
                writeln!(self.out, " {}", count)?;
            }
        }
        self.out.flush()
    }
}

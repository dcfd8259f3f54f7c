//! event.rs: a delivered event as the poll callback sees it. Everything here borrows the
//! library's ring buffer record and arena bytes, which are valid only until the callback
//! returns: the lifetime 'a ends there, so nothing can keep them longer (copy out what
//! must outlive it).

use std::borrow::Cow;

use crate::ffi::{RawEvent, RawPayload};
use crate::{decode, raw, EventInfo, EventType, FieldType, Frame, Payload};

/// One event, valid during the callback.
pub struct Event<'a> {
    raw: &'a RawEvent,
}

impl<'a> Event<'a> {
    pub(crate) fn new(raw: &'a RawEvent) -> Event<'a> {
        Event { raw }
    }

    /// The ring buffer header: time, task, masks.
    pub fn header(&self) -> &'a raw::Header {
        self.raw.header()
    }

    /// Which event of the schema it is.
    pub fn event_type(&self) -> EventType {
        EventType::ALL[self.raw.index()]
    }

    /// Its event's entry in the reflection table.
    pub fn info(&self) -> &'static EventInfo {
        self.event_type().info()
    }

    /// The typed payload.
    pub fn payload(&self) -> Payload<'a> {
        decode(self)
    }

    /// Variable field `var_index` (see `FieldInfo::var_index`), for code driven by the
    /// reflection table; `payload()` gives the same fields by name. Panics when the event
    /// has no such field.
    pub fn var(&self, var_index: usize) -> VarField<'a> {
        let (bytes, truncated, lost) = self.raw.var(var_index);
        VarField { bytes, truncated, lost }
    }

    /// The task's comm, without its NUL padding.
    pub fn comm(&self) -> &'a [u8] {
        let comm = &self.header().comm;
        &comm[..comm.iter().position(|&b| b == 0).unwrap_or(comm.len())]
    }

    /// Appends the event's NDJSON line, '\n' included, exactly as `./example` prints it.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.raw.json(out)
    }

    /// The frames of stack field `field` (its index in [`EventInfo::fields`], schema
    /// order), innermost first, named by the tracer's symbolizer: None when that field
    /// is not a stack or was lost. The names are copied: they outlive the event.
    ///
    /// ```no_run
    /// # use bootstrap::{FieldType, Options, Tracer};
    /// # let mut tracer = Tracer::open(Options::new().events("profile/cpu"))?;
    /// tracer.poll(None, |ev| {
    ///     for (i, field) in ev.info().fields.iter().enumerate() {
    ///         if field.ty == FieldType::Stack {
    ///             for frame in ev.stack(i).unwrap_or_default() {
    ///                 println!("  {}", frame); // "burn_cpu+0x1a (burn)"
    ///             }
    ///         }
    ///     }
    /// })?;
    /// # Ok::<(), bootstrap::Error>(())
    /// ```
    pub fn stack(&self, field: usize) -> Option<Vec<Frame>> {
        let info = self.info().fields.get(field)?;
        let var = self.var(info.var_index.filter(|_| info.ty == FieldType::Stack)?);
        let bytes = var.get()?;
        let addrs: Vec<u64> =
            bytes.chunks_exact(8).map(|b| u64::from_ne_bytes(b.try_into().expect("8 bytes"))).collect();
        Some(self.raw.symbolize(&addrs, info.kernel_stack))
    }

    /// The event's stacks as one line of folded stacks, the input of flame graph tools:
    /// `comm;outermost;...;innermost`, the user stack then the kernel one (`name_[k]`),
    /// each frame the function's name, `[module]` or `[unknown]`, a lost stack `[lost]`
    /// (`bootstrap_event_folded()`), appended to `out` without a newline; false (and
    /// nothing appended) for an event without a stack field. Counting identical lines
    /// gives a flame graph's input: `./example --folded` prints `LINE COUNT` per line.
    pub fn write_folded(&self, out: &mut Vec<u8>) -> bool {
        self.raw.folded(out)
    }

    pub(crate) fn raw_payload<T: RawPayload>(&self) -> &'a T {
        self.raw.payload()
    }
}

/// A variable field: its bytes in the arena, read in place, and its flags.
#[derive(Clone, Copy, Debug)]
pub struct VarField<'a> {
    bytes: &'a [u8],
    truncated: bool,
    lost: bool,
}

impl<'a> VarField<'a> {
    /// The bytes (without a string's NUL); empty when the field is lost.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The bytes, or None when the field is lost.
    pub fn get(&self) -> Option<&'a [u8]> {
        if self.lost {
            None
        } else {
            Some(self.bytes)
        }
    }

    /// Cut at the schema's `max` for the field.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Missing: the arena was full, the memory could not be read, or no entry was seen.
    pub fn is_lost(&self) -> bool {
        self.lost
    }

    /// The bytes as text, invalid UTF-8 replaced.
    pub fn to_str_lossy(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.bytes)
    }

    /// The strings of a `char[][]` or `char*[]` field: NUL-separated, a final NUL ending
    /// the last one rather than starting an empty one.
    pub fn strings(&self) -> impl Iterator<Item = &'a [u8]> {
        let block = self.bytes.strip_suffix(&[0]).unwrap_or(self.bytes);
        // An empty block holds no strings; split() would yield one empty string.
        block.split(|&b| b == 0).take(if self.bytes.is_empty() { 0 } else { usize::MAX })
    }
}

#[cfg(test)]
mod tests {
    use super::VarField;

    fn strings(bytes: &[u8]) -> Vec<&[u8]> {
        VarField { bytes, truncated: false, lost: false }.strings().collect()
    }

    /// The rule of the JSON writer's string lists (bs_jw_string_list).
    #[test]
    fn strings_split_as_the_json_writer_does() {
        let none: Vec<&[u8]> = vec![];
        assert_eq!(strings(b""), none);
        assert_eq!(strings(b"\0"), vec![&b""[..]]);
        assert_eq!(strings(b"a"), vec![&b"a"[..]]);
        assert_eq!(strings(b"a\0b\0"), vec![&b"a"[..], b"b"]);
        assert_eq!(strings(b"a\0\0"), vec![&b"a"[..], b""]);
        assert_eq!(strings(b"a\0b"), vec![&b"a"[..], b"b"]);
    }
}

//! reflect.rs: the types of the generated reflection table (`EVENTS`, one entry per event,
//! in the order of the C table `bootstrap_events[]`), and lookups on the generated enums.

use crate::{EventType, FieldType, Kind, EVENTS};

impl FieldType {
    /// A variable field (bytes in the arena), as opposed to an integer in the payload.
    pub fn is_var(self) -> bool {
        matches!(self, FieldType::Bytes | FieldType::StrBlock | FieldType::StrArray | FieldType::Stack)
    }
}

/// One payload field, in schema order; its index is its bit in the header's masks.
#[derive(Debug)]
pub struct FieldInfo {
    /// Its name in events.toml.
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// As written in events.toml: "u32", "char[]"...
    pub type_name: &'static str,
    /// Offset in the payload struct (of a `raw::Var` for variable fields).
    pub offset: u32,
    /// Index among the event's variable fields (`Event::var`), None for integers.
    pub var_index: Option<usize>,
    /// A stack field of kernel frames (`kstack`); false for a user stack and the others.
    pub kernel_stack: bool,
}

/// One event of the schema.
#[derive(Debug)]
pub struct EventInfo {
    /// The schema's stable id, as written to the output.
    pub id: u32,
    /// "category/name"
    pub type_name: &'static str,
    /// What events.toml says of it.
    pub comment: &'static str,
    /// How it attaches.
    pub kind: Kind,
    /// The declared target ("category/name", "function", "binary:function"), None when
    /// it is given at run time only.
    pub target: Option<&'static str>,
    /// Traced only when `Options::events` selects it, not by default (`opt_in = true` in
    /// events.toml: events that record secrets, such as typed lines or TLS plaintext).
    pub opt_in: bool,
    /// The size of its payload struct.
    pub payload_size: u32,
    /// Bits of the integer fields that can come out lost (see `Header::lost_mask`).
    pub lossy_fields: u32,
    /// Bits of the fields that can be read at the syscall's exit rather than its entry
    /// (see `Header::reread_mask` and docs/output.md, "Values read at the exit").
    pub reread_fields: u32,
    /// Its payload fields, in schema order.
    pub fields: &'static [FieldInfo],
}

impl EventInfo {
    /// How many variable fields the event has.
    pub fn n_vars(&self) -> usize {
        self.fields.iter().filter(|f| f.ty.is_var()).count()
    }
}

impl EventType {
    /// The dense index (`enum bootstrap_event_index`), the position in `EVENTS`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its entry in the reflection table.
    pub fn info(self) -> &'static EventInfo {
        &EVENTS[self.index()]
    }

    /// The schema's stable id.
    pub fn id(self) -> u32 {
        self.info().id
    }

    /// "category/name"
    pub fn name(self) -> &'static str {
        self.info().type_name
    }

    /// The event of dense index `index`, if this build has one.
    pub fn from_index(index: usize) -> Option<EventType> {
        EventType::ALL.get(index).copied()
    }

    /// The event named "category/name", as `bootstrap_event_index()` finds it.
    pub fn from_name(type_name: &str) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|t| t.name() == type_name)
    }
}

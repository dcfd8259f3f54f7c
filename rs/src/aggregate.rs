//! aggregate.rs: the aggregations of events.toml (`aggregate`), counted in the kernel and
//! read as snapshots. A snapshot is the caller's until it is dropped; its tables and rows
//! borrow it, so none outlives the memory the library allocated for them.

use crate::ffi::{AggRowRef, AggSnapshot, AggTableRef};
use crate::generated::decode_key;
use crate::{AggKey, AggregationType, EventType, FieldType, AGGREGATIONS};

/// One member of an aggregation's key (`struct bootstrap_agg_key_info`).
#[derive(Debug)]
pub struct AggKeyInfo {
    /// As in `by`: a payload field or a header value (`pid`, `comm`...).
    pub name: &'static str,
    /// A comm is [`FieldType::Bytes`], 16 NUL-padded bytes.
    pub ty: FieldType,
    /// Its offset in the key.
    pub offset: u32,
    /// Its size in the key.
    pub size: u32,
    /// Values shown by name (`pkt.proto`): `names[v]`; empty otherwise.
    pub names: &'static [&'static str],
}

/// One aggregation of the schema (`struct bootstrap_aggregation_info`).
#[derive(Debug)]
pub struct AggregationInfo {
    /// Its name in events.toml, unique within its event.
    pub name: &'static str,
    /// The event it counts.
    pub event: EventType,
    /// The key's size in bytes.
    pub key_size: u32,
    /// The key's members, in `by`'s order.
    pub keys: &'static [AggKeyInfo],
    /// The summed fields.
    pub sums: &'static [&'static str],
    /// Per sum: a sum of a signed field, to be read as an `i64`.
    pub sums_signed: &'static [bool],
    /// The field of the log2 histogram.
    pub hist: Option<&'static str>,
    /// Its bucket 0 (values below 0) can be non-empty.
    pub hist_signed: bool,
}

impl AggregationType {
    /// Its dense index in [`AGGREGATIONS`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its entry in the reflection table.
    pub fn info(self) -> &'static AggregationInfo {
        &AGGREGATIONS[self.index()]
    }
}

/// A snapshot of every aggregation of the selected events, from [`Tracer::aggregates`].
///
/// ```no_run
/// # use bootstrap::{AggView, Options, Tracer};
/// let mut tracer = Tracer::open(Options::new())?;
/// let snapshot = tracer.aggregates(AggView::Totals)?;
/// for table in snapshot.tables() {
///     for row in table.rows() {
///         println!("{:?}: {} events", row.key(), row.count());
///     }
/// }
/// # Ok::<(), bootstrap::Error>(())
/// ```
///
/// [`Tracer::aggregates`]: crate::Tracer::aggregates
pub struct Aggregates {
    snapshot: AggSnapshot,
}

impl Aggregates {
    pub(crate) fn new(snapshot: AggSnapshot) -> Aggregates {
        Aggregates { snapshot }
    }

    /// The wall clock when read, as event timestamps are (ns since the epoch).
    pub fn timestamp_ns(&self) -> u64 {
        self.snapshot.timestamp_ns()
    }

    /// With [`AggView::Delta`](crate::AggView::Delta): the time since the previous delta
    /// read (or the open).
    pub fn interval_ns(&self) -> u64 {
        self.snapshot.interval_ns()
    }

    /// One table per aggregation read.
    pub fn tables(&self) -> Vec<AggTable<'_>> {
        self.snapshot.tables().into_iter().map(|raw| AggTable { all: self, raw }).collect()
    }
}

/// One aggregation's rows in a snapshot.
pub struct AggTable<'a> {
    all: &'a Aggregates,
    raw: AggTableRef<'a>,
}

impl<'a> AggTable<'a> {
    /// Which aggregation.
    pub fn aggregation(&self) -> AggregationType {
        self.raw.aggregation
    }

    /// Its keys, in no particular order.
    pub fn rows(&self) -> Vec<AggRow<'a>> {
        let aggregation = self.raw.aggregation;
        self.raw.rows().into_iter().map(|raw| AggRow { aggregation, raw }).collect()
    }

    /// How many rows (keys) it has.
    pub fn len(&self) -> usize {
        self.raw.n_rows()
    }

    /// Whether it has no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends row `row`'s NDJSON line, '\n' included, as `./example` prints it:
    /// `{"aggregate":…,"event_type":…,"timestamp_ns":…,"key":{…},"count":…,…}`.
    /// Panics when there is no such row.
    pub fn write_json(&self, row: usize, out: &mut Vec<u8>) {
        self.all.snapshot.row_json(&self.raw, row, out)
    }
}

/// One key of an aggregation, summed over CPUs.
pub struct AggRow<'a> {
    aggregation: AggregationType,
    raw: AggRowRef<'a>,
}

impl<'a> AggRow<'a> {
    /// The key, typed by its aggregation.
    pub fn key(&self) -> AggKey {
        decode_key(self.aggregation, self.raw.key).expect("the library's key has the key's size")
    }

    /// The key as the kernel's map holds it.
    pub fn key_bytes(&self) -> &'a [u8] {
        self.raw.key
    }

    /// Events counted on this key.
    pub fn count(&self) -> u64 {
        self.raw.count
    }

    /// One per summed field, in [`AggregationInfo::sums`]' order (a signed field's sum
    /// is an `i64` in two's complement).
    pub fn sums(&self) -> &'a [u64] {
        self.raw.sums
    }

    /// The log2 histogram's buckets, when the aggregation has one: `[0]` values below 0,
    /// `[1]` the value 0, `[k]` for k >= 2 values in 2^(k-2) to 2^(k-1), the last excluded.
    pub fn hist(&self) -> Option<&'a [u64]> {
        self.raw.hist
    }
}

use std::net::{IpAddr, Ipv6Addr};

use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, IpAddrOptions, JsonObjectOptions,
    NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{DateTime, Index, TantivyDocument};
use vigil_event::{field, Event};

/// Keyword fields are matched whole, case-insensitively.
pub const KEYWORD_TOKENIZER: &str = "vigil_keyword";
/// `message` is split on non-alphanumerics and lowercased; tokens over 255 bytes are dropped.
pub const TEXT_TOKENIZER: &str = "vigil_text";
/// The JSON field that holds every field beyond the core schema.
pub const FIELDS_JSON: &str = "fields";
/// How a query names a path inside the `fields` JSON field.
pub const FIELDS_JSON_PREFIX: &str = "fields.";
/// Fields kept in the archive (and shown in results) but not indexed: times unique to each event,
/// as a term each, would cost more in the index than every other field of a flow record, and
/// nobody searches for a time by its exact text (time ranges run on `@timestamp`).
pub const NOT_INDEXED: [&str; 2] = [field::EVENT_START, field::EVENT_END];

/// The fast field that points into the archive.
pub const POINTER: &str = "vigil.ptr";

/// Handles of the schema's fields.
#[derive(Clone, Debug)]
pub struct IndexFields {
    pub timestamp: Field,
    pub pointer: Field,
    pub message: Field,
    pub host_name: Field,
    pub host_ip: Field,
    pub source_ip: Field,
    pub source_port: Field,
    pub process_name: Field,
    pub process_pid: Field,
    pub msgid: Field,
    pub severity_name: Field,
    pub severity_code: Field,
    pub facility_name: Field,
    pub tenant: Field,
    pub level: Field,
    pub listener: Field,
    pub flags: Field,
    pub category: Field,
    pub action: Field,
    pub outcome: Field,
    pub fields: Field,
}

fn keyword() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(KEYWORD_TOKENIZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    )
}

/// The schema of every partition index. Changing it means a new index version: old partitions
/// would be rebuilt from the archive.
pub fn build_schema() -> (Schema, IndexFields) {
    let mut builder = Schema::builder();
    let indexed_number = NumericOptions::default().set_indexed();
    let ip = IpAddrOptions::default().set_indexed();
    let fields = IndexFields {
        timestamp: builder.add_date_field(
            field::TIMESTAMP,
            // Fast only: ranges and newest-first sorting run on the column; an indexed term per
            // (near-unique) microsecond would cost ~10 bytes and a hash insert per event.
            DateOptions::default()
                .set_fast()
                .set_precision(DateTimePrecision::Microseconds),
        ),
        pointer: builder.add_u64_field(POINTER, NumericOptions::default().set_fast()),
        message: builder.add_text_field(
            field::MESSAGE,
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(TEXT_TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions)
                    .set_fieldnorms(false),
            ),
        ),
        host_name: builder.add_text_field(field::HOST_NAME, keyword()),
        host_ip: builder.add_ip_addr_field(field::HOST_IP, ip.clone()),
        source_ip: builder.add_ip_addr_field(field::SOURCE_IP, ip),
        source_port: builder.add_u64_field(field::SOURCE_PORT, indexed_number.clone()),
        process_name: builder.add_text_field(field::PROCESS_NAME, keyword()),
        process_pid: builder.add_i64_field(field::PROCESS_PID, indexed_number.clone()),
        msgid: builder.add_text_field(field::SYSLOG_MSGID, keyword()),
        severity_name: builder.add_text_field(field::SYSLOG_SEVERITY_NAME, keyword()),
        severity_code: builder.add_u64_field(field::SYSLOG_SEVERITY_CODE, indexed_number.clone()),
        facility_name: builder.add_text_field(field::SYSLOG_FACILITY_NAME, keyword()),
        tenant: builder.add_text_field(field::TENANT, keyword()),
        level: builder.add_u64_field(field::LEVEL, indexed_number),
        listener: builder.add_text_field(field::LISTENER, keyword()),
        flags: builder.add_text_field(field::FLAGS, keyword()),
        category: builder.add_text_field(field::EVENT_CATEGORY, keyword()),
        action: builder.add_text_field(field::EVENT_ACTION, keyword()),
        outcome: builder.add_text_field(field::EVENT_OUTCOME, keyword()),
        fields: builder.add_json_field(
            FIELDS_JSON,
            JsonObjectOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(KEYWORD_TOKENIZER)
                    .set_index_option(IndexRecordOption::Basic)
                    .set_fieldnorms(false),
            ),
        ),
    };
    (builder.build(), fields)
}

/// Tokenizers are not persisted with an index: register them whenever one is opened.
pub fn register_tokenizers(index: &Index) {
    let keyword = TextAnalyzer::builder(RawTokenizer::default())
        .filter(RemoveLongFilter::limit(256))
        .filter(LowerCaser)
        .build();
    let text = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(256))
        .filter(LowerCaser)
        .build();
    index.tokenizers().register(KEYWORD_TOKENIZER, keyword);
    index.tokenizers().register(TEXT_TOKENIZER, text);
}

fn ipv6(address: IpAddr) -> Ipv6Addr {
    match address {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

impl IndexFields {
    /// The indexed form of an event. `pointer` is its address in the archive.
    pub fn document(&self, event: &Event, pointer: u64) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_date(
            self.timestamp,
            DateTime::from_timestamp_nanos(event.timestamp.as_nanos()),
        );
        doc.add_u64(self.pointer, pointer);
        doc.add_text(self.message, &event.message);
        let keywords = [
            (self.host_name, event.host_name.as_deref()),
            (self.process_name, event.process_name.as_deref()),
            (self.msgid, event.msgid.as_deref()),
            (self.severity_name, event.severity_name()),
            (self.facility_name, event.facility_name()),
        ];
        for (field, value) in keywords {
            if let Some(text) = value {
                doc.add_text(field, text);
            }
        }
        doc.add_text(self.tenant, &*event.tenant);
        doc.add_text(self.listener, &*event.listener);
        doc.add_u64(self.level, u64::from(event.level.get()));
        for flag in event.flags.names() {
            doc.add_text(self.flags, flag);
        }
        if let Some(address) = event.host_ip {
            doc.add_ip_addr(self.host_ip, ipv6(address));
        }
        if let Some(source) = event.source {
            doc.add_ip_addr(self.source_ip, ipv6(source.ip()));
            doc.add_u64(self.source_port, u64::from(source.port()));
        }
        if let Some(code) = event.severity {
            doc.add_u64(self.severity_code, u64::from(code));
        }
        if let Some(pid) = event.process_pid {
            doc.add_i64(self.process_pid, pid);
        }
        let ecs_keywords = [
            (self.category, field::EVENT_CATEGORY),
            (self.action, field::EVENT_ACTION),
            (self.outcome, field::EVENT_OUTCOME),
        ];
        let mut rest = false;
        for (key, value) in &event.fields {
            match ecs_keywords.iter().find(|(_, name)| name == key) {
                Some((field, _)) => {
                    if let Some(text) = value.as_str() {
                        doc.add_text(*field, text);
                    }
                }
                None => rest |= in_json_field(key),
            }
        }
        if rest {
            // Written straight from the event's map into the document: no copy of a key or value.
            doc.add_field_value(self.fields, JsonView::Fields(&event.fields));
        }
        doc
    }
}

/// Whether a field of `Event::fields` goes into [`FIELDS_JSON`]: the ECS keywords have fields of
/// their own, and [`NOT_INDEXED`] stay out.
fn in_json_field(key: &str) -> bool {
    ![
        field::EVENT_CATEGORY,
        field::EVENT_ACTION,
        field::EVENT_OUTCOME,
    ]
    .contains(&key)
        && !NOT_INDEXED.contains(&key)
}

/// An event's other fields as tantivy reads a JSON object, borrowed: tantivy copies what it
/// indexes into its own document buffer, so building an owned object first (a `String` per key
/// and value) would copy everything twice.
#[derive(Clone, Copy, Debug)]
enum JsonView<'a> {
    /// The top-level map, without what [`in_json_field`] leaves out.
    Fields(&'a vigil_event::Fields),
    Value(&'a vigil_event::Value),
}

type JsonEntries<'a> = Box<dyn Iterator<Item = (&'a str, JsonView<'a>)> + 'a>;

impl<'a> tantivy::schema::Value<'a> for JsonView<'a> {
    type ArrayIter = std::iter::Map<
        std::slice::Iter<'a, vigil_event::Value>,
        fn(&'a vigil_event::Value) -> JsonView<'a>,
    >;
    type ObjectIter = JsonEntries<'a>;

    fn as_value(&self) -> tantivy::schema::document::ReferenceValue<'a, Self> {
        use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf};
        use vigil_event::Value;
        match *self {
            JsonView::Fields(fields) => {
                let entries: JsonEntries<'a> = Box::new(
                    fields
                        .iter()
                        .filter(|(key, _)| in_json_field(key))
                        .map(|(key, value)| (key.as_ref(), JsonView::Value(value))),
                );
                ReferenceValue::Object(entries)
            }
            JsonView::Value(value) => match value {
                Value::Bool(flag) => ReferenceValue::Leaf(ReferenceValueLeaf::Bool(*flag)),
                Value::Int(number) => ReferenceValue::Leaf(ReferenceValueLeaf::I64(*number)),
                Value::Float(number) => ReferenceValue::Leaf(ReferenceValueLeaf::F64(*number)),
                Value::Str(text) => ReferenceValue::Leaf(ReferenceValueLeaf::Str(text)),
                Value::List(items) => {
                    let view: fn(&'a Value) -> JsonView<'a> = JsonView::Value;
                    ReferenceValue::Array(items.iter().map(view))
                }
                Value::Map(entries) => {
                    let entries: JsonEntries<'a> = Box::new(
                        entries
                            .iter()
                            .map(|(key, value)| (key.as_ref(), JsonView::Value(value))),
                    );
                    ReferenceValue::Object(entries)
                }
            },
        }
    }
}

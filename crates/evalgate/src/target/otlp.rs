//! Planner decisions read from an OpenTelemetry trace file in OTLP/JSON: one
//! `ExportTraceServiceRequest` document, or JSON Lines of them as the Collector's file
//! exporter writes. An `execute_tool` span (OpenTelemetry GenAI semantic conventions) is
//! `tool.<gen_ai.tool.name>`; a span or span event with `evalgate.decision` and
//! `evalgate.branch` is that decision.
//!
//! Spans are handled one by one as serde parses them (no span list is built), and JSON Lines
//! are read into one reused line buffer, so memory grows with the decisions found, not with
//! the file. Strings are borrowed from the line unless escaped, and every attribute but the
//! four decisions are read from is dropped as soon as it is parsed.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;

use crate::observation::Decision;

/// Decision events read from one sample's trace file, in the order they occurred.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TraceDecisions {
    /// The decisions, by span start or event time, ties in file order.
    pub decisions: Vec<Decision>,
    /// Problems that did not stop reading (a span missing an attribute, an id that is not
    /// hex...), each naming the file and line.
    pub warnings: Vec<String>,
    /// Spans read in total.
    pub spans: usize,
}

/// Warnings kept word for word; later ones are only counted, so a file where every span has
/// the same problem cannot fill memory with copies of it.
const MAX_WARNINGS: usize = 100;

/// Reads the decisions of one trace file: JSON Lines if its first non-empty line is a
/// complete JSON object, otherwise one (pretty-printed) OTLP/JSON document.
///
/// Decisions are ordered by span start or event time, ties by order in the file. Errors name
/// the file and line: unreadable, empty, not JSON, not OTLP (no `resourceSpans`), or a JSON
/// Lines line cut short.
pub fn read_decisions(path: &Path) -> Result<TraceDecisions, String> {
    let file = path.display().to_string();
    let cannot_read = |e: io::Error| format!("{file}: cannot read the trace file: {e}");
    let opened = File::open(path).map_err(cannot_read)?;
    let mut reader = BufReader::with_capacity(256 * 1024, opened);
    let line = Cell::new(0);
    let mut buf = String::new();
    while buf.trim().is_empty() {
        if next_line(&mut reader, &mut buf, &line, &file)? == 0 {
            return Err(format!(
                "{file}: empty trace file (a traced run has at least one span)"
            ));
        }
    }
    let mut sink = Sink::new(&file, &line);
    let first = parse(serde_json::Deserializer::from_str(&buf), &mut sink);
    if let Err(e) = &first
        && e.classify() == Category::Eof
    {
        // The first line is an object cut short: a document over many lines. The attempt
        // may have read whole spans of that line, so the document starts from scratch.
        let mut sink = Sink::new(&file, &line);
        reader.rewind().map_err(cannot_read)?;
        line.set(1);
        let counted = CountLines {
            inner: reader,
            line: &line,
        };
        let parsed = parse(serde_json::Deserializer::from_reader(counted), &mut sink);
        outcome(parsed, &file, None)?;
        return Ok(sink.finish());
    }
    outcome(first, &file, Some(line.get()))?;
    while next_line(&mut reader, &mut buf, &line, &file)? > 0 {
        if !buf.trim().is_empty() {
            let parsed = parse(serde_json::Deserializer::from_str(&buf), &mut sink);
            outcome(parsed, &file, Some(line.get()))?;
        }
    }
    Ok(sink.finish())
}

/// Reads the next line into `buf` (cleared first) and counts it; 0 at the end of the file.
fn next_line(
    reader: &mut impl BufRead,
    buf: &mut String,
    line: &Cell<u64>,
    file: &str,
) -> Result<usize, String> {
    buf.clear();
    line.set(line.get() + 1);
    let n = line.get();
    reader
        .read_line(buf)
        .map_err(|e| format!("{file}:{n}: cannot read the trace file: {e}"))
}

/// Parses one `ExportTraceServiceRequest`, handing its spans to `sink`; false when it has no
/// `resourceSpans`.
fn parse<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    sink: &mut Sink<'_>,
) -> Result<bool, serde_json::Error> {
    let found = Walk::new(sink, Level::Request, false).deserialize(&mut de)?;
    de.end()?;
    Ok(found)
}

/// The error of one parse, if any. `line` is the JSON Lines line; `None` for a document,
/// where serde_json's own line is right.
fn outcome(
    parsed: Result<bool, serde_json::Error>,
    file: &str,
    line: Option<u64>,
) -> Result<(), String> {
    let e = match parsed {
        Ok(true) => return Ok(()),
        Ok(false) => {
            let at = line.map_or(file.to_string(), |n| format!("{file}:{n}"));
            return Err(format!(
                "{at}: not an OTLP JSON trace: no `resourceSpans`; expected the OpenTelemetry \
                 Collector file exporter's OTLP JSON (`otlp_json`): one \
                 `{{\"resourceSpans\": [...]}}` per line, or one such document"
            ));
        }
        Err(e) => e,
    };
    let text = e.to_string();
    // serde_json appends ` at line L column C`; on a JSON Lines line L is always 1.
    let what = text
        .rsplit_once(" at line ")
        .map_or(&*text, |(what, _)| what);
    let at = format!("{file}:{}:{}", line.unwrap_or(e.line() as u64), e.column());
    Err(match e.classify() {
        Category::Io => format!("{file}: cannot read the trace file: {what}"),
        Category::Eof if line.is_some() => {
            format!("{at}: the line is cut short ({what}); was the file still being written?")
        }
        Category::Eof => format!("{at}: the trace is cut short ({what})"),
        Category::Syntax => format!("{at}: not JSON: {what}"),
        Category::Data => format!("{at}: not an OTLP JSON trace: {what}"),
    })
}

/// The nesting of a request: resource spans hold scope spans, which hold the spans.
#[derive(Clone, Copy)]
enum Level {
    Request,
    Resource,
    Scope,
}

impl Level {
    /// The keys of the list of children; `instrumentationLibrarySpans` is what OTLP called
    /// `scopeSpans` before 0.15.
    fn children(self) -> &'static [&'static str] {
        match self {
            Level::Request => &["resourceSpans"],
            Level::Resource => &["scopeSpans", "instrumentationLibrarySpans"],
            Level::Scope => &["spans"],
        }
    }
}

/// Walks one object at `level` (into its children's key, skipping every other field) or,
/// with `list`, the list of its children. Seeds rather than derived structs, so each span
/// reaches the sink as soon as it is parsed and no list of spans ever exists.
struct Walk<'s, 'f> {
    sink: &'s mut Sink<'f>,
    level: Level,
    list: bool,
}

impl<'s, 'f> Walk<'s, 'f> {
    fn new(sink: &'s mut Sink<'f>, level: Level, list: bool) -> Self {
        Walk { sink, level, list }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    /// For an object, whether it had its children's key.
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        if self.list {
            d.deserialize_seq(self)
        } else {
            d.deserialize_map(self)
        }
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(if self.list { "a list" } else { "an object" })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(Text(key)) = map.next_key()? {
            if self.level.children().contains(&&*key) {
                found = true;
                map.next_value_seed(Walk::new(&mut *self.sink, self.level, true))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let level = match self.level {
            Level::Request => Level::Resource,
            Level::Resource => Level::Scope,
            Level::Scope => {
                while let Some((line, span)) = seq.next_element_seed(SpanAt(self.sink.line))? {
                    self.sink.span(line, &span);
                }
                return Ok(true);
            }
        };
        while seq
            .next_element_seed(Walk::new(&mut *self.sink, level, false))?
            .is_some()
        {}
        Ok(true)
    }
}

/// A span and the line it starts on. serde_json has already read up to the span's `{` when
/// the seed runs, so in a document the line count of [`CountLines`] is the span's own line.
struct SpanAt<'c>(&'c Cell<u64>);

impl<'de> DeserializeSeed<'de> for SpanAt<'_> {
    type Value = (u64, Span<'de>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let line = self.0.get();
        Span::deserialize(d).map(|span| (line, span))
    }
}

/// Counts the newlines serde_json reads. It pulls one byte at a time from its reader, so
/// the count is exact.
struct CountLines<'c, R> {
    inner: R,
    line: &'c Cell<u64>,
}

impl<R: Read> Read for CountLines<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let newlines = buf[..n].iter().filter(|&&b| b == b'\n').count();
        self.line.set(self.line.get() + newlines as u64);
        Ok(n)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Span<'a> {
    #[serde(default, borrow)]
    trace_id: Cow<'a, str>,
    #[serde(default, borrow)]
    span_id: Cow<'a, str>,
    #[serde(default, borrow)]
    name: Cow<'a, str>,
    #[serde(default)]
    start_time_unix_nano: UnixNano,
    #[serde(default, borrow)]
    attributes: Attributes<'a>,
    #[serde(default, borrow)]
    events: Vec<Event<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(default)]
    time_unix_nano: UnixNano,
    #[serde(default, borrow)]
    name: Cow<'a, str>,
    #[serde(default, borrow)]
    attributes: Attributes<'a>,
}

/// The attributes decisions are read from; the others are dropped while parsing.
#[derive(Default)]
struct Attributes<'a> {
    operation: Option<AnyValue<'a>>,
    tool: Option<AnyValue<'a>>,
    decision: Option<AnyValue<'a>>,
    branch: Option<AnyValue<'a>>,
}

const OPERATION: &str = "gen_ai.operation.name";
const TOOL_NAME: &str = "gen_ai.tool.name";
const DECISION: &str = "evalgate.decision";
const BRANCH: &str = "evalgate.branch";

impl<'de: 'a, 'a> Deserialize<'de> for Attributes<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(Attributes::default())
    }
}

/// Fills itself from the list: the visitor is the value.
impl<'de: 'a, 'a> Visitor<'de> for Attributes<'a> {
    type Value = Self;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of {key, value} attributes")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self, A::Error> {
        while let Some(KeyValue { key, value }) = seq.next_element()? {
            let slot = match &*key {
                OPERATION => &mut self.operation,
                TOOL_NAME => &mut self.tool,
                DECISION => &mut self.decision,
                BRANCH => &mut self.branch,
                _ => continue,
            };
            *slot = Some(value);
        }
        Ok(self)
    }
}

#[derive(Deserialize)]
struct KeyValue<'a> {
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(default, borrow)]
    value: AnyValue<'a>,
}

/// An attribute value; only `stringValue` is kept (int, bool, double, array, kvlist and bytes
/// values are skipped), since decision points, branches and tool names are strings.
#[derive(Default, Deserialize)]
struct AnyValue<'a> {
    #[serde(rename = "stringValue", default, borrow)]
    string: Option<Text<'a>>,
}

impl AnyValue<'_> {
    fn text(&self) -> Option<&str> {
        self.string.as_ref().map(|t| &*t.0)
    }
}

/// A newtype because serde only borrows a `Cow` that is a field itself, not one in an Option.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// Nanoseconds since the Unix epoch: OTLP/JSON writes them as a string of digits (a 64-bit
/// integer does not fit a JavaScript number); some writers use a number. Absent is 0.
#[derive(Clone, Copy, Default)]
struct UnixNano(u64);

impl<'de> Deserialize<'de> for UnixNano {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UnixNano(0))
    }
}

impl Visitor<'_> for UnixNano {
    type Value = UnixNano;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("nanoseconds since the Unix epoch, as a string of digits or a number")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<UnixNano, E> {
        Ok(UnixNano(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<UnixNano, E> {
        v.parse()
            .map(UnixNano)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// Where a warning points: a span, or one of its events, on its line of the file.
struct At<'x> {
    line: u64,
    span: &'x str,
    event: Option<&'x str>,
}

/// Collects what the spans say, as they are parsed.
struct Sink<'f> {
    file: &'f str,
    /// The current line: set per line for JSON Lines, counted by [`CountLines`] in a document.
    line: &'f Cell<u64>,
    /// (time, order in the file, decision): sorted by the first two at the end.
    found: Vec<(u64, u64, Decision)>,
    warnings: Vec<String>,
    unshown_warnings: usize,
    spans: usize,
}

impl<'f> Sink<'f> {
    fn new(file: &'f str, line: &'f Cell<u64>) -> Self {
        Sink {
            file,
            line,
            found: Vec::new(),
            warnings: Vec::new(),
            unshown_warnings: 0,
            spans: 0,
        }
    }

    fn span(&mut self, line: u64, span: &Span<'_>) {
        self.spans += 1;
        let at = At {
            line,
            span: &span.name,
            event: None,
        };
        let ids = [
            ("traceId", &span.trace_id, 32),
            ("spanId", &span.span_id, 16),
        ];
        for (field, id, digits) in ids {
            if id.len() != digits || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                self.warn(
                    &at,
                    format_args!("`{field}` `{id}` is not {digits} hex digits"),
                );
            }
        }
        let start = span.start_time_unix_nano.0;
        let attributes = &span.attributes;
        self.explicit(&at, attributes, start);
        let is_tool = match &attributes.operation {
            Some(operation) => operation.text() == Some("execute_tool"),
            None => span.name.starts_with("execute_tool "),
        };
        // An explicit decision says what the span means; the tool call is then not counted.
        if is_tool && attributes.decision.is_none() {
            self.tool(&at, span, start);
        }
        for event in &span.events {
            let at = At {
                event: Some(&event.name),
                ..at
            };
            // proto3 JSON leaves a zero time out: the event's time is unknown.
            let time = Some(event.time_unix_nano.0).filter(|&t| t != 0);
            self.explicit(&at, &event.attributes, time.unwrap_or(start));
        }
    }

    fn explicit(&mut self, at: &At, attributes: &Attributes, time: u64) {
        let (Some(point), Some(branch)) = (&attributes.decision, &attributes.branch) else {
            let (has, lacks) = match attributes.decision {
                Some(_) => (DECISION, BRANCH),
                None if attributes.branch.is_some() => (BRANCH, DECISION),
                None => return,
            };
            return self.warn(at, format_args!("`{has}` without `{lacks}`; not read"));
        };
        let (Some(point), Some(branch)) = (point.text(), branch.text()) else {
            let what = "must be `stringValue`s; not read";
            return self.warn(at, format_args!("`{DECISION}` and `{BRANCH}` {what}"));
        };
        // A `Decision` is written `point.branch` and read back up to the first dot.
        if point.is_empty() || point.contains('.') || branch.is_empty() {
            let why = "the point must be non-empty and without a dot, the branch non-empty";
            return self.warn(at, format_args!("`{point}` / `{branch}`: {why}; not read"));
        }
        self.push(time, Decision::new(point, branch));
    }

    fn tool(&mut self, at: &At, span: &Span, time: u64) {
        let tool = span.attributes.tool.as_ref().and_then(AnyValue::text);
        if let Some(tool) = tool.filter(|t| !t.is_empty()) {
            return self.push(time, Decision::new("tool", tool));
        }
        let missing = "execute_tool span without a string";
        // The conventions name the span `execute_tool {gen_ai.tool.name}`.
        let mut words = span.name.split_whitespace();
        if let (Some("execute_tool"), Some(tool)) = (words.next(), words.next()) {
            self.warn(
                at,
                format_args!("{missing} `{TOOL_NAME}`; tool `{tool}` from the span name"),
            );
            self.push(time, Decision::new("tool", tool));
        } else {
            self.warn(
                at,
                format_args!("{missing} `{TOOL_NAME}` nor a name saying it; not read"),
            );
        }
    }

    fn push(&mut self, time: u64, decision: Decision) {
        let order = self.found.len() as u64;
        self.found.push((time, order, decision));
    }

    /// Takes `format_args!` so that a warning past the cap costs no allocation.
    fn warn(&mut self, at: &At, what: fmt::Arguments) {
        if self.warnings.len() >= MAX_WARNINGS {
            self.unshown_warnings += 1;
            return;
        }
        let (file, line, span) = (self.file, at.line, at.span);
        self.warnings.push(match at.event {
            None => format!("{file}:{line}: span `{span}`: {what}"),
            Some(event) => format!("{file}:{line}: event `{event}` of span `{span}`: {what}"),
        });
    }

    fn finish(self) -> TraceDecisions {
        let Sink {
            file,
            mut found,
            mut warnings,
            unshown_warnings,
            spans,
            ..
        } = self;
        if unshown_warnings > 0 {
            warnings.push(format!(
                "{file}: {unshown_warnings} more warnings not shown"
            ));
        }
        if spans == 0 {
            warnings.push(format!("{file}: the trace has no spans, so no decisions"));
        }
        found.sort_by_key(|&(time, order, _)| (time, order));
        let decisions = found.into_iter().map(|(_, _, d)| d).collect();
        TraceDecisions {
            decisions,
            warnings,
            spans,
        }
    }
}

#[cfg(test)]
mod tests;

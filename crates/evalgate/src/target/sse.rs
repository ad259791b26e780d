//! Server-Sent Events: answers that arrive as a stream of `data:` events (the `openai`
//! target's `stream: true`). An incremental byte-level parser, and an exchange that hands
//! out each event with the time its bytes arrived, so a target can measure time to first
//! token. The body size limit covers the streamed bytes.

use std::collections::VecDeque;
use std::time::Instant;

use http::header::HeaderMap;

use super::client::{RequestBuilder, Response};

use super::retry::{send, without_url};
use super::{Attempts, Failure};
use crate::suite::RetryPolicy;

/// One dispatched event: its `data:` lines joined with `\n`, and when its last byte arrived.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub data: String,
    pub at: Instant,
}

impl Event {
    /// The `data: [DONE]` that ends an OpenAI-style stream (not part of SSE itself).
    pub(crate) fn is_done(&self) -> bool {
        self.data.trim() == "[DONE]"
    }
}

/// Splits bytes into events as they arrive, whatever the chunking: an event, a line, a
/// `\r\n` or a UTF-8 character may be cut anywhere between two `feed` calls. Lines end in
/// `\n`, `\r\n` or `\r`; a blank line dispatches the event; `:` lines are comments; fields
/// other than `data` (`event`, `id`, `retry`) do not matter to a one-answer stream and are
/// skipped. An event the body ends in the middle of is never dispatched (as the SSE
/// specification says): a cut stream must not look like a shorter one.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    /// The current line so far, without its terminator.
    line: Vec<u8>,
    /// The current event's data lines, joined with `\n`. Bytes, not text: a character cut
    /// between two chunks is only decoded once the event is whole.
    data: Vec<u8>,
    /// Whether the current event has a `data` field (an empty one still makes an event).
    has_data: bool,
    /// The last chunk ended in `\r`: a `\n` opening the next one belongs to that line end.
    after_cr: bool,
}

impl SseParser {
    /// Reads the next bytes of the body; every event they complete is pushed onto `events`.
    pub(crate) fn feed(&mut self, bytes: &[u8], at: Instant, events: &mut VecDeque<Event>) {
        if bytes.is_empty() {
            return;
        }
        let mut rest = bytes;
        if std::mem::take(&mut self.after_cr) && rest[0] == b'\n' {
            rest = &rest[1..];
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&rest[..end]);
            let cr = rest[end] == b'\r';
            rest = &rest[end + 1..];
            if cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if let Some(data) = self.end_line() {
                events.push_back(Event { data, at });
            }
        }
        self.line.extend_from_slice(rest);
    }

    /// Handles the complete line in `self.line`; returns an event when it was the blank
    /// line that dispatches one.
    fn end_line(&mut self) -> Option<String> {
        let line = std::mem::take(&mut self.line);
        let mut event = None;
        if line.is_empty() {
            if std::mem::take(&mut self.has_data) {
                event = Some(String::from_utf8_lossy(&self.data).into_owned());
                self.data.clear();
            }
        } else if line[0] != b':' {
            let (field, value) = match line.iter().position(|&b| b == b':') {
                Some(colon) => {
                    let value = &line[colon + 1..];
                    (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
                }
                None => (&line[..], &[][..]),
            };
            if field == b"data" {
                if std::mem::replace(&mut self.has_data, true) {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
            }
        }
        // Keep the allocation for the next line.
        self.line = line;
        self.line.clear();
        event
    }
}

/// A successful (2xx) answer whose body is read as events, within the size limit.
pub(crate) struct EventStream {
    pub headers: HeaderMap,
    /// When the request of the successful attempt was sent: time to first token counts
    /// from here, not from the first attempt, so retries do not inflate it.
    pub sent: Instant,
    /// Body bytes read so far.
    pub bytes: usize,
    response: Response,
    parser: SseParser,
    ready: VecDeque<Event>,
    limit: usize,
}

/// What reading a stream gave next.
pub(crate) enum Read {
    Event(Event),
    /// The body ended: cleanly (`None`), or cut by the transport error named.
    End(Option<String>),
}

impl EventStream {
    /// The next event, or how the body ended. A body past the size limit is a failure.
    pub(crate) async fn next(&mut self) -> Result<Read, Failure> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Ok(Read::Event(event));
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => {
                    let at = Instant::now();
                    if self.bytes + chunk.len() > self.limit {
                        return Err(Failure::new(format!(
                            "response exceeds limits.response_bytes ({} bytes); stopped reading",
                            self.limit
                        )));
                    }
                    self.bytes += chunk.len();
                    self.parser.feed(&chunk, at, &mut self.ready);
                }
                Ok(None) => return Ok(Read::End(None)),
                Err(e) => return Ok(Read::End(Some(without_url(e)))),
            }
        }
    }
}

/// Sends the request built by `build` (retried as `retry::exchange` retries: 429, 5xx and
/// connection errors only, before any body byte is read) and returns the 2xx answer as an
/// event stream, timed from the successful attempt. (`exchange` reads the whole body
/// before returning, which would hide when the first token came.)
pub(crate) async fn open(
    build: impl Fn() -> RequestBuilder,
    target: &str,
    policy: RetryPolicy,
    body_limit: usize,
    attempts: &mut Attempts,
) -> Result<EventStream, Failure> {
    let (response, sent) = send(build, target, policy, attempts).await?;
    if let Some(length) = response.content_length()
        && length > body_limit as u64
    {
        return Err(Failure::new(format!(
            "response of {length} bytes exceeds limits.response_bytes ({body_limit})"
        )));
    }
    Ok(EventStream {
        headers: response.headers().clone(),
        sent,
        bytes: 0,
        response,
        parser: SseParser::default(),
        ready: VecDeque::new(),
        limit: body_limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pieces` one after the other and returns the data of every event.
    fn parse(pieces: &[&[u8]]) -> Vec<String> {
        let mut parser = SseParser::default();
        let mut events = VecDeque::new();
        for piece in pieces {
            parser.feed(piece, Instant::now(), &mut events);
        }
        events.into_iter().map(|e| e.data).collect()
    }

    /// Every way of cutting `stream` in two gives the events of the whole.
    fn assert_every_split(stream: &[u8], expected: &[&str]) {
        assert_eq!(parse(&[stream]), expected, "unsplit");
        for cut in 0..=stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(parse(&[a, b]), expected, "cut at byte {cut}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(parse(&bytes), expected, "byte by byte");
    }

    #[test]
    fn events_cut_anywhere_between_chunks_come_out_whole() {
        assert_every_split(
            b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n",
            &["{\"a\":1}", "{\"b\":2}", "[DONE]"],
        );
    }

    #[test]
    fn a_character_cut_between_chunks_is_decoded_whole() {
        let stream = "data: {\"content\":\"héllo → ✓ 🦀\"}\n\n".as_bytes();
        assert_every_split(stream, &["{\"content\":\"héllo → ✓ 🦀\"}"]);
    }

    #[test]
    fn crlf_and_lone_cr_end_lines_even_when_cut_between_cr_and_lf() {
        assert_every_split(
            b"data: one\r\n\r\ndata: two\r\rdata: three\n\n",
            &["one", "two", "three"],
        );
        // A `\r` closing one chunk and a `\n` opening the next are one line end, not two.
        assert_eq!(parse(&[b"data: a\r", b"\ndata: b\r\n\r\n"]), ["a\nb"]);
    }

    #[test]
    fn comments_and_other_fields_are_skipped() {
        assert_every_split(
            b": keep-alive\n\nevent: message\nid: 7\nretry: 1000\ndata: x\n: mid-event\n\n:\n\n",
            &["x"],
        );
    }

    #[test]
    fn multi_line_data_is_joined_with_newlines() {
        assert_every_split(
            b"data: {\ndata:  \"a\": 1\ndata\ndata:}\n\n",
            &["{\n \"a\": 1\n\n}"],
        );
    }

    #[test]
    fn an_event_cut_before_its_blank_line_is_not_dispatched() {
        assert_eq!(
            parse(&[b"data: whole\n\ndata: half", b"\ndata: more\n"]),
            ["whole"]
        );
    }

    #[test]
    fn done_ends_the_stream() {
        let events = parse(&[b"data: {}\n\ndata: [DONE]\r\n\r\n"]);
        let done: Vec<bool> = events
            .into_iter()
            .map(|data| {
                Event {
                    data,
                    at: Instant::now(),
                }
                .is_done()
            })
            .collect();
        assert_eq!(done, [false, true]);
    }
}

//! Splitting an mbox file into messages, one at a time.
//!
//! mail-parser has an mbox iterator, but it cannot serve here: it gives no line numbers (and
//! a message that cannot be read must be reported with its line), it splits on every line
//! starting with `From ` even where no blank line precedes it, and it keeps a message of any
//! size in memory (one message of 1 GB, or one line of 1 GB without a line break, would be
//! held whole). This splitter reads with a [`BufRead`], never holds more than one message
//! of at most [`MAX_MESSAGE`] bytes, and remembers where each message starts.

use std::io::{self, BufRead};

/// The largest message read (32 MiB): a larger one is reported, and skipped without being
/// held in memory. Attachments of that size are not what a ledger of relationships needs.
pub(crate) const MAX_MESSAGE: usize = 32 << 20;

/// What the splitter found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// A message starting at `line` (the line of its `From ` separator, or of its first line
    /// when the file does not start with one), with `>From ` lines un-escaped.
    Message { line: u64, bytes: Vec<u8> },
    /// A message larger than [`MAX_MESSAGE`], starting at `line`: skipped.
    TooLarge { line: u64 },
}

/// The message being gathered.
struct Current {
    line: u64,
    bytes: Vec<u8>,
    too_large: bool,
}

/// Streams the messages of an mbox (mboxo or mboxrd): a message starts at a line beginning
/// with `From ` at the start of the file or after a blank line; a line of one or more `>`
/// followed by `From ` loses one `>`.
pub(crate) struct Mbox<R> {
    reader: R,
    /// The line just read, cut to at most `MAX_MESSAGE + 1` bytes (longer makes the message
    /// too large anyway).
    line: Vec<u8>,
    line_no: u64,
    bytes_read: u64,
    prev_blank: bool,
    current: Option<Current>,
    done: bool,
}

impl<R: BufRead> Mbox<R> {
    pub(crate) fn new(reader: R) -> Self {
        Mbox {
            reader,
            line: Vec::with_capacity(256),
            line_no: 0,
            bytes_read: 0,
            prev_blank: true,
            current: None,
            done: false,
        }
    }

    /// Bytes of the file read so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Reads the next line into `self.line` (its first `MAX_MESSAGE + 1` bytes); `false` at
    /// the end of the file.
    fn next_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        let mut total = 0usize;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(total > 0);
            }
            let (take, ends) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room = (MAX_MESSAGE + 1).saturating_sub(self.line.len());
            self.line.extend_from_slice(&chunk[..take.min(room)]);
            self.reader.consume(take);
            total += take;
            self.bytes_read += take as u64;
            if ends {
                return Ok(true);
            }
        }
    }

    fn finish(current: Current) -> Piece {
        if current.too_large {
            return Piece::TooLarge { line: current.line };
        }
        let mut bytes = current.bytes;
        // The blank line before the next separator belongs to the mbox, not the message.
        if bytes.ends_with(b"\r\n\r\n") {
            bytes.truncate(bytes.len() - 2);
        } else if bytes.ends_with(b"\n\n") {
            bytes.truncate(bytes.len() - 1);
        }
        Piece::Message {
            line: current.line,
            bytes,
        }
    }

    fn append(current: &mut Current, line: &[u8]) {
        if current.too_large {
            return;
        }
        let line = unescape(line);
        if current.bytes.len() + line.len() > MAX_MESSAGE {
            current.too_large = true;
            current.bytes = Vec::new();
        } else {
            current.bytes.extend_from_slice(line);
        }
    }
}

/// `>From ` → `From `, `>>From ` → `>From ` (mboxrd; for mboxo only the first exists).
fn unescape(line: &[u8]) -> &[u8] {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    if quotes > 0 && line[quotes..].starts_with(b"From ") {
        &line[1..]
    } else {
        line
    }
}

fn is_blank(line: &[u8]) -> bool {
    matches!(line, b"\n" | b"\r\n")
}

impl<R: BufRead> Iterator for Mbox<R> {
    type Item = io::Result<Piece>;

    fn next(&mut self) -> Option<io::Result<Piece>> {
        if self.done {
            return None;
        }
        loop {
            match self.next_line() {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(false) => {
                    self.done = true;
                    return self.current.take().map(|c| Ok(Self::finish(c)));
                }
                Ok(true) => {}
            }
            self.line_no += 1;
            let separator = self.prev_blank && self.line.starts_with(b"From ");
            let blank = is_blank(&self.line);
            self.prev_blank = blank;
            if separator {
                let next = Current {
                    line: self.line_no,
                    bytes: Vec::new(),
                    too_large: false,
                };
                if let Some(done) = self.current.replace(next) {
                    return Some(Ok(Self::finish(done)));
                }
                continue;
            }
            match &mut self.current {
                Some(current) => Self::append(current, &self.line),
                // Blank lines before the first message are nothing; text before any
                // separator is read as a message of its own (a lone message saved without
                // the mbox's `From ` line).
                None if blank => {}
                None => {
                    let mut current = Current {
                        line: self.line_no,
                        bytes: Vec::new(),
                        too_large: false,
                    };
                    Self::append(&mut current, &self.line);
                    self.current = Some(current);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8]) -> Vec<Piece> {
        Mbox::new(input)
            .collect::<io::Result<Vec<_>>>()
            .expect("reading from memory does not fail")
    }

    fn message(line: u64, bytes: &[u8]) -> Piece {
        Piece::Message {
            line,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn messages_start_at_from_lines_after_a_blank_line_and_remember_their_line() {
        let input = b"From a@b Tue Dec  3 10:00:00 2024\nSubject: one\n\nbody\nFrom here on\n\nFrom c@d Tue Dec  3 11:00:00 2024\nSubject: two\n\nx\n";
        assert_eq!(
            split(input),
            vec![
                message(1, b"Subject: one\n\nbody\nFrom here on\n"),
                message(7, b"Subject: two\n\nx\n"),
            ]
        );
    }

    #[test]
    fn escaped_from_lines_lose_one_quote() {
        let input = b"From a@b Tue Dec  3 10:00:00 2024\nSubject: s\n\n>From the start\n>>From quoted\n> kept\n";
        assert_eq!(
            split(input),
            vec![message(
                1,
                b"Subject: s\n\nFrom the start\n>From quoted\n> kept\n"
            )]
        );
    }

    #[test]
    fn a_file_without_separator_is_one_message_and_crlf_is_kept() {
        let input = b"\r\n\r\nSubject: s\r\n\r\nbody\r\n";
        assert_eq!(
            split(input),
            vec![message(3, b"Subject: s\r\n\r\nbody\r\n")]
        );
        assert!(split(b"").is_empty());
    }

    #[test]
    fn a_message_larger_than_the_cap_is_reported_without_being_held() {
        let mut input = b"From a@b x\nSubject: big\n\n".to_vec();
        let big_line = vec![b'a'; MAX_MESSAGE + 10];
        input.extend_from_slice(&big_line);
        input.extend_from_slice(b"\n\nFrom c@d x\nSubject: small\n\nok\n");
        let pieces = split(&input);
        assert_eq!(pieces[0], Piece::TooLarge { line: 1 });
        assert_eq!(pieces[1], message(6, b"Subject: small\n\nok\n"));
    }
}

//! The one XML walk the e-invoice readers share: elements by local name (any prefix, or
//! none, reads the same), each with its path from the root, its attributes, its text and
//! the line it starts on.
//!
//! A streaming `quick_xml::Reader` underneath, so a document is walked once without
//! building a tree; the only thing kept is the path of open elements. Entities other than
//! the five XML predefines and character references are refused, never expanded: a
//! document cannot grow in memory beyond its own size.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::DocError;

/// Deeper than any invoice nests (UBL goes to about 10).
const MAX_DEPTH: usize = 200;

/// One open element.
#[derive(Debug, Default)]
pub(super) struct Element {
    /// The local name, without its prefix: `PayableAmount`.
    pub local: String,
    /// The name as written: `cbc:PayableAmount`, for error messages.
    pub qname: String,
    /// Attributes by local name (`schemeID`, `currencyID`, `format`), values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Text directly inside the element (children's text is theirs).
    pub text: String,
    /// 1-based line where the element starts.
    pub line: u64,
}

impl Element {
    /// An attribute's value by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| local(k) == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text without surrounding white space, `None` when nothing is left.
    pub fn value(&self) -> Option<&str> {
        Some(self.text.trim()).filter(|s| !s.is_empty())
    }
}

/// What the walk reports: an element opened (its text not read yet) or closed.
pub(super) enum Step {
    Open,
    Close,
}

/// Counts lines up to a byte offset, moving forward only (offsets only grow).
struct Lines<'a> {
    src: &'a [u8],
    pos: usize,
    line: u64,
}

impl Lines<'_> {
    fn at(&mut self, offset: u64) -> u64 {
        let end = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.src.len());
        if end > self.pos {
            self.line += self.src[self.pos..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.pos = end;
        }
        self.line
    }
}

fn local(qname: &str) -> &str {
    qname.rsplit_once(':').map_or(qname, |(_, l)| l)
}

/// What the walk calls at each step, with the path of open elements.
pub(super) type OnStep<'a> = dyn FnMut(Step, &[Element]) -> Result<(), DocError> + 'a;

/// Walks `src`, calling `on` with the path of open elements (root first, the element the
/// step is about last) at each opening and closing tag. Stops at the first error, from the
/// XML or from `on`.
pub(super) fn walk(src: &str, on: &mut OnStep<'_>) -> Result<(), DocError> {
    let mut reader = Reader::from_str(src);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    let mut lines = Lines {
        src: src.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut path: Vec<Element> = Vec::new();
    let mut seen_root = false;
    loop {
        let before = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let line = lines.at(reader.error_position());
                return Err(DocError {
                    line,
                    field: path.last().map(|e| e.qname.clone()),
                    message: format!("this is not well-formed XML: {e}"),
                });
            }
        };
        match event {
            Event::Start(start) => {
                // The tag starts after any white space the previous event left.
                let line = lines.at(before);
                if path.is_empty() && seen_root {
                    // A second root: not XML; everything we need was in the first.
                    break;
                }
                if path.len() >= MAX_DEPTH {
                    return Err(DocError {
                        line,
                        field: None,
                        message: format!("elements nest deeper than {MAX_DEPTH} levels"),
                    });
                }
                let qname = start.name().as_ref().to_owned();
                let mut attrs = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| DocError {
                        line,
                        field: Some(qname.clone()),
                        message: format!("an attribute is not well-formed: {e}"),
                    })?;
                    let value = attr
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| DocError {
                            line,
                            field: Some(qname.clone()),
                            message: format!("an attribute's value cannot be read: {e}"),
                        })?;
                    attrs.push((attr.key.as_ref().to_owned(), value.into_owned()));
                }
                path.push(Element {
                    local: local(&qname).to_owned(),
                    qname,
                    attrs,
                    text: String::new(),
                    line,
                });
                seen_root = true;
                on(Step::Open, &path)?;
            }
            Event::End(_) => {
                on(Step::Close, &path)?;
                path.pop();
            }
            Event::Text(t) => {
                if let Some(open) = path.last_mut() {
                    open.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(open) = path.last_mut() {
                    open.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let line = lines.at(before);
                let resolved: Option<Cow<'_, str>> = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(Cow::Owned(c.to_string())),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r).map(Cow::Borrowed),
                    Err(_) => None,
                };
                let Some(text) = resolved else {
                    return Err(DocError {
                        line,
                        field: path.last().map(|e| e.qname.clone()),
                        message: format!(
                            "the entity `&{};` is not one XML defines (custom entities are \
                             never expanded)",
                            &*r
                        ),
                    });
                };
                if let Some(open) = path.last_mut() {
                    open.text.push_str(&text);
                }
            }
            Event::Eof => break,
            // Declarations, comments, processing instructions, doctype: nothing to read.
            _ => {}
        }
    }
    if let Some(open) = path.last() {
        return Err(DocError {
            line: lines.at(reader.buffer_position()),
            field: Some(open.qname.clone()),
            message: format!("the document ends inside <{}>: it is cut short", open.qname),
        });
    }
    if !seen_root {
        return Err(DocError {
            line: 1,
            field: None,
            message: "this is not XML: no element found".into(),
        });
    }
    Ok(())
}

/// The root element: its local name and its namespace (when declared on it).
#[derive(Debug)]
pub(super) struct Root {
    pub local: String,
    pub namespace: Option<String>,
}

/// Reads only as far as the root element's start tag.
pub(super) fn root(src: &str) -> Option<Root> {
    let mut reader = Reader::from_str(src);
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) | Ok(Event::Empty(start)) => {
                let qname = start.name().as_ref().to_owned();
                let key = match qname.rsplit_once(':') {
                    Some((prefix, _)) => format!("xmlns:{prefix}"),
                    None => "xmlns".to_owned(),
                };
                let namespace = start
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == key)
                    .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
                    .map(Cow::into_owned);
                return Some(Root {
                    local: local(&qname).to_owned(),
                    namespace,
                });
            }
            Ok(Event::Eof) | Err(_) => return None,
            Ok(Event::Text(t)) if !t.trim().is_empty() => return None,
            Ok(_) => {}
        }
    }
}

//! camt.053 (BkToCstmrStmt), read with quick-xml's streaming reader.
//!
//! Elements are matched by local name on a path of the elements open above them, so any
//! prefix or default namespace reads the same, and the versions' differences (v08's
//! `Sts/Cd` and `Pty` nesting) are only a few more paths. Streaming keeps a statement of
//! 100,000 entries to one pass with no tree in memory; the cost is that each field is
//! picked where it closes, so the accumulators below carry what an entry has said so far.

use domain::{Amount, Currency, Day};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{Direction, Entry, Statement};
use super::{account_id, clean_text, compact, doc_error, parse_amount, unique_ids};
use crate::einvoice::DocError;

/// ISO 20022 namespaces are `urn:iso:std:iso:20022:tech:xsd:<message id>`.
const NS_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:";

/// Bank transaction sub-family codes that mean a return or reversal of an earlier
/// movement (ISO 20022 external code list): never a payment.
const RETURN_CODES: &[&str] = &[
    "RRTN", // reversal due to payment return
    "ARET", // ACH return
    "AREV", // ACH reversal
    "RPCR", // reversal due to payment cancellation request
    "RCDD", // reversal due to payment return (direct debit)
    "UPDD", // unpaid direct debit
    "PRDD", // reversal due to payment reversal (direct debit)
    "UPCT", // unpaid card transaction
    "UPCQ", // unpaid cheque
    "URCQ", // unpaid returned cheque
    "CQRV", // cheque reversal
];

pub(super) fn parse(bytes: &[u8]) -> Result<Vec<Statement>, DocError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let src = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + count_lines(&bytes[..e.valid_up_to()]);
        doc_error(
            line,
            "",
            format!(
                "not UTF-8 text (byte {}): camt.053 is UTF-8 XML",
                e.valid_up_to()
            ),
        )
    })?;
    Camt::new(src).run()
}

fn count_lines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// Line numbers for byte positions that only move forward: each byte is counted once.
struct Lines<'a> {
    src: &'a [u8],
    pos: usize,
    line: u64,
}

impl Lines<'_> {
    fn at(&mut self, pos: u64) -> u64 {
        let pos = usize::try_from(pos)
            .unwrap_or(usize::MAX)
            .min(self.src.len());
        if pos >= self.pos {
            self.line += count_lines(&self.src[self.pos..pos]);
            self.pos = pos;
            self.line
        } else {
            1 + count_lines(&self.src[..pos])
        }
    }
}

/// What a `TxDtls` has said so far.
#[derive(Default)]
struct Tx {
    line: u64,
    amount: Option<(Amount, Currency)>,
    tx_amount: Option<(Amount, Currency)>,
    direction: Option<Direction>,
    svcr_ref: Option<String>,
    end_to_end: Option<String>,
    return_code: bool,
    returned: bool,
    debtor: Option<String>,
    debtor_account: Option<String>,
    creditor: Option<String>,
    creditor_account: Option<String>,
    reference: Option<String>,
    text: Vec<String>,
}

/// What an `Ntry` has said so far.
#[derive(Default)]
struct Ntry {
    line: u64,
    amount: Option<(Amount, Currency)>,
    direction: Option<Direction>,
    reversal: bool,
    status: Option<String>,
    booked: Option<Day>,
    value_date: Option<Day>,
    svcr_ref: Option<String>,
    txs: Vec<Tx>,
}

/// What a `Stmt` has said so far.
struct Stmt {
    id: Option<String>,
    account: Option<String>,
    entries: Vec<Entry>,
    /// Each entry's id by its place in the statement, for [`unique_ids`].
    fallbacks: Vec<String>,
    ntries: usize,
    line: u64,
}

struct Camt<'a> {
    src: &'a str,
    lines: Lines<'a>,
    /// `/Document/BkToCstmrStmt/Stmt/…`: local names of the open elements.
    path: String,
    /// `path`'s length before each open element was pushed.
    marks: Vec<usize>,
    /// Text of the innermost open element (entities resolved).
    text: String,
    pending_ccy: Option<Result<Currency, String>>,
    format: Option<String>,
    root: Option<String>,
    statements: Vec<Statement>,
    /// The open statement and `path`'s length once its element was pushed.
    stmt: Option<(usize, Stmt)>,
    ntry: Option<(usize, Ntry)>,
    tx: Option<(usize, Tx)>,
    seen_message: bool,
}

impl<'a> Camt<'a> {
    fn new(src: &'a str) -> Self {
        Camt {
            src,
            lines: Lines {
                src: src.as_bytes(),
                pos: 0,
                line: 1,
            },
            path: String::with_capacity(128),
            marks: Vec::with_capacity(16),
            text: String::with_capacity(128),
            pending_ccy: None,
            format: None,
            root: None,
            statements: Vec::new(),
            stmt: None,
            ntry: None,
            tx: None,
            seen_message: false,
        }
    }

    fn run(mut self) -> Result<Vec<Statement>, DocError> {
        let mut reader = Reader::from_str(self.src);
        reader.config_mut().check_end_names = true;
        loop {
            let event = match reader.read_event() {
                Ok(e) => e,
                Err(e) => {
                    let line = self.lines.at(reader.error_position());
                    return Err(doc_error(
                        line,
                        &self.field(),
                        format!("not well-formed XML: {e}"),
                    ));
                }
            };
            let pos = reader.buffer_position();
            match event {
                Event::Start(e) => self.open(&e, pos)?,
                Event::Empty(e) => {
                    self.open(&e, pos)?;
                    self.close(pos)?;
                }
                Event::End(_) => self.close(pos)?,
                Event::Text(t) if !self.marks.is_empty() => {
                    self.text.push_str(&t.xml10_content());
                }
                Event::CData(t) => self.text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        Ok(None) => match &*r {
                            "amp" => Some('&'),
                            "lt" => Some('<'),
                            "gt" => Some('>'),
                            "quot" => Some('"'),
                            "apos" => Some('\''),
                            _ => None,
                        },
                        Err(_) => None,
                    };
                    match c {
                        Some(c) => self.text.push(c),
                        None => {
                            let line = self.lines.at(pos);
                            return Err(doc_error(
                                line,
                                &self.field(),
                                format!("unknown entity &{};", &*r),
                            ));
                        }
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        let line = self.lines.at(self.src.len() as u64);
        if !self.marks.is_empty() {
            return Err(doc_error(
                line,
                &self.field(),
                "the document ends before its elements are closed: the file is cut short",
            ));
        }
        if !self.seen_message {
            return Err(match &self.root {
                None => doc_error(1, "", "not XML: no element found (not a camt.053 document)"),
                Some(root) => doc_error(
                    1,
                    root,
                    format!(
                        "not a camt.053 bank statement: the document is <{root}> with no <BkToCstmrStmt>"
                    ),
                ),
            });
        }
        Ok(self.statements)
    }

    /// The innermost open element's path below the statement, for error messages.
    fn field(&self) -> String {
        let from = self.stmt.as_ref().map_or(0, |(at, _)| *at);
        let rel = self.path.get(from..).unwrap_or("");
        let rel = rel.strip_prefix('/').unwrap_or(rel);
        if rel.is_empty() {
            self.path.rsplit('/').next().unwrap_or("").to_owned()
        } else {
            rel.to_owned()
        }
    }

    fn open(&mut self, e: &BytesStart<'_>, pos: u64) -> Result<(), DocError> {
        let name = e.local_name();
        let name: &str = name.as_ref();
        if self.root.is_none() {
            self.root = Some(name.to_owned());
        }
        if name == "Document" {
            self.namespace(e, pos)?;
        }
        let depth_before = self.path.len();
        // Which element this is, seen from the innermost open context.
        let parent = self.ctx(depth_before);
        let parent_is = |kind: Kind, rel: &str| {
            parent.is_some_and(|(k, at)| k == kind && self.path.get(at..depth_before) == Some(rel))
        };
        let in_stmt = parent_is(Kind::Stmt, "");
        let in_ntry_dtls = parent_is(Kind::Ntry, "/NtryDtls");
        self.marks.push(depth_before);
        self.path.push('/');
        self.path.push_str(name);
        self.text.clear();
        let here = self.path.len();

        if name == "BkToCstmrStmt" {
            self.seen_message = true;
            if self.format.is_none() {
                self.format = Some("camt.053".to_owned());
            }
        } else if name == "Stmt"
            && self.stmt.is_none()
            && self.path_ends_with("/BkToCstmrStmt/Stmt")
        {
            let line = self.lines.at(pos);
            self.stmt = Some((
                here,
                Stmt {
                    id: None,
                    account: None,
                    entries: Vec::new(),
                    fallbacks: Vec::new(),
                    ntries: 0,
                    line,
                },
            ));
        } else if name == "Ntry" && self.ntry.is_none() && in_stmt {
            let line = self.lines.at(pos);
            self.ntry = Some((
                here,
                Ntry {
                    line,
                    ..Ntry::default()
                },
            ));
        } else if name == "TxDtls" && self.tx.is_none() && in_ntry_dtls {
            let line = self.lines.at(pos);
            self.tx = Some((
                here,
                Tx {
                    line,
                    ..Tx::default()
                },
            ));
        }
        if name == "Amt" || name == "Bal" {
            self.pending_ccy = match e.try_get_attribute("Ccy") {
                Ok(Some(a)) => Some(Currency::parse(&a.value).map_err(|err| err.to_string())),
                _ => None,
            };
        }
        Ok(())
    }

    fn path_ends_with(&self, s: &str) -> bool {
        self.path.ends_with(s)
    }

    /// The innermost open context and where its element ends in `path`, when a path of
    /// `len` bytes is inside it.
    fn ctx(&self, len: usize) -> Option<(Kind, usize)> {
        let inside = |at: usize| (at <= len).then_some(at);
        if let Some((at, _)) = &self.tx {
            return inside(*at).map(|at| (Kind::Tx, at));
        }
        if let Some((at, _)) = &self.ntry {
            return inside(*at).map(|at| (Kind::Ntry, at));
        }
        if let Some((at, _)) = &self.stmt {
            return inside(*at).map(|at| (Kind::Stmt, at));
        }
        None
    }

    /// Reads the message and version from `Document`'s namespace.
    fn namespace(&mut self, e: &BytesStart<'_>, pos: u64) -> Result<(), DocError> {
        let mut message = None;
        for a in e.attributes().with_checks(false).flatten() {
            let key: &str = a.key.as_ref();
            if (key == "xmlns" || key.starts_with("xmlns:")) && a.value.starts_with(NS_PREFIX) {
                message = Some(a.value[NS_PREFIX.len()..].trim().to_owned());
                break;
            }
        }
        let Some(message) = message else {
            return Ok(());
        };
        let line = self.lines.at(pos);
        let what = |m: &str| match m.get(..8) {
            Some("camt.052") => " (an intraday account report)",
            Some("camt.054") => " (a debit/credit notification)",
            Some("pain.001") => " (a credit transfer initiation)",
            Some("pain.002") => " (a payment status report)",
            Some("pain.008") => " (a direct debit initiation)",
            _ => "",
        };
        let Some(version) = message.strip_prefix("camt.053.001.") else {
            return Err(doc_error(
                line,
                "Document",
                format!(
                    "this is {message}{}, not a camt.053 bank statement",
                    what(&message)
                ),
            ));
        };
        match version.parse::<u32>() {
            Ok(v) if v >= 2 => {
                self.format = Some(message);
                Ok(())
            }
            _ => Err(doc_error(
                line,
                "Document",
                format!(
                    "{message} is not a supported camt.053 version (camt.053.001.02 and later are)"
                ),
            )),
        }
    }

    fn close(&mut self, pos: u64) -> Result<(), DocError> {
        let Some(mark) = self.marks.pop() else {
            return Ok(());
        };
        let len = self.path.len();
        let result = self.leaf(len, pos);
        // Contexts close with their element.
        if let Some((_, tx)) = self.tx.take_if(|(at, _)| *at == len) {
            if let Some((_, ntry)) = self.ntry.as_mut() {
                ntry.txs.push(tx);
            }
        } else if let Some((_, ntry)) = self.ntry.take_if(|(at, _)| *at == len) {
            self.finish_entry(ntry)?;
        } else if let Some((_, stmt)) = self.stmt.take_if(|(at, _)| *at == len) {
            self.finish_statement(stmt)?;
        }
        self.path.truncate(mark);
        self.text.clear();
        result
    }

    /// Takes the text of an element that has just closed, by its path in its context.
    fn leaf(&mut self, len: usize, pos: u64) -> Result<(), DocError> {
        let Some((kind, at)) = self.ctx(len) else {
            return Ok(());
        };
        let rel = self.path.get(at..len).unwrap_or("");
        let text = self.text.trim();
        // Fields are read into owned values first; errors need `self.lines`.
        enum Got {
            Nothing,
            Amount(Slot),
            Bad(String),
        }
        #[derive(Clone, Copy)]
        enum Slot {
            Ntry,
            TxAmt,
            TxAmtDtls,
        }
        let got = match kind {
            Kind::Stmt => {
                let Some((_, stmt)) = self.stmt.as_mut() else {
                    return Ok(());
                };
                match rel {
                    "/Id" => stmt.id = clean_text(text),
                    "/Acct/Id/IBAN" | "/Acct/Id/Othr/Id" => stmt.account = account_id(text),
                    _ => {}
                }
                Got::Nothing
            }
            Kind::Ntry => {
                let Some((_, ntry)) = self.ntry.as_mut() else {
                    return Ok(());
                };
                match rel {
                    "/Amt" => Got::Amount(Slot::Ntry),
                    "/CdtDbtInd" => match direction(text) {
                        Ok(d) => {
                            ntry.direction = Some(d);
                            Got::Nothing
                        }
                        Err(m) => Got::Bad(m),
                    },
                    "/RvslInd" => {
                        ntry.reversal = matches!(text, "true" | "1");
                        Got::Nothing
                    }
                    "/Sts" | "/Sts/Cd" | "/Sts/Prtry" => {
                        if !text.is_empty() {
                            ntry.status = Some(text.to_owned());
                        }
                        Got::Nothing
                    }
                    "/BookgDt/Dt" | "/BookgDt/DtTm" | "/ValDt/Dt" | "/ValDt/DtTm" => {
                        match date(text) {
                            Ok(d) => {
                                if rel.starts_with("/BookgDt") {
                                    ntry.booked = Some(d);
                                } else {
                                    ntry.value_date = Some(d);
                                }
                                Got::Nothing
                            }
                            Err(m) => Got::Bad(m),
                        }
                    }
                    "/AcctSvcrRef" => {
                        ntry.svcr_ref = reference(text);
                        Got::Nothing
                    }
                    "/BkTxCd/Domn/Fmly/SubFmlyCd" => {
                        if RETURN_CODES.contains(&text) {
                            ntry.reversal = true;
                        }
                        Got::Nothing
                    }
                    _ => Got::Nothing,
                }
            }
            Kind::Tx => {
                let Some((_, tx)) = self.tx.as_mut() else {
                    return Ok(());
                };
                match rel {
                    "/Amt" => Got::Amount(Slot::TxAmt),
                    "/AmtDtls/TxAmt/Amt" => Got::Amount(Slot::TxAmtDtls),
                    "/CdtDbtInd" => match direction(text) {
                        Ok(d) => {
                            tx.direction = Some(d);
                            Got::Nothing
                        }
                        Err(m) => Got::Bad(m),
                    },
                    "/Refs/AcctSvcrRef" => {
                        tx.svcr_ref = reference(text);
                        Got::Nothing
                    }
                    "/Refs/EndToEndId" => {
                        tx.end_to_end = reference(text).filter(|r| r != "NOTPROVIDED");
                        Got::Nothing
                    }
                    "/BkTxCd/Domn/Fmly/SubFmlyCd" => {
                        tx.return_code = RETURN_CODES.contains(&text);
                        Got::Nothing
                    }
                    "/RltdPties/Dbtr/Nm" | "/RltdPties/Dbtr/Pty/Nm" => {
                        tx.debtor = clean_text(text);
                        Got::Nothing
                    }
                    "/RltdPties/Cdtr/Nm" | "/RltdPties/Cdtr/Pty/Nm" => {
                        tx.creditor = clean_text(text);
                        Got::Nothing
                    }
                    "/RltdPties/DbtrAcct/Id/IBAN" | "/RltdPties/DbtrAcct/Id/Othr/Id" => {
                        tx.debtor_account = account_id(text);
                        Got::Nothing
                    }
                    "/RltdPties/CdtrAcct/Id/IBAN" | "/RltdPties/CdtrAcct/Id/Othr/Id" => {
                        tx.creditor_account = account_id(text);
                        Got::Nothing
                    }
                    "/RmtInf/Strd/CdtrRefInf/Ref" => {
                        if tx.reference.is_none() {
                            tx.reference = Some(compact(text)).filter(|r| !r.is_empty());
                        }
                        Got::Nothing
                    }
                    "/RmtInf/Ustrd" => {
                        if let Some(t) = clean_text(text) {
                            tx.text.push(t);
                        }
                        Got::Nothing
                    }
                    _ => {
                        if rel == "/RtrInf" || rel.starts_with("/RtrInf/") {
                            tx.returned = true;
                        }
                        Got::Nothing
                    }
                }
            }
        };
        match got {
            Got::Nothing => Ok(()),
            Got::Bad(m) => {
                let line = self.lines.at(pos);
                Err(doc_error(line, &self.field(), m))
            }
            Got::Amount(slot) => {
                let value = match self.pending_ccy.take() {
                    None => Err("the amount has no Ccy attribute naming its currency".to_owned()),
                    Some(Err(m)) => Err(m),
                    Some(Ok(ccy)) => parse_amount(self.text.trim(), ccy).map(|a| (a, ccy)),
                };
                let value = match value {
                    Ok(v) => v,
                    Err(m) => {
                        let line = self.lines.at(pos);
                        return Err(doc_error(line, &self.field(), m));
                    }
                };
                match slot {
                    Slot::Ntry => {
                        if let Some((_, n)) = self.ntry.as_mut() {
                            n.amount = Some(value);
                        }
                    }
                    Slot::TxAmt => {
                        if let Some((_, t)) = self.tx.as_mut() {
                            t.amount = Some(value);
                        }
                    }
                    Slot::TxAmtDtls => {
                        if let Some((_, t)) = self.tx.as_mut() {
                            t.tx_amount = Some(value);
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Turns a closed `Ntry` into one entry, or one per transaction of a batch.
    fn finish_entry(&mut self, ntry: Ntry) -> Result<(), DocError> {
        let Some((_, stmt)) = self.stmt.as_mut() else {
            return Ok(());
        };
        stmt.ntries += 1;
        let place = stmt.ntries;
        let err = |field: &str, m: &str| doc_error(ntry.line, field, m);
        if ntry.status.as_deref().is_some_and(|s| s != "BOOK") {
            return Ok(());
        }
        let Some((amount, currency)) = ntry.amount else {
            return Err(err("Ntry/Amt", "the entry has no amount"));
        };
        let Some(direction) = ntry.direction else {
            return Err(err(
                "Ntry/CdtDbtInd",
                "the entry does not say credit or debit",
            ));
        };
        let Some(booked) = ntry.booked.or(ntry.value_date) else {
            return Err(err("Ntry/BookgDt", "the entry has no booking date"));
        };
        let stmt_id = stmt
            .id
            .clone()
            .unwrap_or_else(|| format!("line {}", stmt.line));
        let position_id = format!("{stmt_id}/{place}");
        let entry_id = ntry
            .svcr_ref
            .clone()
            .or_else(|| match ntry.txs.as_slice() {
                [one] => one.svcr_ref.clone(),
                _ => None,
            })
            .unwrap_or_else(|| position_id.clone());
        let plain = Entry {
            id: entry_id.clone(),
            line: ntry.line,
            booked,
            amount,
            currency,
            direction,
            reversal: ntry.reversal,
            counterparty: None,
            iban: None,
            reference: None,
            text: None,
        };
        if ntry.txs.is_empty() {
            stmt.entries.push(plain);
            stmt.fallbacks.push(position_id);
            return Ok(());
        }
        let several = ntry.txs.len() > 1;
        let ids = batch_ids(&entry_id, ntry.svcr_ref.as_deref(), &ntry.txs);
        for (n, (tx, id)) in ntry.txs.into_iter().zip(ids).enumerate() {
            let (amount, currency) = match tx.amount.or(tx.tx_amount) {
                Some(a) => a,
                None if !several => (amount, currency),
                None => {
                    return Err(doc_error(
                        tx.line,
                        "Ntry/NtryDtls/TxDtls/Amt",
                        format!("transaction {} of a batch booking has no amount", n + 1),
                    ));
                }
            };
            let direction = tx.direction.unwrap_or(direction);
            let (counterparty, iban) = match direction {
                Direction::Credit => (tx.debtor, tx.debtor_account),
                Direction::Debit => (tx.creditor, tx.creditor_account),
            };
            let text = (!tx.text.is_empty()).then(|| tx.text.join(" "));
            stmt.entries.push(Entry {
                id,
                line: if several { tx.line } else { ntry.line },
                reversal: ntry.reversal || tx.return_code || tx.returned,
                amount,
                currency,
                direction,
                counterparty,
                iban,
                reference: tx.reference,
                text,
                ..plain.clone()
            });
            stmt.fallbacks.push(if n == 0 {
                position_id.clone()
            } else {
                format!("{position_id}/{}", n + 1)
            });
        }
        Ok(())
    }

    fn finish_statement(&mut self, mut stmt: Stmt) -> Result<(), DocError> {
        let Some(id) = stmt.id.take() else {
            return Err(doc_error(stmt.line, "Stmt/Id", "the statement has no id"));
        };
        let mut statement = Statement {
            format: self.format.clone().unwrap_or_else(|| "camt.053".to_owned()),
            id,
            account: stmt.account,
            entries: stmt.entries,
        };
        unique_ids(&mut statement, &stmt.fallbacks);
        self.statements.push(statement);
        Ok(())
    }
}

/// The elements that gather fields: a statement, an entry, a transaction of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Stmt,
    Ntry,
    Tx,
}

/// The ids of a batch's transactions: the bank's own per-transaction references where each
/// has a different one, else the end-to-end ids under the entry's id where those are
/// unique, else the entry's id for the first and `<entry id>/<n>` for the others.
fn batch_ids(entry_id: &str, entry_ref: Option<&str>, txs: &[Tx]) -> Vec<String> {
    let distinct = |ids: &[Option<&str>]| {
        let mut seen: Vec<&str> = Vec::with_capacity(ids.len());
        for id in ids {
            match id {
                Some(id) if !seen.contains(id) => seen.push(id),
                _ => return false,
            }
        }
        true
    };
    if txs.len() > 1 {
        let refs: Vec<Option<&str>> = txs
            .iter()
            .map(|t| t.svcr_ref.as_deref().filter(|r| Some(*r) != entry_ref))
            .collect();
        if distinct(&refs) {
            return refs
                .into_iter()
                .map(|r| r.unwrap_or_default().to_owned())
                .collect();
        }
        let e2e: Vec<Option<&str>> = txs.iter().map(|t| t.end_to_end.as_deref()).collect();
        if distinct(&e2e) {
            return e2e
                .into_iter()
                .map(|r| format!("{entry_id}/{}", r.unwrap_or_default()))
                .collect();
        }
    }
    (0..txs.len())
        .map(|n| {
            if n == 0 {
                entry_id.to_owned()
            } else {
                format!("{entry_id}/{}", n + 1)
            }
        })
        .collect()
}

fn direction(s: &str) -> Result<Direction, String> {
    match s {
        "CRDT" => Ok(Direction::Credit),
        "DBIT" => Ok(Direction::Debit),
        other => Err(format!("{other:?} is neither CRDT nor DBIT")),
    }
}

/// `2024-05-31`, or the day of `2024-05-31T10:00:00+02:00` as written. Read by hand: a
/// statement has a date or two per entry, and a format string is parsed anew each call.
fn date(s: &str) -> Result<Day, String> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| {
        b.get(r)
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .map(|d| d.iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0')))
    };
    let shaped = b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && (b.len() == 10 || b.get(10) == Some(&b'T'));
    match (shaped, num(0..4), num(5..7), num(8..10)) {
        (true, Some(y), Some(m), Some(d)) => i32::try_from(y)
            .ok()
            .and_then(|y| super::day(y, m, d))
            .ok_or_else(|| format!("{s:?} is not a date that exists")),
        _ => Err(format!("{s:?} is not a date such as 2024-05-31")),
    }
}

/// A bank reference, `None` when empty or the placeholder `NONREF`.
fn reference(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty() && s != "NONREF").then(|| s.to_owned())
}

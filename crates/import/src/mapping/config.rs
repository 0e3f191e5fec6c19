//! Reading a mapping file: TOML into a checked [`Mapping`](super::Mapping).
//!
//! The TOML is walked by hand rather than through serde so that every mistake (an unknown
//! key, a value of the wrong shape, an unknown kind, a bad template) is reported with the
//! mapping file and the exact key at fault, e.g. `event[2].ammount`.

use domain::Kind;
use toml::{Table, Value};

use super::template::{THREAD_SPECIALS, Template, parse_offset};
use super::{
    ColumnSpec, Condition, CsvSettings, Delimiter, EventSpec, Mapping, MappingError, Settings,
    ThreadSpec,
};

/// The fields each kind takes besides `id`, `person`, `at` and `source`.
pub(crate) fn kind_fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::PersonIdentified => &["name", "email", "phone", "language", "address_as", "org"],
        Kind::InvoiceIssued => &[
            "invoice",
            "amount",
            "currency",
            "due",
            "reference",
            "account",
        ],
        Kind::PaymentReceived => &["invoice", "amount", "currency", "matched", "account"],
        Kind::InvoiceCorrected => &["invoice", "amount", "currency"],
        Kind::InvoiceDisputed => &["invoice", "reason"],
        Kind::DisputeResolved => &["invoice", "outcome"],
        Kind::OrderPlaced | Kind::OrderReturned => &["order", "amount", "currency", "lines"],
        Kind::ContactOpened => &["contact", "channel", "topic", "text", "caused_by"],
        Kind::ContactAnswered => &["contact", "by", "text"],
        Kind::ContactClosed => &["contact", "resolved"],
        Kind::IncidentOccurred => &["incident", "what"],
        Kind::ApologyMade => &["incident", "text"],
        Kind::PromiseMade => &["promise", "due", "what"],
        Kind::PromiseKept => &["promise"],
        Kind::ReferralMade => &["referred"],
        Kind::ReviewGiven => &["score", "text"],
        Kind::OutreachSent => &["channel", "topic"],
        Kind::WishStated | Kind::NoteAdded => &["text"],
        Kind::MenuChosen => &["item", "option"],
        Kind::MenuProposed => &["item", "text"],
        Kind::ConsentGiven | Kind::ConsentWithdrawn => &["purpose", "how"],
        Kind::RelationshipEnded => &["reason"],
        Kind::ContractStarted => &["contract", "period", "plan", "amount", "currency"],
        Kind::ContractRenewed => &["contract"],
        Kind::ContractCancelled => &["contract", "reason"],
    }
}

const TOP_KEYS: &[&str] = &[
    "source",
    "currency",
    "date_format",
    "timezone",
    "yes",
    "no",
    "decimal_comma",
    "skip_when_empty",
    "csv",
    "columns",
    "event",
    "thread",
];
const THREAD_KEYS: &[&str] = &["message", "answers", "from_person", "person"];
const CSV_KEYS: &[&str] = &["delimiter", "header", "columns", "quote", "comment", "trim"];
const EVENT_KEYS: &[&str] = &[
    "kind",
    "when",
    "group",
    "skip_when_empty",
    "id",
    "person",
    "at",
    "source",
];
const LINE_KEYS: &[&str] = &["product", "qty", "unit_price"];
pub(crate) const CONDITIONS: &[&str] = &[
    "not_empty",
    "empty",
    "yes",
    "no",
    "equals",
    "starts_with",
    "not_starts_with",
    "has_column",
    "lacks_column",
];

/// Builds errors naming the mapping file.
pub(crate) struct Ctx<'a> {
    pub(crate) origin: &'a std::path::Path,
}

impl Ctx<'_> {
    pub(crate) fn err(&self, key: &str, message: impl Into<String>) -> MappingError {
        MappingError::Key {
            file: self.origin.to_owned(),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn string(&self, key: &str, v: &Value) -> Result<String, MappingError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(self.err(key, format!("must be a string, not {}", other.type_str()))),
        }
    }

    fn bool(&self, key: &str, v: &Value) -> Result<bool, MappingError> {
        match v {
            Value::Boolean(b) => Ok(*b),
            other => Err(self.err(
                key,
                format!("must be true or false, not {}", other.type_str()),
            )),
        }
    }

    /// A string or a list of strings.
    fn strings(&self, key: &str, v: &Value) -> Result<Vec<String>, MappingError> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.string(&format!("{key}[{i}]"), item))
                .collect(),
            other => Err(self.err(
                key,
                format!(
                    "must be a string or a list of strings, not {}",
                    other.type_str()
                ),
            )),
        }
    }

    fn table<'t>(&self, key: &str, v: &'t Value) -> Result<&'t Table, MappingError> {
        match v {
            Value::Table(t) => Ok(t),
            other => Err(self.err(key, format!("must be a table, not {}", other.type_str()))),
        }
    }

    fn known(&self, prefix: &str, t: &Table, keys: &[&str]) -> Result<(), MappingError> {
        for k in t.keys() {
            if !keys.contains(&k.as_str()) {
                return Err(self.err(
                    &join(prefix, k),
                    format!("unknown key (known here: {})", keys.join(", ")),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn template(&self, key: &str, text: &str) -> Result<Template, MappingError> {
        Template::parse(text).map_err(|m| self.err(key, format!("bad template {text:?}: {m}")))
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Parses a delimiter setting: one ASCII character, `\t`/`tab`, `whitespace`, or `auto`.
pub(crate) fn delimiter(ctx: &Ctx<'_>, key: &str, s: &str) -> Result<Delimiter, MappingError> {
    match s {
        "whitespace" => return Ok(Delimiter::Whitespace),
        "auto" => return Ok(Delimiter::Auto),
        "\\t" | "tab" | "\t" => return Ok(Delimiter::Byte(b'\t')),
        _ => {}
    }
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii() => Ok(Delimiter::Byte(c as u8)),
        _ => Err(ctx.err(
            key,
            format!("{s:?} is not one ASCII character, \"\\t\", \"whitespace\" or \"auto\""),
        )),
    }
}

pub(crate) fn quote(ctx: &Ctx<'_>, key: &str, s: &str) -> Result<Option<u8>, MappingError> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(None),
        (Some(c), None) if c.is_ascii() => Ok(Some(c as u8)),
        _ => Err(ctx.err(
            key,
            format!("{s:?} is not one ASCII character (or \"\" for no quoting)"),
        )),
    }
}

pub(crate) fn timezone(
    ctx: &Ctx<'_>,
    key: &str,
    s: &str,
) -> Result<chrono::FixedOffset, MappingError> {
    parse_offset(s).ok_or_else(|| {
        ctx.err(
            key,
            format!("{s:?} is not an offset such as \"+01:00\" or \"UTC\""),
        )
    })
}

pub(crate) fn parse(text: &str, origin: &std::path::Path) -> Result<Mapping, MappingError> {
    let ctx = Ctx { origin };
    let root: Table = text
        .parse()
        .map_err(|e: toml::de::Error| MappingError::Toml {
            file: origin.to_owned(),
            message: e.to_string(),
        })?;
    ctx.known("", &root, TOP_KEYS)?;
    let mut settings = Settings::default();
    if let Some(v) = root.get("source") {
        settings.source = Some(ctx.string("source", v)?);
    }
    if let Some(v) = root.get("currency") {
        settings.currency = Some(ctx.string("currency", v)?);
    }
    if let Some(v) = root.get("date_format") {
        settings.date_formats = ctx.strings("date_format", v)?;
    }
    if let Some(v) = root.get("timezone") {
        settings.timezone = timezone(&ctx, "timezone", &ctx.string("timezone", v)?)?;
    }
    if let Some(v) = root.get("yes") {
        settings.yes = ctx.strings("yes", v)?;
    }
    if let Some(v) = root.get("no") {
        settings.no = ctx.strings("no", v)?;
    }
    if let Some(v) = root.get("decimal_comma") {
        settings.decimal_comma = ctx.bool("decimal_comma", v)?;
    }
    if let Some(v) = root.get("skip_when_empty") {
        settings.skip_when_empty = ctx.strings("skip_when_empty", v)?;
    }

    let mut csv = CsvSettings::default();
    if let Some(v) = root.get("csv") {
        let t = ctx.table("csv", v)?;
        ctx.known("csv", t, CSV_KEYS)?;
        if let Some(v) = t.get("delimiter") {
            csv.delimiter = delimiter(&ctx, "csv.delimiter", &ctx.string("csv.delimiter", v)?)?;
        }
        if let Some(v) = t.get("header") {
            csv.header = Some(ctx.bool("csv.header", v)?);
        }
        if let Some(v) = t.get("columns") {
            csv.columns = Some(ctx.strings("csv.columns", v)?);
        }
        if let Some(v) = t.get("quote") {
            csv.quote = quote(&ctx, "csv.quote", &ctx.string("csv.quote", v)?)?;
        }
        if let Some(v) = t.get("comment") {
            let c = ctx.string("csv.comment", v)?;
            csv.comment = (!c.is_empty()).then_some(c);
        }
        if let Some(v) = t.get("trim") {
            csv.trim = ctx.bool("csv.trim", v)?;
        }
    }

    let mut columns = Vec::new();
    if let Some(v) = root.get("columns") {
        let t = ctx.table("columns", v)?;
        for (name, v) in t {
            let key = format!("columns.{name}");
            let spec = match v {
                Value::Table(t) => {
                    ctx.known(&key, t, &["any", "optional"])?;
                    let any = t
                        .get("any")
                        .ok_or_else(|| ctx.err(&key, "needs `any = [\"Column\", …]`"))?;
                    let optional = t
                        .get("optional")
                        .map(|v| ctx.bool(&format!("{key}.optional"), v))
                        .transpose()?;
                    ColumnSpec {
                        candidates: ctx.strings(&format!("{key}.any"), any)?,
                        optional: optional.unwrap_or(false),
                    }
                }
                other => ColumnSpec {
                    candidates: ctx.strings(&key, other)?,
                    optional: false,
                },
            };
            if spec.candidates.is_empty() {
                return Err(ctx.err(&key, "names no column"));
            }
            columns.push((name.clone(), spec));
        }
    }

    let mut events = Vec::new();
    match root.get("event") {
        None => return Err(ctx.err("event", "a mapping needs at least one [[event]] table")),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let key = format!("event[{i}]");
                events.push(event(&ctx, &key, ctx.table(&key, item)?)?);
            }
        }
        Some(other) => {
            return Err(ctx.err(
                "event",
                format!("must be [[event]] tables, not {}", other.type_str()),
            ));
        }
    }
    if events.is_empty() {
        return Err(ctx.err("event", "a mapping needs at least one [[event]] table"));
    }
    let thread = root
        .get("thread")
        .map(|v| thread(&ctx, ctx.table("thread", v)?))
        .transpose()?;
    if thread.is_none() {
        for e in &events {
            if let Some(n) = e.names().find(|n| THREAD_SPECIALS.contains(n)) {
                return Err(ctx.err(
                    &e.key,
                    format!("`{{{n}}}` is found through reply chains: it needs a [thread] table (see docs/mapping.md)"),
                ));
            }
        }
    }
    Ok(Mapping {
        origin: origin.to_owned(),
        csv,
        columns,
        settings,
        events,
        thread,
        defect: None,
    })
}

fn thread(ctx: &Ctx<'_>, t: &Table) -> Result<ThreadSpec, MappingError> {
    ctx.known("thread", t, THREAD_KEYS)?;
    let get = |k: &str| {
        let key = format!("thread.{k}");
        let v = t.get(k).ok_or_else(|| {
            ctx.err(
                &key,
                "is missing (a [thread] needs message, answers, from_person and person)",
            )
        })?;
        ctx.string(&key, v)
    };
    let template = |k: &str| -> Result<Template, MappingError> {
        let key = format!("thread.{k}");
        let t = ctx.template(&key, &get(k)?)?;
        match t.names().into_iter().find(|n| THREAD_SPECIALS.contains(n)) {
            Some(n) => Err(ctx.err(
                &key,
                format!("`{{{n}}}` is what the [thread] finds; it cannot be read to find it"),
            )),
            None => Ok(t),
        }
    };
    let from_person = get("from_person")?.trim().to_owned();
    if from_person.is_empty() || THREAD_SPECIALS.contains(&from_person.as_str()) {
        return Err(ctx.err(
            "thread.from_person",
            "must name the column whose yes/no says whether the person wrote the message",
        ));
    }
    Ok(ThreadSpec {
        message: template("message")?,
        answers: template("answers")?,
        from_person,
        person: template("person")?,
    })
}

fn event(ctx: &Ctx<'_>, key: &str, t: &Table) -> Result<EventSpec, MappingError> {
    let kind_key = format!("{key}.kind");
    let kind_text = ctx.string(
        &kind_key,
        t.get("kind")
            .ok_or_else(|| ctx.err(&kind_key, "is missing"))?,
    )?;
    let kind = Kind::parse(kind_text.trim()).ok_or_else(|| {
        ctx.err(
            &kind_key,
            format!(
                "unknown kind {kind_text:?} (kinds: {})",
                Kind::ALL.map(|k| k.as_str()).join(", ")
            ),
        )
    })?;
    let own = kind_fields(kind);
    for k in t.keys() {
        if !EVENT_KEYS.contains(&k.as_str()) && !own.contains(&k.as_str()) {
            return Err(ctx.err(
                &format!("{key}.{k}"),
                format!(
                    "unknown key: {kind} takes {}; every event takes id, person, at, source, when, group, skip_when_empty",
                    own.join(", ")
                ),
            ));
        }
    }
    let mut fields = Vec::new();
    let mut lines = Vec::new();
    for (k, v) in t {
        let fkey = format!("{key}.{k}");
        match k.as_str() {
            "kind" | "when" | "group" | "skip_when_empty" => {}
            "lines" => {
                let Value::Array(items) = v else {
                    return Err(ctx.err(&fkey, "must be a list of tables like { product = \"{Sku}\", qty = \"{Qty}\", unit_price = \"{Price}\" }"));
                };
                for (j, item) in items.iter().enumerate() {
                    let lkey = format!("{fkey}[{j}]");
                    let lt = ctx.table(&lkey, item)?;
                    ctx.known(&lkey, lt, LINE_KEYS)?;
                    let mut line = Vec::new();
                    for (lk, lv) in lt {
                        let k2 = format!("{lkey}.{lk}");
                        line.push((lk.clone(), ctx.template(&k2, &ctx.string(&k2, lv)?)?));
                    }
                    lines.push(line);
                }
            }
            _ => {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Integer(n) => n.to_string(),
                    Value::Boolean(b) => b.to_string(),
                    other => {
                        return Err(ctx.err(
                            &fkey,
                            format!("must be a template string, not {}", other.type_str()),
                        ));
                    }
                };
                fields.push((k.clone(), ctx.template(&fkey, &text)?));
            }
        }
    }
    for required in ["id", "person", "at"] {
        if !fields.iter().any(|(k, _)| k == required) {
            return Err(ctx.err(
                &format!("{key}.{required}"),
                "is missing (every event needs id, person and at)",
            ));
        }
    }
    let when = match t.get("when") {
        None => Vec::new(),
        Some(Value::Array(items)) => {
            let mut all = Vec::new();
            for (j, item) in items.iter().enumerate() {
                let wkey = format!("{key}.when[{j}]");
                all.extend(conditions(ctx, &wkey, ctx.table(&wkey, item)?)?);
            }
            all
        }
        Some(Value::Table(wt)) => conditions(ctx, &format!("{key}.when"), wt)?,
        Some(other) => {
            return Err(ctx.err(
                &format!("{key}.when"),
                format!(
                    "must be a table or a list of tables, not {}",
                    other.type_str()
                ),
            ));
        }
    };
    let group = t
        .get("group")
        .map(|v| {
            let gkey = format!("{key}.group");
            ctx.template(&gkey, &ctx.string(&gkey, v)?)
        })
        .transpose()?;
    let skip_when_empty = t
        .get("skip_when_empty")
        .map(|v| ctx.strings(&format!("{key}.skip_when_empty"), v))
        .transpose()?
        .unwrap_or_default();
    Ok(EventSpec {
        key: key.to_owned(),
        kind,
        fields,
        lines,
        when,
        group,
        skip_when_empty,
    })
}

fn conditions(ctx: &Ctx<'_>, key: &str, t: &Table) -> Result<Vec<Condition>, MappingError> {
    let mut out = Vec::new();
    for (name, v) in t {
        let ckey = format!("{key}.{name}");
        let single = || ctx.string(&ckey, v);
        let pair = || -> Result<(String, Vec<String>), MappingError> {
            let items = ctx.strings(&ckey, v)?;
            match items.split_first() {
                Some((col, values)) if !values.is_empty() => Ok((col.clone(), values.to_vec())),
                _ => Err(ctx.err(&ckey, "must be a list: the column, then one or more values, as in [\"Direction\", \"in\"]")),
            }
        };
        out.push(match name.as_str() {
            "not_empty" => Condition::NotEmpty(single()?),
            "empty" => Condition::Empty(single()?),
            "yes" => Condition::Yes(single()?),
            "no" => Condition::No(single()?),
            "has_column" => Condition::HasColumn(single()?),
            "lacks_column" => Condition::LacksColumn(single()?),
            "equals" => {
                let (c, v) = pair()?;
                Condition::Equals(c, v)
            }
            "starts_with" => {
                let (c, v) = pair()?;
                Condition::StartsWith(c, v)
            }
            "not_starts_with" => {
                let (c, v) = pair()?;
                Condition::NotStartsWith(c, v)
            }
            _ => {
                return Err(ctx.err(
                    &ckey,
                    format!("unknown condition (conditions: {})", CONDITIONS.join(", ")),
                ));
            }
        });
    }
    Ok(out)
}

//! The person's own side: a signed link to their own page, whether they may be contacted,
//! being forgotten, and coming back.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::readings::{Recorded, Verdict};
use domain::{Body, PersonId, Timestamp};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{App, AppError, Audit};

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    Malformed,
    Forged,
    Expired,
}

fn mac(secret: &[u8; 32], parts: &[&str]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    for p in parts {
        m.update(p.as_bytes());
        m.update(b"\n");
    }
    m
}

/// A link for `person`, valid until `expires`, signed with `secret`.
pub fn make_link(secret: &[u8; 32], person: &PersonId, expires: Timestamp) -> String {
    let p = URL_SAFE_NO_PAD.encode(person.as_str());
    let e = expires.unix().to_string();
    let sig = mac(secret, &["link", person.as_str(), &e])
        .finalize()
        .into_bytes();
    format!("{p}.{e}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The person a link is for, if its signature holds and it has not expired at `now`.
pub fn verify_link(
    secret: &[u8; 32],
    link: &str,
    now: Timestamp,
) -> Result<(PersonId, Timestamp), LinkError> {
    let mut parts = link.split('.');
    let (Some(p), Some(e), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LinkError::Malformed);
    };
    let person = URL_SAFE_NO_PAD
        .decode(p)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| PersonId::parse(&s).ok())
        .ok_or(LinkError::Malformed)?;
    let expires = e.parse::<i64>().map_err(|_| LinkError::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| LinkError::Malformed)?;
    mac(secret, &["link", person.as_str(), e])
        .verify_slice(&sig)
        .map_err(|_| LinkError::Forged)?;
    let expires = Timestamp::from_unix(expires);
    if expires <= now {
        return Err(LinkError::Expired);
    }
    Ok((person, expires))
}

/// The anti-forgery token of a link's forms, signed with the same secret as the link.
pub fn link_csrf(secret: &[u8; 32], link: &str) -> String {
    let out = mac(secret, &["csrf", link]).finalize().into_bytes();
    URL_SAFE_NO_PAD.encode(&out[..16])
}

/// Longest channel or topic a may-contact question takes, in characters.
pub const MAX_CONTACT_WORD: usize = 200;

/// A channel or topic as a may-contact question takes it, as events' labels are read:
/// surrounding white space dropped, then not empty and without control characters; at most
/// [`MAX_CONTACT_WORD`] characters (counted before trimming). Every face checks the same way,
/// and the OpenAPI document says the same.
pub fn contact_word(value: &str) -> Result<&str, String> {
    if value.chars().count() > MAX_CONTACT_WORD {
        return Err(format!("at most {MAX_CONTACT_WORD} characters"));
    }
    match value.trim() {
        "" => Err("is empty: give a word such as email or newsletter".to_owned()),
        word if word.chars().any(char::is_control) => {
            Err("contains a control character".to_owned())
        }
        word => Ok(word),
    }
}

/// The purposes found in `events`: each outreach's topic and each purpose consent was given or
/// withdrawn for, in lower case (as purposes are compared). `all` and `contact` are left out:
/// they only widen a withdrawal, no outreach is about them.
pub fn purposes_of<'a>(events: impl IntoIterator<Item = &'a Recorded>) -> BTreeSet<String> {
    events
        .into_iter()
        .filter_map(|e| match &e.body {
            Body::OutreachSent { topic: Some(t), .. } => Some(t.as_str()),
            Body::ConsentGiven { purpose, .. } | Body::ConsentWithdrawn { purpose, .. } => {
                Some(purpose.as_str())
            }
            _ => None,
        })
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty() && p != "all" && p != "contact")
        .collect()
}

/// The answer to "may we contact this person now, on this channel, about this topic?"
pub struct MayContact {
    pub yes: bool,
    /// As JSON, the way the API and `--json` give it: `may_contact`, `reason`, `decided_by`.
    pub json: Value,
}

impl App {
    /// A link to `person`'s own page, valid for `days` days (1 to 366).
    pub fn own_link(&self, person: &PersonId, days: i64) -> Result<(String, Timestamp), AppError> {
        if !(1..=366).contains(&days) {
            return Err(AppError::invalid(
                "valid",
                format!("{days}: give 1 to 366 days"),
            ));
        }
        if self.ledger.events_of(person)?.is_none() {
            return Err(AppError::NoPerson {
                person: person.to_string(),
                ledger: self.describe(),
            });
        }
        let expires = Timestamp::now().plus_days(days);
        Ok((make_link(&self.secret("links"), person, expires), expires))
    }

    /// Whether `person` may be contacted at `now` on `channel` about `topic`: the answer, its
    /// reason and the event that decided it. Only public fields are read; the ledger's opt-in
    /// purposes are read on every call, so a change applies at once.
    pub fn may_contact(
        &self,
        person: &PersonId,
        channel: &str,
        topic: Option<&str>,
        now: Timestamp,
    ) -> Result<MayContact, AppError> {
        let channel = contact_word(channel).map_err(|m| AppError::invalid("channel", m))?;
        let topic = topic
            .map(|t| contact_word(t).map_err(|m| AppError::invalid("topic", m)))
            .transpose()?;
        let Some(events) = self.ledger.events_of(person)? else {
            return Err(AppError::NoPerson {
                person: person.to_string(),
                ledger: self.describe(),
            });
        };
        let opt_in = self.opt_in()?;
        let verdict =
            domain::readings::choices_at(&events, now).check(now, channel, topic, &opt_in);
        let (may, reason, decided) = match verdict {
            Verdict::Yes {
                decided_by: Some(seq),
            } => (true, "chosen", Some(seq)),
            Verdict::Yes { decided_by: None } => (true, "no choice against it", None),
            Verdict::No { reason, decided_by } => (false, reason.words(), decided_by),
        };
        let decided_by = match decided {
            None => Value::Null,
            Some(seq) => {
                let e = events.iter().find(|e| e.seq == seq);
                let ids = self.ledger.event_id(person, seq)?;
                json!({
                    "source": ids.as_ref().map(|i| i.0.clone()),
                    "id": ids.as_ref().map(|i| i.1.clone()),
                    "kind": e.map(|e| e.body.kind().as_str()),
                    "at": e.map(|e| e.at.to_rfc3339()),
                })
            }
        };
        Ok(MayContact {
            yes: may,
            json: json!({
                "person": person.as_str(),
                "channel": channel,
                "topic": topic,
                "may_contact": may,
                "reason": reason,
                "decided_by": decided_by,
                "as_of": now.to_rfc3339(),
            }),
        })
    }

    /// Every purpose the business uses: those that need consent first (the ledger's opt-in
    /// setting) and those found in anyone's events ([`purposes_of`]), so a person's own page
    /// can offer a say in each, not only in those already on their record. It reads every
    /// person's public events once (a web server keeps the answer and adds to it as people
    /// are written to).
    pub fn purposes_in_use(&self) -> Result<BTreeSet<String>, AppError> {
        let found = std::sync::Mutex::new(BTreeSet::new());
        self.ledger.visit_events(&|_, events| {
            let theirs = purposes_of(events);
            if !theirs.is_empty()
                && let Ok(mut all) = found.lock()
            {
                all.extend(theirs);
            }
        })?;
        let mut found = found.into_inner().unwrap_or_default();
        found.extend(self.opt_in()?.purposes().map(str::to_owned));
        Ok(found)
    }

    /// Forgets `person` for good (see `store::PersonData::forget`) and records that it
    /// happened, without recording who it was.
    pub fn forget(
        &self,
        person: &PersonId,
        actor: &str,
        audit: &dyn Audit,
    ) -> Result<store::Forgotten, AppError> {
        let done = self
            .ledger
            .forget(person)?
            .ok_or_else(|| AppError::NoPerson {
                person: person.to_string(),
                ledger: self.describe(),
            })?;
        audit.record(actor, "person.forget", None)?;
        Ok(done)
    }

    /// Accepts events again for a forgotten person who came back and asked to be known again
    /// (as a new person: nothing of the old history returns).
    pub fn welcome_back(&self, person: &PersonId, actor: &str) -> Result<(), AppError> {
        if self.ledger.events_of(person)?.is_some() {
            return Err(AppError::Refused(format!(
                "{person} is in the ledger already: only someone who was forgotten can be \
                 welcomed back"
            )));
        }
        if !self.ledger.welcome_back(person)? {
            return Err(AppError::Refused(format!(
                "{person} was never forgotten in {}: their events import as they are",
                self.describe()
            )));
        }
        self.ledger.audit(actor, "person.welcome_back", None)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_or_topic_is_trimmed_and_blank_control_or_long_ones_are_refused() {
        let long = "x".repeat(MAX_CONTACT_WORD + 1);
        let widest = "é".repeat(MAX_CONTACT_WORD);
        let cases: &[(&str, Option<&str>)] = &[
            ("email", Some("email")),
            ("  E-mail ", Some("E-mail")),
            (&widest, Some(&widest)),
            ("", None),
            ("   ", None),
            ("\u{3000}\u{a0}", None),
            ("e\tmail", None),
            ("email\t\n", Some("email")),
            ("em\u{85}ail", None),
            (&long, None),
        ];
        for (value, expected) in cases {
            assert_eq!(contact_word(value).ok(), *expected, "{value:?}");
        }
    }

    #[test]
    fn the_purposes_in_events_are_outreach_topics_and_consents_but_not_all_or_contact() {
        let at = Timestamp::parse("2025-01-01T00:00:00Z").unwrap();
        let events: Vec<Recorded> = [
            json!({"kind": "outreach.sent", "channel": "email", "topic": "Offers"}),
            json!({"kind": "outreach.sent", "channel": "post"}),
            json!({"kind": "consent.given", "purpose": "surveys"}),
            json!({"kind": "consent.withdrawn", "purpose": "offers"}),
            json!({"kind": "consent.withdrawn", "purpose": "contact"}),
            json!({"kind": "consent.withdrawn", "purpose": "ALL"}),
            json!({"kind": "wish.stated", "text": "tea"}),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, mut v)| {
            v["source"] = "t".into();
            v["id"] = format!("e{i}").into();
            v["person"] = "P-1".into();
            v["at"] = at.to_rfc3339().into();
            let e = domain::NewEvent::from_json(v.as_object().unwrap()).unwrap();
            Recorded {
                seq: i as i64,
                at: e.at,
                body: e.body,
            }
        })
        .collect();
        let found: Vec<String> = purposes_of(&events).into_iter().collect();
        assert_eq!(found, ["offers", "surveys"]);
    }

    #[test]
    fn a_link_verifies_for_its_person_until_it_expires_and_not_when_altered() {
        let k = [3u8; 32];
        let p = PersonId::parse("P-1").unwrap();
        let now = Timestamp::parse("2025-01-01T00:00:00Z").unwrap();
        let link = make_link(&k, &p, now.plus_days(1));
        assert_eq!(verify_link(&k, &link, now).unwrap().0, p);
        assert_eq!(
            verify_link(&k, &link, now.plus_days(2)),
            Err(LinkError::Expired)
        );
        let other = URL_SAFE_NO_PAD.encode("P-2");
        let parts: Vec<&str> = link.split('.').collect();
        let swapped = format!("{other}.{}.{}", parts[1], parts[2]);
        assert_eq!(verify_link(&k, &swapped, now), Err(LinkError::Forged));
        let later = format!("{}.{}.{}", parts[0], now.plus_days(99).unix(), parts[2]);
        assert_eq!(verify_link(&k, &later, now), Err(LinkError::Forged));
        assert_eq!(verify_link(&[4u8; 32], &link, now), Err(LinkError::Forged));
        assert_eq!(verify_link(&k, "nonsense", now), Err(LinkError::Malformed));
    }
}

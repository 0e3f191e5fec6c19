//! respects choices — whether the business's outreach kept to what the person chose.
//!
//! The person's choices are events: `consent.given` / `consent.withdrawn` per purpose, and
//! `menu.chosen` for the menu items that govern contact. Which items those are is a
//! convention, written in docs/readings.md:
//!
//! - channels: `channel` = an option (that one channel is chosen), or `channel.<name>` =
//!   yes/no (each channel on or off; several may be on);
//! - topics: `topic.<name>` = no (declined) or yes;
//! - frequency: `frequency` = daily, weekly, fortnightly, monthly, quarterly, yearly, never,
//!   or `N-per-day|week|month|quarter|year`;
//! - consent: the purpose of an outreach is its topic; consent withdrawn for `contact` or
//!   `all` covers every purpose.
//!
//! Some purposes are opt-in ([`OptIn`]: marketing and newsletters unless the business says
//! otherwise): outreach about them needs a `consent.given` for that very purpose, in force
//! at its moment. Every other purpose is opt-out: allowed until the person says no.
//!
//! The same state and the same rules answer "may we contact this person now?"
//! ([`Choices::check`]), so the reading and the check can never disagree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::LazyLock;

use serde::Serialize;

use super::{Recorded, Trend, Window};
use crate::event::Body;
use crate::values::Timestamp;

/// The purposes the business may contact people about only after they said yes (opt-in).
/// Outreach for one of them needs a `consent.given` for that purpose, in force at its moment;
/// consent for `all` or `contact` does not stand in for it (consent must name what it is
/// for). Every other purpose is opt-out. Purposes are compared ignoring ASCII case, as
/// consents are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptIn(BTreeSet<String>);

/// Why a list of opt-in purposes was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptInError {
    #[error("purpose {purpose:?}: {reason}")]
    Purpose { purpose: String, reason: String },
    #[error("give the purposes separated by commas (e.g. newsletter,marketing), or none")]
    Empty,
}

impl OptIn {
    /// The purposes that need opt-in unless the business changes them.
    pub const DEFAULT: [&str; 2] = ["marketing", "newsletter"];
    /// How "no purpose needs opt-in" is written.
    pub const NONE: &str = "none";

    /// The default set ([`OptIn::DEFAULT`]).
    pub fn standard() -> &'static OptIn {
        static STANDARD: LazyLock<OptIn> =
            LazyLock::new(|| OptIn(OptIn::DEFAULT.iter().map(|p| p.to_string()).collect()));
        &STANDARD
    }

    /// Reads a list as the command line takes it and the ledger keeps it: purposes separated
    /// by commas (`newsletter, marketing`), or `none`. Each purpose is a label as in
    /// `consent.given`; `all` and `contact` are refused, because an outreach is never about
    /// them (they only widen a withdrawal).
    pub fn parse(text: &str) -> Result<OptIn, OptInError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case(OptIn::NONE) {
            return Ok(OptIn(BTreeSet::new()));
        }
        let mut set = BTreeSet::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let refuse = |reason: &str| OptInError::Purpose {
                purpose: part.to_owned(),
                reason: reason.to_owned(),
            };
            let label = crate::values::Label::parse(part).map_err(|e| refuse(&e.0))?;
            let purpose = label.as_str().to_ascii_lowercase();
            if purpose == "all" || purpose == "contact" {
                return Err(refuse(
                    "stands for every purpose when consent is withdrawn; name the purposes",
                ));
            }
            set.insert(purpose);
        }
        if set.is_empty() {
            return Err(OptInError::Empty);
        }
        Ok(OptIn(set))
    }

    /// Whether outreach about `purpose` needs the person's consent first.
    pub fn needs(&self, purpose: &str) -> bool {
        self.0.contains(&purpose.trim().to_ascii_lowercase())
    }

    /// The purposes, in order.
    pub fn purposes(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl Default for OptIn {
    fn default() -> Self {
        OptIn::standard().clone()
    }
}

/// As [`OptIn::parse`] reads it: `marketing,newsletter`, or `none`.
impl fmt::Display for OptIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(OptIn::NONE);
        }
        let list: Vec<&str> = self.purposes().collect();
        f.write_str(&list.join(","))
    }
}

/// Why an outreach conflicts (or a contact would).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    ConsentWithdrawn,
    /// An opt-in purpose without the person's consent.
    NoConsent,
    ChannelNotChosen,
    ChannelDeclined,
    TopicDeclined,
    FrequencyReached,
}

impl Reason {
    pub fn words(self) -> &'static str {
        match self {
            Reason::ConsentWithdrawn => "consent withdrawn",
            Reason::NoConsent => "no consent given",
            Reason::ChannelNotChosen => "channel not chosen",
            Reason::ChannelDeclined => "channel declined",
            Reason::TopicDeclined => "topic declined",
            Reason::FrequencyReached => "frequency reached",
        }
    }
}

/// The answer to "may we contact this person on this channel about this topic?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Yes; `decided_by` is the choice that allows it explicitly, if any.
    Yes { decided_by: Option<i64> },
    /// No; `decided_by` is the choice it would go against, or `None` when nothing the
    /// person did allows it (an opt-in purpose without consent).
    No {
        reason: Reason,
        decided_by: Option<i64>,
    },
}

/// A contact frequency: at most `max` outreach within `days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frequency {
    pub max: u32,
    pub days: i64,
}

impl Frequency {
    pub fn parse(option: &str) -> Option<Frequency> {
        let o = option.trim().to_ascii_lowercase();
        let per = |max: u32, days: i64| Some(Frequency { max, days });
        match o.as_str() {
            "daily" => return per(1, 1),
            "weekly" => return per(1, 7),
            "fortnightly" | "biweekly" => return per(1, 14),
            "monthly" => return per(1, 30),
            "quarterly" => return per(1, 91),
            "yearly" | "annually" => return per(1, 365),
            "never" | "none" | "no" => return per(0, 365),
            _ => {}
        }
        let (n, unit) = o.split_once("-per-")?;
        let n: u32 = n.parse().ok()?;
        let days = match unit {
            "day" => 1,
            "week" => 7,
            "month" => 30,
            "quarter" => 91,
            "year" => 365,
            _ => return None,
        };
        per(n, days)
    }
}

fn yes(option: &str) -> Option<bool> {
    match option.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" | "chosen" | "y" => Some(true),
        "no" | "false" | "off" | "0" | "never" | "declined" | "n" | "none" => Some(false),
        _ => None,
    }
}

/// The person's contact choices at a moment, built by applying their events in time order.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// Purpose → (given, event).
    consents: BTreeMap<String, (bool, i64)>,
    /// Channel → (chosen, event), from `channel.<name>` items.
    channels: BTreeMap<String, (bool, i64)>,
    /// The one channel chosen with the `channel` item, if that was the latest channel choice.
    only_channel: Option<(String, i64)>,
    /// Topic → (wanted, event).
    topics: BTreeMap<String, (bool, i64)>,
    frequency: Option<(Frequency, i64)>,
    /// Moments of outreach so far (for frequency).
    outreach: Vec<Timestamp>,
}

impl Choices {
    /// Applies one event (in time order).
    pub fn apply(&mut self, e: &Recorded) {
        match &e.body {
            Body::ConsentGiven { purpose, .. } => {
                self.consents
                    .insert(purpose.as_str().to_ascii_lowercase(), (true, e.seq));
            }
            Body::ConsentWithdrawn { purpose, .. } => {
                self.consents
                    .insert(purpose.as_str().to_ascii_lowercase(), (false, e.seq));
            }
            Body::MenuChosen { item, option } => {
                let item = item.as_str().to_ascii_lowercase();
                let option = option.as_str();
                if item == "channel" {
                    self.only_channel = Some((option.to_ascii_lowercase(), e.seq));
                    self.channels.clear();
                } else if let Some(channel) = item.strip_prefix("channel.") {
                    if let Some(on) = yes(option) {
                        self.only_channel = None;
                        self.channels.insert(channel.to_owned(), (on, e.seq));
                    }
                } else if let Some(topic) = item.strip_prefix("topic.") {
                    if let Some(on) = yes(option) {
                        self.topics.insert(topic.to_owned(), (on, e.seq));
                    }
                } else if item == "frequency"
                    && let Some(f) = Frequency::parse(option)
                {
                    self.frequency = Some((f, e.seq));
                }
            }
            Body::OutreachSent { .. } => self.outreach.push(e.at),
            _ => {}
        }
    }

    /// May the business contact the person at `at` on `channel` about `topic`, when the
    /// purposes in `opt_in` need consent first? Outreach already applied counts towards the
    /// frequency (the one being judged must not be). The checks run in the order of
    /// docs/readings.md and the first that applies is the reason.
    pub fn check(
        &self,
        at: Timestamp,
        channel: &str,
        topic: Option<&str>,
        opt_in: &OptIn,
    ) -> Verdict {
        let no = |reason, seq: &i64| Verdict::No {
            reason,
            decided_by: Some(*seq),
        };
        let channel = channel.trim().to_ascii_lowercase();
        let topic = topic.map(|t| t.trim().to_ascii_lowercase());
        for purpose in ["all", "contact"]
            .into_iter()
            .map(str::to_owned)
            .chain(topic.clone())
        {
            if let Some((false, seq)) = self.consents.get(&purpose) {
                return no(Reason::ConsentWithdrawn, seq);
            }
        }
        // An opt-in purpose: the consent for it is what allows the contact at all.
        let mut consented = None;
        if let Some(t) = topic.as_deref().filter(|t| opt_in.needs(t)) {
            match self.consents.get(t) {
                Some((true, seq)) => consented = Some(*seq),
                _ => {
                    return Verdict::No {
                        reason: Reason::NoConsent,
                        decided_by: None,
                    };
                }
            }
        }
        if let Some(t) = &topic
            && let Some((false, seq)) = self.topics.get(t)
        {
            return no(Reason::TopicDeclined, seq);
        }
        let mut allowed_by = None;
        if let Some((only, seq)) = &self.only_channel {
            if *only != channel {
                return no(Reason::ChannelNotChosen, seq);
            }
            allowed_by = Some(*seq);
        } else {
            match self.channels.get(&channel) {
                Some((false, seq)) => return no(Reason::ChannelDeclined, seq),
                Some((true, seq)) => allowed_by = Some(*seq),
                None => {
                    // Not chosen while choosing others.
                    if let Some((_, (_, seq))) = self.channels.iter().find(|(_, (on, _))| *on) {
                        return no(Reason::ChannelNotChosen, seq);
                    }
                }
            }
        }
        if let Some((f, seq)) = self.frequency {
            let since = at.plus_days(-f.days);
            let recent = self
                .outreach
                .iter()
                .filter(|t| **t > since && **t <= at)
                .count();
            if recent as u32 >= f.max {
                return no(Reason::FrequencyReached, &seq);
            }
        }
        if let Some(t) = &topic
            && let Some((true, seq)) = self.consents.get(t).or(self.topics.get(t))
        {
            allowed_by = allowed_by.or(Some(*seq));
        }
        Verdict::Yes {
            decided_by: consented.or(allowed_by),
        }
    }
}

/// One outreach that went against the person's choices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    /// The outreach (its ledger number).
    pub outreach: i64,
    pub at: Timestamp,
    pub channel: String,
    pub topic: Option<String>,
    pub reason: Reason,
    /// The person's choice it went against (its ledger number); `None` for an opt-in
    /// purpose without consent, where what is missing is a choice.
    pub choice: Option<i64>,
}

/// respects choices — outreach that kept to the person's choices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RespectsChoices {
    /// `outreach.sent` up to `T`.
    pub outreach: usize,
    /// Share of that outreach with no conflict.
    pub respected_share: f64,
    /// The outreach that conflicted, each with its reason and the choice it went against.
    pub conflicts: Vec<Conflict>,
    pub percentile: Option<f64>,
    pub trend: Option<Trend>,
    #[serde(skip)]
    pub evidence: Vec<i64>,
}

/// `since`: count only the outreach sent in the recent half of a trend. Every choice made
/// before it stays in force (a consent withdrawn years ago is still withdrawn), and earlier
/// outreach still counts towards the chosen frequency. `opt_in`: the purposes that need
/// consent first (the ledger's setting).
pub(super) fn respects_choices(
    events: &[Recorded],
    since: Window,
    opt_in: &OptIn,
) -> Option<RespectsChoices> {
    let mut choices = Choices::default();
    let mut outreach = 0;
    let mut conflicts = Vec::new();
    let mut evidence = Vec::new();
    for e in events {
        if let Body::OutreachSent { channel, topic } = &e.body
            && since.counts(e.at)
        {
            outreach += 1;
            evidence.push(e.seq);
            if let Verdict::No { reason, decided_by } = choices.check(
                e.at,
                channel.as_str(),
                topic.as_ref().map(|t| t.as_str()),
                opt_in,
            ) {
                evidence.extend(decided_by);
                conflicts.push(Conflict {
                    outreach: e.seq,
                    at: e.at,
                    channel: channel.to_string(),
                    topic: topic.as_ref().map(ToString::to_string),
                    reason,
                    choice: decided_by,
                });
            }
        }
        choices.apply(e);
    }
    if outreach == 0 {
        return None;
    }
    evidence.sort_unstable();
    evidence.dedup();
    Some(RespectsChoices {
        outreach,
        // Respected over all, as a share of whole counts: exactly 26/27, not 1 − 1/27.
        respected_share: (outreach - conflicts.len()) as f64 / outreach as f64,
        conflicts,
        percentile: None,
        trend: None,
        evidence,
    })
}

/// The person's choices as of `as_of` (events in time order), for [`Choices::check`].
pub fn choices_at(events: &[Recorded], as_of: Timestamp) -> Choices {
    let mut c = Choices::default();
    for e in events.iter().filter(|e| e.at <= as_of) {
        c.apply(e);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::NewEvent;

    fn events(list: &[serde_json::Value]) -> Vec<Recorded> {
        list.iter()
            .enumerate()
            .map(|(i, v)| {
                let mut v = v.clone();
                v["source"] = "t".into();
                v["id"] = format!("e{i}").into();
                v["person"] = "p".into();
                let e = NewEvent::from_json(v.as_object().unwrap()).unwrap();
                Recorded {
                    seq: i as i64 + 1,
                    at: e.at,
                    body: e.body,
                }
            })
            .collect()
    }

    fn out(at: &str, channel: &str, topic: &str) -> serde_json::Value {
        serde_json::json!({"kind":"outreach.sent","at":at,"channel":channel,"topic":topic})
    }

    fn chose(at: &str, item: &str, option: &str) -> serde_json::Value {
        serde_json::json!({"kind":"menu.chosen","at":at,"item":item,"option":option})
    }

    #[test]
    fn outreach_after_consent_is_withdrawn_conflicts_and_names_the_withdrawal() {
        let e = events(&[
            out("2024-01-01T00:00:00Z", "email", "newsletter"),
            serde_json::json!({"kind":"consent.withdrawn","at":"2024-02-01T00:00:00Z","purpose":"newsletter"}),
            out("2024-03-01T00:00:00Z", "email", "newsletter"),
            out("2024-03-02T00:00:00Z", "email", "offers"),
        ]);
        let r = respects_choices(&e, Window::ALL, &OptIn::parse("none").unwrap()).unwrap();
        assert_eq!(r.outreach, 3);
        assert_eq!(r.conflicts.len(), 1);
        assert_eq!(r.conflicts[0].reason, Reason::ConsentWithdrawn);
        assert_eq!(
            (r.conflicts[0].outreach, r.conflicts[0].choice),
            (3, Some(2))
        );
        assert_eq!(r.respected_share, 2.0 / 3.0);
    }

    #[test]
    fn a_channel_not_chosen_while_choosing_others_conflicts_but_no_choice_at_all_does_not() {
        let e = events(&[
            out("2024-01-01T00:00:00Z", "phone", "offers"),
            chose("2024-01-02T00:00:00Z", "channel.email", "yes"),
            out("2024-01-03T00:00:00Z", "phone", "offers"),
            out("2024-01-04T00:00:00Z", "email", "offers"),
            chose("2024-01-05T00:00:00Z", "channel", "post"),
            out("2024-01-06T00:00:00Z", "email", "offers"),
        ]);
        let r = respects_choices(&e, Window::ALL, OptIn::standard()).unwrap();
        let reasons: Vec<(i64, Reason)> =
            r.conflicts.iter().map(|c| (c.outreach, c.reason)).collect();
        assert_eq!(
            reasons,
            vec![(3, Reason::ChannelNotChosen), (6, Reason::ChannelNotChosen)]
        );
    }

    #[test]
    fn a_declined_topic_and_a_reached_frequency_conflict() {
        let e = events(&[
            chose("2024-01-01T00:00:00Z", "topic.offers", "no"),
            chose("2024-01-01T00:00:00Z", "frequency", "monthly"),
            out("2024-01-10T00:00:00Z", "email", "offers"),
            out("2024-01-11T00:00:00Z", "email", "news"),
            out("2024-01-20T00:00:00Z", "email", "news"),
            out("2024-02-25T00:00:00Z", "email", "news"),
        ]);
        let r = respects_choices(&e, Window::ALL, OptIn::standard()).unwrap();
        let reasons: Vec<(i64, Reason)> =
            r.conflicts.iter().map(|c| (c.outreach, c.reason)).collect();
        // The declined offer still counts as contact for the frequency.
        assert_eq!(
            reasons,
            vec![
                (3, Reason::TopicDeclined),
                (4, Reason::FrequencyReached),
                (5, Reason::FrequencyReached)
            ]
        );
    }

    #[test]
    fn the_check_answers_now_with_the_deciding_choice() {
        let e = events(&[
            chose("2024-01-01T00:00:00Z", "channel.email", "yes"),
            serde_json::json!({"kind":"consent.given","at":"2024-01-02T00:00:00Z","purpose":"offers"}),
        ]);
        let c = choices_at(&e, Timestamp::parse("2024-06-01T00:00:00Z").unwrap());
        let at = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
        let opt_in = OptIn::standard();
        assert_eq!(
            c.check(at, "email", Some("offers"), opt_in),
            Verdict::Yes {
                decided_by: Some(1)
            }
        );
        assert_eq!(
            c.check(at, "phone", Some("offers"), opt_in),
            Verdict::No {
                reason: Reason::ChannelNotChosen,
                decided_by: Some(1)
            }
        );
    }

    #[test]
    fn frequencies_are_read_from_words_and_counts() {
        assert_eq!(
            Frequency::parse("weekly"),
            Some(Frequency { max: 1, days: 7 })
        );
        assert_eq!(
            Frequency::parse("2-per-month"),
            Some(Frequency { max: 2, days: 30 })
        );
        assert_eq!(Frequency::parse("whenever"), None);
    }

    fn consent(at: &str, given: bool, purpose: &str) -> serde_json::Value {
        let kind = if given {
            "consent.given"
        } else {
            "consent.withdrawn"
        };
        serde_json::json!({"kind": kind, "at": at, "purpose": purpose})
    }

    #[test]
    fn a_newsletter_to_someone_who_never_opted_in_is_a_conflict_and_may_contact_says_no() {
        let e = events(&[out("2024-01-01T00:00:00Z", "email", "newsletter")]);
        let r = respects_choices(&e, Window::ALL, OptIn::standard()).unwrap();
        assert_eq!(r.conflicts.len(), 1);
        assert_eq!(r.conflicts[0].reason, Reason::NoConsent);
        assert_eq!(r.conflicts[0].choice, None, "no event of theirs allowed it");
        assert_eq!(r.respected_share, 0.0);
        let at = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
        assert_eq!(
            choices_at(&e, at).check(at, "email", Some("newsletter"), OptIn::standard()),
            Verdict::No {
                reason: Reason::NoConsent,
                decided_by: None
            }
        );
    }

    #[test]
    fn opt_in_purposes_need_consent_in_force_at_the_moment_of_the_outreach() {
        // (purpose, events before the outreach, conflict reason or none). Every case also
        // gives consent after the outreach: that never makes it right after the fact.
        let at = "2024-03-01T00:00:00Z";
        let cases: &[(&str, Vec<serde_json::Value>, Option<Reason>)] = &[
            ("newsletter", vec![], Some(Reason::NoConsent)),
            ("Marketing", vec![], Some(Reason::NoConsent)),
            ("offers", vec![], None),
            (
                "newsletter",
                vec![consent("2024-01-01T00:00:00Z", true, "newsletter")],
                None,
            ),
            (
                "newsletter",
                vec![consent("2024-01-01T00:00:00Z", true, "NEWSLETTER")],
                None,
            ),
            (
                "newsletter",
                vec![
                    consent("2024-01-01T00:00:00Z", true, "newsletter"),
                    consent("2024-02-01T00:00:00Z", false, "newsletter"),
                ],
                Some(Reason::ConsentWithdrawn),
            ),
            // Consent must name its purpose: consent for everything does not stand in.
            (
                "newsletter",
                vec![consent("2024-01-01T00:00:00Z", true, "all")],
                Some(Reason::NoConsent),
            ),
            (
                "newsletter",
                vec![consent("2024-01-01T00:00:00Z", true, "offers")],
                Some(Reason::NoConsent),
            ),
            // Choosing the topic on the menu is not consent to it.
            (
                "newsletter",
                vec![chose("2024-01-01T00:00:00Z", "topic.newsletter", "yes")],
                Some(Reason::NoConsent),
            ),
            // Withdrawn, then given again: in force.
            (
                "newsletter",
                vec![
                    consent("2024-01-01T00:00:00Z", false, "newsletter"),
                    consent("2024-02-01T00:00:00Z", true, "newsletter"),
                ],
                None,
            ),
        ];
        for (purpose, before, expected) in cases {
            let mut list = before.clone();
            list.push(out(at, "email", purpose));
            list.push(consent("2024-04-01T00:00:00Z", true, purpose));
            let r = respects_choices(&events(&list), Window::ALL, OptIn::standard()).unwrap();
            let got = r.conflicts.first().map(|c| c.reason);
            assert_eq!(got, *expected, "{purpose} after {before:?}");
        }
    }

    #[test]
    fn the_business_decides_which_purposes_are_opt_in() {
        let e = events(&[
            out("2024-01-01T00:00:00Z", "email", "newsletter"),
            out("2024-01-02T00:00:00Z", "email", "surveys"),
        ]);
        let reasons = |opt_in: &OptIn| -> Vec<i64> {
            respects_choices(&e, Window::ALL, opt_in)
                .unwrap()
                .conflicts
                .iter()
                .map(|c| c.outreach)
                .collect()
        };
        assert_eq!(reasons(OptIn::standard()), vec![1]);
        assert_eq!(reasons(&OptIn::parse("surveys").unwrap()), vec![2]);
        assert_eq!(reasons(&OptIn::parse("none").unwrap()), Vec::<i64>::new());
        assert_eq!(
            reasons(&OptIn::parse(" Surveys , newsletter,").unwrap()),
            vec![1, 2]
        );
    }

    #[test]
    fn a_list_of_opt_in_purposes_is_read_written_back_and_its_mistakes_named() {
        for (text, shown) in [
            ("newsletter,marketing", "marketing,newsletter"),
            (" Newsletter , , surveys ", "newsletter,surveys"),
            ("none", "none"),
            ("NONE", "none"),
        ] {
            let o = OptIn::parse(text).unwrap();
            assert_eq!(o.to_string(), shown, "{text:?}");
            assert_eq!(OptIn::parse(&o.to_string()).unwrap(), o);
        }
        assert_eq!(OptIn::standard().to_string(), "marketing,newsletter");
        assert_eq!(OptIn::default(), *OptIn::standard());
        assert_eq!(OptIn::parse(""), Err(OptInError::Empty));
        assert_eq!(OptIn::parse(" , "), Err(OptInError::Empty));
        for bad in ["all", "newsletter,contact", "news\u{7}letter"] {
            let e = OptIn::parse(bad).unwrap_err();
            assert!(matches!(e, OptInError::Purpose { .. }), "{bad:?}: {e}");
        }
    }
}

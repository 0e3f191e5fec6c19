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
//! The same state answers "may we contact this person now?" ([`Choices::check`]), so the
//! reading and the check can never disagree.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Recorded, Trend, Window};
use crate::event::Body;
use crate::values::Timestamp;

/// Why an outreach conflicts (or a contact would).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    ConsentWithdrawn,
    ChannelNotChosen,
    ChannelDeclined,
    TopicDeclined,
    FrequencyReached,
}

impl Reason {
    pub fn words(self) -> &'static str {
        match self {
            Reason::ConsentWithdrawn => "consent withdrawn",
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
    Yes {
        decided_by: Option<i64>,
    },
    No {
        reason: Reason,
        decided_by: i64,
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

    /// May the business contact the person at `at` on `channel` about `topic`? Outreach
    /// already applied counts towards the frequency (the one being judged must not be).
    pub fn check(&self, at: Timestamp, channel: &str, topic: Option<&str>) -> Verdict {
        let channel = channel.trim().to_ascii_lowercase();
        let topic = topic.map(|t| t.trim().to_ascii_lowercase());
        for purpose in ["all", "contact"]
            .into_iter()
            .map(str::to_owned)
            .chain(topic.clone())
        {
            if let Some((false, seq)) = self.consents.get(&purpose) {
                return Verdict::No {
                    reason: Reason::ConsentWithdrawn,
                    decided_by: *seq,
                };
            }
        }
        if let Some(t) = &topic
            && let Some((false, seq)) = self.topics.get(t)
        {
            return Verdict::No {
                reason: Reason::TopicDeclined,
                decided_by: *seq,
            };
        }
        let mut allowed_by = None;
        if let Some((only, seq)) = &self.only_channel {
            if *only != channel {
                return Verdict::No {
                    reason: Reason::ChannelNotChosen,
                    decided_by: *seq,
                };
            }
            allowed_by = Some(*seq);
        } else {
            match self.channels.get(&channel) {
                Some((false, seq)) => {
                    return Verdict::No {
                        reason: Reason::ChannelDeclined,
                        decided_by: *seq,
                    };
                }
                Some((true, seq)) => allowed_by = Some(*seq),
                None => {
                    // Not chosen while choosing others.
                    if let Some((_, (_, seq))) = self.channels.iter().find(|(_, (on, _))| *on) {
                        return Verdict::No {
                            reason: Reason::ChannelNotChosen,
                            decided_by: *seq,
                        };
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
                return Verdict::No {
                    reason: Reason::FrequencyReached,
                    decided_by: seq,
                };
            }
        }
        if let Some(t) = &topic
            && let Some((true, seq)) = self.consents.get(t).or(self.topics.get(t))
        {
            allowed_by = allowed_by.or(Some(*seq));
        }
        Verdict::Yes {
            decided_by: allowed_by,
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
    /// The person's choice it went against (its ledger number).
    pub choice: i64,
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
/// outreach still counts towards the chosen frequency.
pub(super) fn respects_choices(events: &[Recorded], since: Window) -> Option<RespectsChoices> {
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
            if let Verdict::No { reason, decided_by } =
                choices.check(e.at, channel.as_str(), topic.as_ref().map(|t| t.as_str()))
            {
                evidence.push(decided_by);
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
        let r = respects_choices(&e, Window::ALL).unwrap();
        assert_eq!(r.outreach, 3);
        assert_eq!(r.conflicts.len(), 1);
        assert_eq!(r.conflicts[0].reason, Reason::ConsentWithdrawn);
        assert_eq!((r.conflicts[0].outreach, r.conflicts[0].choice), (3, 2));
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
        let r = respects_choices(&e, Window::ALL).unwrap();
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
        let r = respects_choices(&e, Window::ALL).unwrap();
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
        assert_eq!(
            c.check(at, "email", Some("offers")),
            Verdict::Yes {
                decided_by: Some(1)
            }
        );
        assert_eq!(
            c.check(at, "phone", Some("offers")),
            Verdict::No {
                reason: Reason::ChannelNotChosen,
                decided_by: 1
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
}

//! What each figure is called where a person reads it.
//!
//! Field names (`punctuality.on_time_share`) are the JSON's and the API's; pages, charts and
//! the command line say what the figure is ("paid on time"). One table, so every face says the
//! same thing and a test can hold it to [`SORTABLE`](super::SORTABLE): a new field without
//! words fails the build's tests, not a user's screen.

/// Every sortable field, in [`SORTABLE`](super::SORTABLE) order, with its words: a short label
/// for a column or a list, and a longer one for a sort box or a tooltip.
pub const FIELD_WORDS: &[(&str, &str, &str)] = &[
    (
        "punctuality.on_time_share",
        "Paid on time",
        "Invoices paid on time (share)",
    ),
    (
        "punctuality.mean_days_late",
        "Days late",
        "Days late on average",
    ),
    (
        "punctuality.weighted_days_late",
        "Days late by amount",
        "Days late, weighted by amount",
    ),
    (
        "punctuality.open_overdue",
        "Overdue",
        "Overdue invoices still open",
    ),
    (
        "punctuality.invoices_due",
        "Invoices due",
        "Invoices that fell due",
    ),
    (
        "punctuality.unmatched_payments",
        "Unmatched payments",
        "Payments matching no invoice",
    ),
    (
        "punctuality.percentile",
        "Paying: standing",
        "Paying on time: standing among everyone",
    ),
    (
        "invoice_friction.disputed_share",
        "Invoices disputed",
        "Invoices disputed (share)",
    ),
    (
        "invoice_friction.friction_share",
        "Disputes not upheld",
        "Invoices disputed where the business was right (share)",
    ),
    ("invoice_friction.invoices", "Invoices", "Invoices issued"),
    (
        "invoice_friction.percentile",
        "Disputing: standing",
        "Disputing invoices: standing among everyone",
    ),
    (
        "service_load.contacts",
        "Contacts",
        "Contacts with the service desk",
    ),
    (
        "service_load.contacts_per_month",
        "Contacts a month",
        "Contacts with the service desk a month",
    ),
    (
        "service_load.caused_by_business",
        "Caused by us",
        "Contacts caused by the business's own mistakes",
    ),
    (
        "service_load.percentile",
        "Service load: standing",
        "Load on the service desk: standing among everyone",
    ),
    ("advocacy.referrals", "Referrals", "People they referred"),
    (
        "advocacy.referrals_active",
        "Referrals still active",
        "People they referred who still buy",
    ),
    (
        "advocacy.latest_review",
        "Latest review",
        "Their latest review's rating",
    ),
    (
        "advocacy.mean_review",
        "Mean review",
        "Their reviews' average rating",
    ),
    (
        "advocacy.percentile",
        "Recommending: standing",
        "Recommending us: standing among everyone",
    ),
    (
        "resilience.weathered_share",
        "Stayed after incidents",
        "Incidents after which they stayed (share)",
    ),
    (
        "resilience.incidents",
        "Incidents",
        "Incidents that touched them",
    ),
    (
        "resilience.with_apology",
        "Incidents with apology",
        "Incidents we apologised for",
    ),
    (
        "resilience.without_apology",
        "Incidents without apology",
        "Incidents we never apologised for",
    ),
    (
        "resilience.percentile",
        "Forgiving: standing",
        "Staying after incidents: standing among everyone",
    ),
    (
        "heard.answered_share",
        "Questions answered",
        "Their questions we answered (share)",
    ),
    ("heard.contacts", "Questions asked", "Questions they asked"),
    (
        "heard.first_answer_hours",
        "Hours to answer",
        "Hours until our first answer, on average",
    ),
    (
        "heard.open_questions",
        "Unanswered questions",
        "Questions still waiting for an answer",
    ),
    (
        "heard.percentile",
        "Heard: standing",
        "Being heard: standing among everyone",
    ),
    (
        "personal.scripted_share",
        "Answered by script",
        "Our answers to them that were scripts (share)",
    ),
    ("personal.answers", "Answers", "Answers we sent them"),
    (
        "personal.scripted",
        "Scripted answers",
        "Scripted answers we sent them",
    ),
    (
        "personal.percentile",
        "Scripts: standing",
        "Answered by script: standing among everyone",
    ),
    (
        "made_right.apologised_share",
        "Incidents apologised for",
        "Incidents we apologised for (share)",
    ),
    (
        "made_right.incidents",
        "Incidents to make right",
        "Incidents and upheld disputes to make right",
    ),
    (
        "made_right.hours_to_apology",
        "Hours to apology",
        "Hours until our apology, on average",
    ),
    (
        "made_right.upheld_disputes",
        "Disputes upheld",
        "Disputes where the business was wrong",
    ),
    (
        "made_right.percentile",
        "Made right: standing",
        "Made right after mistakes: standing among everyone",
    ),
    (
        "promises_kept.kept_share",
        "Promises kept",
        "Our promises to them kept on time (share)",
    ),
    (
        "promises_kept.due",
        "Promises due",
        "Our promises to them that fell due",
    ),
    (
        "promises_kept.percentile",
        "Promises: standing",
        "Promises kept: standing among everyone",
    ),
    (
        "respects_choices.respected_share",
        "Outreach within their choices",
        "Our outreach that respected their choices (share)",
    ),
    (
        "respects_choices.outreach",
        "Outreach",
        "Messages we sent them unasked",
    ),
    (
        "respects_choices.conflicts",
        "Outreach against their choices",
        "Outreach against their own choices",
    ),
    (
        "respects_choices.percentile",
        "Choices respected: standing",
        "Their choices respected: standing among everyone",
    ),
    (
        "loyalty.p_alive",
        "Likely still with us",
        "Likely still buying (chance)",
    ),
    (
        "loyalty.expected_purchases",
        "Expected purchases",
        "Purchases expected in the coming year",
    ),
    ("loyalty.purchases", "Purchases", "Purchases so far"),
    (
        "loyalty.frequency",
        "Repeat purchases",
        "Repeat purchases so far",
    ),
    (
        "loyalty.days_since_last",
        "Days since last",
        "Days since their last purchase",
    ),
    (
        "value.expected_spend",
        "Spend per purchase",
        "Expected spend per purchase",
    ),
    (
        "value.clv",
        "Expected value",
        "Expected value of the coming year",
    ),
];

/// The short label of a field (`reading.field`), or the field itself when it has none.
pub fn label(field: &str) -> &str {
    FIELD_WORDS
        .iter()
        .find(|(f, ..)| *f == field)
        .map_or(field, |(_, short, _)| short)
}

/// The longer description of a field, or the field itself when it has none.
pub fn describe(field: &str) -> &str {
    FIELD_WORDS
        .iter()
        .find(|(f, ..)| *f == field)
        .map_or(field, |(.., long)| long)
}

/// Whether a field is a share or a chance (0 to 1), shown as a percentage.
pub fn is_share(field: &str) -> bool {
    field.ends_with("_share") || field.ends_with("p_alive")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sortable_field_has_words_in_the_same_order() {
        let named: Vec<&str> = FIELD_WORDS.iter().map(|(f, ..)| *f).collect();
        assert_eq!(named, super::super::SORTABLE);
    }

    #[test]
    fn no_two_fields_share_a_label() {
        let mut labels: Vec<&str> = FIELD_WORDS.iter().map(|(_, l, _)| *l).collect();
        labels.sort_unstable();
        let n = labels.len();
        labels.dedup();
        assert_eq!(labels.len(), n);
    }

    #[test]
    fn labels_are_words_not_field_names() {
        for (f, short, long) in FIELD_WORDS {
            assert!(!short.contains('_') && !long.contains('_'), "{f}");
            assert_eq!(label(f), *short);
            assert_eq!(describe(f), *long);
        }
        assert_eq!(label("no.such"), "no.such");
    }
}

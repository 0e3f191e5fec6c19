//! The words a message added to a conversation: what is left when the quoted earlier
//! messages and the signature are taken away.
//!
//! Mail programs quote in a few ways, and this recognises the common ones in English, Dutch,
//! German and French: `>` lines; an attribution line ("On Tue, 3 Dec 2024, Ann <a@b> wrote:")
//! followed by the quote, sometimes wrapped over two lines; Outlook's "-----Original
//! Message-----" line or its `From:` / `Sent:` header block. Everything after an attribution
//! or an Outlook block is the earlier message, so it is cut. The cost: a person who writes
//! "Here is what Ann <ann@example.com> wrote:" and pastes a text loses the pasted text.

/// The verb of an attribution line, without case: "… wrote:", "… schreef Ann <a@b>:".
const ATTRIBUTION_VERBS: &[&str] = &["wrote", "schreef", "schrieb", "a écrit", "a ecrit"];

/// Words an attribution line starts with ("On …", "Op …", "Am …", "Le …").
const ATTRIBUTION_STARTS: &[&str] = &["on ", "op ", "am ", "le "];

/// The header lines of a quoted Outlook message: `From:` followed by `Sent:` (or `Date:`).
const OUTLOOK_FROM: &[&str] = &["from:", "van:", "von:", "de :", "de:"];
const OUTLOOK_SENT: &[&str] = &[
    "sent:",
    "date:",
    "verzonden:",
    "gesendet:",
    "datum:",
    "envoyé :",
    "envoyé:",
];

/// Outlook's separator lines, without case or dashes around them.
const ORIGINAL_MESSAGE: &[&str] = &[
    "original message",
    "oorspronkelijk bericht",
    "ursprüngliche nachricht",
    "message d'origine",
    "forwarded message",
    "doorgestuurd bericht",
    "weitergeleitete nachricht",
    "message transféré",
];

/// See [`super::own_words`].
pub(crate) fn own_words(text: &str) -> String {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let end = lines
        .iter()
        .enumerate()
        .find(|&(i, _)| ends_own_words(&lines, i))
        .map_or(lines.len(), |(i, _)| i);

    let mut out = String::with_capacity(text.len().min(1 << 16));
    let mut blank_run = false;
    for line in &lines[..end] {
        if line.trim_start().starts_with('>') {
            continue;
        }
        let line = line.trim_end();
        if line.is_empty() {
            blank_run = true;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run { "\n\n" } else { "\n" });
        }
        blank_run = false;
        out.push_str(line);
    }
    // An Outlook block is often preceded by a rule of underscores or dashes.
    while let Some(last) = out.lines().next_back() {
        let rule = last.len() >= 5 && last.chars().all(|c| c == '_' || c == '-');
        if !rule {
            break;
        }
        let cut = out.len() - last.len();
        out.truncate(cut);
        out.truncate(out.trim_end().len());
    }
    out.trim().to_owned()
}

/// Whether line `i` starts what is not the writer's own: a signature, an attribution, an
/// Outlook quote.
fn ends_own_words(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    if line == "-- " || line == "--" {
        return true;
    }
    let t = line.trim();
    if t.is_empty() {
        return false;
    }
    let lower = t.to_lowercase();
    if is_attribution(&lower) {
        return true;
    }
    // An attribution wrapped over two lines: "On Tue, 3 Dec 2024 at 10:00, Ann Smith <" /
    // "ann@example.com> wrote:".
    if ATTRIBUTION_STARTS.iter().any(|s| lower.starts_with(s))
        && let Some(next) = lines.get(i + 1)
    {
        let next = next.trim().to_lowercase();
        if next.ends_with(':') && ATTRIBUTION_VERBS.iter().any(|v| next.contains(v)) {
            return true;
        }
    }
    let inner = lower.trim_matches(|c: char| c == '-' || c == ' ' || c == '_');
    if lower.starts_with("---") && ORIGINAL_MESSAGE.contains(&inner) {
        return true;
    }
    if OUTLOOK_FROM.iter().any(|s| lower.starts_with(s)) {
        return lines[i + 1..]
            .iter()
            .take(3)
            .map(|l| l.trim().to_lowercase())
            .any(|l| OUTLOOK_SENT.iter().any(|s| l.starts_with(s)));
    }
    false
}

/// "On Tue, 3 Dec 2024, Ann <a@b> wrote:", "Op … schreef Ann <a@b>:", "Ann <a@b> a écrit :"
/// — but not "As I wrote:" (no "On …" and no address).
fn is_attribution(lower: &str) -> bool {
    lower.ends_with(':')
        && ATTRIBUTION_VERBS.iter().any(|v| lower.contains(v))
        && (ATTRIBUTION_STARTS.iter().any(|s| lower.starts_with(s)) || lower.contains('@'))
}

#[cfg(test)]
mod tests {
    use super::own_words;

    #[test]
    fn quoted_lines_and_the_attribution_before_them_are_removed() {
        let text = "Yes, it ships today.\r\n\r\nOn Tue, 3 Dec 2024, Ann <ann@example.org> wrote:\r\n> Where is my parcel?\r\n";
        assert_eq!(own_words(text), "Yes, it ships today.");
    }

    #[test]
    fn attributions_in_dutch_german_and_french_end_the_own_words() {
        for attribution in [
            "Op di 3 dec. 2024 om 10:00 schreef Ann <ann@example.org>:",
            "Am Di., 3. Dez. 2024 um 10:00 Uhr schrieb Ann <ann@example.org>:",
            "Le mar. 3 déc. 2024 à 10:00, Ann <ann@example.org> a écrit :",
        ] {
            let text = format!("Merci.\n\n{attribution}\nQuestion?\n");
            assert_eq!(own_words(&text), "Merci.", "{attribution}");
        }
    }

    #[test]
    fn an_attribution_wrapped_over_two_lines_ends_the_own_words() {
        let text =
            "Done.\n\nOn Tue, 3 Dec 2024 at 10:00, Ann Smith <\nann@example.org> wrote:\n\nold\n";
        assert_eq!(own_words(text), "Done.");
    }

    #[test]
    fn outlook_quotes_and_what_follows_them_are_removed() {
        let text =
            "Refund sent.\n\n-----Original Message-----\nFrom: Ann\nSent: Tuesday\nold text\n";
        assert_eq!(own_words(text), "Refund sent.");
        let text = "Refund sent.\n\n________________________________\nFrom: Ann <ann@example.org>\nSent: Tuesday, December 3, 2024 10:00\nTo: support\nold text\n";
        assert_eq!(own_words(text), "Refund sent.");
    }

    #[test]
    fn the_signature_after_a_dash_dash_line_is_removed() {
        assert_eq!(own_words("Thanks!\n-- \nAnn\n+31 6 1234"), "Thanks!");
        assert_eq!(own_words("Thanks!\n--\nAnn"), "Thanks!");
        assert_eq!(own_words("Thanks! -- Ann"), "Thanks! -- Ann");
    }

    #[test]
    fn inline_answers_between_quotes_are_kept_and_blank_runs_collapse() {
        let text = "> first question\n\n\nanswer one\n> second question\nanswer two\n";
        assert_eq!(own_words(text), "answer one\nanswer two");
    }

    #[test]
    fn a_sentence_that_mentions_writing_is_not_an_attribution() {
        let text = "As I wrote:\nthe box was empty.";
        assert_eq!(own_words(text), "As I wrote:\nthe box was empty.");
        assert_eq!(own_words("  \n"), "");
    }
}

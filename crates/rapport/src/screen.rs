//! The screen the command line writes to: how wide a table may be, how many people fit on a
//! screenful, and the tables themselves, narrowed to fit.
//!
//! The choice: output is narrowed only where a person reads it — when standard output is a
//! terminal (its own width and height), or when `COLUMNS` says how wide to be. Piped output
//! (`rapport people > list.txt`, a script reading the table) keeps every column and every
//! row, as before: a file has no width, and a script should not get a different table
//! because of the window it ran in. The decisions are pure functions of what was detected, so
//! they are tested without a terminal.

use std::io::IsTerminal;

/// Width when a terminal does not say how wide it is.
const FALLBACK_WIDTH: usize = 80;
/// Rows of people on a terminal that does not say how tall it is.
const FALLBACK_ROWS: usize = 20;
/// Lines a screenful of people leaves for the headings, the notes and the prompt.
const RESERVED_LINES: usize = 8;

/// What is known of where standard output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    /// Narrow tables to this many columns; `None`: never narrow (piped, no `COLUMNS`).
    pub width: Option<usize>,
    /// Stop long lists after a screenful of this many rows; `None`: show every row.
    pub rows: Option<usize>,
}

impl Screen {
    /// Standard output as it is now.
    pub fn detect() -> Screen {
        let terminal = std::io::stdout().is_terminal();
        let size = if terminal {
            terminal_size::terminal_size().map(|(w, h)| (usize::from(w.0), usize::from(h.0)))
        } else {
            None
        };
        Screen::decide(terminal, size, env_number("COLUMNS"), env_number("LINES"))
    }

    /// The decision: `COLUMNS`/`LINES` when set (a person said so), else the terminal's own
    /// size, else 80 columns and 20 rows on a terminal, and no limit at all when piped.
    pub fn decide(
        terminal: bool,
        size: Option<(usize, usize)>,
        columns: Option<usize>,
        lines: Option<usize>,
    ) -> Screen {
        let width = columns
            .or(size.map(|s| s.0))
            .or(terminal.then_some(FALLBACK_WIDTH));
        let rows = if terminal {
            Some(
                lines
                    .or(size.map(|s| s.1))
                    .map_or(FALLBACK_ROWS, |h| h.saturating_sub(RESERVED_LINES).max(5)),
            )
        } else {
            None
        };
        Screen { width, rows }
    }
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
}

/// How many people `rapport people` shows: all with `--all`, `--limit` when given, a
/// screenful on a terminal, and everyone when piped.
pub fn people_shown(limit: Option<usize>, all: bool, screen: &Screen) -> Option<usize> {
    if all { None } else { limit.or(screen.rows) }
}

/// A column: its heading, and how much it matters when the screen is narrow.
pub struct Column {
    pub heading: String,
    /// Right-aligned (figures) or left (words).
    pub right: bool,
    /// Higher stays longer; `u8::MAX` is never dropped (the person, the key of a row).
    pub keep: u8,
    /// Text that may be shortened with "…" rather than the column dropped.
    pub shrink: bool,
}

impl Column {
    pub fn key(heading: &str) -> Column {
        Column {
            heading: heading.to_owned(),
            right: false,
            keep: u8::MAX,
            shrink: false,
        }
    }

    pub fn figure(heading: &str, keep: u8) -> Column {
        Column {
            heading: heading.to_owned(),
            right: true,
            keep,
            shrink: false,
        }
    }

    pub fn text(heading: &str, keep: u8) -> Column {
        Column {
            heading: heading.to_owned(),
            right: false,
            keep,
            shrink: true,
        }
    }
}

/// A table of text cells, laid out to a width.
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    /// Spaces before the first column.
    pub indent: usize,
}

/// A laid-out table: its lines, and how many columns were left out to fit.
pub struct Laid {
    pub lines: Vec<String>,
    pub hidden: usize,
    /// The columns shown, by their place in the table.
    pub shown: Vec<usize>,
}

impl Laid {
    /// The last line's note when columns were left out, e.g. "(3 more columns with --wide)".
    pub fn note(&self) -> Option<String> {
        match self.hidden {
            0 => None,
            1 => Some("(1 more column with --wide)".to_owned()),
            n => Some(format!("({n} more columns with --wide)")),
        }
    }
}

const GAP: usize = 2;
/// Headings wrap over at most this many lines.
const HEADING_LINES: usize = 2;
/// A shrinkable text column keeps at least this many characters.
const MIN_TEXT: usize = 12;

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The narrowest width at which `heading` wraps into at most [`HEADING_LINES`] lines.
fn heading_width(heading: &str) -> usize {
    let longest = heading.split_whitespace().map(chars).max().unwrap_or(0);
    (longest..=chars(heading).max(longest))
        .find(|w| wrap(heading, *w).len() <= HEADING_LINES)
        .unwrap_or(chars(heading))
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
            indent: 0,
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Lays the table out: within `width` (unless `wide`), leaving out the columns that
    /// matter least, then shortening text columns with "…".
    pub fn lay_out(&self, width: Option<usize>, wide: bool) -> Laid {
        let natural: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(c, col)| {
                self.rows
                    .iter()
                    .map(|r| r.get(c).map_or(0, |s| chars(s)))
                    .chain([heading_width(&col.heading)])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut shown: Vec<usize> = (0..self.columns.len()).collect();
        let mut widths = natural.clone();
        let total = |shown: &[usize], widths: &[usize]| {
            self.indent
                + shown.iter().map(|&c| widths[c]).sum::<usize>()
                + GAP * shown.len().saturating_sub(1)
        };
        if let (Some(limit), false) = (width, wide) {
            // Shorten text first, down to a readable minimum, then leave out columns.
            for c in 0..self.columns.len() {
                let over = total(&shown, &widths).saturating_sub(limit);
                if over > 0 && self.columns[c].shrink {
                    let floor = MIN_TEXT.min(natural[c]);
                    widths[c] = widths[c].saturating_sub(over).max(floor);
                }
            }
            while total(&shown, &widths) > limit {
                // The column that matters least; of equals, the rightmost.
                let Some(pos) = shown
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| self.columns[**c].keep < u8::MAX)
                    .min_by_key(|(i, c)| (self.columns[**c].keep, usize::MAX - i))
                    .map(|(i, _)| i)
                else {
                    break;
                };
                shown.remove(pos);
                // A shorter text column may grow back into the room made.
                for &c in &shown {
                    if self.columns[c].shrink && widths[c] < natural[c] {
                        let room = limit.saturating_sub(total(&shown, &widths));
                        widths[c] = (widths[c] + room).min(natural[c]);
                    }
                }
            }
        }
        let hidden = self.columns.len() - shown.len();
        let pad = " ".repeat(self.indent);
        let cell = |c: usize, s: &str| {
            let w = widths[c];
            let s = cut(s, w);
            let fill = " ".repeat(w.saturating_sub(chars(&s)));
            if self.columns[c].right {
                format!("{fill}{s}")
            } else {
                format!("{s}{fill}")
            }
        };
        let join = |cells: Vec<String>| {
            let line = cells.join(&" ".repeat(GAP));
            format!("{pad}{}", line.trim_end())
        };
        let mut lines = Vec::new();
        let wrapped: Vec<Vec<String>> = shown
            .iter()
            .map(|&c| wrap(&self.columns[c].heading, widths[c].max(1)))
            .collect();
        let depth = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        for i in 0..depth {
            // Headings sit on their last line, as figures sit at the bottom of a column.
            let cells = shown
                .iter()
                .zip(&wrapped)
                .map(|(&c, h)| {
                    let at = (i + h.len()).checked_sub(depth);
                    cell(c, at.and_then(|j| h.get(j)).map_or("", String::as_str))
                })
                .collect();
            lines.push(join(cells));
        }
        for r in &self.rows {
            let cells = shown
                .iter()
                .map(|&c| cell(c, r.get(c).map_or("", String::as_str)))
                .collect();
            lines.push(join(cells));
        }
        Laid {
            lines,
            hidden,
            shown,
        }
    }
}

/// `s` cut to `width` characters, ending in "…" when cut.
pub fn cut(s: &str, width: usize) -> String {
    if chars(s) <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut t: String = s.chars().take(width - 1).collect();
    // End on a whole word when one ends near the cut.
    let next_is_space = s.chars().nth(width - 1).is_some_and(char::is_whitespace);
    if !next_is_space
        && let Some(space) = t.rfind(' ')
        && t[space..].chars().count() <= 12
    {
        t.truncate(space);
    }
    let mut t = t.trim_end().to_owned();
    t.push('…');
    t
}

/// Greedy word wrap at `width` characters (a longer word stands alone on its line).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && chars(&line) + 1 + chars(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A written number with its whole part grouped by thousands: `35380.81` → `35,380.81`.
/// Anything else (`—`, `0.97*`, `50%`) is left as it is.
pub fn grouped(number: &str) -> String {
    domain::values::thousands(number)
}

/// Several sums of money in different currencies ("12,345.67 EUR + 5.00 GBP"), or "–".
pub fn moneys(ms: &[domain::costs::Money]) -> String {
    if ms.is_empty() {
        return "–".to_owned();
    }
    ms.iter()
        .map(domain::costs::Money::grouped)
        .collect::<Vec<_>>()
        .join(" + ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piped_output_is_never_narrowed_nor_stopped() {
        let s = Screen::decide(false, None, None, None);
        assert_eq!(
            s,
            Screen {
                width: None,
                rows: None
            }
        );
        assert_eq!(people_shown(None, false, &s), None);
    }

    #[test]
    fn columns_narrows_even_piped_output_but_never_stops_it() {
        let s = Screen::decide(false, None, Some(80), Some(30));
        assert_eq!(
            s,
            Screen {
                width: Some(80),
                rows: None
            }
        );
    }

    #[test]
    fn a_terminal_gets_its_own_width_and_a_screenful_of_people() {
        let s = Screen::decide(true, Some((120, 40)), None, None);
        assert_eq!(s.width, Some(120));
        assert_eq!(s.rows, Some(40 - RESERVED_LINES));
        assert_eq!(people_shown(None, false, &s), Some(32));
        assert_eq!(people_shown(None, true, &s), None);
        assert_eq!(people_shown(Some(500), false, &s), Some(500));
    }

    #[test]
    fn a_terminal_of_unknown_size_gets_80_columns_and_20_people() {
        let s = Screen::decide(true, None, None, None);
        assert_eq!(
            s,
            Screen {
                width: Some(80),
                rows: Some(20)
            }
        );
    }

    #[test]
    fn a_tiny_terminal_still_shows_a_few_people() {
        let s = Screen::decide(true, Some((80, 6)), None, None);
        assert_eq!(s.rows, Some(5));
    }

    fn sample() -> Table {
        let mut t = Table::new(vec![
            Column::key("person"),
            Column::figure("Paid on time", 9),
            Column::figure("Stayed after incidents", 1),
            Column::text("Text", 5),
        ]);
        t.push(vec![
            "P-000001".into(),
            "100%".into(),
            "50%".into(),
            "Thank you for writing to us, we will get back to you".into(),
        ]);
        t
    }

    #[test]
    fn a_wide_table_keeps_every_column() {
        let laid = sample().lay_out(Some(30), true);
        assert_eq!(laid.hidden, 0);
        assert!(
            laid.lines
                .iter()
                .any(|l| l.contains("we will get back to you"))
        );
    }

    #[test]
    fn a_narrow_table_shortens_text_then_leaves_out_what_matters_least() {
        let laid = sample().lay_out(Some(40), false);
        assert!(
            laid.lines.iter().all(|l| l.chars().count() <= 40),
            "{:#?}",
            laid.lines
        );
        assert_eq!(laid.hidden, 1);
        assert_eq!(laid.note().unwrap(), "(1 more column with --wide)");
        assert!(!laid.lines.iter().any(|l| l.contains("incidents")));
        assert!(laid.lines.iter().any(|l| l.contains("P-000001")));
        assert!(laid.lines.iter().any(|l| l.contains('…')));
    }

    #[test]
    fn headings_wrap_over_two_lines_and_sit_on_the_bottom_one() {
        let laid = sample().lay_out(None, false);
        assert_eq!(laid.lines.len(), 3);
        assert!(laid.lines[0].contains("Stayed after"));
        assert!(laid.lines[1].contains("incidents"));
        assert!(laid.lines[1].starts_with("person"));
    }

    #[test]
    fn numbers_are_grouped_by_thousands_and_other_text_is_left_alone() {
        assert_eq!(grouped("35380.81"), "35,380.81");
        assert_eq!(grouped("-1000"), "-1,000");
        assert_eq!(grouped("999.5"), "999.5");
        assert_eq!(grouped("—"), "—");
        assert_eq!(grouped("0.97*"), "0.97*");
    }

    #[test]
    fn text_is_cut_with_an_ellipsis_and_wrapped_at_words() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("one two three", 10), "one two…");
        assert_eq!(cut("ab cd", 4), "ab…");
        assert_eq!(cut("abc", 4), "abc");
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
    }
}

//! A synthetic mbox for measuring [`super::read`] on large mailboxes.

use std::io::{self, Write};

/// Writes an mbox of `threads` conversations: a person's question and the business's reply
/// quoting it (`support@example.com`), about 1.1 KB a thread. Every fifth reply is stored
/// before its question, as mailboxes in arrival order sometimes have them.
#[doc(hidden)]
pub fn synthetic_mbox(threads: usize, out: &mut dyn Write) -> io::Result<()> {
    for t in 0..threads {
        let day = 1 + t % 28;
        let person = t % 50_000;
        let question = format!(
            "From person{person}@example.org Mon Dec  2 10:00:00 2024\n\
             From: Person {person} <person{person}@example.org>\n\
             To: Support <support@example.com>\n\
             Subject: Order {t} has not arrived\n\
             Date: Mon, {day} Dec 2024 10:00:00 +0100\n\
             Message-ID: <q{t}@mail.example.org>\n\
             MIME-Version: 1.0\n\
             Content-Type: text/plain; charset=utf-8\n\
             \n\
             Hello,\n\
             \n\
             I ordered a lamp on the first of the month (order {t}) and it has not arrived.\n\
             The tracking page has said \"in transit\" for a week. Could you look into it?\n\
             \n\
             Thank you,\n\
             Person {person}\n\
             \n"
        );
        let reply = format!(
            "From support@example.com Mon Dec  2 12:00:00 2024\n\
             From: Support <support@example.com>\n\
             To: Person {person} <person{person}@example.org>\n\
             Subject: Re: Order {t} has not arrived\n\
             Date: Mon, {day} Dec 2024 12:00:00 +0100\n\
             Message-ID: <a{t}@example.com>\n\
             In-Reply-To: <q{t}@mail.example.org>\n\
             References: <q{t}@mail.example.org>\n\
             MIME-Version: 1.0\n\
             Content-Type: text/plain; charset=utf-8\n\
             \n\
             Dear Person {person},\n\
             \n\
             The carrier lost the parcel; a new lamp leaves today.\n\
             \n\
             On Mon, {day} Dec 2024 at 10:00, Person {person} <person{person}@example.org> wrote:\n\
             > I ordered a lamp on the first of the month (order {t}) and it has not arrived.\n\
             > The tracking page has said \"in transit\" for a week. Could you look into it?\n\
             -- \n\
             Support, Example\n\
             \n"
        );
        if t % 5 == 4 {
            out.write_all(reply.as_bytes())?;
            out.write_all(question.as_bytes())?;
        } else {
            out.write_all(question.as_bytes())?;
            out.write_all(reply.as_bytes())?;
        }
    }
    Ok(())
}

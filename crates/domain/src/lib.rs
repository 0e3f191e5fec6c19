//! rapport's domain: people, events and readings, with no I/O.
//!
//! Everything here is a pure function of its inputs, so it can be tested exhaustively and
//! reused unchanged by the command line, the web and any storage backend. Storage, files and
//! HTTP live in other crates and depend on this one, never the other way round.

pub mod attributes;
pub mod card;
pub mod costs;
pub mod event;
pub mod examples;
pub mod readings;
pub mod scripts;
pub mod similar;
pub mod values;

pub use card::{Card, FullEvent};
pub use event::{Body, EventError, Kind, NewEvent, Personal};
pub use values::{Amount, Currency, Day, EventId, PersonId, Ref, Source, Timestamp};

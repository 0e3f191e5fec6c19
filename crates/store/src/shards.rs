//! People spread over several database servers: the contract a backend that can do it keeps.
//!
//! A ledger's person-keyed rows are in a fixed number of partitions (by a hash of the
//! person); each partition lives on one server, and moving a partition is how a ledger
//! grows onto a new server without rehashing anyone. The coordinating server holds what is
//! everyone's and routes the rest. SQLite, one file on one machine, answers every call with
//! [`StoreError::Unsupported`]. docs/sharding.md describes the PostgreSQL implementation.

use crate::StoreError;

/// A server partitions may be placed on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShardServer {
    /// The ledger's name for it (`s1`, or as given).
    pub name: String,
    /// Where it is, without a password.
    pub url: String,
    pub added_at: i64,
}

/// One partition: where it is and what it holds. A figure is `None` when the server holding
/// it does not answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Partition {
    pub number: u32,
    /// The server's name; `None` on the coordinating server.
    pub server: Option<String>,
    pub people: Option<u64>,
    pub events: Option<u64>,
    /// Bytes on disk of its tables and their indexes.
    pub bytes: Option<u64>,
}

/// What moving a partition did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Moved {
    pub number: u32,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Rows copied in all, and of those, rows that arrived while it was copied and were
    /// caught up at the end.
    pub rows: u64,
    pub caught_up: u64,
    /// How long writers waited (the final catch-up and the switch), in seconds.
    pub writers_waited: f64,
    pub seconds: f64,
}

pub trait Shards {
    /// How many partitions each person-keyed table has (1 for a ledger that cannot spread).
    fn partition_count(&self) -> Result<u32, StoreError>;
    fn shard_servers(&self) -> Result<Vec<ShardServer>, StoreError>;
    /// Registers a server (an existing, empty database) partitions may be moved to.
    fn add_shard_server(&self, url: &str, name: Option<&str>) -> Result<ShardServer, StoreError>;
    fn partitions(&self) -> Result<Vec<Partition>, StoreError>;
    /// Moves a partition to the server named `to` (`None`: back to the coordinating server),
    /// online: reads go on, writers wait only for the final catch-up and the switch.
    /// `progress` is told what is being done.
    fn move_partition(
        &self,
        number: u32,
        to: Option<&str>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Moved, StoreError>;
}

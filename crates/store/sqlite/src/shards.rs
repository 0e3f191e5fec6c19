//! A SQLite ledger is one file on one machine: it has no partitions to spread.

use store::{Moved, Partition, ShardServer, Shards, StoreError};

use crate::SqliteStore;

fn unsupported() -> StoreError {
    StoreError::Unsupported {
        message: "a SQLite ledger is one file on one machine: spreading people over servers \
                  needs a PostgreSQL ledger (docs/sharding.md)"
            .into(),
    }
}

impl Shards for SqliteStore {
    fn partition_count(&self) -> Result<u32, StoreError> {
        Ok(1)
    }
    fn shard_servers(&self) -> Result<Vec<ShardServer>, StoreError> {
        Ok(Vec::new())
    }
    fn add_shard_server(&self, _: &str, _: Option<&str>) -> Result<ShardServer, StoreError> {
        Err(unsupported())
    }
    fn partitions(&self) -> Result<Vec<Partition>, StoreError> {
        Err(unsupported())
    }
    fn move_partition(
        &self,
        _: u32,
        _: Option<&str>,
        _: &mut dyn FnMut(&str),
    ) -> Result<Moved, StoreError> {
        Err(unsupported())
    }
}

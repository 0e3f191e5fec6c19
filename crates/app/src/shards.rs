//! Spreading people over servers: the ledger's partitions, the servers they may live on, and
//! moving one — each change audited, as every administrative act is.

use store::{Moved, Partition, ShardServer};

use crate::{App, AppError};

impl App {
    pub fn shard_servers(&self) -> Result<Vec<ShardServer>, AppError> {
        Ok(self.ledger.shard_servers()?)
    }

    /// Registers another server (an existing, empty database) to move partitions to.
    pub fn add_shard_server(
        &self,
        url: &str,
        name: Option<&str>,
        actor: &str,
    ) -> Result<ShardServer, AppError> {
        let s = self.ledger.add_shard_server(url, name)?;
        self.ledger
            .audit(actor, &format!("shards.add {} {}", s.name, s.url), None)?;
        Ok(s)
    }

    /// Every partition with where it is and what it holds.
    pub fn partitions(&self) -> Result<Vec<Partition>, AppError> {
        Ok(self.ledger.partitions()?)
    }

    /// Moves a partition to the server named `to` (`None`: the coordinating server).
    pub fn move_partition(
        &self,
        number: u32,
        to: Option<&str>,
        actor: &str,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Moved, AppError> {
        let m = self.ledger.move_partition(number, to, progress)?;
        self.ledger.audit(
            actor,
            &format!(
                "shards.move {number} to {}",
                to.unwrap_or("the coordinating server")
            ),
            None,
        )?;
        Ok(m)
    }
}

//! One module per command.

pub mod card;
pub mod costs;
pub mod covariates;
pub mod demo;
pub mod fit;
pub mod generate;
pub mod import;
pub mod init;
pub mod kept;
pub mod own;
pub mod payments;
pub mod people;
pub mod scripts;
pub mod serve;
pub mod shards;
pub mod token;

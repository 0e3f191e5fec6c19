//! MT940.
use super::Statement;
use crate::einvoice::DocError;
pub(super) fn parse(_bytes: &[u8]) -> Result<Vec<Statement>, DocError> {
    Ok(vec![])
}

//! The only code that touches the terminal. (Placeholder.)

use std::time::Duration;

use crate::collect::{Collector, Query};

/// Runs the interactive table until the user quits.
pub fn run(collector: Box<dyn Collector>, interval: Duration, query: Query) -> anyhow::Result<()> {
    let _ = (collector, interval, query);
    Ok(())
}

//! Log output: readable lines by default, JSON lines for log collectors.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use settings::{LogFormat, LogSettings};

/// Installs the global subscriber. `RUST_LOG`, when set, replaces the configured filter
/// (which `Settings::load` has already checked).
/// Logs go to standard error, so that `archivist export` can write documents to standard output.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    // try_init: tests start several servers in one process; the first subscriber stays.
    let _ = match settings.format {
        LogFormat::Human => registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
}

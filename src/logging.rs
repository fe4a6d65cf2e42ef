//! The request log, for troubleshooting: `-v` (debug) or `GROUPMAP_LOG=LEVEL`. Commands write it
//! to stderr; the editor, whose screen stderr would tear, to an owner-only file under the state
//! directory, named when it exits. Only groupmap's own events are logged: no library's, whose
//! lowest levels may show headers.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Result, bail};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;

/// The environment variable naming the log's level.
pub const ENV: &str = "GROUPMAP_LOG";

static ON_STDERR: AtomicBool = AtomicBool::new(false);

/// Whether the request log writes to stderr (a progress bar would be torn by it).
pub fn on_stderr() -> bool {
    ON_STDERR.load(Ordering::Relaxed)
}

/// The level asked for: `-v` is debug; `GROUPMAP_LOG` names one (or `off`).
pub fn level(verbose: bool, env: Option<&str>) -> Result<LevelFilter> {
    let asked = match env.map(str::trim).filter(|v| !v.is_empty()) {
        None => LevelFilter::OFF,
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "off" | "0" => LevelFilter::OFF,
            "error" => LevelFilter::ERROR,
            "warn" => LevelFilter::WARN,
            "info" => LevelFilter::INFO,
            "debug" | "1" => LevelFilter::DEBUG,
            "trace" => LevelFilter::TRACE,
            _ => bail!(
                "{ENV}={}: not a log level; use one of off, error, warn, info, debug (each request), trace",
                crate::domain::text::sanitize(v)
            ),
        },
    };
    Ok(if verbose { asked.max(LevelFilter::DEBUG) } else { asked })
}

/// Starts the log. For the editor it goes to a new file, whose path is returned.
pub fn init(verbose: bool, editor: bool) -> Result<Option<PathBuf>> {
    let level = level(verbose, std::env::var(ENV).ok().as_deref())?;
    if level == LevelFilter::OFF {
        return Ok(None);
    }
    let only_ours = Targets::new().with_target("groupmap", level);
    let fmt = tracing_subscriber::fmt().with_ansi(false).with_target(true).with_max_level(level);
    if !editor {
        ON_STDERR.store(true, Ordering::Relaxed);
        let subscriber = fmt.with_writer(std::io::stderr).finish().with(only_ours);
        let _ = tracing::subscriber::set_global_default(subscriber);
        return Ok(None);
    }
    let path = log_path();
    let file = open(&path).map_err(|e| anyhow::anyhow!("cannot write the request log {}: {e}", path.display()))?;
    let subscriber = fmt.with_writer(Mutex::new(file)).finish().with(only_ours);
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(Some(path))
}

/// `$XDG_STATE_HOME/groupmap/log/editor-TIME-PID.log`: one per session, never another's.
fn log_path() -> PathBuf {
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))
        .unwrap_or_else(|_| now.unix_timestamp().to_string());
    crate::store::state_dir().join("log").join(format!("editor-{stamp}-{}.log", std::process::id()))
}

fn open(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        crate::private_file::create_dir(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_comes_from_the_flag_and_the_variable() {
        assert_eq!(level(false, None).unwrap(), LevelFilter::OFF);
        assert_eq!(level(true, None).unwrap(), LevelFilter::DEBUG);
        assert_eq!(level(false, Some("debug")).unwrap(), LevelFilter::DEBUG);
        assert_eq!(level(true, Some("trace")).unwrap(), LevelFilter::TRACE);
        assert_eq!(level(false, Some(" ")).unwrap(), LevelFilter::OFF);
        let err = level(false, Some("loud")).unwrap_err().to_string();
        assert!(err.starts_with("GROUPMAP_LOG=loud: not a log level; use one of off"), "{err}");
    }
}

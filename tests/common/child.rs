//! Running `groupmap` as a child process: the caller's configuration kept out, its output
//! drained as it comes (a full pipe cannot stall it), and a time limit.
#![allow(dead_code)]

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(120);

/// Environment variables that would leak the caller's configuration into a test.
pub const LEAKY_ENV: &[&str] = &[
    "CALENDLY_TOKEN",
    "GROUPMAP_BASE_URL",
    "GROUPMAP_ORG",
    "GROUPMAP_CONFIG",
    "GROUPMAP_TOKEN_FILE",
    "GROUPMAP_SANDBOX_TOKEN",
    "GROUPMAP_LOG",
    "NO_COLOR",
];

/// `groupmap ARGS` run in `home`, with its state, config and cache there, the caller's
/// configuration kept out, stdin closed and stdout and stderr piped.
pub fn command(home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_groupmap"));
    c.args(args)
        .current_dir(home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in LEAKY_ENV {
        c.env_remove(k);
    }
    c
}

/// Runs `c` (its stdout and stderr piped) to its end: the status, stdout and stderr. Panics
/// after [`TIMEOUT`], naming `what`.
pub fn run_to_end(mut c: Command, what: &str) -> (ExitStatus, String, String) {
    let mut child = c.spawn().expect("spawn groupmap");
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                r.read_to_string(&mut s).expect("utf-8 output");
            }
            s
        })
    };
    let out = drain(child.stdout.take().map(|s| Box::new(s) as _));
    let err = drain(child.stderr.take().map(|s| Box::new(s) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > TIMEOUT {
            child.kill().ok();
            child.wait().ok();
            panic!("{what} did not finish in {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, out.join().unwrap(), err.join().unwrap())
}

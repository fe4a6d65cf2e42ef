//! The real binary in a real terminal (tmux): keys in, screen out, against the sandbox.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use groupmap::sandbox::{Options, Sandbox};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, cmd: &str, env: &[(&str, String)]) -> Tmux {
        assert!(
            Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()),
            "tmux is required for the terminal tests (apt-get install tmux; .ci/run installs it)"
        );
        let socket = format!("groupmap-test-{name}-{}", std::process::id());
        let mut c = Command::new("tmux");
        c.args(["-L", &socket, "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30"]);
        for (k, v) in env {
            c.args(["-e", &format!("{k}={v}")]);
        }
        c.arg(cmd);
        assert!(c.status().unwrap().success());
        Tmux { socket }
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = Command::new("tmux").args(["-L", &self.socket, "send-keys", "-t", "0", k]).status().unwrap();
            assert!(ok.success());
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn literal(&self, text: &str) {
        let ok = Command::new("tmux").args(["-L", &self.socket, "send-keys", "-t", "0", "-l", text]).status().unwrap();
        assert!(ok.success());
        std::thread::sleep(Duration::from_millis(100));
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux").args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen contains `text`, or fails showing the screen.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {text:?}; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

fn env(sb: &Sandbox, dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("GROUPMAP_BASE_URL", sb.base_url().to_owned()),
        ("CALENDLY_TOKEN", sb.token().to_owned()),
        ("XDG_STATE_HOME", dir.join("state").display().to_string()),
        ("XDG_CONFIG_HOME", dir.join("config").display().to_string()),
        ("XDG_CACHE_HOME", dir.join("cache").display().to_string()),
        // Panic output must not depend on the caller's environment.
        ("RUST_BACKTRACE", "0".to_owned()),
        ("TERM", "xterm-256color".to_owned()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_map_preview_and_save_moves_users_on_the_server() {
    let sb = Sandbox::start(Options { job_step: Duration::from_millis(1), ..Options::default() }).await.unwrap();
    let snap = sb.snapshot();
    let movers: Vec<String> = snap
        .owners
        .iter()
        .filter(|o| o.value.is_some_and(|v| snap.value(v) == "eng-platform"))
        .map(|o| o.email.clone())
        .collect();
    assert!(!movers.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let t = Tmux::start("save", &format!("{bin} tui"), &env(&sb, dir.path()));
    tokio::task::spawn_blocking(move || {
        t.wait_for("IdP values");
        t.literal("/eng-plat");
        t.keys(&["Enter", "Tab"]);
        t.literal("/Engineering");
        t.keys(&["Enter", "Enter"]);
        t.wait_for("mapped \"eng-platform\" → \"Engineering\"");
        t.literal("p");
        t.wait_for("Preview");
        t.literal("/eng-platform");
        let s = t.wait_for("→ Engineering");
        assert!(s.contains("\"eng-platform\""), "{s}");
        t.keys(&["Escape", "Escape"]);
        t.literal("S");
        t.wait_for("[ Cancel ]");
        t.keys(&["Tab", "Enter"]);
        let s = t.wait_for("Saved");
        assert!(s.contains("Verified"), "{s}");
        t.literal("x");
        t.literal("q");
    })
    .await
    .unwrap();
    for email in &movers {
        assert_eq!(sb.member_group_of(email).as_deref(), Some("Engineering"), "{email} moved");
    }
    sb.shutdown().await;
}

/// The pid of the groupmap process started with `marker` in its arguments.
fn find_pid(marker: &str) -> Option<i32> {
    for entry in std::fs::read_dir("/proc").ok()? {
        let path = entry.ok()?.path();
        let Ok(cmdline) = std::fs::read(path.join("cmdline")) else { continue };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_ours = args.first().is_some_and(|a| a.ends_with(b"groupmap")) && args.contains(&marker.as_bytes());
        if is_ours {
            return path.file_name()?.to_str()?.parse().ok();
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hup_term_int_and_quit_signals_restore_the_terminal() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    for signal in ["HUP", "TERM", "INT", "QUIT"] {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("marker.toml");
        std::fs::write(&marker, "").unwrap();
        let marker = marker.display().to_string();
        let bin = env!("CARGO_BIN_EXE_groupmap");
        let cmd = format!(
            "{bin} --config {marker} tui; echo EXIT=$?; stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo; sleep 60"
        );
        let t = Tmux::start(&format!("sig{signal}"), &cmd, &env(&sb, dir.path()));
        let signal = signal.to_owned();
        tokio::task::spawn_blocking(move || {
            t.wait_for("IdP values");
            let pid = find_pid(&marker).expect("the groupmap process");
            let ok = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().unwrap();
            assert!(ok.success());
            t.wait_for("EXIT=");
            // The stty lines follow the exit code: wait for them too (racy otherwise).
            let s = t.wait_for("echo");
            // Back on the normal screen, in cooked mode with echo.
            assert!(!s.contains("IdP values"), "alternate screen left:\n{s}");
            let lines: Vec<&str> = s.lines().map(str::trim).collect();
            assert!(lines.contains(&"icanon") && lines.contains(&"echo"), "terminal modes restored:\n{s}");
            assert!(!lines.contains(&"-icanon") && !lines.contains(&"-echo"), "{s}");
        })
        .await
        .unwrap();
    }
    sb.shutdown().await;
}

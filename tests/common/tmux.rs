//! A real terminal for tests: the binary in tmux, keys in, screen out.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use groupmap::sandbox::Sandbox;

pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    pub fn start(name: &str, cmd: &str, env: &[(&str, String)]) -> Tmux {
        Tmux::start_sized(name, cmd, env, (100, 30))
    }

    /// `start` in a terminal of `size` (columns, rows).
    pub fn start_sized(name: &str, cmd: &str, env: &[(&str, String)], size: (u16, u16)) -> Tmux {
        assert!(
            Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()),
            "tmux is required for the terminal tests (apt-get install tmux; .ci/run installs it)"
        );
        let socket = format!("groupmap-{name}-{}", std::process::id());
        let mut c = Command::new("tmux");
        let (w, h) = (size.0.to_string(), size.1.to_string());
        c.args(["-L", &socket, "-f", "/dev/null", "new-session", "-d", "-x", &w, "-y", &h]);
        for (k, v) in env {
            c.args(["-e", &format!("{k}={v}")]);
        }
        c.arg(cmd);
        assert!(c.status().unwrap().success());
        Tmux { socket }
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = Command::new("tmux").args(["-L", &self.socket, "send-keys", "-t", "0", k]).status().unwrap();
            assert!(ok.success());
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    pub fn literal(&self, text: &str) {
        let ok = Command::new("tmux").args(["-L", &self.socket, "send-keys", "-t", "0", "-l", text]).status().unwrap();
        assert!(ok.success());
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Pastes `text` as a terminal does when the program asked for bracketed paste.
    pub fn paste(&self, text: &str) {
        let run = |args: &[&str]| assert!(Command::new("tmux").args(args).status().unwrap().success());
        run(&["-L", &self.socket, "set-buffer", "--", text]);
        run(&["-L", &self.socket, "paste-buffer", "-p", "-t", "0"]);
        std::thread::sleep(Duration::from_millis(100));
    }

    /// In the editor: filter the values to `value`, the groups to `group`, and map one to the
    /// other; waits for the status line that confirms it.
    pub fn map(&self, value: &str, group: &str) {
        self.literal(&format!("/{value}"));
        self.keys(&["Enter", "Tab"]);
        self.literal(&format!("/{group}"));
        self.keys(&["Enter", "Enter"]);
        self.wait_for(&format!("mapped \"{value}\" → \"{group}\""));
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux").args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// tmux's view of the terminal's modes: alternate screen, cursor shown, mouse reporting.
    pub fn modes(&self) -> String {
        let f = "alt=#{alternate_on} cursor=#{cursor_flag} mouse=#{mouse_any_flag}";
        let out =
            Command::new("tmux").args(["-L", &self.socket, "display-message", "-p", "-t", "0", f]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn wait_for(&self, text: &str) -> String {
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
        let _ =
            Command::new("tmux").args(["-L", &self.socket, "kill-server"]).stderr(std::process::Stdio::null()).status();
    }
}

pub fn env(sb: &Sandbox, dir: &Path, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("GROUPMAP_BASE_URL", sb.base_url().to_owned()),
        ("CALENDLY_TOKEN", sb.token().to_owned()),
        ("XDG_STATE_HOME", dir.join("state").display().to_string()),
        ("XDG_CONFIG_HOME", dir.join("config").display().to_string()),
        ("XDG_CACHE_HOME", dir.join("cache").display().to_string()),
        // Panic output must not depend on the caller's environment.
        ("RUST_BACKTRACE", "0".to_owned()),
        ("TERM", "xterm-256color".to_owned()),
    ];
    v.extend(extra.iter().map(|(k, val)| (*k, (*val).to_owned())));
    v
}

/// The pid of the groupmap process started with `marker` in its arguments.
pub fn find_pid(marker: &str) -> Option<i32> {
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

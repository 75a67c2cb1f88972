//! A private tmux server running one program: the end-to-end tests type keys and read the
//! screen through it, as a person would.

use std::process::Command;
use std::time::{Duration, Instant};

/// A private tmux server running one program.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn start(name: &str, shell_command: &str) -> Tmux {
        let socket = format!("hotfix-e2e-{}-{name}", std::process::id());
        let t = Tmux { socket };
        let status = t
            .cmd(&[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "e2e",
                "-x",
                "100",
                "-y",
                "30",
                shell_command,
            ])
            .status()
            .expect("tmux runs (apt-get install tmux)");
        assert!(status.success());
        t
    }

    /// Resizes the terminal, as a person dragging the window would.
    pub fn resize(&self, width: u16, height: u16) {
        let (w, h) = (width.to_string(), height.to_string());
        assert!(
            self.cmd(&["resize-window", "-t", "e2e", "-x", &w, "-y", &h])
                .status()
                .unwrap()
                .success()
        );
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-L").arg(&self.socket).args(args);
        c
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(
            &self
                .cmd(&["capture-pane", "-p", "-t", "e2e"])
                .output()
                .unwrap()
                .stdout,
        )
        .into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend(keys);
        assert!(self.cmd(&args).status().unwrap().success());
    }

    pub fn wait_for(&self, text: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "{text:?} did not appear within {secs}s; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pid of the program the pane's shell started.
    pub fn child_pid(&self) -> String {
        let shell = String::from_utf8_lossy(
            &self
                .cmd(&["list-panes", "-t", "e2e", "-F", "#{pane_pid}"])
                .output()
                .unwrap()
                .stdout,
        )
        .trim()
        .to_string();
        let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .expect("the cockpit runs under the pane's shell")
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}

//! The real `vpp-emulator` binary as a child process, for tests of what only a process shows:
//! SIGKILL, exit codes, start-up messages, logs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

pub const BINARY: &str = env!("CARGO_BIN_EXE_vpp-emulator");

/// A started server: the process, its port, and everything it has logged so far.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: Arc<Mutex<String>>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGKILL, then reap.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

/// Starts the binary on port 0 over `db` (plus `env`) and waits until it listens.
pub fn start(db: &Path, env: &[(&str, &str)]) -> Server {
    let mut command = Command::new(BINARY);
    command
        .env("VPP_SERVER__PORT", "0")
        .env("VPP_DATABASE__PATH", db)
        .env("VPP_LOG__FORMAT", "pretty")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start the binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let log = Arc::new(Mutex::new(String::new()));
    let port = loop {
        let line = lines
            .next()
            .expect("the binary exited before listening")
            .expect("read line");
        log.lock().expect("log").push_str(&line);
        log.lock().expect("log").push('\n');
        if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            break digits.parse().expect("port");
        }
    };
    // Keep draining (and keeping) the log so the child never blocks on a full pipe.
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let mut log = sink.lock().expect("log");
            log.push_str(&line);
            log.push('\n');
        }
    });
    Server { child, port, log }
}

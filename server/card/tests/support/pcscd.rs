//! One private pcscd per test (smartcard-testing.md §3): pcscd's socket path is fixed at
//! `/run/pcscd/pcscd.comm`, so each daemon runs in its own mount namespace with a folder of the
//! test's bound over `/run/pcscd`; the tool finds it through `PCSCLITE_CSOCK_NAME`. Tests run in
//! parallel without seeing each other's readers, and without any system pcscd.
//!
//! Needs root, `unshare` (util-linux), `pcscd` and vpcd (`vsmartcard-vpcd`), which `.ci/run`
//! installs.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";

pub struct Pcscd {
    child: Child,
    dir: tempfile::TempDir,
    /// The virtual reader's TCP port, when the daemon has one.
    pub port: Option<u16>,
}

impl Pcscd {
    /// A daemon with one virtual reader ("Virtual PCD 00 00").
    pub fn with_reader() -> Self {
        Self::start(true)
    }

    /// A daemon without any reader.
    pub fn without_reader() -> Self {
        Self::start(false)
    }

    fn start(reader: bool) -> Self {
        for tool in ["/usr/sbin/pcscd", VPCD_DRIVER] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: install pcscd and vsmartcard-vpcd (bash .ci/run does)"
            );
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let conf = dir.path().join("reader.conf.d");
        let run = dir.path().join("run");
        std::fs::create_dir_all(&conf).expect("conf dir");
        std::fs::create_dir_all(&run).expect("run dir");
        std::fs::create_dir_all("/run/pcscd").expect("/run/pcscd (the tests run as root)");
        let port = reader.then(free_port);
        if let Some(port) = port {
            std::fs::write(
                conf.join("vpcd"),
                format!(
                    "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:0x{port:X}\nLIBPATH {VPCD_DRIVER}\nCHANNELID 0x{port:X}\n"
                ),
            )
            .expect("reader conf");
        }
        let script = format!(
            "mount --bind '{}' /run/pcscd && exec /usr/sbin/pcscd --foreground --config '{}'",
            run.display(),
            conf.display()
        );
        let log = std::fs::File::create(dir.path().join("pcscd.log")).expect("log");
        let child = Command::new("unshare")
            .args(["-m", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start pcscd under unshare");
        let daemon = Self { child, dir, port };
        daemon.wait_until_ready();
        daemon
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.socket().exists() {
            assert!(
                Instant::now() < deadline,
                "pcscd did not start: {}",
                std::fs::read_to_string(self.dir.path().join("pcscd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The socket appears before the reader drivers have settled.
        std::thread::sleep(Duration::from_millis(500));
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("run/pcscd.comm")
    }

    pub fn port(&self) -> u16 {
        self.port.expect("this pcscd has a reader")
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now, for vpcd to bind a moment later. It is taken below the
/// kernel's range for outgoing connections' ports (32768-60999 by default): a port from that
/// range, checked free here, could meanwhile become one of the many client connections the
/// parallel tests open, and vpcd would never listen (seen in CI: "vpcd on port 38505 does not
/// answer"). Successive calls take successive ports, so that two tests of this process never
/// get the same one.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    const LOW: u16 = 20_000;
    const SPAN: u16 = 12_000;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // Apart from other test processes' ports too, most of the time.
    let start = (std::process::id() % u32::from(SPAN)) as u16;
    for _ in 0..SPAN {
        let candidate = LOW + start.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN;
        if TcpListener::bind(("127.0.0.1", candidate)).is_ok() {
            return candidate;
        }
    }
    panic!("no free port in {LOW}..{}", LOW + SPAN);
}

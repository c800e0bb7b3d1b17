//! A PKCS#11 token holding a demo card's key and certificate, as the card software's module
//! shows a real card: SoftHSM (Debian `softhsm2`) with a configuration and token directory of
//! the test's own, filled with `softhsm2-util` (the key) and OpenSC's `pkcs11-tool` (the
//! certificate object with the key's `CKA_ID`).

use std::{
    path::{Path, PathBuf},
    process::Command,
};

pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const PIN: &str = "1234";

pub struct SoftToken {
    _dir: tempfile::TempDir,
    conf: PathBuf,
}

impl SoftToken {
    /// A token with `key` (PKCS#8 PEM) and `certificate` (DER) under `CKA_ID` 01.
    pub fn holding(key: &Path, certificate: &[u8]) -> Self {
        let dir = tempfile::tempdir().expect("token dir");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).expect("tokens");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("conf");
        let token = Self { _dir: dir, conf };
        token.run(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                "card",
                "--so-pin",
                "12345678",
                "--pin",
                PIN,
            ],
        );
        token.run(
            "softhsm2-util",
            &[
                "--import",
                key.to_str().expect("utf-8 path"),
                "--token",
                "card",
                "--label",
                "auth",
                "--id",
                "01",
                "--pin",
                PIN,
            ],
        );
        let der = token._dir.path().join("card.der");
        std::fs::write(&der, certificate).expect("certificate");
        token.run(
            "pkcs11-tool",
            &[
                "--module",
                MODULE,
                "--token-label",
                "card",
                "--login",
                "--pin",
                PIN,
                "--write-object",
                der.to_str().expect("utf-8 path"),
                "--type",
                "cert",
                "--id",
                "01",
                "--label",
                "auth",
            ],
        );
        token
    }

    /// `SOFTHSM2_CONF` for a process that loads the module.
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = Command::new(program)
            .args(args)
            .env("SOFTHSM2_CONF", &self.conf)
            .output()
            .unwrap_or_else(|e| panic!("{program} (Debian softhsm2, opensc): {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

//! A ledger of its own in a temporary folder, and the real `rapport` binary run on it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use store::{MasterKey, SqliteStore, Store, Totals};

pub struct Ledger {
    pub dir: tempfile::TempDir,
}

impl Ledger {
    /// A temporary folder where the ledger will be, not made yet.
    pub fn empty() -> Ledger {
        Ledger {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn new() -> Ledger {
        let l = Ledger::empty();
        let out = l.run(&["init"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        l
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("rapport.db")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(args)
            .env("RAPPORT_DB", self.db())
            .env_remove("RAPPORT_MASTER_KEY")
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    pub fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn import(&self, name: &str, content: &[u8]) -> Output {
        let p = self.write(name, content);
        self.run(&["import", p.to_str().unwrap()])
    }

    pub fn totals(&self) -> Totals {
        let key = MasterKey::locate(&self.db()).unwrap();
        SqliteStore::open(&self.db(), key)
            .unwrap()
            .totals()
            .unwrap()
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

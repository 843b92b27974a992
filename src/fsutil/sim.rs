//! A simulated file system for power-cut tests, in the style of SQLite's crash tests.
//!
//! [`SimFs`] performs every operation on a real folder (so the code under test reads what it
//! wrote) and keeps a model of what is durable: file data only after `sync_file`, folder
//! entries (new files, renames, removals, new folders) only after `sync_dir` of their folder.
//! It fails the k-th operation and every later one ("the power went out"); [`SimFs::crash`]
//! then rewrites the real folder to the durable state: unsynced data is gone (a file whose
//! entry is durable but whose data never was is left empty), unsynced entries are gone,
//! renames not followed by a folder sync are undone.
//!
//! Files named by `exclude` (the SQLite database and its journal, whose durability SQLite
//! manages itself) are neither modelled nor touched.

use super::Fs;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Node {
    File(usize),
    Dir(usize),
}

#[derive(Debug, Default)]
struct Dir {
    volatile: BTreeMap<OsString, Node>,
    durable: BTreeMap<OsString, Node>,
}

#[derive(Debug, Default)]
struct Data {
    volatile: Vec<u8>,
    durable: Option<Vec<u8>>,
}

#[derive(Debug, Default)]
struct State {
    dirs: Vec<Dir>,
    files: Vec<Data>,
    ops: usize,
    crash_at: Option<usize>,
}

/// The simulated file system; see the module documentation.
pub struct SimFs {
    root: PathBuf,
    exclude: fn(&str) -> bool,
    state: Mutex<State>,
}

fn power_cut() -> io::Error {
    io::Error::other("simulated power cut")
}

impl SimFs {
    /// Models the folder `root` as it is now (all of it durable), failing from operation
    /// `crash_at` (1-based) on; `None` never fails (to count a sequence's operations).
    pub fn new(root: &Path, crash_at: Option<usize>, exclude: fn(&str) -> bool) -> Self {
        let mut state = State { crash_at, ..State::default() };
        state.dirs.push(Dir::default());
        scan(&mut state, 0, root, exclude);
        Self { root: root.to_path_buf(), exclude, state: Mutex::new(state) }
    }

    /// Operations performed (or refused) so far.
    pub fn ops(&self) -> usize {
        self.state.lock().unwrap().ops
    }

    /// True once the power went out.
    pub fn crashed(&self) -> bool {
        let s = self.state.lock().unwrap();
        s.crash_at.is_some_and(|k| s.ops >= k)
    }

    /// Rewrites the real folder to what was durable (the state after reboot).
    pub fn crash(&self) {
        let s = self.state.lock().unwrap();
        wipe(&self.root, self.exclude);
        restore(&s, 0, &self.root);
    }

    /// Counts an operation; fails it when the power is out.
    fn step(&self) -> io::Result<std::sync::MutexGuard<'_, State>> {
        let mut s = self.state.lock().unwrap();
        s.ops += 1;
        if s.crash_at.is_some_and(|k| s.ops >= k) {
            return Err(power_cut());
        }
        Ok(s)
    }

    /// The folder node and name of `path`, which must lie under the root.
    fn locate(&self, s: &State, path: &Path) -> io::Result<(usize, OsString)> {
        let rel = path
            .strip_prefix(&self.root)
            .map_err(|_| io::Error::other(format!("{} is outside the simulated folder", path.display())))?;
        let mut parts: Vec<OsString> = rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(p) => Some(p.to_os_string()),
                _ => None,
            })
            .collect();
        let name = parts.pop().ok_or_else(|| io::Error::other("the simulated root itself"))?;
        let mut dir = 0;
        for p in parts {
            match s.dirs[dir].volatile.get(&p) {
                Some(Node::Dir(d)) => dir = *d,
                _ => return Err(io::Error::new(io::ErrorKind::NotFound, format!("{} not found", path.display()))),
            }
        }
        Ok((dir, name))
    }

    fn dir_node(&self, s: &State, dir: &Path) -> io::Result<usize> {
        if dir == self.root {
            return Ok(0);
        }
        let (parent, name) = self.locate(s, dir)?;
        match s.dirs[parent].volatile.get(&name) {
            Some(Node::Dir(d)) => Ok(*d),
            _ => Err(io::Error::new(io::ErrorKind::NotFound, format!("{} is not a folder", dir.display()))),
        }
    }
}

fn scan(s: &mut State, dir: usize, path: &Path, exclude: fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(path) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        if exclude(&name.to_string_lossy()) {
            continue;
        }
        let node = if e.path().is_dir() {
            s.dirs.push(Dir::default());
            let d = s.dirs.len() - 1;
            scan(s, d, &e.path(), exclude);
            Node::Dir(d)
        } else {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            s.files.push(Data { volatile: bytes.clone(), durable: Some(bytes) });
            Node::File(s.files.len() - 1)
        };
        s.dirs[dir].volatile.insert(name.clone(), node);
        s.dirs[dir].durable.insert(name, node);
    }
}

fn wipe(path: &Path, exclude: fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(path) else { return };
    for e in entries.flatten() {
        if exclude(&e.file_name().to_string_lossy()) {
            continue;
        }
        let p = e.path();
        let _ = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
    }
}

fn restore(s: &State, dir: usize, path: &Path) {
    for (name, node) in &s.dirs[dir].durable {
        let p = path.join(name);
        match node {
            Node::Dir(d) => {
                std::fs::create_dir_all(&p).expect("restore a folder");
                restore(s, *d, &p);
            }
            Node::File(f) => {
                std::fs::write(&p, s.files[*f].durable.as_deref().unwrap_or_default()).expect("restore a file")
            }
        }
    }
}

impl Fs for SimFs {
    fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut s = self.step()?;
        let (dir, name) = self.locate(&s, path)?;
        std::fs::write(path, bytes)?;
        match s.dirs[dir].volatile.get(&name).copied() {
            Some(Node::File(f)) => s.files[f].volatile = bytes.to_vec(),
            Some(Node::Dir(_)) => return Err(io::Error::other("is a folder")),
            None => {
                s.files.push(Data { volatile: bytes.to_vec(), durable: None });
                let f = s.files.len() - 1;
                s.dirs[dir].volatile.insert(name, Node::File(f));
            }
        }
        Ok(())
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        let mut s = self.step()?;
        let (dir, name) = self.locate(&s, path)?;
        match s.dirs[dir].volatile.get(&name).copied() {
            Some(Node::File(f)) => {
                s.files[f].durable = Some(s.files[f].volatile.clone());
                Ok(())
            }
            _ => Err(io::Error::new(io::ErrorKind::NotFound, format!("{} not found", path.display()))),
        }
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.step()?;
        let d = self.dir_node(&s, dir)?;
        s.dirs[d].durable = s.dirs[d].volatile.clone();
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.step()?;
        let (fd, fname) = self.locate(&s, from)?;
        let (td, tname) = self.locate(&s, to)?;
        std::fs::rename(from, to)?;
        let node = s.dirs[fd]
            .volatile
            .remove(&fname)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "rename source"))?;
        s.dirs[td].volatile.insert(tname, node);
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut s = self.step()?;
        let (dir, name) = self.locate(&s, path)?;
        std::fs::remove_file(path)?;
        s.dirs[dir].volatile.remove(&name);
        Ok(())
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.step()?;
        std::fs::create_dir_all(dir)?;
        let rel =
            dir.strip_prefix(&self.root).map_err(|_| io::Error::other("outside the simulated folder"))?.to_path_buf();
        let mut d = 0;
        for c in rel.components() {
            let Component::Normal(name) = c else { continue };
            d = match s.dirs[d].volatile.get(name).copied() {
                Some(Node::Dir(x)) => x,
                Some(Node::File(_)) => return Err(io::Error::other("a file is in the way")),
                None => {
                    s.dirs.push(Dir::default());
                    let x = s.dirs.len() - 1;
                    s.dirs[d].volatile.insert(name.to_os_string(), Node::Dir(x));
                    x
                }
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{write_atomic_with, Fs};
    use super::*;

    fn none(_: &str) -> bool {
        false
    }

    #[test]
    fn unsynced_data_entries_and_renames_are_lost() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("old"), b"old").unwrap();
        let fs = SimFs::new(root, None, none);
        fs.write(&root.join("a"), b"data").unwrap(); // entry and data never synced
        fs.write(&root.join("b"), b"data").unwrap();
        fs.sync_file(&root.join("b")).unwrap(); // data synced, entry not
        fs.create_dir_all(&root.join("sub")).unwrap();
        fs.sync_dir(root).unwrap(); // now a, b and sub are durable entries; a's data is not
        fs.rename(&root.join("old"), &root.join("sub").join("moved")).unwrap(); // not synced
        fs.write(&root.join("sub").join("c"), b"c").unwrap();
        fs.sync_file(&root.join("sub").join("c")).unwrap();
        fs.sync_dir(&root.join("sub")).unwrap(); // c and moved durable in sub; old still in root
        fs.crash();
        assert_eq!(std::fs::read(root.join("a")).unwrap(), b"", "entry durable, data not: empty");
        assert_eq!(std::fs::read(root.join("b")).unwrap(), b"data");
        assert_eq!(std::fs::read(root.join("old")).unwrap(), b"old", "root not synced after the rename");
        assert_eq!(std::fs::read(root.join("sub").join("moved")).unwrap(), b"old", "sub was synced");
        assert_eq!(std::fs::read(root.join("sub").join("c")).unwrap(), b"c");
    }

    #[test]
    fn write_atomic_gives_old_or_new_at_every_crash_point() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let target = root.join("head.json");
        std::fs::write(&target, b"old head").unwrap();
        let total = {
            let fs = SimFs::new(root, None, none);
            write_atomic_with(&fs, &target, b"new head").unwrap();
            fs.ops()
        };
        assert!(total >= 4, "write, sync, rename, sync dir: {total}");
        for k in 1..=total + 1 {
            std::fs::write(&target, b"old head").unwrap();
            for e in std::fs::read_dir(root).unwrap().flatten() {
                if e.path() != target {
                    std::fs::remove_file(e.path()).unwrap();
                }
            }
            let fs = SimFs::new(root, Some(k), none);
            let acknowledged = write_atomic_with(&fs, &target, b"new head").is_ok();
            fs.crash();
            let now = std::fs::read(&target).unwrap();
            if acknowledged {
                assert_eq!(now, b"new head", "crash at op {k} after success");
            } else {
                assert!(now == b"old head" || now == b"new head", "crash at op {k}: {now:?}");
            }
        }
    }
}

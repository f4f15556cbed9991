//! The rules folder: `**/*.rhai` rule files and `lists/*.txt` shared value lists, loaded into a
//! [`RuleSet`], and reloaded file by file: a changed file is compiled and swapped whole; a
//! broken one is reported and its previous version keeps running; a removed one stops.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rhai::{Dynamic, Map};

use crate::engine::RuleSet;
use crate::limits;
use crate::rule::{self, Rule};
use crate::script::{self, Lists};

/// The folder of shared lists inside the rules folder.
pub const LISTS_FOLDER: &str = "lists";

/// One rule file as last read.
#[derive(Debug)]
struct LoadedFile {
    digest: u64,
    /// The rules of its last good version (empty if it never compiled).
    rules: Vec<Arc<Rule>>,
    /// Why its current text does not load, as `FILE:LINE: message` lines.
    error: Option<String>,
}

/// What one file holds, for status.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FileStatus {
    pub path: String,
    pub rules: Vec<String>,
    pub error: Option<String>,
}

/// The rule files of a folder, their last good versions and their errors.
pub struct Library {
    dir: PathBuf,
    lists_digest: u64,
    engine: Arc<rhai::Engine>,
    files: BTreeMap<String, LoadedFile>,
    /// Errors not tied to a rule file (a list that cannot be read, …).
    other_errors: Vec<String>,
}

impl Library {
    /// Loads every file under `dir` (which may be missing: no rules).
    pub fn open(dir: &Path) -> Self {
        let mut library = Library {
            dir: dir.to_owned(),
            lists_digest: 0,
            engine: Arc::new(script::engine(Arc::new(Lists::new()))),
            files: BTreeMap::new(),
            other_errors: Vec::new(),
        };
        library.reload();
        library
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Re-reads the folder; whether anything that runs changed.
    pub fn reload(&mut self) -> bool {
        self.reload_counting().0
    }

    /// Re-reads the folder; whether anything that runs changed, and how many new file versions
    /// failed to load.
    pub fn reload_counting(&mut self) -> (bool, usize) {
        let mut changed = false;
        let mut failed = 0;
        self.other_errors.clear();
        let (lists, list_errors) = read_lists(&self.dir.join(LISTS_FOLDER));
        self.other_errors.extend(list_errors);
        let lists_digest = fnv(format!("{lists:?}").as_bytes());
        let lists_changed = lists_digest != self.lists_digest;
        if lists_changed {
            self.lists_digest = lists_digest;
            self.engine = Arc::new(script::engine(Arc::new(lists)));
        }
        let mut seen = HashSet::new();
        for path in rule_files(&self.dir) {
            let relative = path
                .strip_prefix(&self.dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            seen.insert(relative.clone());
            let text = match read_limited(&path) {
                Ok(text) => text,
                Err(error) => {
                    self.mark_broken(&relative, 0, format!("{relative}: {error}"));
                    continue;
                }
            };
            let digest = fnv(text.as_bytes());
            if !lists_changed
                && self
                    .files
                    .get(&relative)
                    .is_some_and(|file| file.digest == digest)
            {
                continue;
            }
            match self.compile(&relative, &text, digest) {
                Ok(rules) => {
                    self.files.insert(
                        relative,
                        LoadedFile {
                            digest,
                            rules,
                            error: None,
                        },
                    );
                    changed = true;
                }
                Err(error) => {
                    tracing::error!(file = %relative, %error, "a rule file does not load; its previous version keeps running");
                    self.mark_broken(&relative, digest, error);
                    failed += 1;
                }
            }
        }
        let before = self.files.len();
        self.files.retain(|path, _| seen.contains(path));
        (changed || before != self.files.len(), failed)
    }

    fn mark_broken(&mut self, relative: &str, digest: u64, error: String) {
        let file = self.files.entry(relative.to_owned()).or_insert(LoadedFile {
            digest,
            rules: Vec::new(),
            error: None,
        });
        file.digest = digest;
        file.error = Some(error);
    }

    fn compile(&self, relative: &str, text: &str, digest: u64) -> Result<Vec<Arc<Rule>>, String> {
        let rules = compile_file(&self.engine, relative, text, digest)?;
        // An id another file already runs makes this file the broken one.
        for rule in &rules {
            let taken = self
                .files
                .iter()
                .filter(|(path, _)| path.as_str() != relative)
                .find(|(_, file)| file.rules.iter().any(|other| other.id == rule.id));
            if let Some((other, _)) = taken {
                return Err(format!(
                    "{relative}:{}: rule {:?}: the id is already used in {other}",
                    rule.line, rule.id
                ));
            }
        }
        Ok(rules.into_iter().map(Arc::new).collect())
    }

    /// Every `FILE:LINE: message`, file by file.
    pub fn errors(&self) -> Vec<String> {
        self.other_errors
            .iter()
            .cloned()
            .chain(self.files.values().filter_map(|file| file.error.clone()))
            .collect()
    }

    pub fn files(&self) -> Vec<FileStatus> {
        self.files
            .iter()
            .map(|(path, file)| FileStatus {
                path: path.clone(),
                rules: file.rules.iter().map(|rule| rule.id.clone()).collect(),
                error: file.error.clone(),
            })
            .collect()
    }

    pub fn broken_files(&self) -> usize {
        self.files
            .values()
            .filter(|file| file.error.is_some())
            .count()
    }

    /// The running rules of every file, in file order.
    pub fn rule_set(&self) -> Result<RuleSet, String> {
        let rules = self
            .files
            .values()
            .flat_map(|file| file.rules.iter().cloned())
            .collect();
        RuleSet::new(rules, self.engine.clone())
    }
}

/// Compiles one file's text into its rules.
pub fn compile_file(
    engine: &rhai::Engine,
    relative: &str,
    text: &str,
    digest: u64,
) -> Result<Vec<Rule>, String> {
    let ast = engine.compile(text).map_err(|error| {
        let line = error.1.line().unwrap_or(0);
        format!("{relative}:{line}: {}", error.0)
    })?;
    let ast = Arc::new(ast);
    let value = engine.eval_ast::<Dynamic>(&ast).map_err(|error| {
        let line = error.position().line().unwrap_or(0);
        format!("{relative}:{line}: {error}")
    })?;
    let maps: Vec<Map> = if let Some(map) = value.clone().try_cast::<Map>() {
        vec![map]
    } else if let Some(items) = value.try_cast::<rhai::Array>() {
        items
            .into_iter()
            .map(|item| item.try_cast::<Map>())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{relative}:1: a list of rules may hold only rule maps"))?
    } else {
        return Err(format!(
            "{relative}:1: a rule file must end with a rule map #{{ id: ..., ... }} or a list of them"
        ));
    };
    let version = format!("{digest:016x}")[..12].to_owned();
    let mut rules = Vec::with_capacity(maps.len());
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    for map in maps {
        let id_hint = map
            .get("id")
            .and_then(|id| id.clone().into_string().ok())
            .unwrap_or_default();
        let line = line_of(text, &id_hint);
        match rule::parse(map, &ast, &version) {
            Ok(mut rule) => {
                if !ids.insert(rule.id.clone()) {
                    errors.push(format!(
                        "{relative}:{line}: rule {:?}: the id appears twice",
                        rule.id
                    ));
                    continue;
                }
                rule.file = relative.to_owned();
                rule.line = line;
                rules.push(rule);
            }
            Err(error) => errors.push(format!("{relative}:{line}: {error}")),
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors.join("\n"))
    }
}

/// The line where `"id"` first appears (1 when it does not).
fn line_of(text: &str, id: &str) -> usize {
    if id.is_empty() {
        return 1;
    }
    let quoted = format!("\"{id}\"");
    text.find(&quoted)
        .map_or(1, |at| text[..at].matches('\n').count() + 1)
}

fn read_limited(path: &Path) -> Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|error| error.to_string())?;
    if metadata.len() > limits::MAX_RULE_FILE_BYTES {
        return Err(format!("larger than {} bytes", limits::MAX_RULE_FILE_BYTES));
    }
    let bytes = std::fs::read(path).map_err(|error| error.to_string())?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())
}

/// `*.rhai` under `dir`, in path order, outside the lists folder.
fn rule_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if path != dir.join(LISTS_FOLDER) {
                    pending.push(path);
                }
            } else if path
                .extension()
                .is_some_and(|extension| extension == "rhai")
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// `lists/NAME.txt`: one value per line; blank lines and `#` comments skipped.
fn read_lists(dir: &Path) -> (Lists, Vec<String>) {
    let mut lists = Lists::new();
    let mut errors = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (lists, errors);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|extension| extension != "txt") {
            continue;
        }
        let Some(name) = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
        else {
            continue;
        };
        match read_limited(&path) {
            Ok(text) => {
                let values = text
                    .lines()
                    .map(|line| line.split('#').next().unwrap_or("").trim())
                    .filter(|line| !line.is_empty())
                    .map(str::to_owned)
                    .collect();
                lists.insert(name, values);
            }
            Err(error) => errors.push(format!("{}: {error}", path.display())),
        }
    }
    (lists, errors)
}

/// FNV-1a, 64 bits: tells whether a file changed.
pub fn fnv(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

//! Which file each object of a snapshot was read from, for reports that point at a file (SARIF
//! locations) and for diagnostics that name the first of two copies.
//!
//! Files are kept once each and objects point at them by index: on the L tier that is 1.2
//! million ids and 12,778 files, where a path per id cost a heap copy each.

use std::path::{Path, PathBuf};

use foldhash::HashMap;

/// Object id → the file (relative to the snapshot's root) it was read from.
#[derive(Clone, Debug, Default)]
pub struct Origins {
    files: Vec<PathBuf>,
    file_index: HashMap<PathBuf, u32>,
    by_id: HashMap<String, u32>,
}

impl Origins {
    pub fn new() -> Origins {
        Origins::default()
    }

    fn file(&mut self, file: &Path) -> u32 {
        // Objects arrive file by file: the last file is the usual answer.
        if let Some(last) = self.files.last()
            && last == file
        {
            return (self.files.len() - 1) as u32;
        }
        if let Some(&i) = self.file_index.get(file) {
            return i;
        }
        let i = self.files.len() as u32;
        self.files.push(file.to_path_buf());
        self.file_index.insert(file.to_path_buf(), i);
        i
    }

    /// Records (or replaces) where `id` was read.
    pub fn insert(&mut self, id: &str, file: &Path) {
        let i = self.file(file);
        self.by_id.insert(id.to_owned(), i);
    }

    /// Records where `id` was read unless it is recorded already.
    pub fn insert_if_absent(&mut self, id: &str, file: &Path) {
        if !self.by_id.contains_key(id) {
            self.insert(id, file);
        }
    }

    /// The file `id` was read from.
    pub fn get(&self, id: &str) -> Option<&Path> {
        self.by_id
            .get(id)
            .and_then(|&i| self.files.get(i as usize))
            .map(PathBuf::as_path)
    }

    /// How many objects are recorded.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_point_at_their_files() {
        let mut o = Origins::new();
        o.insert("vpc-1", Path::new("a/x.json"));
        o.insert("vpc-2", Path::new("b/y.json"));
        o.insert("subnet-1", Path::new("a/x.json"));
        o.insert_if_absent("vpc-1", Path::new("b/y.json"));
        assert_eq!(o.get("vpc-1"), Some(Path::new("a/x.json")));
        assert_eq!(o.get("subnet-1"), Some(Path::new("a/x.json")));
        assert_eq!(o.get("vpc-2"), Some(Path::new("b/y.json")));
        assert_eq!(o.get("vpc-3"), None);
        o.insert("vpc-1", Path::new("b/y.json"));
        assert_eq!(o.get("vpc-1"), Some(Path::new("b/y.json")));
        assert_eq!((o.len(), o.files.len()), (3, 2));
    }
}

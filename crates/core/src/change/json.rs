//! Where things are in a JSON text. `serde_json::Value` keeps no positions, and of a key given
//! twice it keeps the last without a word. A change file is written by hand, so its mistakes are
//! reported at their line and column ([`locate`]), and an object that gives a key twice
//! (`"DryRun": true, …, "DryRun": false`) is refused ([`duplicate_key`]) rather than read as
//! whichever came last.
//!
//! Both functions scan text that `serde_json` has already parsed, so they never judge syntax; on
//! anything unexpected they give up (`None`) instead of guessing. Nesting is bounded by
//! `serde_json`'s recursion limit (128), which bounds the recursion here too.

use foldhash::{HashSet, HashSetExt};
use std::borrow::Cow;

/// One step into a JSON value: an object's member or an array's item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

impl From<&str> for Step {
    fn from(k: &str) -> Step {
        Step::Key(k.to_owned())
    }
}

impl From<usize> for Step {
    fn from(i: usize) -> Step {
        Step::Index(i)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// Where the value at `path` is: (the offset of its key when the last step is a key, the
/// offset where the value starts).
pub fn locate(text: &str, path: &[Step]) -> Option<(Option<usize>, usize)> {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
    };
    let mut key_at = None;
    for step in path {
        s.ws();
        match step {
            Step::Key(want) => {
                s.eat(b'{')?;
                loop {
                    s.ws();
                    let at = s.i;
                    let key = s.key(text)?;
                    s.ws();
                    s.eat(b':')?;
                    s.ws();
                    if key == want.as_str() {
                        key_at = Some(at);
                        break;
                    }
                    s.skip()?;
                    s.ws();
                    s.eat(b',')?;
                }
            }
            Step::Index(n) => {
                s.eat(b'[')?;
                for _ in 0..*n {
                    s.ws();
                    s.skip()?;
                    s.ws();
                    s.eat(b',')?;
                }
                s.ws();
                if s.peek()? == b']' {
                    return None;
                }
                key_at = None;
            }
        }
    }
    s.ws();
    Some((key_at, s.i))
}

/// The first key an object gives twice: (the offset of its second occurrence, the key).
pub fn duplicate_key(text: &str) -> Option<(usize, String)> {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
    };
    s.ws();
    s.duplicates(text).err()
}

struct Scan<'t> {
    b: &'t [u8],
    i: usize,
}

impl<'t> Scan<'t> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string literal: its text between the quotes, escapes unresolved.
    fn string(&mut self) -> Option<(usize, usize)> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
        let end = self.i;
        self.i += 1;
        Some((start, end))
    }

    /// An object key, escapes resolved.
    fn key(&mut self, text: &'t str) -> Option<Cow<'t, str>> {
        let (start, end) = self.string()?;
        let raw = text.get(start..end)?;
        if raw.contains('\\') {
            serde_json::from_str::<String>(text.get(start - 1..end + 1)?)
                .ok()
                .map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(raw))
        }
    }

    /// Skips one value.
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.i += 1;
                loop {
                    self.ws();
                    match self.peek()? {
                        c if c == close => {
                            self.i += 1;
                            return Some(());
                        }
                        b',' | b':' => self.i += 1,
                        _ => self.skip()?,
                    }
                }
            }
            _ => {
                // A number or a literal: up to the next delimiter.
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.i += 1;
                }
                Some(())
            }
        }
    }

    /// Walks one value; `Err` is the first key given twice in an object. Text that does not
    /// scan ends the walk with `Ok`: serde_json has judged its syntax.
    fn duplicates(&mut self, text: &'t str) -> Result<(), (usize, String)> {
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let mut keys = HashSet::new();
                loop {
                    self.ws();
                    match self.peek() {
                        Some(b'}') | None => {
                            self.i += 1;
                            return Ok(());
                        }
                        Some(b',') => self.i += 1,
                        Some(_) => {
                            let at = self.i;
                            let Some(key) = self.key(text) else {
                                return Ok(());
                            };
                            if !keys.insert(key.clone()) {
                                return Err((at, key.into_owned()));
                            }
                            self.ws();
                            if self.eat(b':').is_none() {
                                return Ok(());
                            }
                            self.ws();
                            self.duplicates(text)?;
                        }
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                loop {
                    self.ws();
                    match self.peek() {
                        Some(b']') | None => {
                            self.i += 1;
                            return Ok(());
                        }
                        Some(b',') => self.i += 1,
                        Some(_) => self.duplicates(text)?,
                    }
                }
            }
            Some(_) => {
                if self.skip().is_none() {
                    self.i = self.b.len();
                }
                Ok(())
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[\n  {\"Action\": \"CreateRoute\", \"x\": [1, {\"a\\u0062\": 2}],\n   \"DryRun\": \"true\"},\n  {}\n]";

    fn at(path: &[Step]) -> Option<((usize, usize), (usize, usize))> {
        let (k, v) = locate(TEXT, path)?;
        Some((
            k.map_or((0, 0), |k| line_column(TEXT, k)),
            line_column(TEXT, v),
        ))
    }

    #[test]
    fn values_and_keys_are_located() {
        assert_eq!(at(&[0.into(), "DryRun".into()]), Some(((3, 4), (3, 14))));
        assert_eq!(at(&[0.into(), "Action".into()]), Some(((2, 4), (2, 14))));
        assert_eq!(
            at(&[0.into(), "x".into(), 1.into(), "ab".into()]),
            Some(((2, 39), (2, 50)))
        );
        assert_eq!(at(&[1.into()]), Some(((0, 0), (4, 3))));
        assert_eq!(at(&[2.into()]), None);
        assert_eq!(at(&[0.into(), "missing".into()]), None);
    }

    #[test]
    fn a_key_given_twice_is_found() {
        assert_eq!(duplicate_key(TEXT), None);
        let text = "[{\"a\": {\"b\": 1, \"c\": [{\"d\": 1, \"d\": 2}]}}]";
        let (offset, key) = duplicate_key(text).unwrap();
        assert_eq!((key.as_str(), &text[offset..offset + 3]), ("d", "\"d\""));
        assert_eq!(offset, 31);
        // Escapes are resolved before comparing.
        assert_eq!(
            duplicate_key("{\"ab\": 1, \"a\\u0062\": 2}").map(|d| d.1),
            Some("ab".into())
        );
        assert_eq!(duplicate_key("{\"a\": \"{\\\"a\\\"\", \"b\": 1}"), None);
    }
}

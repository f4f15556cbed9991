//! Substring search for the decoders' short, fixed separators (`" from "`, `": "`, `','`).
//!
//! `str::find` with a `&str` pattern builds a Two-Way searcher on every call: a few hundred
//! instructions of set-up to find a six-byte separator in a sixty-byte line (a quarter of what
//! sshd's password lines cost went to one `rsplit_once`). These methods find the needle's first
//! (or last) byte with `memchr` and compare the rest in place. The answers are the same as `str`'s (a needle that is
//! valid UTF-8 can only match at character boundaries); the worst case, a haystack full of the
//! needle's first byte, is the needle's length times the haystack's, and decoder needles are a
//! few bytes.
//!
//! A `char` needle has the same problem in a smaller way: `str`'s searcher finds its last byte
//! with the standard library's word-at-a-time `memchr`, then compares its encoding through a
//! `memcmp` call, and together they were a tenth of what decoding added. The `_char` methods
//! find an ASCII character with `memchr` alone; any other character goes to `str`'s methods.
//! `trimmed` is `str::trim` with a fast answer for text that starts and ends with a visible ASCII
//! character (nearly every value a decoder keeps), which `trim` otherwise decodes from both
//! ends.

/// `str`'s search methods, for a `&str` needle.
pub(super) trait Search {
    /// The start of the first `needle`, as [`str::find`].
    fn find_str(&self, needle: &str) -> Option<usize>;
    /// The start of the last `needle`, as [`str::rfind`].
    fn rfind_str(&self, needle: &str) -> Option<usize>;
    /// As [`str::contains`].
    fn contains_str(&self, needle: &str) -> bool;
    /// As [`str::split_once`].
    fn split_once_str(&self, needle: &str) -> Option<(&str, &str)>;
    /// As [`str::rsplit_once`].
    fn rsplit_once_str(&self, needle: &str) -> Option<(&str, &str)>;
    /// As [`str::split`] with a `&str`.
    fn split_str<'a>(&'a self, needle: &'a str) -> Split<'a, &'a str>;
    /// As [`str::find`] with a `char`.
    fn find_char(&self, needle: char) -> Option<usize>;
    /// As [`str::rfind`] with a `char`.
    fn rfind_char(&self, needle: char) -> Option<usize>;
    /// As [`str::contains`] with a `char`.
    fn contains_char(&self, needle: char) -> bool;
    /// As [`str::split_once`] with a `char`.
    fn split_once_char(&self, needle: char) -> Option<(&str, &str)>;
    /// As [`str::rsplit_once`] with a `char`.
    fn rsplit_once_char(&self, needle: char) -> Option<(&str, &str)>;
    /// As [`str::split`] with a `char`.
    fn split_char(&self, needle: char) -> Split<'_, char>;
    /// As [`str::trim`].
    fn trimmed(&self) -> &str;
}

impl Search for str {
    fn find_str(&self, needle: &str) -> Option<usize> {
        let (haystack, needle) = (self.as_bytes(), needle.as_bytes());
        let Some((&first, _)) = needle.split_first() else {
            return Some(0);
        };
        memchr::memchr_iter(first, haystack).find(|&at| haystack[at..].starts_with(needle))
    }

    fn rfind_str(&self, needle: &str) -> Option<usize> {
        let (haystack, needle) = (self.as_bytes(), needle.as_bytes());
        let Some((&first, _)) = needle.split_first() else {
            return Some(haystack.len());
        };
        memchr::memrchr_iter(first, haystack).find(|&at| haystack[at..].starts_with(needle))
    }

    fn contains_str(&self, needle: &str) -> bool {
        self.find_str(needle).is_some()
    }

    fn split_once_str(&self, needle: &str) -> Option<(&str, &str)> {
        let at = self.find_str(needle)?;
        Some((&self[..at], &self[at + needle.len()..]))
    }

    fn rsplit_once_str(&self, needle: &str) -> Option<(&str, &str)> {
        let at = self.rfind_str(needle)?;
        Some((&self[..at], &self[at + needle.len()..]))
    }

    fn split_str<'a>(&'a self, needle: &'a str) -> Split<'a, &'a str> {
        Split {
            rest: Some(self),
            needle,
        }
    }

    #[inline]
    fn find_char(&self, needle: char) -> Option<usize> {
        if needle.is_ascii() {
            // An ASCII byte is never part of another character's encoding.
            memchr::memchr(needle as u8, self.as_bytes())
        } else {
            self.find(needle)
        }
    }

    #[inline]
    fn rfind_char(&self, needle: char) -> Option<usize> {
        if needle.is_ascii() {
            memchr::memrchr(needle as u8, self.as_bytes())
        } else {
            self.rfind(needle)
        }
    }

    #[inline]
    fn contains_char(&self, needle: char) -> bool {
        self.find_char(needle).is_some()
    }

    #[inline]
    fn split_once_char(&self, needle: char) -> Option<(&str, &str)> {
        let at = self.find_char(needle)?;
        Some((&self[..at], &self[at + needle.len_utf8()..]))
    }

    #[inline]
    fn rsplit_once_char(&self, needle: char) -> Option<(&str, &str)> {
        let at = self.rfind_char(needle)?;
        Some((&self[..at], &self[at + needle.len_utf8()..]))
    }

    fn split_char(&self, needle: char) -> Split<'_, char> {
        Split {
            rest: Some(self),
            needle,
        }
    }

    #[inline]
    fn trimmed(&self) -> &str {
        let bytes = self.as_bytes();
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => {
                self
            }
            _ => self.trim(),
        }
    }
}

/// The pieces of a text between its needles (a `char` or a `&str`), as [`str::split`] gives
/// them.
#[derive(Clone, Debug)]
pub(super) struct Split<'a, N> {
    /// What is left, `None` once the last piece has been given.
    rest: Option<&'a str>,
    needle: N,
}

/// What [`Split`] splits on.
pub(super) trait Needle: Copy {
    /// The text before the first needle and the text after it.
    fn split_once_in(self, text: &str) -> Option<(&str, &str)>;
}

impl Needle for char {
    fn split_once_in(self, text: &str) -> Option<(&str, &str)> {
        text.split_once_char(self)
    }
}

impl Needle for &str {
    fn split_once_in(self, text: &str) -> Option<(&str, &str)> {
        // An empty needle matches between every character, as `str::split`'s does; these
        // searches never use one, and it splits nothing here.
        if self.is_empty() {
            return None;
        }
        text.split_once_str(self)
    }
}

impl<'a, N: Needle> Iterator for Split<'a, N> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match self.needle.split_once_in(rest) {
            Some((piece, after)) => {
                self.rest = Some(after);
                Some(piece)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// The text between the first `start` and the next `end` after it (or the end of `text`).
pub(super) fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find_str(start)? + start.len();
    let rest = &text[from..];
    Some(rest.find_str(end).map_or(rest, |stop| &rest[..stop]))
}

/// Where the first whitespace character (as [`char::is_whitespace`]) of `text` starts, as
/// `text.find(char::is_whitespace)` says, but byte by byte: ASCII is tested as a byte, and only
/// a non-ASCII byte decodes its character.
pub(super) fn find_whitespace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte.is_ascii() {
            // char::is_whitespace's ASCII members: tab, line feed, vertical tab, form feed,
            // carriage return, space.
            if matches!(byte, b'\t'..=b'\r' | b' ') {
                return Some(at);
            }
            at += 1;
            continue;
        }
        let c = text[at..].chars().next()?;
        if c.is_whitespace() {
            return Some(at);
        }
        at += c.len_utf8();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{between, find_whitespace, Search};

    proptest::proptest! {
        #[test]
        fn finds_whitespace_as_str_does(text in "[a= \t\n\x0b\x0c\r\x1c\u{85}\u{a0}\u{2003}\u{3000}é\"]{0,24}") {
            proptest::prop_assert_eq!(find_whitespace(&text), text.find(char::is_whitespace));
        }
    }

    proptest::proptest! {
        /// The `char` methods answer as `str`'s, for ASCII and other characters.
        #[test]
        fn char_answers_as_str_does(haystack in "[ab é:\u{2003}]{0,24}", needle in "[b é:\u{2003}]") {
            let h = haystack.as_str();
            let Some(n) = needle.chars().next() else {
                return Ok(());
            };
            proptest::prop_assert_eq!(h.find_char(n), h.find(n));
            proptest::prop_assert_eq!(h.rfind_char(n), h.rfind(n));
            proptest::prop_assert_eq!(h.contains_char(n), h.contains(n));
            proptest::prop_assert_eq!(h.split_once_char(n), h.split_once(n));
            proptest::prop_assert_eq!(h.rsplit_once_char(n), h.rsplit_once(n));
            proptest::prop_assert_eq!(h.split_char(n).collect::<Vec<_>>(), h.split(n).collect::<Vec<_>>());
        }

        /// `trimmed` is `trim`, whatever the ends hold.
        #[test]
        fn trims_as_str_does(text in "[a \t\n\r\x0b\x0c\x00\x7f~\u{85}\u{a0}\u{2003}\u{3000}é]{0,8}") {
            proptest::prop_assert_eq!(text.trimmed(), text.trim());
        }
    }

    proptest::proptest! {
        /// The same answers as `str`'s methods, on text made of few letters so that needles
        /// match, overlap and repeat.
        #[test]
        fn answers_as_str_does(haystack in "[ab é:]{0,24}", needle in "[ab é:]{0,4}") {
            let (h, n) = (haystack.as_str(), needle.as_str());
            proptest::prop_assert_eq!(h.find_str(n), h.find(n));
            proptest::prop_assert_eq!(h.rfind_str(n), h.rfind(n));
            proptest::prop_assert_eq!(h.contains_str(n), h.contains(n));
            proptest::prop_assert_eq!(h.split_once_str(n), h.split_once(n));
            proptest::prop_assert_eq!(h.rsplit_once_str(n), h.rsplit_once(n));
            if !n.is_empty() {
                proptest::prop_assert_eq!(h.split_str(n).collect::<Vec<_>>(), h.split(n).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn separators_in_log_lines() {
        let line = "invalid user admin from 203.0.113.9 from 10.0.0.1 port 22";
        assert_eq!(
            line.rsplit_once_str(" from "),
            Some(("invalid user admin from 203.0.113.9", "10.0.0.1 port 22"))
        );
        assert_eq!(line.find_str(" port "), Some(49));
        assert_eq!(line.find_str("ssh2"), None);
        assert!(!"".contains_str("x"));
        let asa =
            "Deny tcp src outside:198.51.100.7/51234 dst inside:10.0.0.5/23 by access-group \"in\"";
        assert_eq!(
            between(asa, " src ", " "),
            Some("outside:198.51.100.7/51234")
        );
        assert_eq!(between(asa, "access-group \"", "\""), Some("in"));
        assert_eq!(between(asa, " by ", "!"), Some("access-group \"in\""));
        assert_eq!(between(asa, " via ", " "), None);
    }
}

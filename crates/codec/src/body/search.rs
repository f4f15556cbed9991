//! Substring search for the decoders' short, fixed separators (`" from "`, `": "`).
//!
//! `str::find` with a `&str` pattern builds a Two-Way searcher on every call: a few hundred
//! instructions of set-up to find a six-byte separator in a sixty-byte line (a quarter of what
//! sshd's password lines cost went to one `rsplit_once`). These methods find the needle's first (or last) byte with
//! `memchr` and compare the rest in place. The answers are the same as `str`'s (a needle that is
//! valid UTF-8 can only match at character boundaries); the worst case, a haystack full of the
//! needle's first byte, is the needle's length times the haystack's, and decoder needles are a
//! few bytes.

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

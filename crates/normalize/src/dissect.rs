//! Dissect patterns: `%{source.ip} - %{user.name} [%{ts}] "%{http.request.method} %{}"`.
//!
//! A pattern is literal text with keys between. Each key takes the text up to the next
//! occurrence of the literal that follows it (the last key takes the rest); no backtracking,
//! so a match costs one scan of the line. `%{}` and `%{?name}` skip a part; `%{name->}` also
//! skips repeats of the delimiter after it (padding). The line must match to its end.

/// A compiled dissect pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dissect {
    /// Literal text the line must start with.
    prefix: String,
    /// Each key and the delimiter after it (empty for the last key).
    keys: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Part {
    /// `None` for a skipped part.
    name: Option<String>,
    delimiter: String,
    skip_repeats: bool,
}

impl Dissect {
    /// Compiles `pattern`; the error says what is wrong and at which character.
    pub fn compile(pattern: &str) -> Result<Self, String> {
        let mut prefix = String::new();
        let mut keys: Vec<Part> = Vec::new();
        let mut rest = pattern;
        let mut offset = 0;
        while !rest.is_empty() {
            match rest.find("%{") {
                Some(start) => {
                    push_literal(&mut prefix, &mut keys, &rest[..start]);
                    let after = &rest[start + 2..];
                    let Some(end) = after.find('}') else {
                        return Err(format!(
                            "dissect: `%{{` at character {} is never closed",
                            offset + start + 1
                        ));
                    };
                    if keys.last().is_some_and(|key| key.delimiter.is_empty()) {
                        return Err(format!(
                            "dissect: two keys at character {} have no text between them, so \
                             where one ends is undefined",
                            offset + start + 1
                        ));
                    }
                    keys.push(parse_key(&after[..end])?);
                    let consumed = start + 2 + end + 1;
                    offset += consumed;
                    rest = &rest[consumed..];
                }
                None => {
                    push_literal(&mut prefix, &mut keys, rest);
                    break;
                }
            }
        }
        if keys.iter().all(|key| key.name.is_none()) {
            return Err("dissect: the pattern names no key".into());
        }
        Ok(Self { prefix, keys })
    }

    /// The names the pattern fills, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|key| key.name.as_deref())
    }

    /// Matches `line`, calling `found` with each named key and its text; `false` (and no
    /// call) when the line does not match.
    pub fn apply<'a>(&'a self, line: &'a str, mut found: impl FnMut(&'a str, &'a str)) -> bool {
        let Some(mut rest) = line.strip_prefix(self.prefix.as_str()) else {
            return false;
        };
        let mut values: Vec<(&str, &str)> = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            let value = if key.delimiter.is_empty() {
                std::mem::take(&mut rest)
            } else {
                let Some(end) = rest.find(key.delimiter.as_str()) else {
                    return false;
                };
                let value = &rest[..end];
                rest = &rest[end + key.delimiter.len()..];
                if key.skip_repeats {
                    while let Some(after) = rest.strip_prefix(key.delimiter.as_str()) {
                        rest = after;
                    }
                }
                value
            };
            if let Some(name) = &key.name {
                values.push((name, value));
            }
        }
        if !rest.is_empty() {
            return false;
        }
        for (name, value) in values {
            found(name, value);
        }
        true
    }
}

fn push_literal(prefix: &mut String, keys: &mut [Part], literal: &str) {
    match keys.last_mut() {
        Some(key) => key.delimiter.push_str(literal),
        None => prefix.push_str(literal),
    }
}

fn parse_key(inner: &str) -> Result<Part, String> {
    let (inner, skip_repeats) = match inner.strip_suffix("->") {
        Some(inner) => (inner, true),
        None => (inner, false),
    };
    let name = if inner.is_empty() || inner.starts_with('?') {
        None
    } else if inner
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        Some(inner.to_owned())
    } else {
        return Err(format!(
            "dissect: key {inner:?} may hold only letters, digits, `.`, `_`, `-` and `@`"
        ));
    };
    Ok(Part {
        name,
        delimiter: String::new(),
        skip_repeats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pattern: &str, line: &str) -> Option<Vec<(String, String)>> {
        let dissect = Dissect::compile(pattern).unwrap();
        let mut found = Vec::new();
        dissect
            .apply(line, |name, value| {
                found.push((name.to_owned(), value.to_owned()))
            })
            .then_some(found)
    }

    #[test]
    fn keys_take_the_text_up_to_their_delimiter() {
        let found = run(
            "%{source.ip} - %{user.name} [%{ts}] \"%{http.request.method} %{}\"",
            "10.0.0.1 - bob [10/Oct/2000:13:55:36 -0700] \"GET /x HTTP/1.0\"",
        )
        .unwrap();
        assert_eq!(
            found,
            [
                ("source.ip".into(), "10.0.0.1".into()),
                ("user.name".into(), "bob".into()),
                ("ts".into(), "10/Oct/2000:13:55:36 -0700".into()),
                ("http.request.method".into(), "GET".into()),
            ]
        );
    }

    #[test]
    fn padding_is_skipped_with_the_arrow() {
        let found = run("%{a->} %{b}", "x    y").unwrap();
        assert_eq!(found[1], ("b".into(), "y".into()));
        assert_eq!(run("%{a} %{b}", "x    y").unwrap()[1].1, "   y");
    }

    #[test]
    fn a_line_that_does_not_fit_does_not_match() {
        assert!(run("user %{user.name} from %{source.ip}", "user bob to 1.2.3.4").is_none());
        assert!(run("user %{user.name}!", "user bob! trailing").is_none());
        assert!(run("[%{a}]", "no bracket").is_none());
    }

    #[test]
    fn bad_patterns_say_why() {
        assert!(Dissect::compile("%{a}%{b}")
            .unwrap_err()
            .contains("no text between"));
        assert!(Dissect::compile("%{a")
            .unwrap_err()
            .contains("never closed"));
        assert!(Dissect::compile("plain text")
            .unwrap_err()
            .contains("names no key"));
        assert!(Dissect::compile("%{a b}")
            .unwrap_err()
            .contains("may hold only"));
    }
}

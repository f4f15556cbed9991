//! Account and group changes from shadow-utils (4.1–4.17): `useradd`, `usermod`, `userdel`,
//! `groupadd`, `groupmod`, `groupdel`, `passwd`, `chage`, `gpasswd`, `chfn`/`chsh`; the PAM
//! lines they (and `chpasswd`) write, `pam_unix(passwd:chauthtok): password changed for bob`, go
//! to the PAM decoder.
//!
//! The messages are matched against a table of shadow-utils' own syslog formats, e.g.
//! `new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0`,
//! `new group: name=bob, GID=1001`, `add 'bob' to group 'sudo'`, `delete user 'bob'`,
//! `removed group 'bob' owned by 'bob'`, `change user 'bob' password`,
//! `group added to /etc/group: name=devs, GID=1002`, `password for 'bob' changed by 'root'`,
//! `user bob added by root to group devs`. Older releases quote names as `` `bob' ``; both
//! quotings match.
//!
//! Fields: `user.target.name` (the account acted on), `user.target.id`, `group.name`,
//! `group.id`, `user.name` (who made the change, when the line says), `user.changes.name` (a
//! new login name), `event.category` `iam`, `event.type` (`user`/`group` with `creation`,
//! `deletion` or `change`), `event.action` (`user-created`, `user-deleted`, `group-created`,
//! `group-deleted`, `user-added-to-group`, `user-removed-from-group`, `password-changed`, …),
//! `event.outcome`; and, without an ECS name, `shadow_utils.home`, `shadow_utils.shell`,
//! `shadow_utils.tty`, `shadow_utils.attribute` with `shadow_utils.old_value` /
//! `shadow_utils.new_value`, `shadow_utils.new_name` (a group's new name), `file.path` (the
//! database changed, `/etc/group`).
//!
//! Not handled: the programs' error messages to the terminal, `newusers`, `chgpasswd`.

use super::pam::{self, put_event, FAILURE, SUCCESS};
use super::search::Search;
use super::{Input, Output};

/// One syslog format: literal text with `{placeholder}`s, and what the line means.
struct Format {
    pattern: &'static str,
    kind: &'static [&'static str],
    action: &'static str,
    outcome: Option<&'static str>,
}

const fn format(
    pattern: &'static str,
    kind: &'static [&'static str],
    action: &'static str,
) -> Format {
    Format {
        pattern,
        kind,
        action,
        outcome: SUCCESS,
    }
}

const fn failed(
    pattern: &'static str,
    kind: &'static [&'static str],
    action: &'static str,
) -> Format {
    Format {
        pattern,
        kind,
        action,
        outcome: FAILURE,
    }
}

const USER_CREATION: &[&str] = &["user", "creation"];
const USER_DELETION: &[&str] = &["user", "deletion"];
const USER_CHANGE: &[&str] = &["user", "change"];
const GROUP_CREATION: &[&str] = &["group", "creation"];
const GROUP_DELETION: &[&str] = &["group", "deletion"];
const GROUP_CHANGE: &[&str] = &["group", "change"];

/// shadow-utils' syslog formats (src/useradd.c, usermod.c, userdel.c, groupadd.c, groupdel.c,
/// groupmod.c, passwd.c, chage.c, gpasswd.c, chfn.c, chsh.c). A longer form comes before a
/// shorter one it extends. `'` also matches the older `` ` `` opening quote.
const FORMATS: &[Format] = &[
    // useradd
    format(
        "new user: name={user}, UID={uid}, GID={gid}, home={home}, shell={shell}, from={tty}",
        USER_CREATION,
        "user-created",
    ),
    format(
        "new user: name={user}, UID={uid}, GID={gid}, home={home}, shell={shell}",
        USER_CREATION,
        "user-created",
    ),
    format(
        "new group: name={group}, GID={gid}",
        GROUP_CREATION,
        "group-created",
    ),
    format(
        "add '{user}' to group '{group}'",
        GROUP_CHANGE,
        "user-added-to-group",
    ),
    format(
        "add '{user}' to shadow group '{group}'",
        GROUP_CHANGE,
        "user-added-to-group",
    ),
    failed(
        "failed adding user '{user}', {rest}",
        USER_CREATION,
        "user-created",
    ),
    // userdel
    format("delete user '{user}'", USER_DELETION, "user-deleted"),
    format(
        "delete '{user}' from group '{group}'",
        GROUP_CHANGE,
        "user-removed-from-group",
    ),
    format(
        "delete '{user}' from shadow group '{group}'",
        GROUP_CHANGE,
        "user-removed-from-group",
    ),
    format(
        "removed group '{group}' owned by '{user}'",
        GROUP_DELETION,
        "group-deleted",
    ),
    format(
        "removed shadow group '{group}' owned by '{user}'",
        GROUP_DELETION,
        "group-deleted",
    ),
    // usermod
    format(
        "lock user '{user}' password",
        USER_CHANGE,
        "password-locked",
    ),
    format(
        "unlock user '{user}' password",
        USER_CHANGE,
        "password-unlocked",
    ),
    format(
        "change user '{user}' password",
        USER_CHANGE,
        "password-changed",
    ),
    format(
        "change user name '{user}' to '{new_user}'",
        USER_CHANGE,
        "user-renamed",
    ),
    format(
        "change user '{user}' {attribute} from '{old}' to '{new}'",
        USER_CHANGE,
        "user-modified",
    ),
    format(
        "change '{user}' to '{new_user}' in group '{group}'",
        GROUP_CHANGE,
        "user-renamed",
    ),
    format(
        "change '{user}' to '{new_user}' in shadow group '{group}'",
        GROUP_CHANGE,
        "user-renamed",
    ),
    // groupadd, groupdel, groupmod
    format(
        "group added to {file}: name={group}, GID={gid}",
        GROUP_CREATION,
        "group-created",
    ),
    format(
        "group added to {file}: name={group}",
        GROUP_CREATION,
        "group-created",
    ),
    format(
        "group '{group}' removed from {file}",
        GROUP_DELETION,
        "group-deleted",
    ),
    format("group '{group}' removed", GROUP_DELETION, "group-deleted"),
    format("remove group '{group}'", GROUP_DELETION, "group-deleted"),
    format(
        "change group '{group}' to '{new_name}'",
        GROUP_CHANGE,
        "group-renamed",
    ),
    format(
        "change GID for '{group}' to {gid}",
        GROUP_CHANGE,
        "group-modified",
    ),
    format(
        "group changed in {file} ({change})",
        GROUP_CHANGE,
        "group-modified",
    ),
    // passwd, chage
    format(
        "password for '{user}' changed by '{by}'",
        USER_CHANGE,
        "password-changed",
    ),
    failed(
        "incorrect password for {user}",
        USER_CHANGE,
        "password-changed",
    ),
    format(
        "password locked for '{user}'",
        USER_CHANGE,
        "password-locked",
    ),
    format(
        "changed password expiry for {user}",
        USER_CHANGE,
        "password-expiry-changed",
    ),
    // gpasswd (the trailing `%s` is an optional ` in /etc/gshadow`-like note)
    format(
        "user {user} added by {by} to group {group_word}",
        GROUP_CHANGE,
        "user-added-to-group",
    ),
    format(
        "user {user} removed by {by} from group {group_word}",
        GROUP_CHANGE,
        "user-removed-from-group",
    ),
    format(
        "add member {user} to group {group} by {by}",
        GROUP_CHANGE,
        "user-added-to-group",
    ),
    format(
        "remove member {user} from group {group} by {by}",
        GROUP_CHANGE,
        "user-removed-from-group",
    ),
    format(
        "password of group {group} changed by {by_word}",
        GROUP_CHANGE,
        "group-password-changed",
    ),
    // chfn, chsh
    format(
        "changed user '{user}' information",
        USER_CHANGE,
        "user-modified",
    ),
    format(
        "changed user '{user}' shell to '{new}'",
        USER_CHANGE,
        "user-modified",
    ),
];

/// At most this many placeholders in one format.
const MAX_PLACEHOLDERS: usize = 6;

type Captures<'a> = [(&'static str, &'a str); MAX_PLACEHOLDERS];

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    if pam::decode_message(message, out) {
        return true;
    }
    out.clear();
    // userdel ends some lines with `\n`, which syslog daemons keep or escape as `#012`.
    let message = message.strip_suffix("#012").unwrap_or(message).trim_end();
    for format in FORMATS {
        let mut captures: Captures<'_> = [("", ""); MAX_PLACEHOLDERS];
        if let Some(count) = match_pattern(format.pattern, message, &mut captures) {
            if put_captures(&captures[..count], out) {
                put_event(out, "iam", format.kind, format.action, format.outcome);
                return true;
            }
            out.clear();
        }
    }
    false
}

/// Matches `text` against `pattern`; each `{name}` takes the shortest text up to the literal
/// that follows it (the rest of the line when it is last). The number of captures, or `None`.
fn match_pattern<'a>(
    pattern: &'static str,
    text: &'a str,
    captures: &mut Captures<'a>,
) -> Option<usize> {
    let mut pattern_rest = pattern;
    let mut text_rest = text;
    let mut count = 0;
    loop {
        let (literal, after) = match pattern_rest.find_char('{') {
            Some(at) => (&pattern_rest[..at], Some(&pattern_rest[at + 1..])),
            None => (pattern_rest, None),
        };
        text_rest = strip_literal(text_rest, literal)?;
        let Some(after) = after else {
            return text_rest.is_empty().then_some(count);
        };
        let (name, next) = after.split_once_char('}')?;
        let next_literal = next.split_char('{').next().unwrap_or("");
        let end = if next_literal.is_empty() {
            text_rest.len()
        } else {
            find_literal(text_rest, next_literal)?
        };
        let slot = captures.get_mut(count)?;
        *slot = (name, &text_rest[..end]);
        count += 1;
        text_rest = &text_rest[end..];
        pattern_rest = next;
    }
}

/// `text` without its leading `literal`, where the literal's `'` may also be a `` ` ``.
fn strip_literal<'a>(text: &'a str, literal: &str) -> Option<&'a str> {
    let head = text.get(..literal.len())?;
    let same = head
        .bytes()
        .zip(literal.bytes())
        .all(|(got, want)| got == want || (want == b'\'' && got == b'`'));
    same.then(|| &text[literal.len()..])
}

/// Where `literal` first starts in `text` (with the same quote leniency).
fn find_literal(text: &str, literal: &str) -> Option<usize> {
    text.char_indices()
        .map(|(at, _)| at)
        .find(|&at| strip_literal(&text[at..], literal).is_some())
}

/// Stores the captures; `false` when one is not what its placeholder must be (an empty name,
/// a name with spaces, an id that is not a number).
fn put_captures(captures: &[(&'static str, &str)], out: &mut Output) -> bool {
    for &(name, value) in captures {
        let stored = match name {
            "user" => put_name(out, "user.target.name", value),
            "group" => put_name(out, "group.name", value),
            "by" => put_name(out, "user.name", value),
            "new_user" => put_name(out, "user.changes.name", value),
            "new_name" => put_name(out, "shadow_utils.new_name", value),
            "group_word" => put_name(out, "group.name", first_word(value)),
            "by_word" => put_name(out, "user.name", first_word(value)),
            "uid" => out.put_int("user.target.id", value),
            "gid" => out.put_int("group.id", value),
            "home" => put_text(out, "shadow_utils.home", value),
            "shell" => put_text(out, "shadow_utils.shell", value),
            "tty" => put_text(out, "shadow_utils.tty", value),
            "attribute" => put_name(out, "shadow_utils.attribute", value),
            "old" => put_text(out, "shadow_utils.old_value", value),
            "new" => put_text(out, "shadow_utils.new_value", value),
            "file" => put_name(out, "file.path", value),
            "change" => put_text(out, "shadow_utils.change", value),
            _ => true,
        };
        if !stored {
            return false;
        }
    }
    true
}

fn first_word(text: &str) -> &str {
    text.split_char(' ').next().unwrap_or(text)
}

/// A user, group or file name: one word, not empty.
fn put_name(out: &mut Output, field: &'static str, value: &str) -> bool {
    if value.is_empty() || value.contains_char(' ') {
        return false;
    }
    out.put_str(field, value);
    true
}

fn put_text(out: &mut Output, field: &'static str, value: &str) -> bool {
    out.put_str(field, value);
    true
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;

//! Fixtures: shadow-utils syslog lines as Debian/Ubuntu auth.log and RHEL secure show them
//! (formats from shadow's src/useradd.c, usermod.c, userdel.c, groupadd.c, passwd.c,
//! gpasswd.c); older releases' `` `name' `` quoting included.

use super::super::{decode as dispatch, Input, Output};
use super::*;

fn run(app: &str, message: &str) -> Option<Output> {
    let mut out = Output::default();
    decode(&Input::new(message).app(app), &mut out).then_some(out)
}

use crate::body::test_support::{int, text};

use crate::body::test_support::types;

#[test]
fn useradd_new_user_and_group() {
    let out = run(
        "useradd",
        "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0",
    )
    .unwrap();
    assert_eq!(text(&out, "user.target.name"), Some("bob"));
    assert_eq!(int(&out, "user.target.id"), Some(1001));
    assert_eq!(int(&out, "group.id"), Some(1001));
    assert_eq!(text(&out, "shadow_utils.home"), Some("/home/bob"));
    assert_eq!(text(&out, "shadow_utils.shell"), Some("/bin/bash"));
    assert_eq!(text(&out, "shadow_utils.tty"), Some("/dev/pts/0"));
    assert_eq!(text(&out, "event.category"), Some("iam"));
    assert_eq!(types(&out), ["user", "creation"]);
    assert_eq!(text(&out, "event.action"), Some("user-created"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));

    let out = run(
        "useradd",
        "new user: name=sshd, UID=105, GID=65534, home=/var/run/sshd, shell=/usr/sbin/nologin",
    )
    .unwrap();
    assert_eq!(text(&out, "shadow_utils.shell"), Some("/usr/sbin/nologin"));
    assert_eq!(out.get("shadow_utils.tty"), None);

    let out = run("useradd", "new group: name=bob, GID=1001").unwrap();
    assert_eq!(text(&out, "group.name"), Some("bob"));
    assert_eq!(int(&out, "group.id"), Some(1001));
    assert_eq!(types(&out), ["group", "creation"]);
    assert_eq!(text(&out, "event.action"), Some("group-created"));
}

#[test]
fn group_membership() {
    let out = run("useradd", "add 'bob' to group 'sudo'").unwrap();
    assert_eq!(text(&out, "user.target.name"), Some("bob"));
    assert_eq!(text(&out, "group.name"), Some("sudo"));
    assert_eq!(text(&out, "event.action"), Some("user-added-to-group"));

    let out = run("useradd", "add `bob' to shadow group `adm'").unwrap();
    assert_eq!(text(&out, "user.target.name"), Some("bob"));
    assert_eq!(text(&out, "group.name"), Some("adm"));

    let out = run("usermod", "add 'bob' to group 'wheel'").unwrap();
    assert_eq!(text(&out, "group.name"), Some("wheel"));

    let out = run("gpasswd", "user bob added by root to group devs").unwrap();
    assert_eq!(text(&out, "user.name"), Some("root"));
    assert_eq!(text(&out, "user.target.name"), Some("bob"));
    assert_eq!(text(&out, "group.name"), Some("devs"));

    let out = run("userdel", "delete 'bob' from group 'sudo'").unwrap();
    assert_eq!(text(&out, "event.action"), Some("user-removed-from-group"));
}

#[test]
fn userdel_and_groupdel() {
    let out = run("userdel", "delete user 'bob'").unwrap();
    assert_eq!(text(&out, "user.target.name"), Some("bob"));
    assert_eq!(types(&out), ["user", "deletion"]);
    assert_eq!(text(&out, "event.action"), Some("user-deleted"));

    let out = run("userdel", "delete user `olduser'#012").unwrap();
    assert_eq!(text(&out, "user.target.name"), Some("olduser"));

    let out = run("userdel", "removed group 'bob' owned by 'bob'").unwrap();
    assert_eq!(text(&out, "group.name"), Some("bob"));
    assert_eq!(text(&out, "user.target.name"), Some("bob"));
    assert_eq!(text(&out, "event.action"), Some("group-deleted"));

    let out = run("groupdel", "group 'devs' removed from /etc/group").unwrap();
    assert_eq!(text(&out, "file.path"), Some("/etc/group"));
    assert_eq!(text(&out, "event.action"), Some("group-deleted"));
}

#[test]
fn groupadd_lines() {
    let out = run("groupadd", "group added to /etc/group: name=devs, GID=1002").unwrap();
    assert_eq!(text(&out, "group.name"), Some("devs"));
    assert_eq!(int(&out, "group.id"), Some(1002));
    assert_eq!(text(&out, "file.path"), Some("/etc/group"));

    let out = run("groupadd", "group added to /etc/gshadow: name=devs").unwrap();
    assert_eq!(text(&out, "file.path"), Some("/etc/gshadow"));
    assert_eq!(text(&out, "event.action"), Some("group-created"));

    let out = run("groupadd", "new group: name=devs, GID=1002").unwrap();
    assert_eq!(text(&out, "event.action"), Some("group-created"));
}

#[test]
fn usermod_and_passwd_lines() {
    let out = run("usermod", "change user 'bob' password").unwrap();
    assert_eq!(text(&out, "event.action"), Some("password-changed"));
    assert_eq!(types(&out), ["user", "change"]);

    let out = run("usermod", "lock user 'bob' password").unwrap();
    assert_eq!(text(&out, "event.action"), Some("password-locked"));

    let out = run(
        "usermod",
        "change user 'bob' shell from '/bin/sh' to '/bin/bash'",
    )
    .unwrap();
    assert_eq!(text(&out, "shadow_utils.attribute"), Some("shell"));
    assert_eq!(text(&out, "shadow_utils.old_value"), Some("/bin/sh"));
    assert_eq!(text(&out, "shadow_utils.new_value"), Some("/bin/bash"));

    let out = run("usermod", "change user name 'bob' to 'robert'").unwrap();
    assert_eq!(text(&out, "user.changes.name"), Some("robert"));

    let out = run("passwd", "password for 'bob' changed by 'root'").unwrap();
    assert_eq!(text(&out, "user.target.name"), Some("bob"));
    assert_eq!(text(&out, "user.name"), Some("root"));

    let out = run(
        "passwd",
        "pam_unix(passwd:chauthtok): password changed for bob",
    )
    .unwrap();
    assert_eq!(text(&out, "user.target.name"), Some("bob"));
    assert_eq!(text(&out, "event.action"), Some("password-changed"));

    let out = run("chage", "changed password expiry for bob").unwrap();
    assert_eq!(text(&out, "event.action"), Some("password-expiry-changed"));
}

#[test]
fn near_misses_are_refused() {
    assert!(run(
        "useradd",
        "new user: name=bob, UID=abc, GID=1001, home=/h, shell=/s"
    )
    .is_none());
    assert!(run("useradd", "new user: name=bob").is_none());
    assert!(run("useradd", "add '' to group 'sudo'").is_none());
    assert!(run("userdel", "delete user 'bob' now please").is_none());
    assert!(run("usermod", "change user 'bob' passwords").is_none());
    assert!(run("groupadd", "group added").is_none());
    assert!(run("passwd", "").is_none());
}

#[test]
fn dispatcher_sends_account_tools_here() {
    let mut out = Output::default();
    let input = Input::new("delete user 'bob'").app("userdel");
    assert_eq!(dispatch(&input, &mut out), Some("accounts"));
    let input = Input::new("new group: name=devs, GID=1002").app("groupadd");
    assert_eq!(dispatch(&input, &mut out), Some("accounts"));
}

#!/usr/bin/env bash
# Installs the real syslog-over-TLS clients for Vigil's tests (Debian 12, run as root). Idempotent.
#  - rsyslog + rsyslog-gnutls + rsyslog-openssl: apt-get install, only if missing; no daemon is
#    left running (see policy-rc.d below).
#  - syslog-ng: syslog-ng-core conflicts with rsyslog as a package, so it is fetched with
#    apt-get download and unpacked with dpkg -x into $VIGIL_CLIENTS_DIR (no maintainer scripts).
#    TLS lives in syslog-ng-core itself (libsyslog-ng links libssl3); no extra module package.
# Writes $VIGIL_CLIENTS_DIR/env (KEY=VALUE lines, also valid shell) for the tests to read.
set -euo pipefail
DIR=${VIGIL_CLIENTS_DIR:-/tmp/vigil-clients}
ROOT=$DIR/root
export DEBIAN_FRONTEND=noninteractive
APT=(timeout 600 apt-get -q -y -o DPkg::Lock::Timeout=120)
log() { echo "[vigil-clients] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
mkdir -p "$DIR/debs" "$ROOT"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
UPDATED=""
apt_update() { [ -n "$UPDATED" ] || { "${APT[@]}" update >&2 || die "apt-get update failed"; UPDATED=1; }; }

# ---- rsyslog (system packages)
need=(); for p in rsyslog rsyslog-gnutls rsyslog-openssl; do installed "$p" || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  # Debian 12's rsyslog has no init script; its postinst starts rsyslog.service only under
  # systemd, via deb-systemd-invoke, which obeys policy-rc.d (exit 101 = do not start).
  POLICY=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    POLICY=/usr/sbin/policy-rc.d; printf '#!/bin/sh\nexit 101\n' >"$POLICY"; chmod 755 "$POLICY"
    trap 'rm -f "$POLICY"' EXIT
  fi
  "${APT[@]}" install --no-install-recommends "${need[@]}" >&2 \
    || { apt_update; "${APT[@]}" install --no-install-recommends "${need[@]}" >&2; } \
    || die "apt-get install ${need[*]} failed"
  [ -z "$POLICY" ] || { rm -f "$POLICY"; trap - EXIT; }
  if [ -d /run/systemd/system ] && systemctl is-active --quiet rsyslog.service; then
    log "stopping rsyslog.service started by the install"; timeout 30 systemctl stop rsyslog.service syslog.socket || true
  fi
fi
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[ -x "$RSYSLOGD" ] || die "rsyslogd not found"
RS_MODDIR=$(dirname "$(dpkg -L rsyslog-gnutls | grep '/lmnsd_gtls.so$')")
[ -f "$RS_MODDIR/lmnsd_ossl.so" ] || die "lmnsd_ossl.so missing in $RS_MODDIR"

# ---- syslog-ng (unpacked privately)
unpack() {
  local pkg deb
  for pkg in "$@"; do
    [ -f "$DIR/.ok.$pkg" ] && continue
    log "unpacking $pkg into $ROOT"
    (cd "$DIR/debs" && "${APT[@]}" -o APT::Sandbox::User=root download "$pkg" >&2) \
      || { apt_update; (cd "$DIR/debs" && "${APT[@]}" -o APT::Sandbox::User=root download "$pkg" >&2); } || die "apt-get download $pkg failed"
    deb=$(ls -t "$DIR/debs/${pkg}_"*.deb | head -n1)
    dpkg -x "$deb" "$ROOT" || die "dpkg -x $deb failed"
    touch "$DIR/.ok.$pkg"
  done
}
unpack syslog-ng-core
libs=(); for p in libcap2 libglib2.0-0 libivykis0 libjson-c5 libnet1 libpcre3 libssl3 libsystemd0 libwrap0; do
  installed "$p" || libs+=("$p"); done
[ ${#libs[@]} -eq 0 ] || unpack "${libs[@]}"
SNG=$ROOT/usr/sbin/syslog-ng
SNG_MODDIR=$(ls -d "$ROOT"/usr/lib/syslog-ng/[0-9]* | sort -V | tail -n1)
LP=$ROOT/usr/lib/syslog-ng
for d in "$ROOT"/usr/lib/*-linux-gnu "$ROOT"/lib/*-linux-gnu; do [ -d "$d" ] && LP=$LP:$d; done
for f in "$SNG" "$SNG_MODDIR"/libafsocket.so "$SNG_MODDIR"/libsyslogformat.so; do
  if LD_LIBRARY_PATH=$LP ldd "$f" | grep -q 'not found'; then die "unresolved libraries in $f"; fi
done
SNG_VER=$(LD_LIBRARY_PATH=$LP timeout 10 "$SNG" --version --module-path="$SNG_MODDIR" | head -n1) || die "syslog-ng does not run"

cat >"$DIR/env.tmp" <<EOF
RSYSLOGD=$RSYSLOGD
RSYSLOG_MODULE_DIR=$RS_MODDIR
RSYSLOG_VERSION=$(dpkg-query -W -f='${Version}' rsyslog)
SYSLOG_NG=$SNG
SYSLOG_NG_LD_LIBRARY_PATH=$LP
SYSLOG_NG_MODULE_PATH=$SNG_MODDIR
SYSLOG_NG_VERSION=$(dpkg-deb -f "$(ls -t "$DIR"/debs/syslog-ng-core_*.deb | head -n1)" Version)
EOF
mv "$DIR/env.tmp" "$DIR/env"
log "$SNG_VER; wrote $DIR/env:"; cat "$DIR/env"

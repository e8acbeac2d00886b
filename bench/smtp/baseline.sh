#!/usr/bin/env bash
# The baseline for bench/smtp: a private Postfix delivering over LMTP to a private Dovecot (maildir),
# on loopback, both fsync'ing what they store. Debian 12 packages: postfix, dovecot-imapd,
# dovecot-lmtpd (installed here when missing; Postfix without a system MTA: nothing on port 25).
#
#   bash bench/smtp/baseline.sh install      # the packages only (smtp-source is Postfix's)
#   bash bench/smtp/baseline.sh start BASE   # MX on 127.0.0.1:12526, LMTP :10024, IMAP :10143
#   bash bench/smtp/baseline.sh count BASE USER
#   bash bench/smtp/baseline.sh stop BASE
set -euo pipefail
cmd=$1 BASE=$2

install() {
  local missing=()
  for p in postfix dovecot-imapd dovecot-lmtpd strace; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

write_configs() {
  mkdir -p "$BASE"/{certs,postfix/etc,postfix/spool,postfix/data,dovecot/run,dovecot/state,dovecot/mail}
  chmod 755 "$BASE" # the postfix and nobody users must traverse it
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout "$BASE/certs/key.pem" -out "$BASE/certs/cert.pem" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
  cat >"$BASE/postfix/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $BASE/postfix/spool
data_directory = $BASE/postfix/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-bench
maillog_file = $BASE/postfix/maillog
maillog_file_prefixes = /var, /dev/stdout, $BASE/postfix
myhostname = mx.example.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.2/32
smtp_dns_support_level = disabled
disable_dns_lookups = yes
virtual_mailbox_domains = example.test
virtual_transport = lmtp:inet:127.0.0.1:10024
lmtp_destination_concurrency_limit = 20
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
message_size_limit = 52428800
smtpd_tls_cert_file = $BASE/certs/cert.pem
smtpd_tls_key_file = $BASE/certs/key.pem
smtpd_tls_security_level = may
CF
  cat >"$BASE/postfix/etc/master.cf" <<'CF'
127.0.0.1:12526 inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
lmtp      unix - - n - - lmtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CF
  cat >"$BASE/dovecot/dovecot.conf" <<CF
base_dir = $BASE/dovecot/run
state_dir = $BASE/dovecot/state
instance_name = bench-dovecot
log_path = $BASE/dovecot/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <$BASE/certs/cert.pem
ssl_key = <$BASE/certs/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
mail_location = maildir:$BASE/dovecot/mail/%u/Maildir
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = static
  args = password=pass
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$BASE/dovecot/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = 10143
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = 10024
  }
}
protocol lmtp {
  postmaster_address = postmaster@example.test
}
CF
  chown -R nobody:nogroup "$BASE/dovecot/mail"
  chown postfix "$BASE/postfix/data"
}

case "$cmd" in
  install)
    install ;; # smtp-source (Postfix's), before anything is measured
  start)
    install
    write_configs
    dovecot -c "$BASE/dovecot/dovecot.conf" </dev/null >/dev/null 2>&1
    postfix -c "$BASE/postfix/etc" check
    # postfix start fails silently when stderr is not a terminal: run it under script(1)
    script -qec "postfix -c $BASE/postfix/etc start" /dev/null >/dev/null
    for _ in $(seq 1 40); do (echo >/dev/tcp/127.0.0.1/12526) 2>/dev/null && exit 0; sleep 0.25; done
    echo "postfix did not start" >&2; exit 1 ;;
  count)
    USER=$3
    (ls "$BASE/dovecot/mail/$USER/Maildir/new" 2>/dev/null; ls "$BASE/dovecot/mail/$USER/Maildir/cur" 2>/dev/null) | wc -l ;;
  stop)
    script -qec "postfix -c $BASE/postfix/etc stop" /dev/null >/dev/null 2>&1 || true
    [ -f "$BASE/dovecot/run/master.pid" ] && kill "$(cat "$BASE/dovecot/run/master.pid")" 2>/dev/null || true ;;
esac

#!/usr/bin/env bash
# The certificate authority, node identity, Trusted Certificate Store, received-certificate
# checks and TLS settings through wardctl against a real primary, cross-checked with the
# openssl command line as an independent verifier.
set -u
here=$(dirname "$0")
source "$here/lib.sh"
ward_test_init "$@"

write_node_config primary primary
data="$WARD_TEST_DIR/primary/data"
work="$WARD_TEST_DIR/work"
mkdir -p "$work"
start_node primary || exit 1
export WARD_SESSION_FILE="$WARD_TEST_DIR/session-admin"
ignite primary
ctl() { wardctl_for primary "$@"; }
x509() { openssl x509 -noout -text "$@" 2>&1; }
endpoints="$data/run/endpoints"
security_port() { sed -n 's/^security=//p' "$endpoints"; }
probe() { openssl s_client -connect "$(security_port)" -servername primary.ward.test "$@" </dev/null 2>&1; }

# ---- PKI-1 the root CA -----------------------------------------------------------------------
expect_output "CN=ward-root-primary.ward.test" "PKI-1 the primary created its CA at first start" \
  ctl pki ca show
expect_code 0 "PKI-4 the CA certificate is exported as PEM" ctl pki ca export --pem --out "$work/root-ca.pem"
expect_code 0 "PKI-4 the CA certificate is exported as DER" ctl pki ca export --der --out "$work/root-ca.crt"
text=$(x509 -in "$work/root-ca.pem")
for field in "CA:TRUE" "Digital Signature, Certificate Sign" \
  "TLS Web Server Authentication, TLS Web Client Authentication" "URI:ward-root-primary.ward.test" \
  "X509v3 Subject Key Identifier" "sha256WithRSAEncryption" "Public-Key: (2048 bit)" "O = Ward"; do
  grep -q -- "$field" <<<"$text" && pass "PKI-1 the root shows $field" || fail "PKI-1 the root shows $field"
done
grep -A1 "Basic Constraints" <<<"$text" | grep -q critical && pass "PKI-1 basic constraints are critical" \
  || fail "PKI-1 basic constraints are critical"
pem_fp=$(openssl x509 -noout -fingerprint -sha256 -in "$work/root-ca.pem")
der_fp=$(openssl x509 -noout -fingerprint -sha256 -inform der -in "$work/root-ca.crt")
[ "$pem_fp" = "$der_fp" ] && pass "PKI-9 the DER export is the same certificate" \
  || fail "PKI-9 the DER export is the same certificate"

# ---- PKI-2 the node identity ----------------------------------------------------------------
identity="$data/certificates/identity.pem"
expect_output ": OK" "PKI-2 the node identity verifies against the CA (openssl verify)" \
  openssl verify -CAfile "$work/root-ca.pem" "$identity"
text=$(x509 -in "$identity")
for field in "DNS:primary.ward.test" "IP Address:127.0.0.1" \
  "Digital Signature, Non Repudiation, Key Encipherment, Data Encipherment, Key Agreement" \
  "TLS Web Server Authentication, TLS Web Client Authentication" "CA:FALSE" \
  "X509v3 Authority Key Identifier" "Subject: O = Ward, CN = primary.ward.test"; do
  grep -q -- "$field" <<<"$text" && pass "PKI-2 the identity shows $field" || fail "PKI-2 the identity shows $field"
done
probe -showcerts | grep -q "s:O = Ward, CN = primary.ward.test" \
  && pass "PKI-2 the admin listener serves the CA-issued identity" \
  || fail "PKI-2 the admin listener serves the CA-issued identity"

# ---- PKI-3 identities for other devices -------------------------------------------------------
expect_code 0 "PKI-3 a device identity is issued as PKCS#12" \
  ctl pki issue --subject phone1.example.test --san DNS:phone1.example.test,IP:192.0.2.10 \
  --days 365 --out "$work/phone1.p12" <<<"Phone-Bundle-Pass-1"
openssl pkcs12 -in "$work/phone1.p12" -passin pass:Phone-Bundle-Pass-1 -nokeys -clcerts \
  -out "$work/phone1.pem" >/dev/null 2>&1 && pass "PKI-3 the PKCS#12 opens with openssl and its password" \
  || fail "PKI-3 the PKCS#12 opens with openssl and its password"
openssl pkcs12 -in "$work/phone1.p12" -passin pass:wrong -nokeys >/dev/null 2>&1 \
  && fail "PKI-3 the wrong password does not open it" || pass "PKI-3 the wrong password does not open it"
expect_output ": OK" "PKI-3 the device certificate verifies against the CA" \
  openssl verify -CAfile "$work/root-ca.pem" "$work/phone1.pem"
expect_output "IP Address:192.0.2.10" "PKI-3 the device certificate carries its SANs" x509 -in "$work/phone1.pem"
expect_output "warning" "PKI-3 more than 1095 days is warned about" \
  ctl pki issue --subject long.example.test --days 2000 --out "$work/long.p12" <<<"Phone-Bundle-Pass-1"
expect_code 1 "PKI-3 more than 3650 days is refused" \
  ctl pki issue --subject toolong.example.test --days 4000 --out "$work/toolong.p12" <<<"Phone-Bundle-Pass-1"
expect_code 1 "PKI-3 RSA-1024 needs the legacy flag" \
  ctl pki issue --subject old.example.test --key-bits 1024 --out "$work/old.p12" <<<"Phone-Bundle-Pass-1"
expect_code 0 "PKI-3 RSA-1024 with SHA-1 is issued with the legacy flag" \
  ctl pki issue --subject old.example.test --key-bits 1024 --hash sha1 --legacy \
  --out "$work/old.p12" <<<"Phone-Bundle-Pass-1"

# ---- PKI-7 the Trusted Certificate Store -----------------------------------------------------
expect_output "9 of 256" "PKI-7 the TCS holds the nine default certificates" ctl pki tcs list
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/other.key" -out "$work/other-ca.pem" \
  -days 30 -subj "/CN=other-test-ca" >/dev/null 2>&1
expect_output "10 of 256" "PKI-7 a certificate is added through the API" ctl pki tcs add "$work/other-ca.pem"
other_fp=$(openssl x509 -noout -fingerprint -sha256 -in "$work/other-ca.pem" | cut -d= -f2)
expect_output "9 of 256" "PKI-7 and removed by fingerprint" ctl pki tcs remove "$other_fp"
expect_output "certificate_expiring" "PKI-10 expired default certificates raise the expiry alarm" \
  ctl audit list --kind alarm --limit 200

# ---- PKI-8 PKI-12 client certificates at Secure High: checks and revocation ------------------
expect_code 0 "PKI-3 an administrator's client identity is issued" \
  ctl pki issue --subject admin-laptop --days 30 --out "$work/admin.p12" <<<"Admin-Bundle-Pass-1"
openssl pkcs12 -in "$work/admin.p12" -passin pass:Admin-Bundle-Pass-1 -nokeys -clcerts -out "$work/admin.pem" >/dev/null 2>&1
openssl pkcs12 -in "$work/admin.p12" -passin pass:Admin-Bundle-Pass-1 -nocerts -nodes -out "$work/admin.key" >/dev/null 2>&1
expect_code 0 "SVC-1 configuration set to Secure High" ctl service-level set configuration secure_high
client=(--cert "$work/admin.pem" --key "$work/admin.key")
expect_code 0 "PKI-8 at Medium checks a client certificate from the node's CA is accepted" \
  ctl "${client[@]}" user list
expect_code 0 "PKI-8 management checks set to High" ctl pki checks set --management high
expect_code 1 "PKI-8 High refuses a client certificate that is not pinned in the TCS" \
  ctl "${client[@]}" user list
expect_output "not_pinned" "PKI-8 the alarm names the failed check" ctl audit list --kind alarm --limit 200
expect_output "10 of 256" "PKI-8 the client certificate is pinned" ctl pki tcs add "$work/admin.pem"
expect_code 0 "PKI-8 High accepts the pinned client certificate" ctl "${client[@]}" user list
serial=$(openssl x509 -noout -serial -in "$work/admin.pem" | cut -d= -f2)
expect_code 0 "PKI-12 the CA revokes the client certificate" ctl pki revoke "$serial"
expect_output '"revoked": true' "PKI-12 the issued list shows it revoked" ctl --json pki issued
expect_code 1 "PKI-12 a revoked client certificate is refused" ctl "${client[@]}" user list
expect_output "revoked" "PKI-12 the refusal names revocation" ctl audit list --kind alarm --limit 200
ctl pki checks set --management medium >/dev/null 2>&1
ctl service-level set configuration secure_medium >/dev/null 2>&1

# ---- PKI-8 telephony checks: what phones present over SIP-TLS is graded -----------------------
sip_tls_at=$(endpoint primary sip_tls)
line_at=$(endpoint primary line)
sip_options() {
  SIP_TRANSPORT=tls SIP_CA="$work/root-ca.pem" python3 "$here/sip_client.py" options 127.0.0.1 "${sip_tls_at##*:}"
}
with_phone_cert() { SIP_CERT="$work/phone2.pem" SIP_KEY="$work/phone2.key" "$@"; }
expect_code 0 "PKI-3 a phone identity for 127.0.0.1 is issued" \
  ctl pki issue --subject phone2.example.test --san DNS:phone2.example.test,IP:127.0.0.1 --days 30 \
  --out "$work/phone2.p12" <<<"Phone-Bundle-Pass-2"
openssl pkcs12 -in "$work/phone2.p12" -passin pass:Phone-Bundle-Pass-2 -nokeys -clcerts -out "$work/phone2.pem" >/dev/null 2>&1
openssl pkcs12 -in "$work/phone2.p12" -passin pass:Phone-Bundle-Pass-2 -nocerts -nodes -out "$work/phone2.key" >/dev/null 2>&1
expect_code 0 "PKI-8 at telephony checks Low a phone without a certificate is served over TLS" sip_options
expect_code 0 "PKI-8 telephony checks set to High" ctl pki checks set --telephony high
expect_code 3 "PKI-8 High: a phone without a certificate gets no answer over TLS" sip_options
expect_output "tls_handshake_failed.*service/sip.*no certificate at check level high" \
  "PKI-8 TLS-3 the refusal is alarmed for the SIP service" ctl audit list --kind alarm --limit 200
expect_code 3 "PKI-8 High refuses a phone certificate that is not pinned" with_phone_cert sip_options
expect_output "service/sip.*not_pinned" "PKI-8 the alarm names the failed check" \
  ctl audit list --kind alarm --limit 200
ctl pki tcs add "$work/phone2.pem" >/dev/null 2>&1
expect_code 0 "PKI-8 High accepts the pinned phone certificate" with_phone_cert sip_options
expect_code 0 "PKI-8 telephony checks set to High + Remote" ctl pki checks set --telephony high_remote
expect_code 0 "PKI-8 High + Remote accepts the phone from the address in its certificate" \
  with_phone_cert sip_options
expect_code 3 "PKI-8 High + Remote refuses the same certificate from another address" \
  env SIP_SOURCE=127.0.0.2 SIP_CERT="$work/phone2.pem" SIP_KEY="$work/phone2.key" \
  SIP_TRANSPORT=tls SIP_CA="$work/root-ca.pem" python3 "$here/sip_client.py" options 127.0.0.1 "${sip_tls_at##*:}"
expect_output "service/sip.*name_mismatch" "PKI-8 the alarm names the address mismatch" \
  ctl audit list --kind alarm --limit 200
ctl pki checks set --telephony low >/dev/null 2>&1

# ---- TLS-1 TLS-2 PKI-6 TLS settings -----------------------------------------------------------
# Every TLS listener follows the settings at once: admin, SIP over TLS and the line port.
probe_at() { local at=$1; shift; openssl s_client -connect "$at" -servername primary.ward.test "$@" </dev/null 2>&1; }
expect_code 0 "PKI-6 chain offering switched on" ctl pki tls set --offer-chain on
chain=$(probe -showcerts | grep -c "BEGIN CERTIFICATE")
[ "$chain" = 2 ] && pass "PKI-6 the listener now offers identity and CA (2 certificates)" \
  || fail "PKI-6 the listener now offers identity and CA (got $chain)"
for listener in "SIP-TLS $sip_tls_at" "line $line_at"; do
  set -- $listener
  chain=$(probe_at "$2" -showcerts | grep -c "BEGIN CERTIFICATE")
  [ "$chain" = 2 ] && pass "PKI-6 the $1 listener offers the chain at once (2 certificates)" \
    || fail "PKI-6 the $1 listener offers the chain at once (got $chain)"
done
expect_code 0 "TLS-1 minimum TLS version set to 1.3" ctl pki tls set --min-version 1.3
probe -tls1_2 | grep -q "New, TLSv1.2" && fail "TLS-1 with 1.3 minimum TLS 1.2 is refused" \
  || pass "TLS-1 with 1.3 minimum TLS 1.2 is refused"
probe -tls1_3 | grep -q "New, TLSv1.3" && pass "TLS-1 TLS 1.3 still works" || fail "TLS-1 TLS 1.3 still works"
for listener in "SIP-TLS $sip_tls_at" "line $line_at"; do
  set -- $listener
  probe_at "$2" -tls1_2 | grep -q "New, TLSv1.2" \
    && fail "TLS-1 with 1.3 minimum the $1 listener refuses TLS 1.2" \
    || pass "TLS-1 with 1.3 minimum the $1 listener refuses TLS 1.2"
  probe_at "$2" -tls1_3 | grep -q "New, TLSv1.3" \
    && pass "TLS-1 the $1 listener still accepts TLS 1.3" \
    || fail "TLS-1 the $1 listener still accepts TLS 1.3"
done
ctl pki tls set --min-version 1.2 --offer-chain off >/dev/null 2>&1
chain=$(probe_at "$sip_tls_at" -showcerts | grep -c "BEGIN CERTIFICATE")
[ "$chain" = 1 ] && pass "PKI-6 with chain offering off SIP-TLS sends the identity alone" \
  || fail "PKI-6 with chain offering off SIP-TLS sends the identity alone (got $chain)"
out=$(probe -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
expect_output "tls_handshake_failed" "TLS-3 a refused TLS 1.1 handshake raises an alarm" \
  ctl audit list --kind alarm --limit 200
out=$(probe_at "$sip_tls_at" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
expect_output "tls_handshake_failed.*service/sip" "TLS-3 a refused SIP-TLS handshake raises the same alarm" \
  ctl audit list --kind alarm --limit 200

# ---- Reload without restart: a broken identity is refused, a good one takes over -------------
fp_before=$(probe | openssl x509 -noout -fingerprint -sha256 2>/dev/null)
openssl req -x509 -newkey rsa:1024 -nodes -keyout "$work/weak.key" -out "$work/weak.pem" -days 30 \
  -subj "/CN=primary.ward.test" -addext "basicConstraints=critical,CA:FALSE" >/dev/null 2>&1
openssl pkcs12 -export -in "$work/weak.pem" -inkey "$work/weak.key" -out "$work/weak.p12" \
  -passout pass:Weak-Bundle-Pass-1 >/dev/null 2>&1
expect_code 1 "TLS-2 an identity the listeners cannot serve (RSA-1024) is refused" \
  ctl pki identity set-p12 --p12 "$work/weak.p12" <<<"Weak-Bundle-Pass-1"
grep -q "old one keeps serving" <<<"$OUT" && pass "TLS-2 the refusal says the old identity keeps serving" \
  || fail "TLS-2 the refusal says the old identity keeps serving: $OUT"
[ "$(probe | openssl x509 -noout -fingerprint -sha256 2>/dev/null)" = "$fp_before" ] \
  && pass "TLS-2 after the refused reload the old identity still serves" \
  || fail "TLS-2 after the refused reload the old identity still serves"
expect_code 0 "PKI-3 a replacement identity for the node is issued" \
  ctl pki issue --subject primary.ward.test --san DNS:primary.ward.test,IP:127.0.0.1 \
  --out "$work/id2.p12" <<<"Id-Bundle-Pass-1"
expect_code 0 "PKI-6 the identity is replaced from PKCS#12 without restart" \
  ctl pki identity set-p12 --p12 "$work/id2.p12" <<<"Id-Bundle-Pass-1"
fp_after=$(probe | openssl x509 -noout -fingerprint -sha256 2>/dev/null)
[ -n "$fp_after" ] && [ "$fp_after" != "$fp_before" ] \
  && pass "PKI-6 new handshakes use the new identity" || fail "PKI-6 new handshakes use the new identity"
new_serial=$(openssl x509 -noout -serial -in "$identity" | cut -d= -f2)
expect_output "\"serial_hex\": \"$new_serial\"" "MON-5 status reports the identity now in use" \
  ctl --json status
expect_code 0 "PKI-2 the identity is renewed by the CA" ctl pki identity renew
expect_output ": OK" "PKI-2 the renewed identity verifies" \
  openssl verify -CAfile "$data/certificates/root-ca.pem" "$identity"

# ---- PKI-4 CA operations ------------------------------------------------------------------------
cp "$identity" "$work/identity-before-renew.pem"
old_serial=$(openssl x509 -noout -serial -in "$work/root-ca.pem")
expect_code 0 "PKI-4 Renew Existing" ctl pki ca renew
ctl pki ca export --pem --out "$work/root-ca-renewed.pem" >/dev/null 2>&1
[ "$(openssl x509 -noout -serial -in "$work/root-ca-renewed.pem")" != "$old_serial" ] \
  && pass "PKI-4 the renewed CA has a new serial" || fail "PKI-4 the renewed CA has a new serial"
expect_output ": OK" "PKI-4 identities issued before the renewal still verify" \
  openssl verify -CAfile "$work/root-ca-renewed.pem" "$work/identity-before-renew.pem"
expect_code 0 "PKI-4 the signing certificate is exported as PKCS#12" \
  ctl pki ca export-p12 --out "$work/ca-backup.p12" <<<"Ca-Backup-Pass-1"
openssl pkcs12 -in "$work/ca-backup.p12" -passin pass:Ca-Backup-Pass-1 -nodes 2>/dev/null \
  | grep -q "PRIVATE KEY" && pass "PKI-4 the backup holds the CA key and opens with its password" \
  || fail "PKI-4 the backup holds the CA key and opens with its password"
expect_output "ExportCaP12" "PKI-4 exporting the CA key is audited" ctl audit list --kind change
expect_code 0 "PKI-4 Create New" ctl pki ca create-new --yes
ctl pki ca export --pem --out "$work/root-ca-new.pem" >/dev/null 2>&1
[ "$(openssl x509 -noout -fingerprint -sha256 -in "$work/root-ca-new.pem")" != "$pem_fp" ] \
  && pass "PKI-4 Create New makes a different CA" || fail "PKI-4 Create New makes a different CA"
expect_output ": OK" "PKI-4 Create New reissued the node identity under the new CA" \
  openssl verify -CAfile "$work/root-ca-new.pem" "$identity"
expect_code 0 "PKI-4 the old CA is imported back from its PKCS#12 (approach 2)" \
  ctl pki ca import --p12 "$work/ca-backup.p12" <<<"Ca-Backup-Pass-1"
expect_output ": OK" "PKI-4 after the import the node identity verifies under the imported CA" \
  openssl verify -CAfile "$work/root-ca-renewed.pem" "$identity"
expect_code 1 "PKI-4 a wrong PKCS#12 password is refused" \
  ctl pki ca import --p12 "$work/ca-backup.p12" <<<"wrong-password"
expect_code 1 "PKI-4 a non-CA certificate is refused as signing certificate" \
  ctl pki ca import --p12 "$work/phone1.p12" <<<"Phone-Bundle-Pass-1"

# ---- Persistence ------------------------------------------------------------------------------
# The restart also brings up a syslog sender towards a receiver the node cannot verify.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/rogue-syslog.key" -out "$work/rogue-syslog.pem" \
  -days 2 -subj "/CN=syslog.ward.test" -addext "subjectAltName=DNS:syslog.ward.test,IP:127.0.0.1" \
  >/dev/null 2>&1
rogue_syslog_port=$(free_port)
openssl s_server -quiet -accept "127.0.0.1:$rogue_syslog_port" \
  -cert "$work/rogue-syslog.pem" -key "$work/rogue-syslog.key" </dev/null >/dev/null 2>&1 &
WARD_TEST_PIDS+=("$!")
{
  echo "syslog:"
  echo "  address: 127.0.0.1"
  echo "  port: $rogue_syslog_port"
  echo "  ca_file: $work/root-ca.pem"
  echo "  server_name: syslog.ward.test"
} >> "$WARD_TEST_DIR/primary/node.yaml"
ca_fp=$(ctl --json pki ca show | grep -m1 sha256_fingerprint)
stop_node primary
start_node primary || exit 1
ctl login -u Administrator <<<"Oak-Tree-Plan-47" >/dev/null 2>&1
syslog_alarm() {
  ctl audit list --kind alarm --limit 50 | grep "tls_handshake_failed" | grep -q "service/syslog"
}
wait_for 10 syslog_alarm \
  && pass "TLS-3 a syslog receiver that fails verification raises the TLS alarm" \
  || fail "TLS-3 a syslog receiver that fails verification raises the TLS alarm: $(ctl audit list --kind alarm --limit 5 2>&1)"
[ "$(ctl --json pki ca show | grep -m1 sha256_fingerprint)" = "$ca_fp" ] \
  && pass "PKI-1 the CA survives a restart" || fail "PKI-1 the CA survives a restart"
expect_output '"revoked": true' "PKI-12 revocations survive a restart" ctl --json pki issued
grep -rqa "PRIVATE KEY" "$data/security" && fail "SEC-1 the CA key is not stored in clear" \
  || pass "SEC-1 the CA key is not stored in clear"

# ---- TLS-1 the syslog sender follows the minimum TLS version at once ----------------------------
# A receiver the node can verify that speaks TLS 1.2 only.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/syslog-ca.key" -out "$work/syslog-ca.pem" \
  -days 2 -subj "/CN=Syslog Test CA" -addext "basicConstraints=critical,CA:TRUE" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$work/syslog.key" -out "$work/syslog.csr" \
  -subj "/CN=syslog.ward.test" >/dev/null 2>&1
printf 'subjectAltName=DNS:syslog.ward.test\n' >"$work/syslog.ext"
openssl x509 -req -in "$work/syslog.csr" -CA "$work/syslog-ca.pem" -CAkey "$work/syslog-ca.key" \
  -CAcreateserial -days 2 -extfile "$work/syslog.ext" -out "$work/syslog.pem" >/dev/null 2>&1
tls12_port=$(free_port)
# (openssl s_server closes every connection at once when its stdin is not a terminal.)
cat >"$work/tls12_receiver.py" <<'PY'
import socket, ssl, sys, threading
port, cert, key, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.maximum_version = ssl.TLSVersion.TLSv1_2
context.load_cert_chain(cert, key)
listener = socket.create_server(("127.0.0.1", port))
def serve(connection):
    try:
        with context.wrap_socket(connection, server_side=True) as tls:
            while data := tls.recv(65536):
                with open(out, "ab") as f:
                    f.write(data)
    except (ssl.SSLError, OSError) as error:
        with open(out + ".errors", "a") as f:
            f.write(f"{error}\n")
while True:
    connection, _ = listener.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
PY
python3 "$work/tls12_receiver.py" "$tls12_port" "$work/syslog.pem" "$work/syslog.key" \
  "$work/syslog-received" </dev/null >/dev/null 2>&1 &
WARD_TEST_PIDS+=("$!")
touch "$work/syslog-received"
sed -i -e "s|^  port: $rogue_syslog_port$|  port: $tls12_port|" \
  -e "s|^  ca_file: $work/root-ca.pem$|  ca_file: $work/syslog-ca.pem|" "$WARD_TEST_DIR/primary/node.yaml"
# MON-2 a second receiver, over UDP (RFC 5426), gets every event too.
udp_syslog_port=$(free_udp_port)
python3 -c '
import socket, sys
receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
receiver.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    data, _ = receiver.recvfrom(65536)
    with open(sys.argv[2], "ab") as f:
        f.write(data + b"\n")
' "$udp_syslog_port" "$work/syslog-udp-received" </dev/null >/dev/null 2>&1 &
WARD_TEST_PIDS+=("$!")
touch "$work/syslog-udp-received"
printf 'syslog_receivers:\n  - {address: 127.0.0.1, port: %s, transport: udp}\n' "$udp_syslog_port" \
  >>"$WARD_TEST_DIR/primary/node.yaml"
stop_node primary
start_node primary || exit 1
ctl login -u Administrator <<<"Oak-Tree-Plan-47" >/dev/null 2>&1
received() { grep -q "primary.ward.test ward " "$work/syslog-received"; }
wait_for 10 received \
  && pass "TLS-1 with the minimum at 1.2 the syslog sender delivers to a TLS 1.2 receiver" \
  || fail "TLS-1 with the minimum at 1.2 the syslog sender delivers to a TLS 1.2 receiver: $(head -c 300 "$work/syslog-received")"
udp_received() { grep -q "^<[0-9]*>1 .* primary.ward.test ward " "$work/syslog-udp-received"; }
wait_for 10 udp_received \
  && pass "MON-2 a second receiver over UDP gets the events too, one unframed message a datagram" \
  || fail "MON-2 a second receiver over UDP gets the events: $(head -c 300 "$work/syslog-udp-received")"
newest_alarm=$(ctl --json alarms list | sed -n 's/.*"sequence": "\{0,1\}\([0-9]*\).*/\1/p' | tail -1)
expect_code 0 "TLS-1 minimum TLS version set to 1.3 with the syslog sender connected" \
  ctl pki tls set --min-version 1.3
refused_12() { grep -qi "unsupported protocol\|version" "$work/syslog-received.errors"; }
wait_for 10 refused_12 \
  && pass "TLS-1 at once the sender reconnects with 1.3 as its minimum, which the 1.2-only receiver refuses" \
  || fail "TLS-1 the sender follows the 1.3 minimum: $(cat "$work/syslog-received.errors" 2>&1 | tail -3)"
alarmed() { ctl alarms list --after "${newest_alarm:-0}" | grep "tls_handshake_failed" | grep -q "service/syslog"; }
wait_for 10 alarmed \
  && pass "TLS-3 the refused syslog handshake raises the TLS alarm" \
  || fail "TLS-3 the refused syslog handshake raises the TLS alarm: $(ctl alarms list --after "${newest_alarm:-0}" 2>&1 | tail -3)"
ctl pki tls set --min-version 1.2 >/dev/null 2>&1

finish

#!/usr/bin/env bash
# The security database through its real interface: wardctl against a real primary.
# First-start gate, default tables, lockout (service and telephony users), rights,
# service levels opening and closing real ports, security reset, the audit chain,
# persistence across restart, and no secret in clear on disk.
set -u
source "$(dirname "$0")/lib.sh"
ward_test_init "$@"

write_node_config primary primary
data="$WARD_TEST_DIR/primary/data"

# A client CA and certificate for Secure High, trusted by the node from its first start.
pki="$WARD_TEST_DIR/client-pki"
mkdir -p "$pki" "$data/certificates/tcs/add"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 30 \
  -subj "/CN=ward-test-admin-ca" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$pki/admin.key" -out "$pki/admin.csr" \
  -subj "/CN=ward-test-admin" >/dev/null 2>&1
printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' > "$pki/client.ext"
openssl x509 -req -in "$pki/admin.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 30 -extfile "$pki/client.ext" -out "$pki/admin.pem" >/dev/null 2>&1
# The same key, certified without key usage: the handshake proves the chain, the
# management check (Medium) refuses it (SPEC PKI-8).
openssl x509 -req -in "$pki/admin.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 30 -out "$pki/bare.pem" >/dev/null 2>&1
# PKI-7: dropped into the TCS add directory, imported at first start.
cp "$pki/ca.pem" "$data/certificates/tcs/add/admin-ca.pem"

start_node primary || exit 1
export WARD_SESSION_FILE="$WARD_TEST_DIR/session-admin"
ctl() { wardctl_for primary "$@"; }
as() { local who=$1; shift; WARD_SESSION_FILE="$WARD_TEST_DIR/session-$who" wardctl_for primary "$@"; }

# ---- every command that reads a secret says so in its help -------------------------------
for command in "login" "passwd" "system-password" "user-login" "service-user add" \
  "service-user set" "user add" "extension add" "pki issue" "pki ca export-p12" "pki ca import"; do
  # shellcheck disable=SC2086
  help=$(ctl $command --help 2>&1)
  grep -q "from the terminal without echo" <<<"$help" \
    && pass "SEC-6 '$command --help' says which secrets it reads and how" \
    || fail "SEC-6 '$command --help' says which secrets it reads and how: $help"
done
grep -q "the current one is not asked for" <<<"$(ctl system-password --help 2>&1)" \
  && pass "SEC-6 'system-password --help' says no old password is asked for" \
  || fail "SEC-6 'system-password --help' says no old password is asked for"

# ---- SEC-6 first start ------------------------------------------------------------------
expect_output "the Administrator password is still the default" \
  "SEC-6 login with the published default password works and says what is pending" \
  ctl login -u Administrator <<<"Administrator"
expect_code 1 "SEC-6 administrative work is refused before the default passwords change" \
  ctl service-user list
grep -q "first start: change the Administrator password" <<<"$OUT" \
  && grep -q "code 9" <<<"$OUT" && pass "SEC-6 the refusal is FAILED_PRECONDITION with the reason" \
  || fail "SEC-6 the refusal is FAILED_PRECONDITION with the reason: $OUT"
expect_code 1 "POL-3 a weak new password is refused" ctl passwd <<<$'Administrator\npassword'
grep -q "new_password" <<<"$OUT" && pass "POL-3 the refusal names new_password" \
  || fail "POL-3 the refusal names new_password: $OUT"
expect_code 0 "SEC-6 the Administrator changes the default password" \
  ctl passwd <<<$'Administrator\nOak-Tree-Plan-47'
expect_code 0 "SEC-6 the Security Administrator logs in with the default" \
  as sec login -u security <<<"securitypwd"
expect_code 0 "SEC-6 the Security Administrator changes the default password" \
  as sec passwd <<<$'securitypwd\nHarbor-Light-93'
expect_code 1 "SEC-4 a password change ends the sessions issued before it" \
  as sec system-password <<<"Sys-Gate-Key-58"
as sec login -u security <<<"Harbor-Light-93" >/dev/null 2>&1
expect_code 0 "SEC-6 the system password is changed" as sec system-password <<<"Sys-Gate-Key-58"
expect_code 0 "SEC-6 after the three changes the administrator logs in again" \
  ctl login -u Administrator <<<"Oak-Tree-Plan-47"
expect_code 0 "SEC-6 administrative work is allowed once all three changed" ctl service-user list

# ---- SEC-3 SEC-4 defaults -----------------------------------------------------------------
users=$(ctl --json service-user list)
for row in Administrator:enabled AdjunctServer:disabled BranchAdmin:disabled \
  BusinessPartner:disabled CloudOpsAdmin:enabled DirectoryService:enabled CtiService:enabled \
  DectService:disabled Maintainer:disabled OpsManagerAdmin:disabled TURNServer:disabled; do
  name=${row%%:*} status=${row##*:}
  tr -d '\n ' <<<"$users" | grep -q "\"name\":\"$name\",\"status\":\"$status\"" \
    && pass "SEC-3 default user $name is $status" || fail "SEC-3 default user $name is $status"
done
groups=$(ctl --json rights-group list | grep -c '"name"')
[ "$groups" = 21 ] && pass "SEC-4 21 default rights groups exist (guide's and non-subscription)" \
  || fail "SEC-4 21 default rights groups exist (found $groups)"
expect_output "directory_write" "SEC-4 Directory Group holds the directory rights" \
  ctl rights-group show "Directory Group"
expect_code 1 "SEC-2 the Security Administrator cannot be deleted" ctl service-user delete security
expect_code 1 "SEC-4 a bad field is refused naming it" ctl service-user add ab <<<"Oak-Tree-Plan-47"
grep -q "name:" <<<"$OUT" && grep -q "code 3" <<<"$OUT" \
  && pass "SEC-4 INVALID_ARGUMENT names the field" || fail "SEC-4 INVALID_ARGUMENT names the field: $OUT"

# ---- SVC-3 unsecured interfaces: no switch claims an opening Ward does not have ------------
expect_output "legacy_monitor.*false" "SVC-3 the unsecured-interface switches are off by default" \
  ctl --json interfaces show
before=$(ctl --json interfaces show)
expect_code 1 "SVC-3 switching on CTI, which Ward does not serve, is refused" ctl interfaces set --cti on
grep -q "cti" <<<"$OUT" && grep -q "stays off" <<<"$OUT" \
  && pass "SVC-3 the refusal names the switch and says it stays off" \
  || fail "SVC-3 the refusal names the switch and says it stays off: $OUT"
expect_code 1 "SVC-3 naming a file-writer address is refused" ctl interfaces set --file-writer 10.0.0.9
[ "$(ctl --json interfaces show)" = "$before" ] && pass "SVC-3 the refused switches changed nothing" \
  || fail "SVC-3 the refused switches changed nothing: $(ctl --json interfaces show)"
expect_code 0 "SVC-3 switching an interface off is accepted" ctl interfaces set --cti off

# ---- POL-4 service user lockout (3 failures in 10 minutes lock for 60 s) -------------------
expect_code 0 "SEC-2 an administrator creates a service user" \
  ctl service-user add operator7 -g "Administrator Group" --setting enabled <<<"Birch-Lake-Hill-62"
for attempt in 1 2 3; do as op login -u operator7 <<<"wrong-$attempt" >/dev/null 2>&1; done
locked_at=$(date +%s)
expect_code 1 "POL-4 after 3 failures the right password is refused" \
  as op login -u operator7 <<<"Birch-Lake-Hill-62"
grep -q "account locked" <<<"$OUT" && pass "POL-4 the refusal says the account is locked" \
  || fail "POL-4 the refusal says the account is locked: $OUT"
expect_output "locked_temporary" "SEC-5 the account shows Locked-Temporary" \
  ctl service-user show operator7
expect_output "account_locked" "MON-1 the lock raised an alarm record" ctl audit list --kind alarm

# ---- SEC-4 a user without the right is refused and audited ---------------------------------
expect_code 0 "SEC-4 a status-only service user is created" \
  ctl service-user add watcher1 -g "System Status Group" <<<"Quiet-Fern-Road-31"
expect_code 0 "SEC-5 the new account logs in" as watch login -u watcher1 <<<"Quiet-Fern-Road-31"
expect_code 1 "SEC-5 a Force New Password account must change it first" \
  as watch service-user list
expect_code 0 "SEC-5 it changes its password" as watch passwd <<<$'Quiet-Fern-Road-31\nBright-Moss-Cliff-84'
as watch login -u watcher1 <<<"Bright-Moss-Cliff-84" >/dev/null 2>&1
expect_code 1 "SEC-4 without security_read_all the call is refused" as watch service-user list
grep -q "code 7" <<<"$OUT" && grep -q "lacks the right security_read_all" <<<"$OUT" \
  && pass "SEC-4 the refusal is PERMISSION_DENIED naming the right" \
  || fail "SEC-4 the refusal is PERMISSION_DENIED naming the right: $OUT"
expect_output "access_denied.*watcher1.*ListServiceUsers" "SEC-4 the refusal is in the audit trail" \
  ctl audit list --kind access_denied
# Its password is no longer due, and the status group lacks the own-password right.
expect_code 1 "SEC-4 without security_write_own_password a password change is refused" \
  as watch passwd <<<$'Bright-Moss-Cliff-84\nCalm-River-Stone-58'
grep -q "code 7" <<<"$OUT" && grep -q "lacks the right security_write_own_password" <<<"$OUT" \
  && pass "SEC-4 the refusal names security_write_own_password" \
  || fail "SEC-4 the refusal names security_write_own_password: $OUT"
expect_code 0 "SEC-4 an Operations Manager Admin account is created" \
  ctl service-user add opsmgr1 -g "Operations Manager Admin" <<<"Amber-Hill-Gate-26"
as ops login -u opsmgr1 <<<"Amber-Hill-Gate-26" >/dev/null 2>&1
as ops passwd <<<$'Amber-Hill-Gate-26\nSilver-Lake-Path-71' >/dev/null 2>&1
as ops login -u opsmgr1 <<<"Silver-Lake-Path-71" >/dev/null 2>&1
expect_code 0 "SEC-4 with security_write_own_password it changes its password again" \
  as ops passwd <<<$'Silver-Lake-Path-71\nCopper-Field-Wind-39'

# ---- POL-4 telephony user lockout (5 failures lock until an administrator unlocks) ---------
expect_code 0 "SEC-2 a telephony user with a password and codes is created" \
  ctl user add alice --extension 2101 --password-stdin --login-code-stdin --voicemail-code-stdin \
  <<<$'Garden-Path-82\n739164\n8031'
expect_code 1 "POL-5 a keypad-pattern login code is refused" \
  ctl user set alice --login-code-stdin <<<"2580"
grep -q "login_code" <<<"$OUT" && pass "POL-5 the refusal names login_code" \
  || fail "POL-5 the refusal names login_code: $OUT"
expect_code 0 "SIP-2 an extension with a phone password is created" \
  ctl extension add 2101 --phone-password-stdin <<<"82917364"
for attempt in 1 2 3 4 5; do ctl user-login alice <<<"wrong-$attempt" >/dev/null 2>&1; done
expect_output "refused: locked" "POL-4 after 5 failures the telephony user is locked" \
  ctl user-login alice <<<"Garden-Path-82"

# ---- MON-5 a status-only account sees alarms, lockouts and blacklists ------------------------
expect_output "^telephony_user  *alice  *an administrator unlocks it " \
  "MON-5 the status-only account lists the locked telephony user through System Status" \
  as watch lockouts list
expect_output '"kind": "telephony_user"' "MON-5 lockouts list --json" as watch --json lockouts list
expect_output "account_locked.*service_user/operator7" \
  "MON-5 the status-only account reads the node's alarms" as watch alarms list
expect_code 0 "MON-5 the status-only account reads the SIP blacklists" as watch blacklist list
expect_code 1 "MON-5 the status-only account still cannot read the audit trail" as watch audit list
grep -q "lacks the right security_read_all" <<<"$OUT" \
  && pass "MON-5 the audit trail stays behind security_read_all" \
  || fail "MON-5 the audit trail stays behind security_read_all: $OUT"
alarm_after=$(ctl --json alarms list | sed -n 's/.*"sequence": "\{0,1\}\([0-9]*\).*/\1/p' | tail -1)
newer=$(as watch --json alarms list --after "${alarm_after:-0}" 2>&1)
[ -n "$alarm_after" ] && ! grep -q '"sequence"' <<<"$newer" \
  && pass "MON-5 alarms list --after the newest alarm ($alarm_after) shows nothing newer" \
  || fail "MON-5 alarms list --after the newest alarm (${alarm_after:-none}) shows nothing newer: $newer"

expect_code 0 "POL-4 an administrator unlocks the telephony user" ctl user unlock alice
expect_code 0 "POL-4 after the unlock the right password is accepted" \
  ctl user-login alice <<<"Garden-Path-82"
as watch lockouts list | grep -q "alice" \
  && fail "MON-5 the unlocked user leaves the lockout list" \
  || pass "MON-5 the unlocked user leaves the lockout list"

# ---- MON-4 login and lockout counters on /metrics --------------------------------------------
at_least() { [ -n "$2" ] && awk -v have="$2" -v want="$1" 'BEGIN { exit !(have + 0 >= want + 0) }'; }
failed=$(metric primary 'ward_admin_logins_total{outcome="failure"}')
succeeded=$(metric primary 'ward_admin_logins_total{outcome="success"}')
lockouts=$(metric primary ward_account_lockouts_total)
alarms=$(metric primary ward_alarms_total)
at_least 3 "$failed" && at_least 1 "$succeeded" \
  && pass "MON-4 /metrics counts administrative logins by outcome ($succeeded ok, $failed failed)" \
  || fail "MON-4 /metrics counts administrative logins by outcome: success=$succeeded failure=$failed"
at_least 2 "$lockouts" && pass "MON-4 /metrics counts the service and telephony lockouts ($lockouts)" \
  || fail "MON-4 /metrics counts the service and telephony lockouts: $lockouts"
at_least 2 "$alarms" && pass "MON-4 /metrics counts alarms ($alarms)" \
  || fail "MON-4 /metrics counts alarms: $alarms"

# ---- SIP-1 SIP-3 SIP-4 SIP-5 the cluster's SIP policy through wardctl ----------------------
expect_output "^auto_create: off$" "SIP-3 sip show: auto-create is off by default" ctl sip show
{ grep -q "^auto_create_lapses_at: -$" <<<"$OUT" && grep -q "^strict_sips: off$" <<<"$OUT" \
  && grep -q "^rtp_port_min: 40000$" <<<"$OUT" && grep -q "^rtp_port_max: 50750$" <<<"$OUT"; } \
  && pass "SIP-5 sip show prints every setting as key: value with the defaults" \
  || fail "SIP-5 sip show prints every setting as key: value with the defaults: $OUT"
expect_code 0 "SIP-1 SIP-4 sip set strict_sips=on user_agent_block=friendly-scanner" \
  ctl sip set strict_sips=on user_agent_block=friendly-scanner
shown=$(ctl sip show)
{ grep -q "^strict_sips: on$" <<<"$shown" && grep -q "^user_agent_block: friendly-scanner$" <<<"$shown" \
  && grep -q "^user_agent_allow: -$" <<<"$shown" && grep -q "^auto_create: off$" <<<"$shown"; } \
  && pass "SIP-1 SIP-4 the two settings changed and the others stayed" \
  || fail "SIP-1 SIP-4 the two settings changed and the others stayed: $shown"
expect_code 1 "SIP-5 remote workers with rtp_port_max=60000 are refused" \
  ctl sip set remote_workers=on rtp_port_max=60000
grep -q "rtp_port_max: must be at most 50750" <<<"$OUT" && grep -q "code 3" <<<"$OUT" \
  && pass "SIP-5 the refusal is INVALID_ARGUMENT naming rtp_port_max and 50750" \
  || fail "SIP-5 the refusal is INVALID_ARGUMENT naming rtp_port_max and 50750: $OUT"
[ "$(ctl sip show)" = "$shown" ] && pass "SIP-5 the refused change changed nothing" \
  || fail "SIP-5 the refused change changed nothing: $(ctl sip show 2>&1)"
expect_code 2 "SIP-4 sip set refuses an unknown key before sending anything" ctl sip set colour=blue
grep -q "unknown setting 'colour'" <<<"$OUT" && pass "SIP-4 the usage error names the key" \
  || fail "SIP-4 the usage error names the key: $OUT"
expect_code 2 "SIP-1 sip set refuses a switch that is not on or off" ctl sip set strict_sips=maybe
expect_code 2 "SIP-5 sip set refuses a port that is not a number" \
  ctl sip set strict_sips=off rtp_port_min=x
expect_output "^strict_sips: on$" "SIP-1 a usage error sends nothing: strict SIPS is still on" \
  ctl sip show
audit_json=$(ctl --json audit list --kind change --limit 500)
grep -q '"action": "SetSipSettings"' <<<"$audit_json" \
  && grep -q '"object": "sip_policy"' <<<"$audit_json" \
  && grep -q '"before": ".*\\"strict_sips\\":false' <<<"$audit_json" \
  && grep -q '"after": ".*\\"strict_sips\\":true' <<<"$audit_json" \
  && pass "MON-1 the SIP policy change is audited with before and after" \
  || fail "MON-1 the SIP policy change is audited with before and after: $audit_json"
expect_output "failure.*SetSipSettings.*50750" "MON-1 the refused SIP policy change is audited" \
  ctl audit list --kind change --limit 500
switched_on=$(date +%s)
expect_code 0 "SIP-3 auto-create is switched on" ctl sip set auto_create=on
lapses=$(sed -n 's/^auto_create_lapses_at: //p' <<<"$OUT")
lapse_in=$(( $(date -u -d "$lapses" +%s 2>/dev/null || echo 0) - switched_on ))
[ "$lapse_in" -ge 86390 ] && [ "$lapse_in" -le 86410 ] \
  && pass "SIP-3 sip show says auto-create lapses 24 h after it was switched on" \
  || fail "SIP-3 sip show says auto-create lapses 24 h after it was switched on: $OUT"
expect_code 1 "POL-5 an extension with an 8-digit phone password cannot become a remote worker" \
  ctl extension set 2101 --remote-worker-address 203.0.113.7
grep -q "phone_password: of a remote worker must have at least 9 digits" <<<"$OUT" \
  && pass "POL-5 the refusal says a remote worker's phone password needs 9 digits" \
  || fail "POL-5 the refusal says a remote worker's phone password needs 9 digits: $OUT"
expect_code 1 "POL-5 a new 8-digit phone password for a remote worker is refused" \
  ctl extension set 2101 --remote-worker-address 203.0.113.7 --phone-password-stdin <<<"73918264"
expect_output "^remote worker  *203.0.113.7$" "SIP-5 POL-5 with a 13-digit phone password it becomes a remote worker" \
  ctl extension set 2101 --remote-worker-address 203.0.113.7 --phone-password-stdin <<<"7391826405172"
# With complexity Low digits-only passwords pass the class rules; the extension and its
# reverse still do not (SPEC POL-3).
ctl policy set --telephony-complexity low --telephony-min-password-length 4 >/dev/null 2>&1
expect_code 1 "POL-3 a telephony password equal to the extension reversed is refused" \
  ctl user set alice --password-stdin <<<"1012"
grep -q "must not be the extension number reversed" <<<"$OUT" \
  && pass "POL-3 the refusal names the reversed extension" \
  || fail "POL-3 the refusal names the reversed extension: $OUT"
ctl policy set --telephony-complexity medium --telephony-min-password-length 8 >/dev/null 2>&1
expect_code 1 "SIP-5 a host name is refused as a remote worker address" \
  ctl extension set 2101 --remote-worker-address pbx.example.com
grep -q "remote_worker_address" <<<"$OUT" && pass "SIP-5 the refusal names remote_worker_address" \
  || fail "SIP-5 the refusal names remote_worker_address: $OUT"
expect_output "2101 .*203.0.113.7" "SIP-5 extension list shows the pinned address" ctl extension list

# ---- MED-3 TF-1 TF-2 direct media and the emergency route in the SIP policy ---------------
expect_code 0 "MED-3 TF-2 sip show" ctl sip show
{ grep -q "^direct_media: off$" <<<"$OUT" && grep -q "^emergency_numbers: 112,911$" <<<"$OUT" \
  && grep -q "^emergency_extension: -$" <<<"$OUT"; } \
  && pass "MED-3 TF-2 by default direct media is off, 112 and 911 are emergency numbers, no route" \
  || fail "MED-3 TF-2 by default direct media is off, 112 and 911 are emergency numbers, no route: $OUT"
expect_code 0 "MED-3 TF-2 sip set direct_media=on emergency_numbers=112,999 emergency_extension=800" \
  ctl sip set direct_media=on emergency_numbers=112,999 emergency_extension=800
shown=$(ctl sip show)
{ grep -q "^direct_media: on$" <<<"$shown" && grep -q "^emergency_numbers: 112,999$" <<<"$shown" \
  && grep -q "^emergency_extension: 800$" <<<"$shown" && grep -q "^strict_sips: on$" <<<"$shown"; } \
  && pass "MED-3 TF-2 the three settings changed and the others stayed" \
  || fail "MED-3 TF-2 the three settings changed and the others stayed: $shown"
expect_code 1 "TF-1 sip set emergency_numbers=12a is refused" ctl sip set emergency_numbers=12a
grep -q "emergency_numbers: entries must be 1 to 15 of 0-9 \* #" <<<"$OUT" && grep -q "code 3" <<<"$OUT" \
  && pass "TF-1 the refusal is INVALID_ARGUMENT naming emergency_numbers" \
  || fail "TF-1 the refusal is INVALID_ARGUMENT naming emergency_numbers: $OUT"
expect_code 1 "TF-2 an emergency number as the emergency extension is refused" \
  ctl sip set direct_media=off emergency_extension=999
grep -q "emergency_extension: must not be one of the emergency numbers" <<<"$OUT" \
  && pass "TF-2 the refusal names emergency_extension" \
  || fail "TF-2 the refusal names emergency_extension: $OUT"
[ "$(ctl sip show)" = "$shown" ] && pass "MED-3 TF-1 TF-2 the refused changes changed nothing" \
  || fail "MED-3 TF-1 TF-2 the refused changes changed nothing: $(ctl sip show 2>&1)"
expect_output "^emergency_extension: -$" "TF-2 sip set emergency_extension= clears the route" \
  ctl sip set emergency_extension=

# ---- MED-2 media security per system with per-line and per-extension override -------------
expect_code 0 "MED-2 media show" ctl media show
[ "$OUT" = $'system: best_effort\nsystem srtp: rtp_encryption=on,rtp_authentication=80,rtcp_encryption=off' ] \
  && pass "MED-2 MED-1 media show: Best Effort and the default SRTP options, no override" \
  || fail "MED-2 media show: Best Effort by default, no line or extension override: $OUT"
expect_output "^media security  *system$" "MED-2 an extension without an override shows system" \
  ctl extension set 2101 --force-authorization on
expect_output "^system: enforce$" "MED-2 media set system enforce" ctl media set system enforce
expect_output "^extension 2101: disabled$" "MED-2 media set extension 2101 disabled" \
  ctl media set extension 2101 disabled
expect_output "^line node-b: best_effort$" "MED-2 media set line node-b best_effort" \
  ctl media set line node-b best_effort
expect_output "^line node-c: disabled$" "MED-2 a second line override is set" \
  ctl media set line node-c disabled
out_c=$OUT
expect_code 0 "MED-2 media set line node-c system removes that override" \
  ctl media set line node-c system
{ grep -q "^line node-b: best_effort$" <<<"$out_c" && ! grep -q "node-c" <<<"$OUT" \
  && grep -q "^line node-b: best_effort$" <<<"$OUT"; } \
  && pass "MED-2 line overrides change one at a time, the others stay" \
  || fail "MED-2 line overrides change one at a time, the others stay: $out_c / $OUT"
expect_output "^media security  *enforce$" "MED-2 extension add --media-security enforce" \
  ctl extension add 2102 --media-security enforce
expect_output "^media security  *system$" "MED-2 extension set --media-security system clears it" \
  ctl extension set 2102 --media-security system
expect_output "^2101  .* disabled  *203.0.113.7$" "MED-2 extension list shows the override" \
  ctl extension list
expect_output "^line node-b srtp: rtp_encryption=on,rtp_authentication=80,rtcp_encryption=on$" \
  "MED-1 media srtp line node-b sets the line's SRTP options" \
  ctl media srtp line node-b rtcp_encryption=on
expect_code 1 "MED-1 SRTP options with an unknown key are refused" \
  ctl media srtp system cipher=des
grep -q "unknown key 'cipher'" <<<"$OUT" && pass "MED-1 the refusal names the unknown key" \
  || fail "MED-1 the refusal names the unknown key: $OUT"
media_expected=$'system: enforce\nline node-b: best_effort\nextension 2101: disabled\nsystem srtp: rtp_encryption=on,rtp_authentication=80,rtcp_encryption=off\nline node-b srtp: rtp_encryption=on,rtp_authentication=80,rtcp_encryption=on'
media_shown=$(ctl media show)
[ "$media_shown" = "$media_expected" ] \
  && pass "MED-2 media show: the system level, the line override, the extension override" \
  || fail "MED-2 media show: the system level, the line override, the extension override: $media_shown"
media_json=$(ctl --json media show | tr -d ' \n')
{ grep -q '"system":"enforce"' <<<"$media_json" \
  && grep -q '"lines":{"node-b":"best_effort"}' <<<"$media_json" \
  && grep -q '"extensions":{"2101":"disabled"}' <<<"$media_json"; } \
  && pass "MED-2 media show --json" || fail "MED-2 media show --json: $media_json"
expect_code 2 "MED-2 media set system refuses an unknown level before sending anything" \
  ctl media set system sometimes
grep -q "disabled, best_effort or enforce, got 'sometimes'" <<<"$OUT" \
  && pass "MED-2 the usage error names the levels" || fail "MED-2 the usage error names the levels: $OUT"
expect_code 2 "MED-2 system is not a level for the system itself" ctl media set system system
expect_code 2 "MED-2 media set line refuses a bad level" ctl media set line node-b Enforce
expect_code 2 "MED-2 media set line refuses a bad node name" ctl media set line "node b" enforce
expect_code 2 "MED-2 media set extension refuses a bad level" ctl media set extension 2101 strong
expect_code 2 "MED-2 extension set --media-security refuses a bad level" \
  ctl extension set 2101 --media-security maybe
expect_code 1 "MED-2 media set extension refuses an unknown extension" \
  ctl media set extension 2199 enforce
grep -q "code 5" <<<"$OUT" && pass "MED-2 the refusal is NOT_FOUND" \
  || fail "MED-2 the refusal is NOT_FOUND: $OUT"
expect_code 1 "MED-2 media set needs config_write_all" as watch media set system disabled
grep -q "code 7" <<<"$OUT" && pass "MED-2 the refusal is PERMISSION_DENIED" \
  || fail "MED-2 the refusal is PERMISSION_DENIED: $OUT"
[ "$(ctl media show)" = "$media_expected" ] && pass "MED-2 the refused changes changed nothing" \
  || fail "MED-2 the refused changes changed nothing: $(ctl media show 2>&1)"
audit_json=$(ctl --json audit list --kind change --limit 500)
grep -A1 '"before": ".*\\"media_security\\":\\"best_effort\\"' <<<"$audit_json" \
  | grep -q '"after": ".*\\"media_security\\":\\"enforce\\"' \
  && pass "MED-2 the system level change is audited with before and after" \
  || fail "MED-2 the system level change is audited with before and after: $audit_json"
grep -q '"after": ".*\\"line_media_security\\":{\\"node-b\\":\\"best_effort\\"}' <<<"$audit_json" \
  && pass "MED-2 the line override is audited" || fail "MED-2 the line override is audited: $audit_json"
grep -A1 '"before": ".*\\"media_security\\":\\"system\\".*\\"number\\":\\"2101\\"' <<<"$audit_json" \
  | grep -q '"after": ".*\\"media_security\\":\\"disabled\\".*\\"number\\":\\"2101\\"' \
  && pass "MED-2 the extension override is audited with before and after" \
  || fail "MED-2 the extension override is audited with before and after: $audit_json"

# ---- SEC-11 bulk import and export of users and extensions -----------------------------------
bulk="$WARD_TEST_DIR/bulk"
mkdir -p "$bulk"
{
  echo "kind,number,phone_password,media_security,name,extension,full_name,login_code,password"
  # Phone passwords that pass the PIN rules: random digits, no run of three alike or in order.
  python3 -c '
import random
for n in range(5000, 6000):
    r = random.Random(n)
    while True:
        code = "".join(r.choice("0123456789") for _ in range(8))
        d = [int(c) for c in code]
        if str(n) not in code and not any(d[i] == d[i+1] == d[i+2] or
               d[i+1] - d[i] == d[i+2] - d[i+1] in (1, -1) for i in range(6)):
            break
    media = "enforce" if n == 5999 else ""
    print(f"extension,{n},{code},{media},,,,,")'
  echo "user,,,,bulk1,5000,\"Bulk, First\",739164,Garden-Gate-73"
  echo "user,,,,bulk2,5001,Bulk Second,,"
} >"$bulk/good.csv"
started=$(date +%s%N)
expect_output "imported: 1000 extensions created, 0 updated; 2 users created, 0 updated" \
  "SEC-11 1,000 extensions and 2 users are imported from one CSV file" ctl directory import "$bulk/good.csv"
import_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "# SEC-11 import of 1,000 extensions and 2 users: $import_ms ms"
[ "$(ctl extension list | grep -c '^5[0-9][0-9][0-9] ')" = 1000 ] \
  && pass "SEC-11 the 1,000 imported extensions are listed" \
  || fail "SEC-11 the 1,000 imported extensions are listed: $(ctl extension list | grep -c '^5')"
expect_output "directory/import.*1000 extensions created" "SEC-11 the import is one audit record" \
  ctl audit list --kind change --limit 5
expect_output "^alice \|^bulk1 .*5000" "SEC-11 imported user bulk1 holds extension 5000" ctl user list
expect_code 0 "SEC-11 the imported password logs bulk1 in" ctl user-login bulk1 <<<"Garden-Gate-73"
{
  echo "kind,number,phone_password,name,extension"
  echo "extension,6001,8291736,,"
  echo "extension,6002,1234,,"
  echo "user,,,bulk3,5000"
  echo "extension,6003,61829374,,"
  echo "user,,,bulk4,"
} >"$bulk/bad.csv"
before=$(ctl --json extension list | md5sum)
expect_code 1 "SEC-11 a file with bad records is refused" ctl directory import "$bulk/bad.csv"
grep -q "line 3: phone_password" <<<"$OUT" && grep -q "line 4: extension" <<<"$OUT" \
  && grep -q "line 6: extension" <<<"$OUT" \
  && pass "SEC-11 the refusal lists every bad record by line" \
  || fail "SEC-11 the refusal lists every bad record by line: $OUT"
[ "$(ctl --json extension list | md5sum)" = "$before" ] && ! ctl extension list | grep -q "^6001 " \
  && pass "SEC-11 a refused file changes nothing, not even its good records" \
  || fail "SEC-11 a refused file changes nothing"
ctl directory export --format json -o "$bulk/export.json" >/dev/null 2>&1
grep -q '"number": "5999"' "$bulk/export.json" && ! grep -q "739164" "$bulk/export.json" \
  && pass "SEC-11 the JSON export holds the records and no secret" \
  || fail "SEC-11 the JSON export holds the records and no secret: $(head -c 300 "$bulk/export.json")"
ctl directory export >"$bulk/export.csv" 2>&1
grep -q '^user,bulk1,,"Bulk, First",5000,' "$bulk/export.csv" \
  && pass "SEC-11 the CSV export quotes what needs quoting" \
  || fail "SEC-11 the CSV export quotes what needs quoting: $(grep bulk1 "$bulk/export.csv")"
expect_output "imported: 0 extensions created, 100[0-9] updated; 0 users created, [0-9]* updated" \
  "SEC-11 the export imports again as updates, secrets kept" ctl directory import "$bulk/export.json"
expect_code 0 "SEC-11 after re-importing the export the password still works" \
  ctl user-login bulk1 <<<"Garden-Gate-73"
expect_output "5999.*enforce" "SEC-11 the imported media security of 5999 applies" ctl media show
printf 'kind,number,media_security\nextension,5999,system\n' >"$bulk/clear.csv"
expect_output "0 extensions created, 1 updated" "SEC-11 media_security system clears an override" \
  ctl directory import "$bulk/clear.csv"
ctl media show | grep -q 5999 && fail "SEC-11 5999 follows the system media security again" \
  || pass "SEC-11 5999 follows the system media security again"
expect_code 1 "SEC-11 a status-only account cannot import" as watch directory import "$bulk/good.csv"

# ---- SVC-2 services Ward does not serve yet say so -----------------------------------------
levels=$(ctl service-level show)
grep -q "^web_services  *not served" <<<"$levels" && grep -q "^external  *not served" <<<"$levels" \
  && pass "SVC-2 service-level show reports the services Ward does not serve as not served" \
  || fail "SVC-2 service-level show reports the services Ward does not serve as not served: $levels"
grep -q "^configuration  *secure_medium " <<<"$levels" \
  && pass "SVC-2 a served service shows its level and ports" \
  || fail "SVC-2 a served service shows its level and ports: $levels"
grep -q '"served": false' <<<"$(ctl --json service-level show)" \
  && pass "SVC-2 the JSON answer marks unserved services" \
  || fail "SVC-2 the JSON answer marks unserved services"

# ---- SVC-1 service levels open and close real ports, without restart ----------------------
endpoints="$data/run/endpoints"
port_of() { sed -n "s/^$1=127.0.0.1://p" "$endpoints"; }
open_port() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
tls_probe() { openssl s_client -connect "127.0.0.1:$1" -servername primary.ward.test "${@:2}" </dev/null 2>&1; }

expect_code 0 "SVC-1 configuration set to Unsecure + Secure" \
  ctl service-level set configuration unsecure_and_secure
plain=$(port_of configuration_plain); tls=$(port_of configuration)
{ [ -n "$plain" ] && [ -n "$tls" ]; } && pass "SVC-1 both configuration ports are listed" \
  || fail "SVC-1 both configuration ports are listed: $(cat "$endpoints")"
expect_code 0 "SVC-1 Unsecure + Secure serves plaintext" ctl --plaintext user list
expect_code 0 "SVC-1 Unsecure + Secure serves TLS" ctl user list

expect_code 0 "SVC-1 configuration set to Secure Medium" ctl service-level set configuration secure_medium
open_port "$plain" && fail "SVC-1 Secure Medium closes the plaintext port" \
  || pass "SVC-1 Secure Medium closes the plaintext port"
expect_code 0 "SVC-1 Secure Medium serves TLS" ctl user list
tls_probe "$tls" -tls1_2 -cipher ECDHE-RSA-AES128-SHA256 | grep -q "Cipher is ECDHE-RSA-AES128-SHA256" \
  && pass "SVC-4 Secure Medium accepts a cipher set B suite" \
  || fail "SVC-4 Secure Medium accepts a cipher set B suite"

expect_code 0 "SVC-1 configuration set to Unsecure Only" ctl service-level set configuration unsecure_only
open_port "$tls" && fail "SVC-1 Unsecure Only closes the TLS port" || pass "SVC-1 Unsecure Only closes the TLS port"
expect_code 0 "SVC-1 Unsecure Only serves plaintext" ctl --plaintext user list

expect_code 0 "SVC-1 configuration set to Disabled" ctl service-level set configuration disabled
{ ! open_port "$tls" && ! open_port "$plain"; } && pass "SVC-1 Disabled closes both ports" \
  || fail "SVC-1 Disabled closes both ports"

expect_code 0 "SVC-1 configuration set to Secure High" ctl service-level set configuration secure_high
[ -n "$tls" ] && [ "$(port_of configuration)" = "$tls" ] && pass "SVC-1 the TLS port number is kept when reopened" \
  || fail "SVC-1 the TLS port number is kept when reopened"
out=$(tls_probe "$tls" -tls1_2); code=$?
[ "$code" != 0 ] && grep -q "alert handshake failure" <<<"$out" \
  && pass "SVC-1 Secure High refuses a TLS client without a certificate (openssl s_client)" \
  || fail "SVC-1 Secure High refuses a TLS client without a certificate: $out"
expect_code 1 "SVC-1 Secure High refuses wardctl without a client certificate" ctl user list
tls_probe "$tls" -tls1_2 -cipher ECDHE-RSA-AES128-SHA256 -cert "$pki/admin.pem" -key "$pki/admin.key" \
  | grep -q "Cipher is ECDHE-RSA-AES128-SHA256" && fail "SVC-4 Secure High refuses cipher set B" \
  || pass "SVC-4 Secure High refuses cipher set B"
tls_probe "$tls" -tls1_2 -cert "$pki/admin.pem" -key "$pki/admin.key" \
  | grep -q "Cipher is ECDHE-RSA-AES256-GCM-SHA384" \
  && pass "SVC-4 Secure High negotiates AES-256-GCM with a client certificate" \
  || fail "SVC-4 Secure High negotiates AES-256-GCM with a client certificate"
expect_code 0 "SVC-1 Secure High serves wardctl with a trusted client certificate" \
  ctl --cert "$pki/admin.pem" --key "$pki/admin.key" user list
expect_code 1 "PKI-8 a client certificate without key usage is refused at the Medium check" \
  ctl --cert "$pki/bare.pem" --key "$pki/admin.key" user list
expect_output "no_key_usage" "TLS-3 the refusal raised an alarm naming the failed check" \
  ctl audit list --kind alarm
expect_code 0 "SVC-1 configuration back to Secure Medium" ctl service-level set configuration secure_medium
expect_output "service_level/configuration" "MON-1 level changes are audited with before and after" \
  ctl audit list --kind change

# ---- LINE: restart keeps everything ---------------------------------------------------------
stop_node primary
[ "$STOP_CODE" = 0 ] && pass "SIGTERM stops the primary cleanly" || fail "SIGTERM stops the primary cleanly"
start_node primary || exit 1
expect_code 0 "SEC-1 after a restart the changed password still works" \
  ctl login -u Administrator <<<"Oak-Tree-Plan-47"
expect_output "operator7" "SEC-1 after a restart created service users are still there" \
  ctl service-user list
expect_output "alice" "SEC-1 after a restart telephony users are still there" ctl user list
expect_output "^user_agent_block: friendly-scanner$" "SIP-4 after a restart the SIP policy is still there" \
  ctl sip show
{ grep -q "^direct_media: on$" <<<"$OUT" && grep -q "^emergency_numbers: 112,999$" <<<"$OUT"; } \
  && pass "MED-3 TF-1 after a restart direct media and the emergency numbers are still there" \
  || fail "MED-3 TF-1 after a restart direct media and the emergency numbers are still there: $OUT"
expect_output "203.0.113.7" "SIP-5 after a restart the remote worker address is still there" \
  ctl extension list
[ "$(ctl media show)" = "$media_expected" ] \
  && pass "MED-2 after a restart the media security levels are still there" \
  || fail "MED-2 after a restart the media security levels are still there: $(ctl media show 2>&1)"

# ---- POL-4 the temporary lock ends after 60 s ----------------------------------------------
left=$(( locked_at + 61 - $(date +%s) ))
[ "$left" -gt 0 ] && sleep "$left"
expect_code 0 "POL-4 the temporary lock ends after 60 s" as op login -u operator7 <<<"Birch-Lake-Hill-62"

# ---- SEC-1 SEC-9 nothing secret in clear on disk ---------------------------------------------
ha1=$(printf '%s' "2101:ward:82917364" | md5sum | cut -d' ' -f1)
leaks=""
for secret in Oak-Tree-Plan-47 Harbor-Light-93 Sys-Gate-Key-58 Birch-Lake-Hill-62 Garden-Path-82 \
  82917364 7391826405172 739164 "$ha1" argon2id operator7 alice; do
  if grep -rqa -- "$secret" "$data/security" "$data/config" "$data/store"; then leaks="$leaks $secret"; fi
done
[ -z "$leaks" ] && pass "SEC-1 the stores hold no password, code, HA1, hash or name in clear" \
  || fail "SEC-1 the stores hold no password, code, HA1, hash or name in clear:$leaks"
key_mode=$(stat -c %a "$data/keys/node.key")
[ "$key_mode" = 600 ] && pass "SEC-1 the node key file is 0600" || fail "SEC-1 the node key file is 0600 ($key_mode)"

# ---- MON-1 the audit chain verifies, and a flipped byte is detected ------------------------
expect_output "audit trail intact" "MON-1 the audit chain verifies" ctl audit verify
log="$data/audit/audit.log"
# A trail cut short while the node is down still chains record to record; only the sealed
# anchor shows the loss.
stop_node primary
truncate -s "$(head -n -1 "$log" | wc -c)" "$log"
start_node primary || exit 1
ctl login -u Administrator <<<"Oak-Tree-Plan-47" >/dev/null 2>&1
expect_output "audit_trail_truncated" "MON-1 records removed from the end while the node was down raise an alarm" \
  ctl audit list --kind alarm --limit 500
size=$(stat -c %s "$log")
offset=$(( size / 2 ))
byte=$(dd if="$log" bs=1 skip="$offset" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(( byte ^ 1 )))" | dd of="$log" bs=1 seek="$offset" conv=notrunc 2>/dev/null
expect_code 1 "MON-1 one flipped byte in the audit log is detected" ctl audit verify
grep -q "DAMAGED" <<<"$OUT" && pass "MON-1 verify names the damaged record" \
  || fail "MON-1 verify names the damaged record: $OUT"

# ---- SEC-7 security reset ------------------------------------------------------------------
expect_code 0 "SEC-7 security reset" ctl security reset --yes
expect_output "still the default" "SEC-7 after reset the default Administrator password works again" \
  ctl login -u Administrator <<<"Administrator"
expect_code 1 "SEC-7 after reset the first-start gate applies again" ctl service-user list
expect_code 0 "SEC-7 security user passwd after reset" as sec2 login -u security <<<"securitypwd"
as sec2 passwd <<<$'securitypwd\nHarbor-Light-93' >/dev/null 2>&1
as sec2 login -u security <<<"Harbor-Light-93" >/dev/null 2>&1
as sec2 system-password <<<"Sys-Gate-Key-58" >/dev/null 2>&1
ctl passwd <<<$'Administrator\nOak-Tree-Plan-47' >/dev/null 2>&1
ctl login -u Administrator <<<"Oak-Tree-Plan-47" >/dev/null 2>&1
users=$(ctl service-user list)
grep -q operator7 <<<"$users" && fail "SEC-7 reset removed added service users" \
  || pass "SEC-7 reset removed added service users"
expect_output "configuration  *secure_medium" "SEC-7 reset restored the default service levels" \
  ctl service-level show
ctl audit list --kind security_reset --limit 5 | grep -q "SecurityReset" \
  && pass "SEC-7 the reset is in the audit trail" || fail "SEC-7 the reset is in the audit trail"

finish

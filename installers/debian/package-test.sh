#!/usr/bin/env bash
# Package test: install the .deb with dpkg -i, smoke-test it, upgrade it over itself with a
# newer version that brings a store migration, check the user's data survived (with a
# backup), then remove and purge. Needs root (CI runs as root). Usage:
#   package-test.sh BUNDLE_DIR VERSION PYTHON
set -euo pipefail
bundle=$1 version=$2 py=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "package-test needs root (dpkg -i)" >&2; exit 1; }
start=$(date +%s)
work=$(mktemp -d)
say() { printf '\n== %s\n' "$*"; }
fail() { echo "PACKAGE TEST FAILED: $*" >&2; exit 1; }

# IT's policy file is machine state: keep any existing one and put it back afterwards.
policy_dir=/etc/csos-desktop
[ -e "$policy_dir" ] && mv "$policy_dir" "$work/etc-backup"
cleanup() {
  dpkg -P csos-desktop >/dev/null 2>&1 || true
  rm -rf "$policy_dir"
  [ -e "$work/etc-backup" ] && mv "$work/etc-backup" "$policy_dir"
  rm -rf "$work"
}
trap cleanup EXIT

say "runtime libraries the package depends on"
deps=$(sed -n 's/^Depends: //p' "$here/control.in" | tr -d ',')
missing=""
for p in $deps; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
dpkg -P csos-desktop >/dev/null 2>&1 || true

say "build the package and its upgrade (one more store migration, higher revision)"
mig_dir="$repo/csos_desktop/store/migrations"
last=$(ls "$mig_dir" | sed -n 's/^\([0-9]\{4\}\)_.*\.sql$/\1/p' | sort | tail -1)
next=$(printf '%04d' $((10#$last + 1)))
extra="$work/${next}_package_test_marker.sql"
echo "CREATE TABLE package_test_marker (note TEXT NOT NULL);" > "$extra"
deb1=$("$here/build-deb.sh" "$bundle" "${version}-1" "$work/deb")
deb2=$("$here/build-deb.sh" "$bundle" "${version}-2" "$work/deb2" "$extra")
ls -l "$deb1" "$deb2"

# A user with a clean home and nothing from this shell's environment.
home="$work/home"; mkdir -p "$home"
as_user() { env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME="$home" LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen TMPDIR="$work" "$@"; }
json() { "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

say "dpkg -i ${version}-1"
dpkg -i "$deb1"
[ -x /opt/csos-desktop/csos ] && [ -f /usr/share/applications/csos-desktop.desktop ] \
  || fail "files not installed"
as_user csos --version | tee "$work/version.txt"
grep -q "csos, version $version" "$work/version.txt" || fail "csos --version"

say "csos doctor --json (no token, no database yet)"
set +e; as_user csos doctor --json --timeout 3 > "$work/doctor1.json"; rc=$?; set -e
[ "$(json "$work/doctor1.json" 'd["exit_code"]')" = "$rc" ] || fail "doctor exit code $rc"
json "$work/doctor1.json" '" ".join(c["check"]+"="+c["status"] for c in d["checks"])'
[ "$(json "$work/doctor1.json" 'd["versions"]["frozen"]')" = True ] || fail "not the bundle"

say "every command module loads from the bundle (csos --help imports them all; SOM: NumPy)"
as_user csos --help > "$work/help.txt" || fail "csos --help"
as_user csos som --help > /dev/null || fail "csos som (NumPy) does not load"

say "the sandbox servers are not in the desktop program: csos sandbox and csos demo say so"
for cmd in "sandbox ca init" "demo --headless"; do
  set +e; as_user csos $cmd 2> "$work/sandbox.err"; rc=$?; set -e
  cat "$work/sandbox.err"
  [ "$rc" = 3 ] && grep -q "needs the sandbox extra" "$work/sandbox.err" \
    && ! grep -q Traceback "$work/sandbox.err" || fail "csos $cmd in the bundle"
done

say "csos-gui --self-test (offscreen)"
as_user csos-gui --self-test | tee "$work/gui.txt"
[ -s "$work/csos-gui-self-test.png" ] || fail "no self-test screenshot"

say "machine policy written as IT would, lock honoured"
csos config write-policy --set distributor_url=https://127.0.0.1:9/api \
  --set pkcs11_module=/usr/lib/softhsm/libsofthsm2.so --lock distributor_url
as_user csos config show --json > "$work/config.json"
[ "$(json "$work/config.json" '[s["source"] for s in d["settings"] if s["key"]=="distributor_url"][0]')" \
  = "policy (locked)" ] || fail "policy not in force"
set +e; as_user csos config set distributor_url https://elsewhere.example 2> "$work/set.err"
rc=$?; set -e
[ "$rc" = 3 ] && grep -q "Set by your IT administrator" "$work/set.err" || fail "lock not enforced"

say "an unprivileged user: CSOS_POLICY_FILE and CSOS_HOME unlock nothing"
# A real user (nobody), not root with a clean environment: policy ownership is checked.
chmod 711 "$work"
uhome="$work/uhome"; mkdir -p "$uhome/fresh/config"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$uhome" \
  LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen TMPDIR="$uhome" "$@"; }
setting() { json "$1" "[s[\"$2\"] for s in d[\"settings\"] if s[\"key\"]==\"$3\"][0]"; }
check() { json "$1" "[c[\"$3\"] for c in d[\"checks\"] if c[\"check\"]==\"$2\"][0]"; }
printf '[settings]\ndistributor_url = "https://evil.example/api"\nallow_software_tokens = true\n' \
  > "$uhome/mine.toml"
echo "allow_software_tokens = true" > "$uhome/fresh/config/config.toml"
(cd "$repo" && "$py" "$here/seed_token.py" "$uhome/seed" 314159) | tee "$work/token.json"
conf=$(json "$work/token.json" 'd["conf"]'); module=$(json "$work/token.json" 'd["module"]')
cat > "$uhome/rx.json" <<RX
{"schema": "csos-rx/1", "date_of_issue": "$(date +%F)",
 "patient": {"name": "Maria Lopez", "address": {"street": "12 Elm Street",
             "city": "Springfield", "state": "IL", "postal_code": "62704"}},
 "drug": {"name": "Oxycodone Hydrochloride", "strength": "5 mg", "dosage_form": "tablet",
          "schedule": "2"},
 "quantity": 20, "directions": "1 tablet every 6 hours as needed", "refills": 0,
 "practitioner": {"name": "Dr. Jane Smith", "address": {"street": "200 Medical Plaza",
                  "city": "Springfield", "state": "IL", "postal_code": "62702"},
                  "dea_number": "AB1234563"}}
RX
chown -R 65534:65534 "$uhome"
mine=(env CSOS_POLICY_FILE="$uhome/mine.toml")

# 1. A policy file of the user's own, named by CSOS_POLICY_FILE, changes nothing locked.
as_nobody "${mine[@]}" csos config show --json > "$work/u-config.json"
[ "$(json "$work/u-config.json" 'd["policy_file"]')" = /etc/csos-desktop/policy.toml ] \
  || fail "the policy was read from elsewhere than /etc"
[ "$(setting "$work/u-config.json" source distributor_url)" = "policy (locked)" ] \
  && [ "$(setting "$work/u-config.json" value distributor_url)" = https://127.0.0.1:9/api ] \
  || fail "CSOS_POLICY_FILE unlocked distributor_url"
[ "$(setting "$work/u-config.json" value allow_software_tokens)" = False ] \
  || fail "CSOS_POLICY_FILE allowed software tokens"
set +e; as_nobody "${mine[@]}" csos config set distributor_url https://evil.example/api \
  2> "$work/u-set.err"; rc=$?; set -e
[ "$rc" = 3 ] || fail "CSOS_POLICY_FILE let the user change a locked setting"
set +e; as_nobody "${mine[@]}" csos doctor --json --timeout 1 > "$work/u-doctor1.json"; set -e
json "$work/u-doctor1.json" '[c for c in d["checks"] if c["check"]=="configuration"][0]'
[ "$(json "$work/u-doctor1.json" '[c["details"]["policy_file"] for c in d["checks"] if c["check"]=="configuration"][0]')" \
  = /etc/csos-desktop/policy.toml ] || fail "doctor does not name the machine policy in force"

# 2. A fresh CSOS_HOME (whose own settings ask for it) does not allow a SoftHSM2 token for EPCS.
set +e; echo 314159 | as_nobody "${mine[@]}" SOFTHSM2_CONF="$conf" CSOS_HOME="$uhome/fresh" \
  csos rx sign "$uhome/rx.json" --as drsmith --token package-test --module "$module" --pin-stdin \
  --out "$uhome/rx-out" 2> "$work/u-rx.err"; rc=$?; set -e
cat "$work/u-rx.err"
[ "$rc" != 0 ] && grep -q "software token — for testing" "$work/u-rx.err" \
  && grep -q "1311.115" "$work/u-rx.err" && [ ! -e "$uhome/rx-out" ] \
  || fail "a fresh CSOS_HOME allowed a software token for csos rx sign"
set +e; as_nobody SOFTHSM2_CONF="$conf" CSOS_HOME="$uhome/fresh" csos doctor --json \
  --timeout 1 --module "$module" > "$work/u-doctor2.json"; set -e
check "$work/u-doctor2.json" tokens summary | tee "$work/u-tokens.txt"
grep -q "software token — for testing" "$work/u-tokens.txt" || fail "doctor hides the software token"

# 3. An /etc policy file a user owns, or others can write, is refused and doctor names it.
for bad in owner mode; do
  if [ "$bad" = owner ]; then chown 65534 /etc/csos-desktop/policy.toml
  else chown 0 /etc/csos-desktop/policy.toml; chmod 666 /etc/csos-desktop/policy.toml; fi
  as_nobody csos config show --json > "$work/u-config-$bad.json"
  [ "$(setting "$work/u-config-$bad.json" source distributor_url)" != "policy (locked)" ] \
    || fail "a policy file with a bad $bad still locks settings"
  set +e; as_nobody csos doctor --json --timeout 1 > "$work/u-doctor-$bad.json"; set -e
  check "$work/u-doctor-$bad.json" configuration summary | tee "$work/u-refused.txt"
  grep -q "Machine policy refused: /etc/csos-desktop/policy.toml" "$work/u-refused.txt" \
    || fail "doctor does not name the refused policy file ($bad)"
  [ "$(check "$work/u-doctor-$bad.json" configuration status)" = warning ] \
    || fail "doctor does not warn about the refused policy ($bad)"
done
chown 0:0 /etc/csos-desktop/policy.toml; chmod 644 /etc/csos-desktop/policy.toml
as_nobody csos config show --json > "$work/u-config-back.json"
[ "$(setting "$work/u-config-back.json" source distributor_url)" = "policy (locked)" ] \
  || fail "the administrator's policy is not in force for an ordinary user"

say "a user's data made by ${version}-1"
(cd "$repo" && as_user "$py" "$here/seed_store.py") | tee "$work/seed.json"
order_id=$(json "$work/seed.json" 'd["order_id"]')
db=$(json "$work/seed.json" 'd["db"]')
as_user csos doctor --json --timeout 1 > "$work/doctor2.json" || true
[ "$(json "$work/doctor2.json" '[c["status"] for c in d["checks"] if c["check"]=="database"][0]')" \
  = ok ] || fail "database not ok before upgrade"

say "upgrade: dpkg -i ${version}-2"
dpkg -i "$deb2" | tee "$work/upgrade.txt"
[ "$(dpkg-query -W -f='${Version}' csos-desktop)" = "${version}-2" ] || fail "version"
as_user csos doctor --json --timeout 1 > "$work/doctor3.json" || true
json "$work/doctor3.json" '[c["summary"] for c in d["checks"] if c["check"]=="database"][0]'
dbcheck='[c for c in d["checks"] if c["check"]=="database"][0]'
[ "$(json "$work/doctor3.json" "$dbcheck[\"status\"]")" = ok ] || fail "database after upgrade"
[ "$(json "$work/doctor3.json" "$dbcheck[\"details\"][\"schema_version\"]")" = "$((10#$next))" ] \
  || fail "migration did not run"
backup=$(json "$work/doctor3.json" "$dbcheck[\"details\"][\"backup\"]")
[ -s "$backup" ] || fail "no backup before migration"
[ "$(json "$work/doctor3.json" "$dbcheck[\"details\"][\"orders\"]")" = 1 ] || fail "order lost"
[ "$(json "$work/doctor3.json" "$dbcheck[\"details\"][\"audit\"][\"intact\"]")" = True ] \
  || fail "audit chain broken"
"$py" - "$db" "$order_id" <<'PY' || fail "order row not readable after upgrade"
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
assert conn.execute("SELECT count(*) FROM orders WHERE order_id = ?", (sys.argv[2],)).fetchone()[0] == 1
print("order", sys.argv[2], "still there; backup", "ok")
PY

say "remove keeps data; purge says where it is"
dpkg -r csos-desktop
[ ! -e /opt/csos-desktop/csos ] && [ ! -e /usr/bin/csos ] || fail "files left after remove"
[ -s "$db" ] || fail "remove deleted user data"
dpkg -P csos-desktop | tee "$work/purge.txt"
grep -q ".local/share/csos-desktop" "$work/purge.txt" || fail "purge did not say where data is"
[ -s "$db" ] || fail "purge deleted user data"

echo
echo "package-test passed in $(( $(date +%s) - start )) s; package $(du -h "$deb1" | cut -f1)"

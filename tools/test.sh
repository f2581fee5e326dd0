#!/usr/bin/env bash
# Run the add-on's tests in a fresh database and print "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require_odoo
ensure_postgres
ensure_db_role
ensure_python_requirements
ensure_chromium

start_scratch_db serial_service_test "${SERIAL_SERVICE_TEST_TEMPLATE:-}"
log="$work/odoo.log"
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

say "installing serial_service with its tests in the fresh database $db (log: $log)"
odoo_cmd \
    --db_host "$PGHOST" --db_port "$PGPORT" --db_user "$DB_USER" --db_password "$DB_PASSWORD" \
    --addons-path "$work/addons" --data-dir "$work/data" \
    -d "$db" -i serial_service --test-enable --test-tags "${TEST_TAGS:-/serial_service}" \
    --http-interface 127.0.0.1 --http-port "$port" --workers 0 --max-cron-threads 0 \
    --stop-after-init --log-level info >"$log" 2>&1
rc=$?

grep -E ' (ERROR|CRITICAL) |^(FAIL|ERROR):|odoo.tests.result' "$log" | grep -v 'Running as user' >&2
summary=$(grep -oE '[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests' "$log" | tail -n 1)
if [ -z "$summary" ]; then
    tail -n 40 "$log" >&2
    say "no test ran (Odoo exited with $rc)"
    echo "0 passed, 1 failed"
    exit 1
fi
read -r failures errors total <<<"$(echo "$summary" | sed -E 's/([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests/\1 \2 \3/')"
failed=$((failures + errors))
# an error outside the tests (an install that broke, a demo that did not load)
# fails the run too, even when every test that ran passed
outside=$(grep -E ' (ERROR|CRITICAL) ' "$log" | grep -vcE 'odoo\.addons\.[a-z_]+\.tests|odoo\.tests\.' || true)
if [ "$failed" -eq 0 ] && { [ "$rc" -ne 0 ] || [ "$outside" -gt 0 ]; }; then
    say "Odoo logged $outside error(s) outside the tests (exit code $rc)"
    failed=1
fi
if [ "$total" -eq 0 ]; then
    say "no test ran"
    echo "0 passed, 1 failed"
    exit 1
fi
passed=$((total - failures - errors))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Regenerate i18n/serial_service.pot with Odoo's own export, from a fresh
# database with the add-on and its demo data (as the test command installs it),
# then merge it into each translation (i18n/*.po) with msgmerge when present.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require_odoo
ensure_postgres
ensure_db_role

start_scratch_db serial_service_i18n "${SERIAL_SERVICE_TEST_TEMPLATE:-}"
log="$work/odoo.log"
say "installing serial_service in $db and exporting its terms (log: $log)"
odoo_cmd \
    --db_host "$PGHOST" --db_port "$PGPORT" --db_user "$DB_USER" --db_password "$DB_PASSWORD" \
    --addons-path "$work/addons" --data-dir "$work/data" -d "$db" \
    -i serial_service --stop-after-init --log-level warn >"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; die "the add-on did not install"; }
odoo_cmd \
    --db_host "$PGHOST" --db_port "$PGPORT" --db_user "$DB_USER" --db_password "$DB_PASSWORD" \
    --addons-path "$work/addons" --data-dir "$work/data" -d "$db" \
    --i18n-export="$REPO_DIR/i18n/serial_service.pot" --modules=serial_service \
    --stop-after-init --log-level warn >>"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; die "the export failed"; }
say "wrote i18n/serial_service.pot ($(grep -c '^msgid ' "$REPO_DIR/i18n/serial_service.pot") terms)"
if command -v msgmerge >/dev/null; then
    for po in "$REPO_DIR"/i18n/*.po; do
        [ -e "$po" ] || continue
        msgmerge --quiet --update --no-fuzzy-matching --backup=none "$po" "$REPO_DIR/i18n/serial_service.pot"
        say "merged into $(basename "$po")"
    done
fi

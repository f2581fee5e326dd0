#!/usr/bin/env bash
# Set everything up and serve Odoo with serial_service and its demo data on
# http://127.0.0.1:8069 (user admin, password admin).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require_odoo
ensure_postgres
ensure_db_role
ensure_python_requirements
if ! command -v wkhtmltopdf >/dev/null; then
    say "installing wkhtmltopdf (PDF reports: labels, certificates) from Debian's packages"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wkhtmltopdf \
        || say "could not install wkhtmltopdf: PDF reports will not print"
fi

home=${SERIAL_SERVICE_HOME:-$HOME/.serial_service}
db=${SERIAL_SERVICE_DB:-serial_service}
make_addons_dir "$home/addons"
common_args=(
    --db_host "$PGHOST" --db_port "$PGPORT" --db_user "$DB_USER" --db_password "$DB_PASSWORD"
    --addons-path "$home/addons" --data-dir "$home/data" -d "$db"
)
if [ "$(psql -U "$DB_USER" -d postgres -tAc "select 1 from pg_database where datname = '$db'" 2>/dev/null)" != 1 ] \
    && [ "$(pg_superuser_psql -tAc "select 1 from pg_database where datname = '$db'")" != 1 ]; then
    say "creating the database $db with serial_service and its demo data (a few minutes)"
    odoo_cmd "${common_args[@]}" -i serial_service --stop-after-init --log-level warn
else
    say "updating serial_service in the database $db"
    odoo_cmd "${common_args[@]}" -u serial_service --stop-after-init --log-level warn
fi
say "serving Odoo on http://127.0.0.1:8069 (database $db, login admin / admin); Ctrl-C stops it"
exec "$PYTHON" -m odoo "${common_args[@]}" --db-filter "^${db}\$" \
    --http-interface 127.0.0.1 --http-port 8069

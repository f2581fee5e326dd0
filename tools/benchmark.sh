#!/usr/bin/env bash
# Benchmark serial_service at the size of a real service company, each
# scenario against its baseline in the same run (see BENCHMARKS.md):
#     bash tools/benchmark.sh [--scale 1] [--only billing|coverage|import|serials]
# --scale 1 (the default) is the issue's size (1,000,000 serials, 100,000
# readings...); --scale 0.1 a tenth of it.
# It creates its own database (dropped at the end unless KEEP_DB is set).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require_odoo
ensure_postgres
ensure_db_role
ensure_python_requirements

start_scratch_db serial_service_bench "${SERIAL_SERVICE_BENCH_TEMPLATE:-}"
odoo_args=(
    --db_host "$PGHOST" --db_port "$PGPORT" --db_user "$DB_USER" --db_password "$DB_PASSWORD"
    --addons-path "$work/addons" --data-dir "$work/data" --log-level warn
)

say "creating the database $db with serial_service (no demo data)"
odoo_cmd "${odoo_args[@]}" -d "$db" -i serial_service --without-demo=all \
    --stop-after-init >"$work/install.log" 2>&1 \
    || { tail -n 30 "$work/install.log" >&2; die "could not install serial_service"; }
say "running the scenarios (machine: $(nproc) cores)"
"$PYTHON" "$REPO_DIR/tools/benchmark.py" --database "$db" "$@" -- "${odoo_args[@]}"

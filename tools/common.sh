# Shared by tools/setup.sh and tools/test.sh: checks and set-up steps.
# shellcheck shell=bash
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
DB_USER=${SERIAL_SERVICE_DB_USER:-serial_service}
DB_PASSWORD=${SERIAL_SERVICE_DB_PASSWORD:-serial_service}
export PGHOST PGPORT

say() { printf '[serial_service] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 2; }

require_odoo() {
    if ! "$PYTHON" -c 'import odoo, sys; sys.exit(odoo.release.version_info[0] != 18)' 2>/dev/null; then
        cat >&2 <<'MSG'
[serial_service] ERROR: Odoo 18.0 Community is not importable by python3.
  This add-on runs inside Odoo 18.0 Community, which is not on PyPI.
  Get the 18.0 source (https://github.com/odoo/odoo, branch 18.0, or the nightly
  tarball), then, in its folder:
      pip install -r requirements.txt     (drop python-ldap if you do not need LDAP)
      pip install .
  and check with:  python3 -c "import odoo; print(odoo.release.version)"
MSG
        exit 2
    fi
}

pg_superuser_psql() {
    # Trust auth on 127.0.0.1 (CI machines), else the postgres OS account (Debian).
    if psql -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
        psql -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
    elif [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
        runuser -u postgres -- psql -h /var/run/postgresql -d postgres -v ON_ERROR_STOP=1 "$@"
    else
        sudo -u postgres psql -h /var/run/postgresql -d postgres -v ON_ERROR_STOP=1 "$@"
    fi
}

ensure_postgres() {
    if pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; then
        return
    fi
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        say "PostgreSQL is not installed: installing it from Debian's packages"
        local SUDO=""
        [ "$(id -u)" = 0 ] || SUDO=sudo
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql postgresql-client \
            || die "could not install PostgreSQL with apt-get"
    fi
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    say "starting PostgreSQL $version"
    if command -v pg_ctlcluster >/dev/null; then
        pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
            || pg_ctlcluster "$version" main start
    fi
    for _ in $(seq 30); do
        pg_isready -q -h "$PGHOST" -p "$PGPORT" && return
        sleep 1
    done
    die "PostgreSQL does not answer on $PGHOST:$PGPORT"
}

ensure_db_role() {
    # Odoo refuses to run as the postgres superuser: use a role of our own.
    local exists
    exists=$(pg_superuser_psql -tAc "select 1 from pg_roles where rolname = '$DB_USER'") \
        || die "cannot connect to PostgreSQL as its superuser to create the role $DB_USER"
    if [ "$exists" != 1 ]; then
        say "creating PostgreSQL role $DB_USER"
        pg_superuser_psql -qc "create role \"$DB_USER\" login createdb password '$DB_PASSWORD'" >/dev/null
    fi
}

ensure_python_requirements() {
    if ! "$PYTHON" -c 'import barcode, xlsxwriter, openpyxl, freezegun, hypothesis, websocket, odoo.addons.subscription_oca' 2>/dev/null; then
        say "installing the Python requirements (requirements.txt)"
        "$PYTHON" -m pip install -q -r "$REPO_DIR/requirements.txt" \
            || die "pip could not install requirements.txt"
    fi
}

ensure_chromium() {
    # Odoo's HttpCase tours (the job on a phone, the dashboard) drive a headless
    # Chromium; without one they would be skipped, so install Debian's.
    if command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
        || command -v google-chrome >/dev/null; then
        return
    fi
    say "Chromium is not installed (browser tests): installing Debian's chromium"
    local SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium; } \
        || die "could not install chromium with apt-get: install Chromium (or Google Chrome) for the browser tests"
}

start_scratch_db() {
    # A work folder and a database name of their own (prefix $1), both removed
    # on exit unless KEEP_DB is set; the database copies the template $2 when
    # given (developer shortcut: a database that already has the dependencies).
    work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    db="$1_$(date +%s)_$$"
    make_addons_dir "$work/addons"
    trap drop_scratch_db EXIT
    if [ -n "${2:-}" ]; then
        pg_superuser_psql -qc "create database \"$db\" owner \"$DB_USER\" template \"$2\"" >/dev/null \
            || die "cannot copy template database $2"
    fi
}

drop_scratch_db() {
    if [ -z "${KEEP_DB:-}" ]; then
        dropdb --if-exists -U postgres "$db" >/dev/null 2>&1 \
            || pg_superuser_psql -qc "drop database if exists \"$db\"" >/dev/null 2>&1
        rm -rf "$work"
    else
        say "kept database $db and $work"
    fi
}

make_addons_dir() {
    # Odoo finds an add-on by its folder name: expose this checkout as serial_service.
    local dir=$1
    mkdir -p "$dir"
    ln -sfn "$REPO_DIR" "$dir/serial_service"
}

odoo_cmd() {
    "$PYTHON" -m odoo "$@"
}

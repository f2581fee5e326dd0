"""The billing run in a real Odoo server (python3 -m odoo), started and
stopped by the benchmark: its cron threads or cron worker processes run the
scheduled billing job on committed contracts while the benchmark waits for
no due contract to remain."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

from odoo import fields
from odoo.tools import SQL

from . import generator
from .scenarios import BILLING_CRON, INFO, Result, check

# how long a server may take to load, and to bill a month
START_TIMEOUT = 300
BILLING_TIMEOUT = 3600
# the cron runner calls a job at most 10 times a run, then at its next
# wake-up (up to a minute later) unless told: this variable tells it at once
# (ir.cron._process_job), as a production server billing 5,000 contracts
# should be configured
SERVER_ENV = {"ODOO_NOTIFY_CRON_CHANGES": "1"}
MODES = (
    ("one thread", ["--workers", "0", "--max-cron-threads", "1"]),
    ("2 workers", ["--workers", "2", "--max-cron-threads", "2"]),
)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """`python3 -m odoo` on free ports, its log in a file of its own; ready
    once its registry is loaded; stopped (its process group) on exit."""

    def __init__(self, database, server_args, mode_args):
        self.reniced = True
        # closed in __exit__
        self.log = tempfile.NamedTemporaryFile(
            prefix="serial_service_bench_server_", suffix=".log", delete=False
        )
        self.command = [
            sys.executable,
            "-m",
            "odoo",
            *server_args,
            "-d",
            database,
            "--db-filter",
            f"^{database}$",
            "--http-interface",
            "127.0.0.1",
            "--http-port",
            str(free_port()),
            "--gevent-port",
            str(free_port()),
            *mode_args,
            "--log-level",
            "info",
            "--logfile",
            self.log.name,
        ]

    def __enter__(self):
        self.process = subprocess.Popen(
            self.command,
            env=dict(os.environ, **SERVER_ENV),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while b"Registry loaded in" not in self.read_log():
            self.renice()
            check(self.process.poll() is None, f"the server stopped: {self.tail()}")
            check(time.monotonic() < deadline, f"no registry loaded: {self.tail()}")
            time.sleep(0.5)
        # the cron threads or workers start and LISTEN after the registry
        for _second in range(5):
            time.sleep(1)
            self.renice()
        return self

    def renice(self):
        """Odoo's cron worker processes lower their priority (nice 10): on a
        machine that other work shares, that measures the other work. The
        processes of this server (its group) are put back to the priority
        of the threaded server and of this benchmark; called while waiting,
        for the workers Odoo starts again. False when not allowed."""
        try:
            os.setpriority(os.PRIO_PGRP, self.process.pid, 0)
        except (PermissionError, ProcessLookupError):
            self.reniced = False
        return self.reniced

    def __exit__(self, *exc):
        if self.process.poll() is None:
            # the group of the server this benchmark started (its workers)
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # the log is kept (its path is printed) to be read after the run
        self.log.close()
        return False

    def read_log(self):
        with open(self.log.name, "rb") as log:
            return log.read()

    def tail(self):
        return self.read_log()[-2000:].decode(errors="replace")

    def errors(self):
        return [
            line
            for line in self.read_log().decode(errors="replace").splitlines()
            if " ERROR " in line or "Traceback" in line
        ]


def due_count(cr, contract_ids, today):
    cr.execute(
        SQL(
            "SELECT count(*) FROM sale_subscription "
            "WHERE id IN %s AND recurring_next_date <= %s",
            tuple(contract_ids),
            today,
        )
    )
    return cr.fetchone()[0]


def invoices_per_contract(cr, contract_ids):
    cr.execute(
        SQL(
            "SELECT s.id, count(m.id) FROM sale_subscription s "
            "LEFT JOIN account_move m ON m.subscription_id = s.id "
            "WHERE s.id IN %s GROUP BY s.id",
            tuple(contract_ids),
        )
    )
    return dict(cr.fetchall())


def bill_in_server(env, catalog, count, tag, server_args, mode_args, log):
    """`count` metered contracts committed, a server started, the billing
    job set to run now; seconds until no contract is due, and the job's calls
    that billed."""
    contracts = generator.make_contracts(env, catalog, count, tag)
    ids = contracts.ids
    today = fields.Date.context_today(contracts)
    cron = env.ref(BILLING_CRON)
    # no other job may run meanwhile (warranty states over a million
    # serials...): every job postponed a day, the billing job too until the
    # server is ready
    later = fields.Datetime.now() + timedelta(days=1)
    env.flush_all()
    env.cr.execute(SQL("UPDATE ir_cron SET nextcall = %s", later))
    env.cr.execute(SQL("DELETE FROM ir_cron_trigger"))
    env.invalidate_all()
    env.cr.commit()  # pylint: disable=invalid-commit
    with OdooServer(env.cr.dbname, server_args, mode_args) as server:
        log(f"   server log: {server.log.name}")
        env.cr.execute(SQL("SELECT coalesce(max(id), 0) FROM ir_cron_progress"))
        first_progress = env.cr.fetchone()[0]
        start = time.perf_counter()
        cron.nextcall = fields.Datetime.now()
        cron._trigger()
        # the trigger's NOTIFY wakes the cron threads or workers at commit
        env.cr.commit()  # pylint: disable=invalid-commit
        deadline = time.monotonic() + BILLING_TIMEOUT
        while due_count(env.cr, ids, today):
            check(server.process.poll() is None, f"the server stopped: {server.tail()}")
            check(time.monotonic() < deadline, "the billing never ended")
            server.renice()
            # a new snapshot for the next look
            env.cr.commit()  # pylint: disable=invalid-commit
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        load = os.getloadavg()[0]
        # the job's last call reports its progress after its last commit
        while not job_calls(env.cr, cron, first_progress, remaining=0):
            check(time.monotonic() < deadline, "the billing job never ended")
            env.cr.commit()  # pylint: disable=invalid-commit
            time.sleep(0.2)
        calls = job_calls(env.cr, cron, first_progress)
        errors = server.errors()
        reniced = server.reniced
    env.cr.commit()  # pylint: disable=invalid-commit
    env.invalidate_all()
    counts = invoices_per_contract(env.cr, ids)
    wrong = {contract: n for contract, n in counts.items() if n != 1}
    check(not wrong, f"invoices per contract not 1: {len(wrong)} contracts {wrong}")
    check(not errors, f"the server logged errors: {errors[:5]}")
    amounts = {
        round(amount, 2)
        for amount in env["sale.subscription"]
        .browse(ids)
        .invoice_ids.mapped("amount_untaxed")
    }
    check(
        amounts == {generator.METERED_CONTRACT_AMOUNT},
        f"invoices of {amounts} instead of {generator.METERED_CONTRACT_AMOUNT}",
    )
    return seconds, calls, load, reniced


def job_calls(cr, cron, after, remaining=None):
    """Calls of the job since the progress `after` that billed contracts
    (with `remaining`: and left that many)."""
    cr.execute(
        SQL(
            "SELECT count(*) FROM ir_cron_progress "
            "WHERE id > %s AND cron_id = %s AND done > 0 %s",
            after,
            cron.id,
            SQL() if remaining is None else SQL("AND remaining = %s", remaining),
        )
    )
    return cr.fetchone()[0]


def billing_servers(env, catalog, count, server_args, log):
    """The scheduled billing of `count` contracts in a real server with two
    worker processes and two cron workers, against one cron thread: every
    contract billed exactly once, and the speedup (ratio: time with two
    workers over time with one thread)."""
    times = {}
    for index, (label, mode_args) in enumerate(MODES):
        log(f"   {label}: {' '.join(mode_args)}")
        times[label] = bill_in_server(
            env, catalog, count, f"SV{index}", server_args, mode_args, log
        )
        log(f"   {times[label][0]:.1f} s, {times[label][1]} calls of the job")
    (single, single_calls, single_load, _r), (multi, multi_calls, multi_load, nice) = (
        times.values()
    )
    return Result(
        "1. billing: server --workers 2 --max-cron-threads 2 vs 1 cron thread",
        f"{count} contracts",
        multi,
        single,
        bar=INFO,
        passed=True,
        note=f"speedup {single / multi:.2f}; each contract billed once in both; "
        f"job calls {multi_calls} (2 workers) and {single_calls} (1 thread); "
        f"machine load {multi_load:.1f} and {single_load:.1f} at the end; "
        + ("cron workers at nice 0" if nice else "cron workers at Odoo's nice 10"),
        kind="server",
    )

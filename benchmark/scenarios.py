"""The benchmark's scenarios, each measured against its baseline in one run.

Every scenario returns `Result`s and checks that what it measured did the
work (right invoices, same decisions, all rows): a fast wrong answer is no
result. Times are wall clock (`time.perf_counter`), including the flush of
what the ORM delayed; queries are counted on the cursor.
"""

import base64
import resource
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from lxml import etree

from odoo import fields, modules
from odoo.tools import SQL

from odoo.addons.serial_service.models.sale_subscription_billing import (
    SaleSubscription as BillingSubscription,
)

from . import generator

INFO = "(for information)"


@dataclass
class Result:
    scenario: str
    size: str
    ours: float
    baseline: float | None = None
    queries: float | None = None
    bar: str = ""
    passed: bool | None = None
    note: str = ""
    # which comparison the row is (the runner's bars): oca, floor, pooled...
    kind: str = ""

    @property
    def ratio(self):
        if self.baseline:
            return self.ours / self.baseline
        return None


class Measure:
    """Time and queries of a block, flushed and with a cold cache."""

    def __init__(self, env):
        self.env = env

    def __enter__(self):
        self.env.flush_all()
        self.env.invalidate_all()
        self.queries = self.env.cr.sql_log_count
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.env.flush_all()
        self.seconds = time.perf_counter() - self.start
        self.queries = self.env.cr.sql_log_count - self.queries
        return False


class Totals:
    """Seconds and queries of several Measures of one side."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0

    def add(self, measure):
        self.seconds += measure.seconds
        self.queries += measure.queries


class MemorySampler:
    """Highest resident memory of this process while the block runs, above
    what it was when the block started (sampled every 20 ms)."""

    def __init__(self):
        self.growth = 0.0

    @staticmethod
    def _rss():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()

    def _sample(self):
        while not self._stop.wait(0.02):
            self._peak = max(self._peak, self._rss())

    def __enter__(self):
        self._stop = threading.Event()
        self._start = self._peak = self._rss()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self._rss())
        self.growth = (self._peak - self._start) / (1024 * 1024)
        return False


class ScenarioError(AssertionError):
    """A scenario's work was wrong: its times mean nothing."""


def check(condition, message):
    if not condition:
        raise ScenarioError(message)


# ----------------------------------------------------------------------
# 1. Monthly billing run
# ----------------------------------------------------------------------
BILLING_CRON = "subscription_oca.ir_cron_subscription_management"
WARRANTY_CRON = "serial_service.ir_cron_warranty_state"


def in_test():
    """True inside Odoo's tests, where nothing may be committed."""
    return bool(modules.module.current_test)


def run_billing_cron(env):
    """The scheduled billing job as Odoo's cron runner calls it; returns the
    calls made (run_cron_job)."""
    return run_cron_job(
        env,
        BILLING_CRON,
        lambda job_env: job_env["sale.subscription"].cron_subscription_management(),
    )


def run_cron_job(env, xmlid, call):
    """A scheduled job as Odoo's cron runner calls it (`ir.cron._run_job`):
    a progress record in the context, committed before and after each call
    (outside tests), called again while the job reports work remaining.
    The runner calls a job at most 10 times a run, then runs it again at its
    next wake-up: here it is called again at once. Returns the calls made."""
    cron = env.ref(xmlid)
    calls = 0
    while True:
        _cron, progress = cron._add_progress(timed_out_counter=0)
        if not in_test():
            env.cr.commit()  # pylint: disable=invalid-commit
        call(
            env(
                context=dict(
                    env.context, ir_cron_progress_id=progress.id, cron_id=cron.id
                )
            )
        )
        calls += 1
        if not in_test():
            env.cr.commit()  # pylint: disable=invalid-commit
        if not progress.remaining:
            return calls
        check(calls < 10000, "the scheduled job never ends")


def run_subscription_oca_cron(env):
    """subscription_oca's own scheduled job (the parent of this add-on's
    override): every subscription searched, due ones invoiced one at a time
    by `generate_invoice`, which carries this add-on's usage lines. It
    reports no progress: Odoo's runner calls it once."""
    cron = env.ref(BILLING_CRON)
    _cron, progress = cron._add_progress(timed_out_counter=0)
    if not in_test():
        env.cr.commit()  # pylint: disable=invalid-commit
    Subscription = env["sale.subscription"].with_context(
        ir_cron_progress_id=progress.id, cron_id=cron.id
    )
    super(BillingSubscription, Subscription).cron_subscription_management()
    if not in_test():
        env.cr.commit()  # pylint: disable=invalid-commit


def prepare_floor(contracts):
    """The final values of the contracts' invoices, as the billing run builds
    them (one company), and the create that makes them (outside timing)."""
    contracts._create_usage_estimates()
    unbilled = contracts._read_unbilled_readings()
    vals_list, _usage = contracts._prepare_invoices_batch_vals(unbilled)
    return vals_list


def mark_invoiced(contracts):
    """The floor's contracts invoiced: their next invoice date moved on, as
    the billing run does, so that no later run bills them."""
    for contract in contracts:
        contract.calculate_recurring_next_date(contract.recurring_next_date)


def billing_run(env, catalog, count, tag="B", pooled=False):
    """The scheduler's billing (subscription_oca's cron entry point, as this
    add-on overrides it, called as Odoo's runner calls it) over `count`
    metered contracts due today (3 serials, 2 tariffs each, a rental line),
    against, on contracts of the same shape:
    - subscription_oca's own cron, one contract at a time, with this add-on's
      usage lines (what users ran until now);
    - the floor: one `account.move.create` of the same final invoice values,
      computed before the timing.
    Ours and the floor take turns, twice each on `count` new contracts; only
    the measured side's contracts are due while it runs (the floor's are
    marked invoiced at once, subscription_oca's created last). pooled: the
    tariffs bill the three serials together (fewer invoice lines), for
    information."""
    for template in catalog.metered_template | catalog.plain_template:
        template.invoicing_mode = "draft"
    # every path warmed up first (caches, reports) on contracts of its own;
    # this also bills whatever else was due in the database
    generator.make_contracts(env, catalog, 2, f"{tag}WM", pooled=pooled)
    run_billing_cron(env)
    generator.make_contracts(env, catalog, 2, f"{tag}WO", pooled=pooled)
    run_subscription_oca_cron(env)
    warm = generator.make_contracts(env, catalog, 2, f"{tag}WF", pooled=pooled)
    warm._create_invoice_moves(prepare_floor(warm))
    mark_invoiced(warm)
    amount = generator.METERED_CONTRACT_AMOUNT
    if pooled:
        amount = generator.POOLED_CONTRACT_AMOUNT

    # ours and the floor in turn (ours, floor, floor, ours), `count`
    # contracts each time: a machine whose speed drifts during the run slows
    # both alike; each side's time is the sum of its two turns
    ours = floor_contracts = env["sale.subscription"]
    measured, floor = Totals(), Totals()
    calls = 0
    for turn, side in enumerate(("ours", "floor", "floor", "ours")):
        contracts = generator.make_contracts(
            env, catalog, count, f"{tag}{side[0].upper()}{turn}", pooled=pooled
        )
        if side == "ours":
            with Measure(env) as turn_measure:
                calls = max(calls, run_billing_cron(env))
            check_invoices(contracts, amount, "draft")
            ours |= contracts
            measured.add(turn_measure)
        else:
            vals_list = prepare_floor(contracts)
            with Measure(env) as turn_measure:
                contracts._create_invoice_moves(vals_list)
            check_invoices(contracts, amount, "draft", readings=False)
            mark_invoiced(contracts)
            floor_contracts |= contracts
            floor.add(turn_measure)

    oca = generator.make_contracts(env, catalog, count, f"{tag}O", pooled=pooled)
    with Measure(env) as oca_cron:
        run_subscription_oca_cron(env)
    check_invoices(oca, amount, "draft")
    check_same_invoices(ours[:count], oca)
    check_same_invoices(ours, floor_contracts)

    lines = len(ours.invoice_ids.invoice_line_ids) / len(ours)
    label = "pooled tariffs, " if pooled else ""
    common = {
        "size": f"{count} contracts",
        "ours": measured.seconds / 2,
        "queries": measured.queries / len(ours),
    }
    results = [
        Result(
            f"1. billing: cron vs subscription_oca's cron, {label}draft",
            baseline=oca_cron.seconds,
            bar=INFO if pooled else "ratio <= 0.5",
            note=f"{lines:.0f} lines/invoice; ours {calls} calls of the job; "
            f"{measured.seconds / len(ours) * 1000:.1f} against "
            f"{oca_cron.seconds / count * 1000:.1f} ms/contract, "
            f"baseline {oca_cron.queries / count:.1f} queries/contract",
            kind="pooled" if pooled else "oca",
            **common,
        ),
        Result(
            f"1. billing: cron vs one account.move.create, {label}draft",
            baseline=floor.seconds / 2,
            bar=INFO if pooled else "ratio <= 1.2",
            note=f"floor {floor.seconds / len(floor_contracts) * 1000:.1f} "
            f"ms/contract, {floor.queries / len(floor_contracts):.1f} "
            "queries/contract; both sides in turn, twice each",
            kind="pooled" if pooled else "floor",
            **common,
        ),
    ]
    return results


def invoice_engine_per_line(env, catalog, count, rounds=4):
    """Odoo's invoice engine per line: the same final invoice values of
    `count` metered contracts created in one `account.move.create`, with the
    journal amounts the billing run gives each line (`_get_line_amount_vals`)
    against without them (Odoo computes and writes them after the create).
    The sides take turns in `rounds` rounds (each first in turn), so that a
    machine busy with something else slows both alike. Both sides' invoices
    must be identical (amounts, taxes, accounts)."""
    amount = generator.METERED_CONTRACT_AMOUNT
    warm = generator.make_contracts(env, catalog, 2, "EW")
    warm._create_invoice_moves(prepare_floor(warm))
    mark_invoiced(warm)
    size = max(count // rounds, 1)
    # per side: its contracts, seconds and queries
    sides = {given: [env["sale.subscription"], 0.0, 0] for given in (True, False)}
    for turn in range(rounds):
        order = (True, False) if turn % 2 == 0 else (False, True)
        for given in order:
            tag = f"E{'G' if given else 'N'}{turn}"
            contracts = generator.make_contracts(env, catalog, size, tag)
            vals_list = prepare_floor(contracts)
            if not given:
                vals_list = [strip_line_amounts(vals) for vals in vals_list]
            with Measure(env) as measured:
                contracts._create_invoice_moves(vals_list)
            check_invoices(contracts, amount, "draft", readings=False)
            mark_invoiced(contracts)
            side = sides[given]
            side[0] |= contracts
            side[1] += measured.seconds
            side[2] += measured.queries
    (ours, given, given_queries), (others, computed, _queries) = (
        sides[True],
        sides[False],
    )
    check_same_invoices(ours, others)
    lines = len(ours.invoice_ids.invoice_line_ids)
    return Result(
        "1. billing: invoice engine, line amounts given vs computed by Odoo",
        f"{len(ours)} invoices, {lines} lines",
        given,
        baseline=computed,
        queries=given_queries / len(ours),
        bar=INFO,
        note=f"{given / lines * 1000:.2f} against "
        f"{computed / lines * 1000:.2f} ms/line; identical invoices; "
        f"{rounds} rounds, sides in turn",
        kind="engine",
    )


def strip_line_amounts(vals):
    """Invoice values without the journal amounts of their lines."""
    line_ids = []
    for command in vals["invoice_line_ids"]:
        line_vals = dict(command[2])
        line_vals.pop("amount_currency", None)
        line_vals.pop("balance", None)
        line_ids.append((command[0], command[1], line_vals))
    return dict(vals, invoice_line_ids=line_ids)


def check_invoices(contracts, amount, state, readings=True):
    """Each contract has exactly one invoice, of `amount` untaxed, in
    `state`; with `readings`, every reading of its serials is billed on it."""
    invoices = contracts.invoice_ids
    per_contract = {contract.id: 0 for contract in contracts}
    for invoice in invoices:
        per_contract[invoice.subscription_id.id] += 1
    wrong = {c: n for c, n in per_contract.items() if n != 1}
    check(not wrong, f"invoices per contract not 1: {wrong}")
    wrong = invoices.filtered(
        lambda move, amount=amount: abs(move.amount_untaxed - amount) > 0.001
    )
    check(not wrong, f"invoices {wrong.mapped('amount_untaxed')} instead of {amount}")
    check(
        set(invoices.mapped("state")) == {state},
        f"invoices {set(invoices.mapped('state'))}, {state} expected",
    )
    if not readings:
        return
    found = contracts.env["serial.meter.reading"].search(
        [("lot_id", "in", contracts.covered_lot_ids.ids)]
    )
    check(found and all(found.mapped("invoice_line_id")), "readings left unbilled")
    check(
        found.invoice_line_id.move_id == invoices,
        "readings billed on other invoices",
    )


def invoice_shape(invoice):
    """What must be the same on each side's invoice of a contract: its lines
    (product, quantity, price, subtotal, account, taxes) and totals."""
    return (
        invoice.move_type,
        invoice.journal_id.id,
        round(invoice.amount_untaxed, 2),
        round(invoice.amount_tax, 2),
        sorted(
            (
                line.display_type,
                line.product_id.id,
                round(line.quantity, 6),
                round(line.price_unit, 6),
                round(line.balance, 2),
                line.account_id.id,
                tuple(line.tax_ids.ids),
            )
            for line in invoice.line_ids
        ),
    )


def check_same_invoices(contracts, others):
    """The invoices of two sides have the same shape, contract for contract
    (both made by make_contracts: same products, tariffs and readings)."""
    for contract, other in zip(contracts, others, strict=True):
        check(
            invoice_shape(contract.invoice_ids) == invoice_shape(other.invoice_ids),
            f"{contract.name} and {other.name} are not invoiced alike",
        )


def check_billing(ours, plain, state, metered_amount=None):
    """The metered contracts billed with their usage, the plain ones with
    their rental only (test_benchmark)."""
    check_invoices(ours, metered_amount or generator.METERED_CONTRACT_AMOUNT, state)
    check_invoices(plain, generator.PLAIN_CONTRACT_AMOUNT, state, readings=False)


# ----------------------------------------------------------------------
# 2. Coverage decisions
# ----------------------------------------------------------------------
def coverage_batch(env, catalog, count):
    """Coverage of `count` job lines decided in one batch against deciding
    them one by one with `get_service_coverage`."""
    items = generator.make_coverage_items(env, catalog, count)
    Lot = env["stock.lot"]
    with Measure(env) as baseline:
        one_by_one = [
            item["lot"].get_service_coverage(item["product"], item["date"], item["qty"])
            for item in items
        ]
    items = [dict(item, lot=Lot.browse(item["lot"].id)) for item in items]
    with Measure(env) as measured:
        batch = Lot._get_service_coverage_batch(items)

    def key(decision):
        return (
            decision["source"],
            round(decision["percent"], 6),
            decision["subscription_id"],
            decision["rule_id"],
        )

    check(
        [key(d) for d in batch] == [key(d) for d in one_by_one],
        "the batch and the one-by-one decisions differ",
    )
    sources = {d["source"] for d in batch}
    check(
        {"warranty", "contract", "none"} <= sources,
        f"the lines do not exercise every source: {sources}",
    )
    return Result(
        "2. coverage decisions, one batch",
        f"{count} lines",
        measured.seconds,
        baseline.seconds,
        measured.queries / count,
        bar="ratio <= 0.05 (20x)",
        note=f"one by one {baseline.queries / count:.1f} queries/line, "
        f"batch {measured.queries} queries in all",
    )


# ----------------------------------------------------------------------
# 3. Meter reading import
# ----------------------------------------------------------------------
READINGS_PER_SERIAL_AND_METER = 5


def reading_import(env, catalog, count):
    """Import of an .xlsx of `count` readings (validated, deltas computed,
    all or nothing) against inserting the same rows with a plain SQL
    INSERT ... SELECT (the physical limit). Both read the same file with the
    same reader."""
    per_lot = 2 * READINGS_PER_SERIAL_AND_METER
    serials = max(count // per_lot, 1)
    kinds = generator.insert_serials(env, catalog, serials * 20 // 14 + 1, tag="R")
    _first_unit, units = kinds["unit"]
    names = [generator.serial_name("R", "unit", i) for i in range(min(serials, units))]
    rows = generator.make_reading_rows(catalog, names, READINGS_PER_SERIAL_AND_METER)
    content = generator.make_xlsx(rows)
    env.flush_all()
    savepoint = env.cr.savepoint(flush=False)
    with Measure(env) as baseline:
        inserted = sql_insert_readings(env, content)
    savepoint.rollback()
    savepoint.close(rollback=False)
    check(inserted == len(rows), f"SQL inserted {inserted} of {len(rows)} rows")
    wizard = env["serial.meter.reading.import"].create(
        {"file": content, "filename": "readings.xlsx", "mode": "all"}
    )
    with Measure(env) as measured:
        wizard.action_import()
    check(
        wizard.imported_count == len(rows) and not wizard.problem_count,
        f"imported {wizard.imported_count} of {len(rows)}: {wizard.problems}",
    )
    # the usage of each serial and meter is its last value minus its first
    expected = {}
    for serial, meter, _when, value in rows:
        first, _last = expected.get((serial, meter), (value, value))
        expected[serial, meter] = (first, value)
    by_meter = {}
    for (_serial, meter), (first, last) in expected.items():
        by_meter[meter] = by_meter.get(meter, 0.0) + last - first
    lot_ids = env["stock.lot"].search([("name", "in", names)]).ids
    totals = env["serial.meter.reading"]._read_group(
        [("lot_id", "in", lot_ids)], ["meter_type_id"], ["delta:sum", "__count"]
    )
    for meter, delta, number in totals:
        check(number == len(names) * READINGS_PER_SERIAL_AND_METER, "lost readings")
        check(
            abs(delta - by_meter[meter.code]) < 0.01,
            f"deltas of {meter.code}: {delta}, {by_meter[meter.code]} expected",
        )
    return Result(
        "3. meter reading import (.xlsx)",
        f"{len(rows)} rows",
        measured.seconds,
        baseline.seconds,
        measured.queries / len(rows),
        bar="ratio <= 10",
        note=f"{len(names)} serials x 2 meters",
    )


def sql_insert_readings(env, content):
    """The physical limit: parse the file, then one INSERT ... SELECT of
    every row, serials and meters resolved by a join."""
    table = env["serial.installed.base.import"]._read_xlsx(base64.b64decode(content))
    rows = table[1:]
    env.cr.execute(
        SQL(
            """
            INSERT INTO serial_meter_reading (
                lot_id, meter_type_id, reading_date, value, source, delta,
                company_id, product_id, customer_id, create_uid, write_uid,
                create_date, write_date
            )
            SELECT lot.id, meter.id, r.reading_date, r.value, 'import', 0,
                   lot.company_id, lot.product_id, lot.customer_id, %(uid)s,
                   %(uid)s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
              FROM unnest(%(serials)s::varchar[], %(meters)s::varchar[],
                          %(dates)s::timestamp[], %(values)s::numeric[])
                   AS r(serial, meter, reading_date, value)
              JOIN stock_lot lot ON lot.name = r.serial
              JOIN serial_meter_type meter ON meter.code = r.meter
            """,
            uid=env.uid,
            serials=[row[0] for row in rows],
            meters=[row[1] for row in rows],
            dates=[row[2] for row in rows],
            values=[row[3] for row in rows],
        )
    )
    return env.cr.rowcount


# ----------------------------------------------------------------------
# 4. Serial lookups, expiring warranties, warranty cron
# ----------------------------------------------------------------------
def serial_lookups(env, catalog, kinds, samples=200, tag="S"):
    """Median of lookups by exact serial and by prefix, as a service manager
    (record rules applied), among the inserted serials."""
    Lot = env["stock.lot"].with_user(catalog.manager)
    total = sum(number for _first, number in kinds.values())
    _first_unit, units = kinds["unit"]
    step = max(units // samples, 1)
    numbers = list(range(0, units, step))[:samples]
    exact, prefix = [], []
    for number in numbers:
        name = generator.serial_name(tag, "unit", number)
        with Measure(env) as measured:
            found = Lot.search_fetch([("name", "=", name)], ["name", "product_id"])
        check(len(found) == 1 and found.name == name, f"{name} not found")
        exact.append(measured.seconds)
        # the first serials of a block of ten: 'BEN-SU-000012' finds 10
        stem = name[:-1]
        with Measure(env) as measured:
            found = Lot.search_fetch(
                [("name", "=ilike", f"{stem}%")], ["name", "product_id"], limit=80
            )
        check(name in found.mapped("name"), f"{stem}... does not find {name}")
        prefix.append(measured.seconds)
    # the physical limit of an exact lookup: one indexed SQL query
    sql_times = []
    for number in numbers[:50]:
        name = generator.serial_name(tag, "unit", number)
        start = time.perf_counter()
        env.cr.execute(SQL("SELECT id FROM stock_lot WHERE name = %s", name))
        env.cr.fetchall()
        sql_times.append(time.perf_counter() - start)
    return [
        Result(
            "4a. serial lookup, exact",
            f"{total} serials",
            statistics.median(exact),
            statistics.median(sql_times),
            bar="median < 20 ms",
            passed=statistics.median(exact) < 0.020,
            note=f"median of {len(exact)}; baseline: one SQL query",
        ),
        Result(
            "4b. serial lookup, prefix",
            f"{total} serials",
            statistics.median(prefix),
            bar="median < 20 ms",
            passed=statistics.median(prefix) < 0.020,
            note=f"median of {len(prefix)}, first 80",
        ),
    ]


def expiring_list(env, catalog, kinds, runs=5):
    """The 'Expiring Warranties' list filtered on 'expires in 30 days', as
    the web client loads it: its list view's fields, the first 80, and the
    count."""
    Lot = env["stock.lot"].with_user(catalog.manager)
    action = env.ref("serial_service.stock_lot_action_expiring_warranties")
    today = fields.Date.context_today(Lot)
    domain = [
        *eval_domain(action.domain),
        ("warranty_end_date", ">=", today),
        ("warranty_end_date", "<=", today + timedelta(days=30)),
    ]
    view = Lot.get_views([(action.view_id.id or False, "list")])
    specification = list_specification(Lot, view["views"]["list"]["arch"])
    times = []
    for _run in range(runs):
        with Measure(env) as measured:
            result = Lot.web_search_read(
                domain, specification, limit=80, count_limit=10001
            )
        times.append(measured.seconds)
    expected = env["stock.lot"].search_count(domain)
    check(
        result["length"] == min(expected, 10001),
        f"list counted {result['length']}, {expected} expected",
    )
    check(result["records"], "no expiring warranty in the data set")
    total = sum(number for _first, number in kinds.values())
    return Result(
        "4c. 'expires in 30 days' list",
        f"{total} serials",
        statistics.median(times),
        bar="< 300 ms",
        passed=statistics.median(times) < 0.300,
        note=f"{expected} matching, first 80 + count",
    )


def eval_domain(text):
    from odoo.tools.safe_eval import safe_eval

    return safe_eval(text or "[]")


def list_specification(model, arch):
    """web_read specification of the fields a list view shows."""
    specification = {}
    for node in etree.fromstring(arch).iter("field"):
        name = node.get("name")
        field = model._fields.get(name)
        if not field:
            continue
        if field.type in ("many2one", "many2many", "one2many"):
            specification[name] = {"fields": {"display_name": {}}}
        else:
            specification[name] = {}
    return specification


def warranty_cron(env, catalog, kinds):
    """The daily warranty-state cron over every serial: the states moved on
    by one day since the data set's last run."""
    total = sum(number for _first, number in kinds.values())
    today = fields.Date.context_today(env["res.partner"])
    Lot = env["stock.lot"]
    domain = [
        ("warranty_state", "=", "expiring"),
        ("warranty_end_date", "<", today + timedelta(days=30)),
        ("warranty_end_date", ">=", today),
    ]
    activities_before = env["mail.activity"].search_count(
        [("res_model", "=", "stock.lot")]
    )
    with MemorySampler() as memory, Measure(env) as measured:
        calls = run_cron_job(
            env,
            WARRANTY_CRON,
            lambda job_env: job_env["stock.lot"]._cron_refresh_warranty_state(),
        )
    rss_growth = memory.growth
    wrong = env.execute_query(
        SQL(
            """
            SELECT count(*) FROM stock_lot
             WHERE warranty_end_date IS NOT NULL AND warranty_state IS DISTINCT FROM
                   CASE WHEN %(today)s::date < warranty_start_date THEN 'none'
                        WHEN %(today)s::date > warranty_end_date THEN 'expired'
                        WHEN warranty_end_date - %(today)s::date < 30 THEN 'expiring'
                        ELSE 'active' END
               AND warranty_policy_id = %(policy)s
            """,
            today=today,
            policy=catalog.policy.id,
        )
    )[0][0]
    check(not wrong, f"{wrong} serials with a wrong warranty state")
    new_alerts = (
        env["mail.activity"].search_count([("res_model", "=", "stock.lot")])
        - activities_before
    )
    entering = Lot.search_count(
        [*domain, ("warranty_end_date", "=", today + timedelta(days=29))]
    )
    check(
        new_alerts >= entering,
        f"{new_alerts} renewal activities for {entering} serials entering notice",
    )
    return Result(
        "4d. warranty-state cron",
        f"{total} serials",
        measured.seconds,
        bar="< 120 s, flat memory",
        passed=measured.seconds < 120,
        queries=measured.queries / total,
        note=f"peak memory +{rss_growth:.0f} MB, {new_alerts} renewal activities, "
        f"{calls} calls of the job (each commits its batches)",
    )


# ----------------------------------------------------------------------
# 5. Recall scoping
# ----------------------------------------------------------------------
def recall_scoping(env, catalog, kinds, tag="S"):
    """A recall of components received in a 30-day window, and the units
    they are installed in (through the genealogy), among every serial:
    scoped, and its counts read as the form shows them."""
    total = sum(number for _first, number in kinds.values())
    today = fields.Date.context_today(env["res.partner"])
    window = (today - timedelta(days=30 + 100 + 29), today - timedelta(days=30 + 100))
    recall = env["serial.recall"].create(
        {
            "title": "Bench fuser overheating",
            "scope_type": "receipt",
            "product_ids": [(6, 0, catalog.component.ids)],
            "receipt_date_from": window[0],
            "receipt_date_to": window[1],
        }
    )
    with Measure(env) as measured:
        recall.action_compute_affected()
        counts = (
            recall.affected_count,
            recall.in_stock_count,
            recall.at_customer_count,
        )
    expected = env.execute_query(
        SQL(
            """
            WITH base AS (
                SELECT id, parent_lot_id FROM stock_lot
                 WHERE product_id IN %(products)s
                   AND receipt_date BETWEEN %(start)s AND %(end)s
            ), hosts AS (
                SELECT parent_lot_id AS id FROM base WHERE parent_lot_id IS NOT NULL
            )
            SELECT count(*) FROM (SELECT id FROM base UNION SELECT id FROM hosts) x
            """,
            products=tuple(catalog.component.ids),
            start=window[0],
            end=window[1],
        )
    )[0][0]
    check(
        counts[0] == expected, f"recall found {counts[0]} serials, {expected} expected"
    )
    return Result(
        "5. recall scoping (receipt window, genealogy)",
        f"{total} serials",
        measured.seconds,
        bar="< 5 s",
        passed=measured.seconds < 5,
        queries=None,
        note=f"{counts[0]} affected ({counts[2]} units at customers)",
    )

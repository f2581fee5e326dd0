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

from odoo import fields
from odoo.tools import SQL

from . import generator


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
def billing_run(env, catalog, count, tag="B", mode="draft", pooled=False):
    """Our billing run over `count` metered contracts (3 serials, 2 tariffs
    each) against subscription_oca's own invoice generation, one contract at
    a time as its cron does, for `count` contracts without usage tariffs.
    mode: the templates' invoicing mode ('draft': left to validate;
    'invoice': posted and sent). pooled: the tariffs bill the three serials
    together (fewer invoice lines), for information."""
    (catalog.metered_template | catalog.plain_template).invoicing_mode = mode
    # both paths warmed up (caches, reports) on contracts of their own first
    generator.make_contracts(env, catalog, 2, f"{tag}WM")._run_usage_billing()
    for contract in generator.make_contracts(
        env, catalog, 2, f"{tag}WP", metered=False
    ):
        contract.generate_invoice()
    ours = generator.make_contracts(env, catalog, count, f"{tag}M", pooled=pooled)
    plain = generator.make_contracts(env, catalog, count, f"{tag}P", metered=False)
    with Measure(env) as baseline:
        for contract in plain:
            contract.with_company(contract.company_id).generate_invoice()
    with Measure(env) as measured:
        failed = ours._run_usage_billing()
    check(not failed, f"billing failed for {failed.mapped('name')}")
    check_billing(
        ours,
        plain,
        "draft" if mode == "draft" else "posted",
        generator.POOLED_CONTRACT_AMOUNT if pooled else None,
    )
    label = {"invoice": "posted and sent", "draft": "draft"}.get(mode, mode)
    if pooled:
        label += ", pooled tariffs"
    informative = mode != "draft" or pooled
    return Result(
        f"1. billing run, {label}",
        f"{count} contracts",
        measured.seconds,
        baseline.seconds,
        measured.queries / count,
        bar="(for information)" if informative else "ratio <= 0.5",
        note=f"baseline {baseline.queries / count:.1f} queries/contract",
    )


def check_billing(ours, plain, state, metered_amount=None):
    for contracts, amount in (
        (ours, metered_amount or generator.METERED_CONTRACT_AMOUNT),
        (plain, generator.PLAIN_CONTRACT_AMOUNT),
    ):
        invoices = contracts.invoice_ids
        check(
            len(invoices) == len(contracts),
            f"{len(invoices)} invoices for {len(contracts)} contracts",
        )
        wrong = invoices.filtered(
            lambda move, amount=amount: abs(move.amount_untaxed - amount) > 0.001
        )
        check(
            not wrong,
            f"invoices {wrong.mapped('amount_untaxed')} instead of {amount}",
        )
        check(
            set(invoices.mapped("state")) == {state},
            f"invoices {set(invoices.mapped('state'))}, {state} expected",
        )
    readings = ours.env["serial.meter.reading"].search(
        [("lot_id", "in", ours.covered_lot_ids.ids)]
    )
    check(
        readings and all(readings.mapped("invoice_line_id")),
        "readings left unbilled",
    )
    check(
        readings.invoice_line_id.move_id == ours.invoice_ids,
        "readings billed on other invoices",
    )


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
        Lot._cron_refresh_warranty_state()
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
        note=f"peak memory +{rss_growth:.0f} MB, {new_alerts} renewal activities",
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

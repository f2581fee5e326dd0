"""Run every scenario at a size and print the table (tools/benchmark.sh)."""

import sys
import time

from . import generator, scenarios, server

# sizes at --scale 1: the company (5,000 contracts are billed in
# batches: the run's cost per contract is what N and 4N compare)
FULL_SIZES = {
    "contracts": 100,
    "coverage_lines": 10000,
    "import_rows": 100000,
    "serials": 1000000,
    # billed by a real Odoo server (never fewer than 50)
    "server_contracts": 5000,
}
DEFAULT_SCALE = 1.0
INFO = scenarios.INFO
BARS = {"ratio <= 0.5": 0.5, "ratio <= 1.2": 1.2, "ratio <= 0.05 (20x)": 0.05}


def sizes_for(scale):
    return {
        "contracts": max(int(FULL_SIZES["contracts"] * scale), 2),
        # the 10,000 lines already at the default scale: cheap
        "coverage_lines": max(
            int(FULL_SIZES["coverage_lines"] * min(scale * 10, 1.0)), 40
        ),
        "import_rows": max(int(FULL_SIZES["import_rows"] * scale), 20),
        "serials": max(int(FULL_SIZES["serials"] * scale), 2000),
        "server_contracts": max(int(FULL_SIZES["server_contracts"] * scale), 50),
    }


def progress(text):
    sys.stderr.write(f"{text}\n")
    sys.stderr.flush()


def run_all(
    env, scale=DEFAULT_SCALE, only=None, log=progress, catalog=None, server_args=None
):
    """Generate the data set at `scale` and run the scenarios; returns the
    results. `only`: names of the scenarios to run (billing, coverage,
    import, serials). `server_args`: the options to start an Odoo server on
    this database with (its connection, addons path); without them (in the
    tests, where nothing is committed) the billing in a real server is not
    run."""
    sizes = sizes_for(scale)
    wanted = set(only or ("billing", "coverage", "import", "serials"))
    log(f"generating the catalog (scale {scale:g}: {sizes})")
    catalog = catalog or generator.make_catalog(env)
    results = []
    if "billing" in wanted:
        for factor in (1, 4):
            count = sizes["contracts"] * factor
            log(f"1. billing run, {count} contracts")
            results += scenarios.billing_run(env, catalog, count, tag=f"B{factor}")
        log(f"1. billing run, pooled tariffs, {sizes['contracts']} contracts")
        results += scenarios.billing_run(
            env, catalog, sizes["contracts"], tag="BP", pooled=True
        )
        log(f"1. invoice engine per line, {sizes['contracts']} invoices")
        results.append(
            scenarios.invoice_engine_per_line(env, catalog, sizes["contracts"])
        )
        if server_args is not None:
            count = sizes["server_contracts"]
            log(f"1. billing in a real server, {count} contracts")
            results.append(
                server.billing_servers(env, catalog, count, server_args, log)
            )
    if "coverage" in wanted:
        log(f"2. coverage, {sizes['coverage_lines']} lines")
        results.append(scenarios.coverage_batch(env, catalog, sizes["coverage_lines"]))
    if "import" in wanted:
        log(f"3. reading import, {sizes['import_rows']} rows")
        results.append(scenarios.reading_import(env, catalog, sizes["import_rows"]))
    if "serials" in wanted:
        start = time.perf_counter()
        log(f"4./5. inserting {sizes['serials']} serials")
        kinds = generator.insert_serials(env, catalog, sizes["serials"])
        log(f"   inserted in {time.perf_counter() - start:.1f} s")
        results += scenarios.serial_lookups(env, catalog, kinds)
        results.append(scenarios.expiring_list(env, catalog, kinds))
        log("4d. warranty cron")
        results.append(scenarios.warranty_cron(env, catalog, kinds))
        log("5. recall scoping")
        results.append(scenarios.recall_scoping(env, catalog, kinds))
    finish(results)
    return results


def finish(results):
    """Pass or fail each ratio bar (the absolute ones are set by the
    scenario); the query bar of the billing run compares N and 4N."""
    for result in results:
        if result.passed is None and result.ratio is not None and result.bar != INFO:
            result.passed = result.ratio <= BARS.get(result.bar, 10.0)
    # the billing run at N and 4N: its queries per contract must not grow
    billing = [r for r in results if r.kind == "oca"]
    if len(billing) == 2 and all(r.queries for r in billing):
        small, large = billing
        constant = large.queries <= small.queries * 1.05
        results.insert(
            results.index(large) + 1,
            scenarios.Result(
                "1. billing: queries per contract at 4N vs N",
                f"{large.size} vs {small.size}",
                large.ours,
                queries=large.queries,
                bar="constant (<= 5 % more)",
                passed=constant,
                note=f"{small.queries:.1f} at N, {large.queries:.1f} at 4N",
                kind="queries",
            ),
        )


def format_table(results):
    header = (
        "scenario",
        "size",
        "ours",
        "baseline",
        "ratio",
        "queries/item",
        "bar",
        "pass",
        "note",
    )
    rows = [header]
    for result in results:
        rows.append(
            (
                result.scenario,
                result.size,
                seconds(result.ours),
                seconds(result.baseline) if result.baseline is not None else "-",
                f"{result.ratio:.3f}" if result.ratio is not None else "-",
                f"{result.queries:.2f}" if result.queries is not None else "-",
                result.bar,
                {True: "yes", False: "NO", None: "-"}[result.passed],
                result.note,
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = [
        " | ".join(
            str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
        )
        for row in rows
    ]
    lines.insert(1, "-|-".join("-" * width for width in widths))
    return "\n".join(lines)


def seconds(value):
    if value < 0.01:
        return f"{value * 1000:.2f} ms"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def run(database, scale=DEFAULT_SCALE, only=None, commit=False, server_args=()):
    """Run the benchmark in `database` (serial_service installed, Odoo's
    configuration already parsed: tools/benchmark.py); returns the exit code:
    1 when a scenario misses its bar. `server_args`: the Odoo options of the
    command line, to start servers on the database with. The billing
    scenarios commit (the scheduled job commits each batch, the servers read
    committed contracts): what comes before them is kept in the database
    whatever `commit` says; tools/benchmark.sh drops it unless KEEP_DB is
    set."""
    import odoo

    registry = odoo.modules.registry.Registry(database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        results = run_all(env, scale, only, server_args=list(server_args))
        sys.stdout.write(f"\n{format_table(results)}\n")
        if commit:
            # a command-line run in a database of its own, kept on request
            cr.commit()  # pylint: disable=invalid-commit
        else:
            cr.rollback()
    return 1 if any(result.passed is False for result in results) else 0

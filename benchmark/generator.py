"""Synthetic data of a service company, made to measure the scenarios.

Small sets (contracts, coverage lines) go through the ORM, so that they are
exactly what users would create. The large ones (a million serials, a hundred
thousand meter readings to import) are inserted with SQL, in the shape the
ORM would give them: going through the ORM would take hours and measure the
generator rather than the add-on.
"""

import base64
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import xlsxwriter
from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tools import SQL

PREFIX = "BEN"


@dataclass
class Catalog:
    """What every scenario shares: products, policies, templates, users."""

    company: object
    manager: object
    customers: object
    vendors: object
    unit: object
    component: object
    subcomponent: object
    toner: object
    labour: object
    travel: object
    rental: object
    pages_black: object
    pages_color: object
    black: object
    color: object
    policy: object
    metered_template: object
    plain_template: object
    pricelist: object
    extra: dict = field(default_factory=dict)


def make_catalog(env):
    """Products, meters, a 24-month warranty policy, a metered contract
    template with coverage rules and two usage tariffs, a plain template."""
    env = env(context=dict(env.context, tracking_disable=True))
    company = env.company
    Product = env["product.product"]
    categ_units = env["product.category"].create({"name": "Bench units"})
    categ_parts = env["product.category"].create({"name": "Bench parts"})
    categ_consumables = env["product.category"].create(
        {"name": "Bench consumables", "parent_id": categ_parts.id}
    )
    black = env.ref("serial_service.meter_type_black")
    color = env.ref("serial_service.meter_type_color")
    policy = env["serial.warranty.policy"].create(
        {
            "name": "Bench 24 months",
            "duration_months": 24,
            "expiry_notice_days": 30,
            "covers_parts": True,
            "covers_labour": True,
        }
    )

    def storable(name, categ, **vals):
        return Product.create(
            {
                "name": name,
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
                "categ_id": categ.id,
                **vals,
            }
        )

    def service(name, price, **vals):
        return Product.create(
            {"name": name, "type": "service", "list_price": price, **vals}
        )

    unit = storable(
        "Bench copier",
        categ_units,
        default_code="BEN-MX",
        warranty_policy_id=policy.id,
        meter_type_ids=[Command.set((black | color).ids)],
        list_price=4000.0,
    )
    component = storable(
        "Bench fuser",
        categ_parts,
        default_code="BEN-FU",
        service_line_type="part",
        list_price=120.0,
        standard_price=60.0,
        supplier_warranty_months=12,
    )
    subcomponent = storable(
        "Bench fuser lamp",
        categ_parts,
        default_code="BEN-LA",
        service_line_type="part",
        list_price=30.0,
    )
    toner = Product.create(
        {
            "name": "Bench toner",
            "type": "consu",
            "is_storable": True,
            "categ_id": categ_consumables.id,
            "service_line_type": "consumable",
            "list_price": 80.0,
        }
    )
    labour = service("Bench labour", 90.0, service_line_type="labour")
    travel = service("Bench travel", 40.0, service_line_type="travel")
    rental = service("Bench copier rental", 100.0)
    pages_black = service("Bench black pages", 0.0)
    pages_color = service("Bench colour pages", 0.0)
    customers = env["res.partner"].create(
        [{"name": f"Bench customer {i:03d}", "is_company": True} for i in range(50)]
    )
    vendors = env["res.partner"].create(
        [{"name": f"Bench vendor {i}", "is_company": True} for i in range(4)]
    )
    Template = env["sale.subscription.template"]
    metered_template = Template.create(
        {
            "name": "Bench metered",
            "invoicing_mode": "draft",
            "recurring_rule_type": "months",
            "recurring_interval": 1,
            "coverage_rule_ids": [
                Command.create(
                    {
                        "sequence": 10,
                        "categ_id": categ_consumables.id,
                        "effect": "exclude",
                    }
                ),
                Command.create(
                    {
                        "sequence": 20,
                        "categ_id": categ_parts.id,
                        "effect": "include",
                        "coverage_percent": 100.0,
                    }
                ),
                Command.create(
                    {
                        "sequence": 30,
                        "line_type": "labour",
                        "effect": "include",
                        "coverage_percent": 50.0,
                    }
                ),
                Command.create(
                    {
                        "sequence": 40,
                        "line_type": "travel",
                        "effect": "include",
                        "coverage_percent": 100.0,
                        "max_qty_per_period": 100000.0,
                    }
                ),
            ],
            "usage_tariff_ids": [
                Command.create(
                    {
                        "meter_type_id": black.id,
                        "product_id": pages_black.id,
                        "included_qty": 1000.0,
                        "tier_ids": [
                            Command.create({"from_qty": 0.0, "price_unit": 0.02}),
                            Command.create({"from_qty": 10000.0, "price_unit": 0.01}),
                        ],
                    }
                ),
                Command.create(
                    {
                        "meter_type_id": color.id,
                        "product_id": pages_color.id,
                        "included_qty": 200.0,
                        "price_unit": 0.05,
                    }
                ),
            ],
        }
    )
    plain_template = Template.create(
        {
            "name": "Bench plain",
            "invoicing_mode": "draft",
            "recurring_rule_type": "months",
            "recurring_interval": 1,
        }
    )
    pricelist = env["product.pricelist"].create({"name": "Bench"})
    manager = env["res.users"].create(
        {
            "name": "Bench service manager",
            "login": "bench_service_manager",
            "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            "groups_id": [
                Command.link(env.ref("serial_service.group_service_manager").id),
                Command.link(env.ref("base.group_user").id),
            ],
        }
    )
    return Catalog(
        company=company,
        manager=manager,
        customers=customers,
        vendors=vendors,
        unit=unit,
        component=component,
        subcomponent=subcomponent,
        toner=toner,
        labour=labour,
        travel=travel,
        rental=rental,
        pages_black=pages_black,
        pages_color=pages_color,
        black=black,
        color=color,
        policy=policy,
        metered_template=metered_template,
        plain_template=plain_template,
        pricelist=pricelist,
        extra={
            "categ_units": categ_units,
            "categ_parts": categ_parts,
            "categ_consumables": categ_consumables,
        },
    )


# ----------------------------------------------------------------------
# Contracts (billing run, coverage)
# ----------------------------------------------------------------------
# usage of each serial in the month, per meter: black 5000 pages (1000
# included, 4000 in the first tier at 0.02 = 80.00), colour 500 pages (200
# included, 300 at 0.05 = 15.00); with the rental of 100.00:
# 100 + 3 x (80 + 15) = 385.00
BLACK_USAGE = 5000.0
COLOR_USAGE = 500.0
SERIALS_PER_CONTRACT = 3
METERED_CONTRACT_AMOUNT = 385.0
# pooled: black 15000 - 1000 = 14000 billable, 10000 at 0.02 + 4000 at 0.01 =
# 240.00 (two lines, one per tier); colour 1500 - 200 = 1300 at 0.05 = 65.00;
# 100 + 240 + 65 = 405.00, on 4 invoice lines instead of 7
POOLED_CONTRACT_AMOUNT = 405.0
PLAIN_CONTRACT_AMOUNT = 100.0


def make_contracts(env, catalog, count, tag, metered=True, pooled=False):
    """`count` running contracts due today. Metered ones cover 3 serials
    each, with the template's two tariffs (per serial, or `pooled` over the
    three) and, per serial and meter, a reading at the last invoice and one a
    day ago; plain ones bill only their rental line (subscription_oca's own
    invoice)."""
    env = env(context=dict(env.context, tracking_disable=True))
    # due for every side, on the server's day (subscription_oca's cron and
    # this add-on's run bill up to it) and the user's, which differ around
    # midnight: the earlier of the two
    today = min(fields.Date.context_today(env["res.partner"]), date.today())
    customers = catalog.customers
    template = catalog.metered_template if metered else catalog.plain_template
    contracts = env["sale.subscription"].create(
        [
            {
                "partner_id": customers[i % len(customers)].id,
                "template_id": template.id,
                "pricelist_id": catalog.pricelist.id,
                "date_start": today - relativedelta(months=1),
                "sale_subscription_line_ids": [
                    Command.create(
                        {"product_id": catalog.rental.id, "price_unit": 100.0}
                    )
                ],
            }
            for i in range(count)
        ]
    )
    contracts.write(
        {"stage_id": env.ref("subscription_oca.subscription_stage_in_progress").id}
    )
    # as if they had been invoiced before: due today, for this month
    contracts.write({"recurring_next_date": today})
    if not metered:
        return contracts
    if pooled:
        contracts.usage_tariff_ids.pooled = True
    lots = env["stock.lot"].create(
        [
            {
                "name": f"{PREFIX}-{tag}-{i:06d}",
                "product_id": catalog.unit.id,
                "company_id": catalog.company.id,
                "customer_id": contracts[i // SERIALS_PER_CONTRACT].partner_id.id,
            }
            for i in range(count * SERIALS_PER_CONTRACT)
        ]
    )
    for index, contract in enumerate(contracts):
        start = index * SERIALS_PER_CONTRACT
        contract.covered_lot_ids = lots[start : start + SERIALS_PER_CONTRACT]
    now = datetime.combine(today, time(8, 0))
    readings = []
    for index, lot in enumerate(lots):
        for meter, usage in (
            (catalog.black, BLACK_USAGE),
            (catalog.color, COLOR_USAGE),
        ):
            first = 10000.0 * (index + 1)
            readings += [
                {
                    "lot_id": lot.id,
                    "meter_type_id": meter.id,
                    "reading_date": now - timedelta(days=31),
                    "value": first,
                    "source": "device",
                },
                {
                    "lot_id": lot.id,
                    "meter_type_id": meter.id,
                    "reading_date": now - timedelta(days=1),
                    "value": first + usage,
                    "source": "device",
                },
            ]
    env["serial.meter.reading"].create(readings)
    return contracts


def make_coverage_items(env, catalog, count):
    """`count` job lines (serial, product, quantity, day) on serials under
    warranty and on serials covered by running contracts: parts, toner,
    labour and travel in turn."""
    env = env(context=dict(env.context, tracking_disable=True))
    today = fields.Date.context_today(env["res.partner"])
    serials = max(count // 10, 8)
    contracts = make_contracts(
        env, catalog, max(serials // (2 * SERIALS_PER_CONTRACT), 1), "COV"
    )
    covered = contracts.covered_lot_ids
    warranty = env["stock.lot"].create(
        [
            {
                "name": f"{PREFIX}-WAR-{i:06d}",
                "product_id": catalog.unit.id,
                "company_id": catalog.company.id,
                "customer_id": catalog.customers[i % len(catalog.customers)].id,
                "warranty_policy_id": catalog.policy.id,
                "delivery_date": today - timedelta(days=30 + i % 300),
            }
            for i in range(max(serials - len(covered), 1))
        ]
    )
    lots = covered | warranty
    products = [catalog.component, catalog.toner, catalog.labour, catalog.travel]
    return [
        {
            "lot": lots[i % len(lots)],
            "product": products[i % len(products)],
            "qty": float(1 + i % 3),
            "date": today,
        }
        for i in range(count)
    ]


# ----------------------------------------------------------------------
# Serials in bulk (lookups, warranty cron, recalls, reading import)
# ----------------------------------------------------------------------
# of every 20 serials: 14 units, 5 components installed in units, 1 lamp
# installed in a component; a seventh of the units are still in stock. Dates
# are spread over four years by a stride prime to the range, so that a small
# set covers it as well as a large one.
UNIT_SHARE, COMPONENT_SHARE = 14, 5


def insert_serials(env, catalog, count, tag="S"):
    """Insert `count` serials with SQL, as the ORM would store them after
    receipt, delivery and installation: owner, dates, 24-month warranty
    (state as of yesterday, the cron's last run), genealogy. Returns the
    {kind: (first id, number)} of the units, components and lamps."""
    today = fields.Date.context_today(env["res.partner"])
    units = count * UNIT_SHARE // 20
    components = count * COMPONENT_SHARE // 20
    lamps = count - units - components
    stock = (
        env["stock.warehouse"]
        .search([("company_id", "=", catalog.company.id)], limit=1)
        .lot_stock_id
    )
    customer_location = env.ref("stock.stock_location_customers")
    customer_ids = catalog.customers.ids
    vendor_ids = catalog.vendors.ids
    env.flush_all()
    kinds = {}
    for kind, product, number, parent_kind in (
        ("unit", catalog.unit, units, None),
        ("component", catalog.component, components, "unit"),
        ("lamp", catalog.subcomponent, lamps, "component"),
    ):
        if number <= 0:
            kinds[kind] = (0, 0)
            continue
        parent_first, parent_count = kinds.get(parent_kind, (0, 0))
        env.cr.execute(
            SQL(
                """
                INSERT INTO stock_lot (
                    name, product_id, company_id, create_uid, write_uid,
                    create_date, write_date, supplier_id, receipt_date,
                    delivery_date, customer_id, location_id, parent_lot_id,
                    warranty_policy_id, warranty_start_date, warranty_end_date,
                    warranty_state, supplier_warranty_end_date
                )
                SELECT name, %(product)s, %(company)s, %(uid)s, %(uid)s,
                       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC',
                       vendors[1 + mod(i, cardinality(vendors))],
                       receipt, delivery,
                       CASE WHEN delivery IS NOT NULL
                            THEN customers[1 + mod(i / 7, cardinality(customers))]
                       END,
                       CASE WHEN delivery IS NULL THEN %(stock)s
                            ELSE %(customer_location)s END,
                       CASE WHEN %(parent_count)s > 0
                            THEN %(parent_first)s
                                 + mod(i, greatest(%(parent_count)s, 1))
                       END,
                       CASE WHEN warranty_end IS NOT NULL THEN %(policy)s END,
                       CASE WHEN warranty_end IS NOT NULL THEN delivery END,
                       warranty_end,
                       CASE WHEN warranty_end IS NULL THEN 'none'
                            WHEN %(yesterday)s::date > warranty_end THEN 'expired'
                            WHEN warranty_end - %(yesterday)s::date < 30
                                 THEN 'expiring'
                            ELSE 'active' END,
                       (receipt + interval '12 months' - interval '1 day')::date
                  FROM (
                    SELECT *,
                           CASE WHEN %(warranty)s THEN (
                               delivery + interval '24 months' - interval '1 day'
                           )::date END AS warranty_end
                      FROM (
                        SELECT i,
                               %(vendors)s::int[] AS vendors,
                               %(customers)s::int[] AS customers,
                               %(prefix)s || lpad(i::text, 7, '0') AS name,
                               %(today)s::date - 30 - mod(i * 89, 1460) AS receipt,
                               CASE WHEN %(is_unit)s AND mod(i, 7) = 0 THEN NULL
                                    ELSE %(today)s::date - 20 - mod(i * 97, 1440)
                               END AS delivery
                          FROM generate_series(0, %(number)s - 1) AS i
                      ) AS numbers
                  ) AS gen
              ORDER BY i
                """,
                product=product.id,
                company=catalog.company.id,
                uid=env.uid,
                vendors=vendor_ids,
                customers=customer_ids,
                stock=stock.id,
                customer_location=customer_location.id,
                parent_first=parent_first,
                parent_count=parent_count,
                warranty=kind == "unit",
                policy=catalog.policy.id,
                yesterday=today - timedelta(days=1),
                today=today,
                prefix=f"{PREFIX}-{tag}{kind[0].upper()}-",
                is_unit=kind == "unit",
                number=number,
            )
        )
        env.cr.execute(
            SQL(
                "SELECT min(id), count(*) FROM stock_lot WHERE name LIKE %s",
                f"{PREFIX}-{tag}{kind[0].upper()}-%",
            )
        )
        kinds[kind] = env.cr.fetchone()
    # the alerts of the serials already expiring were scheduled yesterday
    env.cr.execute(
        SQL(
            """
            UPDATE stock_lot SET warranty_alert_end_date = warranty_end_date
             WHERE warranty_state = 'expiring' AND name LIKE %s
            """,
            f"{PREFIX}-{tag}U-%",
        )
    )
    env.cr.execute("ANALYZE stock_lot")
    env.invalidate_all()
    return kinds


def serial_name(tag, kind, number):
    return f"{PREFIX}-{tag}{kind[0].upper()}-{number:07d}"


def make_reading_rows(catalog, lot_names, per_serial):
    """Rows of a meter reading file: for each serial and both meters,
    `per_serial` readings a week apart, with a usage that varies from week to
    week (500 to 899 black pages, a tenth of that in colour)."""
    start = datetime.combine(fields.Date.today(), time(9, 0)) - timedelta(
        weeks=per_serial + 1
    )
    rows = []
    for index, name in enumerate(lot_names):
        for meter, scale in ((catalog.black, 1.0), (catalog.color, 0.1)):
            value = 1000.0 * index
            for week in range(per_serial):
                if week:
                    value += scale * (500 + (index * 37 + week * 101) % 400)
                rows.append((name, meter.code, start + timedelta(weeks=week), value))
    return rows


def make_xlsx(rows):
    """The rows as the import wizard's .xlsx file (base64)."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = workbook.add_worksheet("Readings")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, ["serial", "meter", "date", "value"])
    for number, (serial, meter, when, value) in enumerate(rows, start=1):
        sheet.write_string(number, 0, serial)
        sheet.write_string(number, 1, meter)
        sheet.write_datetime(number, 2, when, date_format)
        sheet.write_number(number, 3, value)
    workbook.close()
    return base64.b64encode(output.getvalue())

"""The prepared data set of the KPI tests, with the dates it was made at.

Every expected number of the KPI tests is computed by hand from this data set
(see the comments of each test). The KPIs are read "today" = 2026-01-01.

Units (delivered from stock, returned through a receipt from the customer):
    C1, C2  copier  received 2023-12-01 from Copier Vendor, delivered 2024-01-01
    C3      copier  received 2023-12-01 from Copier Vendor, delivered 2024-07-01
                    to Other Customer, returned 2025-01-01
    H1      chiller received 2023-12-01 from Chiller Vendor, delivered 2025-01-01
Warranty: copiers 24 months, parts only (C1, C2 to 2025-12-31; C3 to
2026-06-30); chillers 6 months, parts and labour (H1 to 2025-06-30).
Contracts: K1 (Gold: labour 100 %, travel 50 %) covers C1, K2 (Gold) covers
C2, K3 (Silver: labour 100 %, sale order and invoice) covers H1.

Jobs (request -> close, technician; lines at cost: fuser 120, compressor 500,
labour 40 an hour, travel 30):
    J1 C1 corrective 2024-06-01 -> 2024-06-03 A: fuser 1 (warranty), labour 2 (K1)
    J2 C1 corrective 2024-06-20 -> 2024-06-21 B: labour 1 (K1)        repeat visit
    P1 C1 preventive 2024-09-01 -> 2024-09-01 B: labour 1 (K1)
    J3 C1 corrective 2025-03-01 -> 2025-03-02 A: fuser 1 (warranty), labour 1 (K1),
                                                 travel 1 (K1, 50 %)
    J4 C2 corrective 2025-05-10 -> 2025-05-10 B: 2 fusers (warranty), labour 1.5 (K2)
    P2 C2 preventive 2025-05-20 open          A: labour 1 (K2, job not done)
    JX C2 corrective 2025-06-01 archived      A
    J5 C3 corrective 2024-10-01 -> 2024-10-02 A: fuser 1 (warranty), labour 1 (none)
    J6 C3 corrective 2025-06-01 -> 2025-06-02 A (the unit was back in stock)
    J7 H1 corrective 2025-06-01 -> 2025-06-02 B: compressor 1, labour 3 (warranty)
    J9 H1 preventive 2025-09-01 -> 2025-09-01 B: labour 2 (K3, warranty over)
    J8 H1 corrective 2025-12-01 open          A: compressor 1 (job not done)
Meters (reading date: value): C1 pages 2024-01-01: 0, 2024-12-31: 600,000,
2025-12-31: 1,500,000; C2 pages 2024-01-01: 0, 2025-12-31: 500,000; H1 hours
2025-01-01: 0, 2025-12-31: 4,000.
Customer invoices (untaxed): K1 1,000 (+10 % tax) 2024-02-01, credit note 100
2025-03-15, a draft of 500; K2 300 on 2025-02-01 (its own invoice); K3 250 on
2025-02-01 (through its sale order).
Supplier claims: Copier Vendor: 120 credited 100 (credit note edited), 120
rejected, 80 accepted without a posted credit note, 50 draft; Chiller Vendor:
200 credited 200.
"""

from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import new_test_user

from .common import SerialServiceCase


class KpiCase(SerialServiceCase):
    TODAY = "2026-01-01 12:00:00"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.done_stage = cls.env["maintenance.stage"].search(
            [("done", "=", True)], limit=1
        )
        cls.technician_b = new_test_user(
            cls.env,
            login="kpi_technician_b",
            name="KPI Technician B",
            groups="serial_service.group_service_technician",
        )
        cls.technician.name = "KPI Technician A"
        cls._make_products()
        cls._make_units()
        cls._make_contracts()
        cls._make_jobs()
        cls._make_readings()
        cls._make_invoices()
        cls._make_claims()

    @classmethod
    def _make_products(cls):
        cls.copier = cls.product_unit
        cls.copier.product_tmpl_id.name = "KPI Copier"
        cls.chiller = cls._make_product(
            "KPI Chiller", categ=cls.categ_equipment, serial_service_managed=True
        )
        cls.copier.warranty_policy_id = cls.env["serial.warranty.policy"].create(
            {
                "name": "Copier 24 months, parts",
                "duration_months": 24,
                "covers_parts": True,
                "covers_labour": False,
                "covers_travel": False,
            }
        )
        cls.chiller.warranty_policy_id = cls.env["serial.warranty.policy"].create(
            {
                "name": "Chiller 6 months, parts and labour",
                "duration_months": 6,
                "covers_parts": True,
                "covers_labour": True,
                "covers_travel": False,
            }
        )
        cls.fuser = cls.product_part
        cls.fuser.write({"standard_price": 120, "list_price": 300})
        cls.compressor = cls._make_product(
            "KPI Compressor",
            tracking="none",
            service_line_type="part",
            standard_price=500,
            list_price=900,
        )
        cls.valve = cls._make_product(
            "KPI Valve", service_line_type="part", standard_price=200
        )
        cls.labour = cls.env["product.product"].create(
            {
                "name": "KPI Labour",
                "type": "service",
                "service_line_type": "labour",
                "standard_price": 40,
                "list_price": 60,
            }
        )
        cls.travel = cls.env["product.product"].create(
            {
                "name": "KPI Travel",
                "type": "service",
                "service_line_type": "travel",
                "standard_price": 30,
                "list_price": 45,
            }
        )
        cls.fee = cls.env["product.product"].create(
            {
                "name": "KPI Contract Fee",
                "type": "service",
                "list_price": 100,
                "taxes_id": [Command.clear()],
            }
        )
        cls.tax = cls.env["account.tax"].create(
            {"name": "KPI VAT 10%", "amount": 10, "type_tax_use": "sale"}
        )
        cls.pages = cls.env["serial.meter.type"].create(
            {
                "name": "KPI Pages",
                "code": "KPIPAGES",
                "uom_id": cls.env.ref("uom.product_uom_unit").id,
            }
        )
        cls.hours = cls.env["serial.meter.type"].create(
            {
                "name": "KPI Hours",
                "code": "KPIHOURS",
                "uom_id": cls.env.ref("uom.product_uom_hour").id,
            }
        )
        cls.copier_vendor = cls.env["res.partner"].create(
            {"name": "KPI Copier Vendor", "is_company": True}
        )
        cls.chiller_vendor = cls.env["res.partner"].create(
            {"name": "KPI Chiller Vendor", "is_company": True}
        )

    @classmethod
    def _make_units(cls):
        cls.c1, cls.c2, cls.c3 = cls._make_lots(
            cls.copier, ["KPI-C1", "KPI-C2", "KPI-C3"]
        )
        cls.h1 = cls._make_lots(cls.chiller, ["KPI-H1"])
        with freeze_time("2023-12-01 12:00:00"):
            cls._receive(cls.c1 | cls.c2 | cls.c3, vendor=cls.copier_vendor)
            cls._receive(cls.h1, vendor=cls.chiller_vendor)
        with freeze_time("2024-01-01 12:00:00"):
            cls._deliver(cls.c1 | cls.c2)
        with freeze_time("2024-07-01 12:00:00"):
            cls._deliver(cls.c3, partner=cls.other_customer)
        with freeze_time("2025-01-01 12:00:00"):
            cls._transfer(
                cls.warehouse.in_type_id,
                cls.other_customer,
                cls.customer_location,
                cls.stock_location,
                {cls.copier: cls.c3},
            )
            cls._deliver(cls.h1)

    @classmethod
    def _make_contracts(cls):
        Template = cls.env["sale.subscription.template"]
        cls.gold = Template.create(
            {
                "name": "KPI Gold",
                "invoicing_mode": "draft",
                "coverage_rule_ids": [
                    Command.create({"line_type": "labour", "coverage_percent": 100}),
                    Command.create({"line_type": "travel", "coverage_percent": 50}),
                ],
            }
        )
        cls.silver = Template.create(
            {
                "name": "KPI Silver",
                "invoicing_mode": "sale_and_invoice",
                "coverage_rule_ids": [
                    Command.create({"line_type": "labour", "coverage_percent": 100}),
                ],
            }
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "KPI"})
        cls.k1 = cls._make_contract(cls.gold, cls.c1, "2024-01-01", 1000)
        cls.k2 = cls._make_contract(cls.gold, cls.c2, "2024-01-01", 300)
        cls.k3 = cls._make_contract(cls.silver, cls.h1, "2025-01-01", 250)

    @classmethod
    def _make_contract(cls, template, lot, start, price):
        return cls._create_contract(
            cls.customer,
            lot,
            template,
            pricelist=cls.pricelist,
            lines=[{"product_id": cls.fee.id, "price_unit": price}],
            date_start=start,
            recurring_next_date="2025-02-01",
        )

    @classmethod
    def _job(cls, lot, user, opened, closed=None, lines=(), kind="corrective"):
        with freeze_time(f"{opened} 09:00:00"):
            job = cls.env["maintenance.request"].create(
                {
                    "name": f"{lot.name} {kind} {opened}",
                    "lot_id": lot.id,
                    "user_id": user.id,
                    "maintenance_type": kind,
                    "request_date": opened,
                    "service_line_ids": [
                        Command.create({"product_id": product.id, "quantity": qty})
                        for product, qty in lines
                    ],
                }
            )
        if closed:
            with freeze_time(f"{closed} 17:00:00"):
                job.stage_id = cls.done_stage
        return job

    @classmethod
    def _make_jobs(cls):
        a, b = cls.technician, cls.technician_b
        fuser, labour, travel = cls.fuser, cls.labour, cls.travel
        cls.j1 = cls._job(
            cls.c1, a, "2024-06-01", "2024-06-03", [(fuser, 1), (labour, 2)]
        )
        cls.j2 = cls._job(cls.c1, b, "2024-06-20", "2024-06-21", [(labour, 1)])
        cls.p1 = cls._job(
            cls.c1, b, "2024-09-01", "2024-09-01", [(labour, 1)], kind="preventive"
        )
        cls.j3 = cls._job(
            cls.c1,
            a,
            "2025-03-01",
            "2025-03-02",
            [(fuser, 1), (labour, 1), (travel, 1)],
        )
        cls.j4 = cls._job(
            cls.c2,
            b,
            "2025-05-10",
            "2025-05-10",
            [(fuser, 1), (fuser, 1), (labour, 1.5)],
        )
        cls.p2 = cls._job(
            cls.c2, a, "2025-05-20", lines=[(labour, 1)], kind="preventive"
        )
        cls.jx = cls._job(cls.c2, a, "2025-06-01")
        cls.jx.archive = True
        cls.j5 = cls._job(
            cls.c3, a, "2024-10-01", "2024-10-02", [(fuser, 1), (labour, 1)]
        )
        cls.j6 = cls._job(cls.c3, a, "2025-06-01", "2025-06-02")
        cls.j7 = cls._job(
            cls.h1, b, "2025-06-01", "2025-06-02", [(cls.compressor, 1), (labour, 3)]
        )
        cls.j9 = cls._job(
            cls.h1, b, "2025-09-01", "2025-09-01", [(labour, 2)], kind="preventive"
        )
        cls.j8 = cls._job(cls.h1, a, "2025-12-01", lines=[(cls.compressor, 1)])

    @classmethod
    def _make_readings(cls):
        values = [
            (cls.c1, cls.pages, "2024-01-01", 0),
            (cls.c1, cls.pages, "2024-12-31", 600000),
            (cls.c1, cls.pages, "2025-12-31", 1500000),
            (cls.c2, cls.pages, "2024-01-01", 0),
            (cls.c2, cls.pages, "2025-12-31", 500000),
            (cls.h1, cls.hours, "2025-01-01", 0),
            (cls.h1, cls.hours, "2025-12-31", 4000),
        ]
        with freeze_time(cls.TODAY):
            cls.readings = cls.env["serial.meter.reading"].create(
                [
                    {
                        "lot_id": lot.id,
                        "meter_type_id": meter.id,
                        "reading_date": f"{day} 12:00:00",
                        "value": value,
                        "source": "import",
                    }
                    for lot, meter, day, value in values
                ]
            )

    @classmethod
    def _invoice(cls, contract, day, amount, move_type="out_invoice", taxes=None):
        return cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": cls.customer.id,
                "invoice_date": day,
                "subscription_id": contract.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.fee.id,
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.set((taxes or cls.tax.browse()).ids)],
                        }
                    )
                ],
            }
        )

    @classmethod
    def _make_invoices(cls):
        cls._invoice(cls.k1, "2024-02-01", 1000, taxes=cls.tax).action_post()
        cls._invoice(cls.k1, "2025-03-15", 100, move_type="out_refund").action_post()
        cls._invoice(cls.k1, "2025-04-01", 500)  # a draft: not invoiced yet
        # K2: subscription_oca's own invoice of the contract
        invoice = cls.k2.create_invoice()
        invoice.invoice_date = "2025-02-01"
        invoice.action_post()
        # K3: subscription_oca's sale order, confirmed and invoiced
        with freeze_time("2025-02-01 10:00:00"):
            cls.k3.generate_invoice()

    @classmethod
    def _claim(cls, lot, amount, day, vendor, steps=()):
        claim = cls.env["serial.warranty.claim"].create(
            {
                "lot_id": lot.id,
                "vendor_id": vendor.id,
                "amount": amount,
                "failure_date": day,
            }
        )
        for step in steps:
            getattr(claim, step)()
        return claim

    @classmethod
    def _make_claims(cls):
        parts = cls._make_lots(
            cls.fuser, ["KPI-FU-1", "KPI-FU-2", "KPI-FU-3", "KPI-FU-4"]
        )
        valve = cls._make_lots(cls.valve, ["KPI-VA-1"])
        accept = ("action_submit", "action_accept", "action_create_refund")
        credited = cls._claim(
            parts[0], 120, date(2025, 2, 1), cls.copier_vendor, accept
        )
        # the vendor credits 100 of the 120 claimed
        credited.refund_move_id.invoice_line_ids.price_unit = 100
        credited.refund_move_id.action_post()
        cls._claim(
            parts[1],
            120,
            date(2025, 3, 1),
            cls.copier_vendor,
            ("action_submit", "action_reject"),
        )
        cls._claim(parts[2], 80, date(2024, 11, 1), cls.copier_vendor, accept)
        cls._claim(parts[3], 50, date(2025, 4, 1), cls.copier_vendor)
        full = cls._claim(valve, 200, date(2025, 6, 1), cls.chiller_vendor, accept)
        full.refund_move_id.action_post()

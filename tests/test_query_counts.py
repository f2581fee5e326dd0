"""Query-count pins of the batch paths: each is run at two sizes after a
warm-up run (so that caches and the registry do not count); the larger run
may not cost more queries than the smaller one, save where a constant per
record is documented next to the pin."""

import base64
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import new_test_user, tagged

from .common import SerialServiceCase
from .test_installed_base_import import HEADER


@tagged("post_install", "-at_install")
class TestQueryCounts(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["stock.lot"])
        cls.now = fields.Datetime.now()
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Pages (query counts)", "code": "QCPAGES"}
        )
        cls.pages = cls.env["product.product"].create(
            {"name": "Pages billed (query counts)", "type": "service"}
        )
        cls.rental = cls.env["product.product"].create(
            {"name": "Rental (query counts)", "type": "service", "list_price": 100}
        )
        cls.toner = cls._make_product(
            "QC Toner",
            categ=cls.categ_consumables,
            tracking="none",
            service_line_type="consumable",
            list_price=80,
        )
        cls.labour = cls.env["product.product"].create(
            {
                "name": "QC Labour",
                "type": "service",
                "service_line_type": "labour",
                "list_price": 60,
            }
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Query counts"})
        cls.billing_template = cls.env["sale.subscription.template"].create(
            {"name": "QC clicks", "invoicing_mode": "draft"}
        )
        cls.care_template = cls.env["sale.subscription.template"].create(
            {"name": "QC care"}
        )
        cls.van = cls.env["stock.location"].create(
            {
                "name": "QC Van",
                "usage": "internal",
                "location_id": cls.warehouse.view_location_id.id,
            }
        )
        cls.technician.van_location_id = cls.van

    def _count_queries(self, func, *args):
        """Queries of func(*args), measured as assertQueryCount does."""
        self.env.invalidate_all()
        self.env.flush_all()
        self.env.cr.flush()
        before = self.env.cr.sql_log_count
        func(*args)
        self.env.flush_all()
        self.env.cr.flush()
        return self.env.cr.sql_log_count - before

    def _assert_same_queries(self, func, make, sizes=(5, 20), extra=0):
        """func on a small set (counted), then on a large set (sets made by
        make(prefix, size)): no more queries than the small one, plus the
        documented extra. A warm-up run first, measured as the counted ones
        are: the first run so measured still reads the access rules, the next
        ones cost the same whatever their order (seen on every path here)."""
        small_size, large_size = sizes
        self._count_queries(func, make("W", small_size))
        small_count = self._count_queries(func, make("S", small_size))
        large = make("L", large_size)
        self.env.invalidate_all()
        with self.assertQueryCount(small_count + extra):
            func(large)
        return large

    def _units(self, prefix, size, deliver=False, owner=True):
        lots = self._make_lots(
            self.product_unit, [f"QC-{prefix}{number}" for number in range(size)]
        )
        if deliver:
            self._receive(lots)
            self._deliver(lots)
        elif owner:
            lots.write({"customer_id": self.customer.id})
        return lots

    # --- coverage: the batch form of get_service_coverage --------------------
    def test_coverage_batch(self):
        products = [self.product_part, self.toner, self.labour]

        def make(prefix, size):
            lots = self._units(prefix, size)
            # half of the serials under contract, the others not covered
            self._create_contract(
                self.customer,
                lots[: size // 2],
                self.care_template,
                pricelist=self.pricelist,
                rules=[
                    {"line_type": "labour", "coverage_percent": 100},
                    {"categ_id": self.categ_consumables.id, "effect": "exclude"},
                    {"line_type": "part", "max_qty_per_period": 2},
                ],
                date_start=self.today - timedelta(days=5),
            )
            # every product on every serial: both sizes take every branch
            return [
                {"lot": lot, "product": product, "qty": 1}
                for lot in lots
                for product in products
            ]

        def decide(items):
            decisions = (
                self.env["stock.lot"]
                .with_user(self.technician)
                ._get_service_coverage_batch(items)
            )
            self.assertEqual(len(decisions), len(items))

        self._assert_same_queries(decide, make)

    # --- history of many serials ----------------------------------------------
    def test_history(self):
        def make(prefix, size):
            lots = self._units(prefix, size, deliver=True)
            self.env["maintenance.request"].create(
                [{"name": f"QC visit {lot.name}", "lot_id": lot.id} for lot in lots]
            )
            return lots

        def read_history(lots):
            for lot in lots.with_user(self.manager):
                self.assertIn("QC visit", lot.history_html)

        self._assert_same_queries(read_history, make)

    # --- job completion ----------------------------------------------------
    def test_job_completion(self):
        def make(prefix, size):
            units = self._units(prefix, size, deliver=True)
            self.env["stock.quant"]._update_available_quantity(
                self.toner, self.van, 2 * size
            )
            return self.env["maintenance.request"].create(
                [
                    {
                        "name": f"QC job {unit.name}",
                        "lot_id": unit.id,
                        "user_id": self.technician.id,
                        "service_line_ids": [
                            Command.create(
                                {"product_id": self.toner.id, "quantity": 2}
                            ),
                            Command.create(
                                {"product_id": self.labour.id, "quantity": 1}
                            ),
                        ],
                    }
                    for unit in units
                ]
            )

        def complete(jobs):
            jobs.with_user(self.technician).action_complete_job()

        # Completing is batched (checks, locks, one stock.move create and
        # _action_done, one account.move create), but each job still costs
        # 48 queries, none of them a read of ours in a loop:
        # - most of them: its service report rendered and e-mailed
        #   (_send_service_report renders one PDF and posts one e-mail per
        #   job, each in its own savepoint, so that a report that fails
        #   undoes neither the completion nor the other jobs' reports);
        # - what Odoo does per record: its part's move line updates and locks
        #   its quants and looks up a push rule (stock), its invoice looks up
        #   its journal and each line its analytic distribution (account);
        # - its link to its invoice (one many2many write per job).
        # Measured: 48 a job, pinned exactly.
        large = self._assert_same_queries(complete, make, extra=48 * (20 - 5))
        self.assertTrue(all(large.mapped("completed_on")))
        self.assertEqual(len(large.invoice_ids), 20, "one draft invoice per job")
        self.assertEqual(
            self.env["stock.quant"]._get_available_quantity(
                self.toner, self.van, strict=True
            ),
            0,
        )

    # --- the billing run (the scheduler's job) -----------------------------
    def _billing_contracts(self, prefix, size):
        lots = self._units(prefix, size)
        readings = []
        for lot in lots:
            for days_ago, value in ((40, 1000), (3, 1900)):
                readings.append(
                    {
                        "lot_id": lot.id,
                        "meter_type_id": self.meter.id,
                        "reading_date": self.now - timedelta(days=days_ago),
                        "value": value,
                    }
                )
        self.env["serial.meter.reading"].create(readings)
        return self.env["sale.subscription"].concat(
            *(
                self._create_contract(
                    self.customer,
                    lot,
                    self.billing_template,
                    pricelist=self.pricelist,
                    lines=[{"product_id": self.rental.id, "price_unit": 100}],
                    tariffs=[
                        {
                            "meter_type_id": self.meter.id,
                            "product_id": self.pages.id,
                            "included_qty": 500,
                            "tiers": [(0, 0.01), (1000, 0.008)],
                        }
                    ],
                    date_start=self.today - timedelta(days=60),
                    recurring_next_date=self.today,
                )
                for lot in lots
            )
        )

    def _run_scheduler(self, contracts):
        self.env["sale.subscription"].cron_subscription_management()
        self.assertTrue(
            all(contract.recurring_next_date > self.today for contract in contracts),
            "every contract invoiced",
        )

    def test_billing_run_with_readings(self):
        large = self._assert_same_queries(self._run_scheduler, self._billing_contracts)
        self.assertFalse(
            self.env["serial.meter.reading"].search_count(
                [
                    ("lot_id", "in", large.covered_lot_ids.ids),
                    ("invoice_line_id", "=", False),
                ]
            ),
            "every reading billed",
        )

    def test_billing_run_with_estimates(self):
        """The next period without new readings: every serial is billed on an
        estimate made in the run."""

        def make(prefix, size):
            contracts = self._billing_contracts(prefix, size)
            self._run_scheduler(contracts)
            # the next invoice is due today again, nothing read since
            contracts.write(
                {"recurring_next_date": self.today, "billing_run_date": False}
            )
            return contracts

        large = self._assert_same_queries(self._run_scheduler, make)
        estimates = self.env["serial.meter.reading"].search(
            [("lot_id", "in", large.covered_lot_ids.ids), ("source", "=", "estimate")]
        )
        self.assertEqual(len(estimates), 20)

    # --- installed-base import ---------------------------------------------
    def test_installed_base_import(self):
        # the service manager who loads the base also creates the sites
        office = new_test_user(
            self.env,
            login="qc_office",
            groups="serial_service.group_service_manager,base.group_partner_manager",
        )
        template = self.env["sale.subscription.template"].create({"name": "QC base"})
        contract = self._create_contract(
            self.customer, None, template, pricelist=self.pricelist, running=False
        )
        self.customer.ref = "QC-CUST"
        self.product_unit.default_code = "QC-COPIER"
        meter_column = f"meter_{self.meter.code}"
        header = [
            meter_column if column == "meter_IBLACK" else column for column in HEADER
        ]
        header = [
            f"{meter_column}_date" if column == "meter_IBLACK_date" else column
            for column in header
        ]

        def make(prefix, size):
            # half the serials exist already (updated), half are new
            existing = self._units(prefix, size // 2, owner=False)
            names = existing.mapped("name") + [
                f"QC-{prefix}N{number}" for number in range(size - size // 2)
            ]
            rows = [
                {
                    "serial": name,
                    "product": "QC-COPIER",
                    "customer": "QC-CUST",
                    "site": "1 Dock Road",
                    "delivery_date": "2025-03-01",
                    "installation_date": "2025-03-04",
                    "supplier": "Test Vendor",
                    "receipt_date": "2025-02-20",
                    "contract": contract.code,
                    meter_column: 1000 + number,
                    f"{meter_column}_date": "2025-10-31",
                }
                for number, name in enumerate(names)
            ]
            lines = [",".join(header)] + [
                ",".join(str(row.get(column, "")) for column in header) for row in rows
            ]
            Import = self.env["serial.installed.base.import"]
            return Import.with_user(office).create(
                {
                    "file": base64.b64encode(("\n".join(lines) + "\n").encode()),
                    "filename": f"{prefix}.csv",
                }
            )

        def apply(wizard):
            wizard.action_apply()
            self.assertEqual(wizard.state, "done", wizard.problems)

        # One read per kind of data and one create or write per batch; what
        # grows is Odoo's: validating the inventory moves that put the
        # serials at the customer creates each quant on its own (two per
        # serial, the inventory location's and the customer's) and reads a
        # new serial's properties as it does: 2 a serial, 1 more a new one
        # (half of each file).
        self._assert_same_queries(
            apply, make, sizes=(4, 20), extra=2 * (20 - 4) + (10 - 2)
        )
        imported = self.env["stock.lot"].search([("name", "=like", "QC-L%")])
        self.assertEqual(len(imported), 20)
        self.assertEqual(imported.customer_id, self.customer)
        self.assertEqual(len(contract.covered_lot_ids), 4 + 4 + 20)

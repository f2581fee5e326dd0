"""Usage invoices a customer can check to the cent (issue 17): a sub-cent
tariff trued up after an estimate, the readings on each serial's line, and
the scheduler billing no reading twice. Every expected number is worked out
by hand in the comments."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestUsageBillingExact(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meter = cls.env["serial.meter.type"].create(
            {
                "name": "Clicks (exact)",
                "code": "EXACTCL",
                "uom_id": cls.env.ref("uom.product_uom_unit").id,
            }
        )
        cls.clicks = cls.env["product.product"].create(
            {"name": "Clicks (exact)", "type": "service", "list_price": 0.0}
        )
        cls.rental = cls.env["product.product"].create(
            {"name": "Rental (exact)", "type": "service", "list_price": 100.0}
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Exact"})
        cls.lot = cls._make_lots(cls.product_unit, ["EXA-1"])
        cls.lot.customer_id = cls.customer

    def _contract(self, tariff):
        template = self.env["sale.subscription.template"].create(
            {
                "name": "Monthly clicks (exact)",
                "invoicing_mode": "draft",
                "recurring_rule_type": "months",
                "recurring_interval": 1,
            }
        )
        contract = self.env["sale.subscription"].create(
            {
                "partner_id": self.customer.id,
                "template_id": template.id,
                "pricelist_id": self.pricelist.id,
                "date_start": date(2026, 1, 1),
                "sale_subscription_line_ids": [
                    Command.create({"product_id": self.rental.id, "price_unit": 100})
                ],
                "usage_tariff_ids": [
                    Command.create(
                        {
                            "meter_type_id": self.meter.id,
                            "product_id": self.clicks.id,
                            **tariff,
                        }
                    )
                ],
            }
        )
        contract.stage_id = self.env.ref(
            "subscription_oca.subscription_stage_in_progress"
        )
        contract.covered_lot_ids = self.lot
        return contract

    def _read(self, day, value):
        return self.env["serial.meter.reading"].create(
            {
                "lot_id": self.lot.id,
                "meter_type_id": self.meter.id,
                "reading_date": datetime.combine(day, datetime.min.time()),
                "value": value,
            }
        )

    def _history_jan(self):
        # 10000 on Jan 1st, 13000 on Jan 31st: 100 clicks a day
        with freeze_time("2026-01-31 12:00"):
            self._read(date(2026, 1, 1), 10000)
            self._read(date(2026, 1, 31), 13000)

    def _bill(self, contract, day):
        """The contract invoiced by the scheduler on `day` (the clock set to
        that morning); returns the new invoice."""
        with freeze_time(datetime.combine(day, datetime.min.time()).replace(hour=10)):
            before = contract.invoice_ids
            contract.recurring_next_date = day
            self.env["sale.subscription"].cron_subscription_management()
            return contract.invoice_ids - before

    def _usage(self, invoice):
        return invoice.invoice_line_ids.filtered(
            lambda line: line.product_id == self.clicks
        ).sorted("sequence")

    def test_sub_cent_estimate_trued_up_to_the_hand_computed_amount(self):
        contract = self._contract({"included_qty": 1000, "price_unit": 0.0085})
        self._history_jan()
        # invoice 1 (Feb 1st): 3000 used, 1000 included: 2000 x 0.0085 = 17.00
        # (a sub-cent price is billed as one unit at the exact amount, the
        # units in the label: README)
        first = self._bill(contract, date(2026, 2, 1))
        line = self._usage(first)
        self.assertEqual((line.quantity, line.price_subtotal), (1.0, 17.0))
        self.assertIn("3000 used, 1000 included, 2000 billable", line.name)

        # invoice 2 (Mar 1st): nothing read since Jan 31st: estimated at 100
        # a day x 29 days = 2900 (15900); 1900 billable x 0.0085 = 16.15
        second = self._bill(contract, date(2026, 3, 1))
        estimate = self.env["serial.meter.reading"].search(
            [("lot_id", "=", self.lot.id), ("source", "=", "estimate")]
        )
        self.assertEqual((estimate.value, estimate.delta), (15900, 2900))
        line = self._usage(second)
        self.assertEqual((line.quantity, line.price_subtotal), (1.0, 16.15))
        self.assertIn("2900 used, 1000 included, 1900 billable", line.name)

        # the real reading: 14457 on Mar 10th, 1443 below the estimate
        with freeze_time("2026-03-31 12:00"):
            true_up = self._read(date(2026, 3, 10), 14457)
        self.assertEqual(true_up.delta, -1443)

        # invoice 3 (Apr 1st): the 1443 clicks estimated too many are taken
        # off invoice 2: 1443 x -0.0085 = -12.2655, -12.27; nothing else was
        # used (0 of 1000 included)
        third = self._bill(contract, date(2026, 4, 1))
        lines = self._usage(third)
        self.assertEqual(
            [(line.quantity, line.price_subtotal) for line in lines],
            [(0.0, 0.0), (1.0, -12.27)],
        )
        self.assertIn(second.display_name, lines[1].name)
        self.assertAlmostEqual(third.amount_untaxed, 100 - 12.27)
        # the money: 17.00 + 16.15 - 12.27 = 20.88, what the real usage comes
        # to: January 2000 billable (17.00), Feb 1st to Mar 10th 1457 used,
        # 457 billable x 0.0085 = 3.8845 (3.88)
        total = sum(
            sum(self._usage(invoice).mapped("price_subtotal"))
            for invoice in first | second | third
        )
        self.assertAlmostEqual(total, 20.88)
        self.assertAlmostEqual(17.0 + round(457 * 0.0085, 2), 20.88)

    def test_sub_cent_higher_real_reading_bills_the_rest(self):
        contract = self._contract({"included_qty": 1000, "price_unit": 0.0085})
        self._history_jan()
        self._bill(contract, date(2026, 2, 1))
        self._bill(contract, date(2026, 3, 1))  # estimate 15900, 16.15 billed
        with freeze_time("2026-03-31 12:00"):
            real = self._read(date(2026, 3, 20), 17457)
        self.assertEqual(real.delta, 1557)
        # invoice 3: 1557 used since the estimate, 1000 included: 557 x
        # 0.0085 = 4.7345, 4.73
        third = self._bill(contract, date(2026, 4, 1))
        line = self._usage(third)
        self.assertEqual((line.quantity, line.price_subtotal), (1.0, 4.73))
        self.assertIn("1557 used, 1000 included, 557 billable", line.name)
        self.assertAlmostEqual(third.amount_untaxed, 104.73)

    def test_serial_line_shows_its_readings_usage_and_billable(self):
        contract = self._contract({"included_qty": 1000, "price_unit": 0.02})
        self._history_jan()
        first = self._bill(contract, date(2026, 2, 1))
        # the first line starts at the first reading ever
        self.assertEqual(
            self._usage(first).name,
            "Clicks (exact) of EXA-1: start 10000 on 2026-01-01, end 13000 on "
            "2026-01-31; 3000 used, 1000 included, 2000 billable",
        )
        with freeze_time("2026-02-27 12:00"):
            self._read(date(2026, 2, 14), 14200)
            self._read(date(2026, 2, 27), 15500)
        second = self._bill(contract, date(2026, 3, 1))
        line = self._usage(second)
        # starts at the last billed reading (Jan 31st), ends at the last one:
        # 15500 - 13000 = 2500 used, 1000 included, 1500 billable x 0.02
        self.assertEqual(
            line.name,
            "Clicks (exact) of EXA-1: start 13000 on 2026-01-31, end 15500 on "
            "2026-02-27; 2500 used, 1000 included, 1500 billable",
        )
        self.assertEqual((line.quantity, line.price_subtotal), (1500, 30.0))

    def test_scheduler_bills_no_reading_twice_on_later_runs(self):
        contract = self._contract({"included_qty": 0, "price_unit": 0.01})
        self._history_jan()
        first = self._bill(contract, date(2026, 2, 1))
        billed = self.lot.meter_reading_ids
        self.assertEqual(billed.invoice_line_id, self._usage(first))
        # the scheduler again that day and the next: nothing is due
        for day in ("2026-02-01 16:00", "2026-02-02 10:00"):
            with freeze_time(day):
                self.env["sale.subscription"].cron_subscription_management()
            self.assertEqual(contract.invoice_ids, first, day)
        # next month: only what was read since is billed (400 x 0.01)
        with freeze_time("2026-02-20 12:00"):
            new = self._read(date(2026, 2, 20), 13400)
        with freeze_time("2026-03-01 10:00"):
            self.assertEqual(contract.recurring_next_date, date(2026, 3, 1))
            self.env["sale.subscription"].cron_subscription_management()
        second = contract.invoice_ids - first
        self.assertEqual(len(second), 1)
        self.assertEqual(
            [(line.quantity, line.price_subtotal) for line in self._usage(second)],
            [(400, 4.0)],
        )
        self.assertEqual(billed.invoice_line_id, self._usage(first))
        self.assertEqual(new.invoice_line_id, self._usage(second))

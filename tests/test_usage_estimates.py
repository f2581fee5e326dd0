"""Estimated readings at billing and their true-up by the next real reading
(DESIGN.md, Meters and usage billing). Every expected number is worked out by
hand in the comments."""

import base64
from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestUsageEstimates(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meter = cls.env["serial.meter.type"].create(
            {
                "name": "Pages (estimates)",
                "code": "ESTPG",
                "uom_id": cls.env.ref("uom.product_uom_unit").id,
            }
        )
        cls.pages = cls.env["product.product"].create(
            {"name": "Pages (estimated)", "type": "service", "list_price": 0.0}
        )
        cls.rental = cls.env["product.product"].create(
            {"name": "Rental (estimates)", "type": "service", "list_price": 100.0}
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Estimates"})
        cls.lot_a, cls.lot_b = cls._make_lots(cls.product_unit, ["EST-A", "EST-B"])
        (cls.lot_a | cls.lot_b).write({"customer_id": cls.customer.id})

    def _contract(self, lots, tariff, mode="draft"):
        template = self.env["sale.subscription.template"].create(
            {
                "name": f"Monthly {mode}",
                "invoicing_mode": mode,
                "recurring_rule_type": "months",
                "recurring_interval": 1,
            }
        )
        return self._create_contract(
            self.customer,
            lots,
            template,
            pricelist=self.pricelist,
            lines=[{"product_id": self.rental.id, "price_unit": 100}],
            tariffs=[
                {"meter_type_id": self.meter.id, "product_id": self.pages.id, **tariff}
            ],
            date_start=date(2026, 1, 1),
        )

    def _read(self, lot, day, value, **vals):
        return self.env["serial.meter.reading"].create(
            {
                "lot_id": lot.id,
                "meter_type_id": self.meter.id,
                "reading_date": datetime.combine(day, datetime.min.time()),
                "value": value,
                **vals,
            }
        )

    def _bill(self, contract, day):
        """Invoice the contract on `day` (the clock set to that morning);
        returns the new invoice."""
        with freeze_time(datetime.combine(day, datetime.min.time()).replace(hour=10)):
            before = contract.invoice_ids | contract.sale_order_ids.invoice_ids
            contract.recurring_next_date = day
            contract.generate_invoice()
            return (contract.invoice_ids | contract.sale_order_ids.invoice_ids) - before

    def _usage(self, invoice):
        return invoice.invoice_line_ids.filtered(
            lambda line: line.product_id == self.pages
        ).sorted("sequence")

    def _estimates(self, lot):
        return self.env["serial.meter.reading"].search(
            [("lot_id", "=", lot.id), ("source", "=", "estimate")]
        )

    def _history_jan(self, lot, last=13000):
        # 10000 on Jan 1st, `last` on Jan 31st: (last - 10000) / 30 a day
        with freeze_time("2026-01-31 12:00"):
            self._read(lot, date(2026, 1, 1), 10000)
            self._read(lot, date(2026, 1, 31), last)

    def test_estimate_then_lower_real_reading_is_credited(self):
        contract = self._contract(
            self.lot_a, {"included_qty": 1000, "price_unit": 0.02}
        )
        self._history_jan(self.lot_a)
        # invoice 1 (Feb 1st): 3000 used, 1000 included: 2000 x 0.02 = 40
        first = self._bill(contract, date(2026, 2, 1))
        self.assertEqual(
            [(line.quantity, line.price_unit) for line in self._usage(first)],
            [(2000, 0.02)],
        )
        self.assertFalse(self._estimates(self.lot_a), "real readings to bill")

        # invoice 2 (Mar 1st): no reading since Jan 31st: estimated at
        # 3000 / 30 days = 100 a day x 29 days (Jan 31st to Mar 1st) = 2900
        second = self._bill(contract, date(2026, 3, 1))
        estimate = self._estimates(self.lot_a)
        self.assertEqual(len(estimate), 1)
        self.assertEqual(estimate.reading_date, datetime(2026, 3, 1))
        self.assertEqual((estimate.value, estimate.delta), (15900, 2900))
        usage_line = self._usage(second)
        # 2900 - 1000 included = 1900 x 0.02 = 38
        self.assertEqual(
            [(line.quantity, line.price_unit) for line in usage_line], [(1900, 0.02)]
        )
        self.assertEqual(estimate.invoice_line_id, usage_line)

        # the real readings: 14500 on Mar 10th is below the estimate (15900)
        # but above the last real reading (13000): accepted, delta -1400
        with freeze_time("2026-03-31 12:00"):
            true_up = self._read(self.lot_a, date(2026, 3, 10), 14500)
            later = self._read(self.lot_a, date(2026, 3, 25), 15000)
        self.assertEqual(true_up.delta, -1400)
        self.assertEqual(true_up.estimate_ids, estimate)
        self.assertEqual(later.delta, 500)
        self.assertFalse(later.estimate_ids)

        # invoice 3 (Apr 1st): no new estimate (real readings to bill). The
        # 1400 pages the estimate had too many are taken off invoice 2's
        # usage: 2900 -> 1500, billable 1900 -> 500: 1400 x -0.02 = -28.
        # This period: -1400 + 500 + 1400 credited apart = 500, within the
        # 1000 included: 0.
        third = self._bill(contract, date(2026, 4, 1))
        self.assertEqual(len(self._estimates(self.lot_a)), 1)
        lines = self._usage(third)
        self.assertEqual(
            [(line.quantity, line.price_unit) for line in lines],
            [(0, 0), (1400, -0.02)],
        )
        self.assertAlmostEqual(sum(lines.mapped("price_subtotal")), -28.0)
        self.assertIn("500 used", lines[0].name)
        self.assertIn(second.display_name, lines[1].name)
        self.assertAlmostEqual(third.amount_untaxed, 100 - 28.0)
        self.assertEqual(estimate.overestimate_qty, 1400)
        self.assertEqual((true_up | later).invoice_line_id, lines[0])
        # the deltas billed add up to the real usage: 15000 - 10000
        billed = self.env["serial.meter.reading"].search(
            [("lot_id", "=", self.lot_a.id)]
        )
        self.assertTrue(all(billed.mapped("invoice_line_id")))
        self.assertEqual(sum(billed.mapped("delta")), 5000)
        # and the money: 40 + 38 - 28 = 50, what 1500 pages over Feb-Mar
        # (500 billable at 0.02 = 10) and 3000 in January (40) come to
        total = sum(
            sum(self._usage(invoice).mapped("price_subtotal"))
            for invoice in first | second | third
        )
        self.assertAlmostEqual(total, 50.0)
        # invoice 4 (May 1st), nothing read since Mar 25th: estimated from the
        # real history, 5000 pages from Jan 1st to Mar 25th (83 days) =
        # 60.24 a day x 37 days = 2228.9, 2229 pages (17229); 1229 billable.
        # Nothing is credited twice.
        fourth = self._bill(contract, date(2026, 5, 1))
        self.assertEqual(self._estimates(self.lot_a)[:1].value, 17229)
        self.assertEqual(
            [(line.quantity, line.price_unit) for line in self._usage(fourth)],
            [(1229, 0.02)],
        )

    def test_higher_real_reading_bills_the_rest(self):
        contract = self._contract(
            self.lot_a, {"included_qty": 1000, "price_unit": 0.02}
        )
        self._history_jan(self.lot_a)
        self._bill(contract, date(2026, 2, 1))
        self._bill(contract, date(2026, 3, 1))
        estimate = self._estimates(self.lot_a)
        self.assertEqual(estimate.value, 15900)
        with freeze_time("2026-03-31 12:00"):
            real = self._read(self.lot_a, date(2026, 3, 20), 17000)
        # 17000 - 15900 = 1100 used since the estimate, 1000 included: 100
        self.assertEqual((real.delta, real.estimate_ids), (1100, estimate))
        third = self._bill(contract, date(2026, 4, 1))
        self.assertEqual(
            [(line.quantity, line.price_unit) for line in self._usage(third)],
            [(100, 0.02)],
        )
        self.assertEqual(estimate.overestimate_qty, 0)

    def test_real_reading_below_the_last_real_one_is_refused(self):
        contract = self._contract(self.lot_a, {"price_unit": 0.02})
        self._history_jan(self.lot_a)
        self._bill(contract, date(2026, 2, 1))
        self._bill(contract, date(2026, 3, 1))
        count = self.env["serial.meter.reading"].search_count([])
        with (
            freeze_time("2026-03-31 12:00"),
            self.assertRaises(ValidationError) as error,
        ):
            self._read(self.lot_a, date(2026, 3, 10), 12000)
        # the reading it is compared with is the last real one, not the estimate
        self.assertIn("lower than the previous one (13000", str(error.exception))
        self.assertEqual(self.env["serial.meter.reading"].search_count([]), count)
        # a meter reset is still accepted below it
        with freeze_time("2026-03-31 12:00"):
            reset = self._read(self.lot_a, date(2026, 3, 10), 50, is_reset=True)
        self.assertEqual((reset.delta, reset.estimate_ids.ids), (0, []))

    def test_no_estimate_without_history_or_twice(self):
        contract = self._contract(
            self.lot_a | self.lot_b, {"included_qty": 0, "price_unit": 0.02}
        )
        self._history_jan(self.lot_a)
        with freeze_time("2026-01-31 12:00"):
            # B has only its baseline: no daily usage to estimate from
            self._read(self.lot_b, date(2026, 1, 5), 700)
        self._bill(contract, date(2026, 2, 1))
        second = self._bill(contract, date(2026, 3, 1))
        self.assertEqual(len(self._estimates(self.lot_a)), 1)
        self.assertFalse(self._estimates(self.lot_b))
        # billing the same day again estimates nothing more, bills nothing
        again = self._bill(contract, date(2026, 3, 1))
        self.assertEqual(len(self._estimates(self.lot_a)), 1)
        self.assertEqual(sum(self._usage(again).mapped("quantity")), 0)
        self.assertEqual(
            sorted(self._usage(second).mapped("quantity")), [0, 2900], "B: 0, A: 2900"
        )

    def test_pooled_tiers_and_minimum_are_rerated(self):
        contract = self._contract(
            self.lot_a | self.lot_b,
            {
                "included_qty": 1000,
                "pooled": True,
                "minimum_amount": 40,
                "tier_ids": [
                    Command.create({"from_qty": 0, "price_unit": 0.05}),
                    Command.create({"from_qty": 1000, "price_unit": 0.03}),
                ],
            },
        )
        with freeze_time("2026-02-28 12:00"):
            self._read(self.lot_a, date(2026, 1, 1), 0)
            self._read(self.lot_a, date(2026, 1, 31), 3000)  # 100 a day
            self._read(self.lot_b, date(2026, 1, 1), 0)
            self._read(self.lot_b, date(2026, 1, 31), 600)
        # invoice 1: pool 3600 - 1000 = 2600: 1000 x 0.05 + 1600 x 0.03 = 98
        first = self._bill(contract, date(2026, 2, 1))
        self.assertAlmostEqual(sum(self._usage(first).mapped("price_subtotal")), 98)
        with freeze_time("2026-02-28 12:00"):
            self._read(self.lot_b, date(2026, 2, 28), 1200)
        # invoice 2: A estimated at 100 x 29 = 2900 (5900), B read 600:
        # pool 3500 - 1000 = 2500: 1000 x 0.05 + 1500 x 0.03 = 95
        second = self._bill(contract, date(2026, 3, 1))
        estimate = self._estimates(self.lot_a)
        self.assertEqual((estimate.value, estimate.delta), (5900, 2900))
        self.assertFalse(self._estimates(self.lot_b))
        self.assertAlmostEqual(sum(self._usage(second).mapped("price_subtotal")), 95)
        with freeze_time("2026-03-31 12:00"):
            true_up = self._read(self.lot_a, date(2026, 3, 10), 4000)  # -1900
            self._read(self.lot_b, date(2026, 3, 31), 1800)  # +600
        self.assertEqual(true_up.delta, -1900)
        # invoice 3: this period -1900 + 600 + 1900 credited apart = 600,
        # within the 1000 included: 0, topped up to the minimum 40.
        # Invoice 2 again with 3500 - 1900 = 1600 used: 600 billable at 0.05
        # = 30 instead of 95: credit 400 x 0.05 and 1500 x 0.03, and the
        # minimum (40) now applies to it: +10. Net 40 - 65 + 10 = -15.
        third = self._bill(contract, date(2026, 4, 1))
        lines = self._usage(third)
        self.assertEqual(
            [(line.quantity, line.price_unit) for line in lines],
            [(0, 0), (1, 40), (400, -0.05), (1500, -0.03), (1, 10)],
        )
        self.assertAlmostEqual(sum(lines.mapped("price_subtotal")), -15.0)
        self.assertEqual(estimate.overestimate_qty, 1900)
        # the pool's readings are on the first usage line of each invoice
        self.assertEqual(estimate.invoice_line_id, self._usage(second)[0])
        self.assertEqual(true_up.invoice_line_id, lines[0])

    def test_sale_order_mode_estimates_and_zero_usage_lines(self):
        contract = self._contract(
            self.lot_a,
            {"included_qty": 5000, "price_unit": 0.01},
            mode="sale_and_invoice",
        )
        self._history_jan(self.lot_a)
        # invoice 1: 3000 used, 5000 included: a line at 0, which still
        # carries the readings so that they are never billed again
        first = self._bill(contract, date(2026, 2, 1))
        line = self._usage(first)
        self.assertEqual(line.quantity, 0)
        readings = self.env["serial.meter.reading"].search(
            [("lot_id", "=", self.lot_a.id)]
        )
        self.assertEqual(readings.invoice_line_id, line)
        # invoice 2: estimated 2900 (not the 3000 of January again): 0 billable
        second = self._bill(contract, date(2026, 3, 1))
        estimate = self._estimates(self.lot_a)
        self.assertEqual(estimate.delta, 2900)
        self.assertEqual(estimate.invoice_line_id, self._usage(second))
        self.assertIn("2900 used", self._usage(second).name)

    def test_import_and_device_accept_a_true_up(self):
        contract = self._contract(self.lot_a, {"price_unit": 0.02})
        self._history_jan(self.lot_a)
        self._bill(contract, date(2026, 2, 1))
        self._bill(contract, date(2026, 3, 1))  # estimate 15900
        content = "serial,meter,date,value,is_reset\nEST-A,ESTPG,2026-03-10,14500,\n"
        with freeze_time("2026-03-31 12:00"):
            wizard = self.env["serial.meter.reading.import"].create(
                {
                    "file": base64.b64encode(content.encode()),
                    "filename": "readings.csv",
                    "mode": "all",
                }
            )
            wizard.action_import()
            self.assertEqual((wizard.imported_count, wizard.problem_count), (1, 0))
            imported = self.env["serial.meter.reading"].search(
                [("lot_id", "=", self.lot_a.id), ("source", "=", "import")]
            )
            self.assertEqual(imported.delta, 14500 - 15900)
            # below the last real reading (13000): refused, with the reason
            answer = self.env["serial.meter.reading"]._api_record_readings(
                {
                    "readings": [
                        {
                            "serial": "EST-A",
                            "meter": "ESTPG",
                            "date": "2026-03-20T00:00:00",
                            "value": 12000,
                        }
                    ]
                }
            )
        self.assertIn("lower than the previous one", answer["errors"][0]["message"])


@tagged("post_install", "-at_install")
class TestUsageEstimatesBillingRun(TestUsageEstimates):
    """The same estimates and true-ups through the billing run, which creates
    the invoices of a batch of contracts in one go."""

    allow_inherited_tests_method = True

    def _bill(self, contract, day):
        with freeze_time(datetime.combine(day, datetime.min.time()).replace(hour=10)):
            before = contract.invoice_ids | contract.sale_order_ids.invoice_ids
            contract.recurring_next_date = day
            self.assertFalse(contract._run_usage_billing())
            return (contract.invoice_ids | contract.sale_order_ids.invoice_ids) - before

"""A billing run or an import that fails halfway leaves no partial records;
running it again completes it."""

import base64
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestPartialFailures(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Partial pages", "code": "PARTIAL"}
        )
        cls.pages = cls.env["product.product"].create(
            {"name": "Partial pages", "type": "service", "list_price": 0.0}
        )
        cls.rental = cls.env["product.product"].create(
            {"name": "Partial rental", "type": "service", "list_price": 100.0}
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Partial"})
        cls.template = cls.env["sale.subscription.template"].create(
            {"name": "Partial clicks", "invoicing_mode": "draft"}
        )
        cls.lots = cls._make_lots(cls.product_unit, ["PF-1", "PF-2"])
        cls.lots.write({"customer_id": cls.customer.id})

    def _contract(self, lot):
        contract = self._create_contract(
            self.customer,
            lot,
            self.template,
            pricelist=self.pricelist,
            lines=[{"product_id": self.rental.id, "price_unit": 100}],
            tariffs=[
                {
                    "meter_type_id": self.meter.id,
                    "product_id": self.pages.id,
                    "price_unit": 0.1,
                }
            ],
            date_start=fields.Date.today() - timedelta(days=60),
            recurring_next_date=fields.Date.today(),
        )
        Reading = self.env["serial.meter.reading"]
        for days, value in ((20, 1000), (2, 1500)):
            Reading.create(
                {
                    "lot_id": lot.id,
                    "meter_type_id": self.meter.id,
                    "reading_date": self.now - timedelta(days=days),
                    "value": value,
                }
            )
        return contract

    def test_billing_run_failing_halfway_is_completed_by_the_next_run(self):
        good, bad = self._contract(self.lots[0]), self._contract(self.lots[1])
        contracts = good | bad
        next_date = bad.recurring_next_date
        original = type(bad)._link_usage_readings

        def link_then_fail(subscription, invoice_lines, day=None, usage_lines=None):
            # the invoice exists and its readings are being marked: then it breaks
            original(subscription, invoice_lines, day, usage_lines=usage_lines)
            if subscription == bad:
                raise RuntimeError("connection lost while billing")

        with patch.object(type(bad), "_link_usage_readings", link_then_fail):
            failed = contracts._run_usage_billing()
        self.assertEqual(failed, bad)
        self.assertIn("connection lost", bad.activity_ids.note)
        # nothing of the failed contract survived: no invoice, no billed reading,
        # its next invoice date did not move
        self.assertFalse(bad.invoice_ids)
        self.assertFalse(
            self.env["account.move"].search([("invoice_origin", "=", bad.name)])
        )
        self.assertFalse(self.lots[1].meter_reading_ids.invoice_line_id)
        self.assertEqual(bad.recurring_next_date, next_date)
        self.assertEqual(len(good.invoice_ids), 1)
        # the next run bills the failed one, and only that one
        self.assertFalse(
            self.env["sale.subscription"]
            ._cron_usage_billing()
            .filtered(lambda s: s in contracts)
        )
        self.assertEqual(len(good.invoice_ids), 1)
        self.assertEqual(len(bad.invoice_ids), 1)
        usage = bad.invoice_ids.invoice_line_ids.filtered(
            lambda line: line.product_id == self.pages
        )
        self.assertEqual(usage.quantity, 500)
        self.assertEqual(self.lots[1].meter_reading_ids.invoice_line_id, usage[:1])
        self.assertGreater(bad.recurring_next_date, next_date)

    def test_import_failing_halfway_writes_nothing_and_runs_again(self):
        content = "\n".join(
            [
                "serial,meter,date,value,is_reset",
                "PF-1,PARTIAL,2026-01-01,100,",
                "PF-1,PARTIAL,2026-02-01,180,",
                "PF-2,PARTIAL,2026-02-01,40,",
            ]
        ).encode()

        def wizard():
            return self.env["serial.meter.reading.import"].create(
                {
                    "file": base64.b64encode(content),
                    "filename": "readings.csv",
                    "mode": "all",
                }
            )

        Reading = self.env["serial.meter.reading"]
        before = Reading.search_count([])
        original = type(Reading)._recompute_deltas

        def fail_after_insert(readings, pairs=None):
            # the rows are inserted; the deltas are half computed: then it breaks
            original(readings[:1], pairs)
            raise RuntimeError("worker killed")

        # the request's transaction: what fails is rolled back as a whole
        with (
            patch.object(type(Reading), "_recompute_deltas", fail_after_insert),
            self.assertRaises(RuntimeError),
            self.env.cr.savepoint(),
        ):
            wizard().action_import()
        self.env.invalidate_all()
        self.assertEqual(Reading.search_count([]), before)
        self.assertFalse(self.lots.meter_reading_ids)
        # the same file again: all rows, with their deltas
        done = wizard()
        done.action_import()
        self.assertEqual(done.imported_count, 3)
        readings = self.lots[0].meter_reading_ids.sorted("reading_date")
        self.assertEqual(readings.mapped("delta"), [0.0, 80.0])
        self.assertEqual(set(self.lots.meter_reading_ids.mapped("source")), {"import"})

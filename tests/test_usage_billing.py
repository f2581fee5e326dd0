from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestUsageBilling(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.black = cls.env["serial.meter.type"].create(
            {"name": "Black (bill)", "code": "BBLACK"}
        )
        cls.pages = cls.env["product.product"].create(
            {"name": "Black pages", "type": "service", "list_price": 0.0}
        )
        cls.rental = cls.env["product.product"].create(
            {"name": "Copier rental", "type": "service", "list_price": 100.0}
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Billing"})
        cls.lots = cls._make_lots(
            cls.product_unit, ["BIL-1", "BIL-2", "BIL-3", "BIL-4"]
        )
        cls.lots.write({"customer_id": cls.customer.id})

    def _contract(self, lots, tariff, mode="draft"):
        template = self.env["sale.subscription.template"].create(
            {"name": f"Clicks {mode}", "invoicing_mode": mode}
        )
        return self._create_contract(
            self.customer,
            lots,
            template,
            pricelist=self.pricelist,
            lines=[{"product_id": self.rental.id, "price_unit": 100}],
            tariffs=[
                {"meter_type_id": self.black.id, "product_id": self.pages.id, **tariff}
            ],
            date_start=fields.Date.today() - timedelta(days=60),
        )

    def _read(self, lot, days_ago, value):
        return self.env["serial.meter.reading"].create(
            {
                "lot_id": lot.id,
                "meter_type_id": self.black.id,
                "reading_date": self.now - timedelta(days=days_ago),
                "value": value,
            }
        )

    def _read_spike(self, lot, value):
        """Three monthly readings of 100 pages, then `value` ten days ago: a
        spike, held for review."""
        for days_ago, usual in ((40, 1000), (30, 1100), (20, 1200)):
            self._read(lot, days_ago, usual)
        return self._read(lot, 10, value)

    def _chatter_text(self, contract):
        return " ".join(str(body) for body in contract.message_ids.mapped("body"))

    def _usage_lines(self, invoice):
        return invoice.invoice_line_ids.filtered(
            lambda line: line.product_id == self.pages
        )

    def test_per_serial_pricing_and_no_double_billing(self):
        lot1, lot2 = self.lots[:2]
        contract = self._contract(
            lot1 | lot2, {"included_qty": 1000, "price_unit": 0.02}
        )
        readings = (
            self._read(lot1, 40, 10000)
            | self._read(lot1, 5, 12500)
            | self._read(lot2, 40, 5000)
            | self._read(lot2, 5, 5600)
        )
        contract.generate_invoice()
        invoice = contract.invoice_ids
        self.assertEqual(len(invoice), 1)
        lines = self._usage_lines(invoice)
        by_serial = {("BIL-1" in line.name): line for line in lines}
        self.assertEqual(
            (by_serial[True].quantity, by_serial[True].price_unit), (1500, 0.02)
        )
        self.assertEqual(by_serial[True].price_subtotal, 30.0, "(2500 - 1000) x 0.02")
        self.assertEqual(by_serial[False].quantity, 0, "600 used, 1000 included")
        self.assertIn("10000", by_serial[True].name)
        self.assertIn("12500", by_serial[True].name)
        self.assertTrue(all(readings.mapped("invoice_line_id")))
        self.assertEqual(
            readings.filtered(lambda r: r.lot_id == lot1).invoice_line_id,
            by_serial[True],
        )
        # the next run bills nothing twice
        contract.recurring_next_date = fields.Date.today()
        contract.generate_invoice()
        second = contract.invoice_ids - invoice
        self.assertEqual(sum(self._usage_lines(second).mapped("quantity")), 0)
        self.assertEqual(readings.invoice_line_id.move_id, invoice)

    def test_pooled_tiers_and_minimum(self):
        lot3, lot4 = self.lots[2:]
        contract = self._contract(
            lot3 | lot4,
            {
                "included_qty": 1000,
                "pooled": True,
                "minimum_amount": 100,
                "tier_ids": [
                    Command.create({"from_qty": 0, "price_unit": 0.05}),
                    Command.create({"from_qty": 1000, "price_unit": 0.03}),
                ],
            },
        )
        self._read(lot3, 30, 0)
        self._read(lot3, 2, 1500)
        self._read(lot4, 30, 200)
        self._read(lot4, 2, 1200)
        contract.generate_invoice()
        lines = self._usage_lines(contract.invoice_ids).sorted("sequence")
        # pooled usage 2500 - 1000 included = 1500 billable:
        # 1000 at 0.05 + 500 at 0.03 = 65, topped up to the minimum of 100
        self.assertEqual(
            [(line.quantity, line.price_unit) for line in lines],
            [(1000, 0.05), (500, 0.03), (1, 35.0)],
        )
        self.assertAlmostEqual(sum(lines.mapped("price_subtotal")), 100.0)
        self.assertIn("BIL-3, BIL-4", lines[0].name)

    def test_minimum_without_usage(self):
        contract = self._contract(
            self.lots[0], {"included_qty": 10, "minimum_amount": 25}
        )
        contract.generate_invoice()
        lines = self._usage_lines(contract.invoice_ids)
        self.assertAlmostEqual(sum(lines.mapped("price_subtotal")), 25.0)

    def test_sale_order_mode(self):
        lot = self.lots[0]
        contract = self._contract(lot, {"price_unit": 0.1}, mode="sale_and_invoice")
        readings = self._read(lot, 20, 100) | self._read(lot, 1, 400)
        contract.generate_invoice()
        order = contract.sale_order_ids
        self.assertEqual(len(order), 1)
        usage_so_line = order.order_line.filtered(
            lambda line: line.product_id == self.pages
        )
        self.assertEqual(usage_so_line.product_uom_qty, 300)
        invoice_line = usage_so_line.invoice_lines
        self.assertEqual(invoice_line.price_subtotal, 30.0)
        self.assertEqual(readings.invoice_line_id, invoice_line)

    def test_one_failing_contract_does_not_stop_the_run(self):
        good = self._contract(self.lots[0], {"price_unit": 0.1})
        bad = self._contract(self.lots[1], {"price_unit": 0.1})
        self._read(self.lots[0], 3, 10)
        original = type(good)._prepare_account_move

        def prepare(subscription, line_ids):
            if subscription == bad:
                raise ValueError("broken contract")
            return original(subscription, line_ids)

        with patch.object(type(good), "_prepare_account_move", prepare):
            failed = self.env["sale.subscription"]._cron_usage_billing()
        self.assertEqual(failed, bad)
        self.assertEqual(len(good.invoice_ids), 1)
        self.assertFalse(bad.invoice_ids)
        self.assertIn("broken contract", bad.activity_ids.note)

    def test_billing_run_posts_a_batch_as_generate_invoice_does(self):
        lot1, lot2 = self.lots[:2]
        posted = self._contract(lot1, {"price_unit": 0.1}, mode="invoice")
        draft = self._contract(lot2, {"price_unit": 0.1})
        self._read(lot1, 20, 100)
        self._read(lot1, 1, 400)
        self._read(lot2, 20, 50)
        self._read(lot2, 1, 80)
        next_dates = {c: c.recurring_next_date for c in posted | draft}
        failed = (posted | draft)._run_usage_billing()
        self.assertFalse(failed)
        # one invoice each, in the state the template asks for: the batch
        # behaves as subscription_oca's generate_invoice, contract by contract
        self.assertEqual(posted.invoice_ids.state, "posted")
        self.assertEqual(draft.invoice_ids.state, "draft")
        usage = self._usage_lines(posted.invoice_ids)
        self.assertEqual((usage.quantity, usage.price_subtotal), (300, 30.0))
        self.assertEqual(self._usage_lines(draft.invoice_ids).quantity, 30)
        self.assertEqual(
            lot1.meter_reading_ids.invoice_line_id, usage, "billed once, on it"
        )
        # the next invoice dates moved on, and each contract says what it got
        for contract in posted | draft:
            self.assertGreater(contract.recurring_next_date, next_dates[contract])
        notes = {
            contract: " ".join(
                str(body) for body in contract.message_ids.mapped("body")
            )
            for contract in posted | draft
        }
        self.assertIn(posted.invoice_ids.name, notes[posted])
        self.assertIn("To validate", notes[draft])

    def test_billing_run_invoices_each_company_in_its_own_journals(self):
        other = self.env["res.company"].create({"name": "Billing Other Co"})
        self.env["account.chart.template"].try_loading(
            "generic_coa", company=other, install_demo=False
        )
        lot = self.lots[0]
        here = self._contract(lot, {"price_unit": 0.1})
        self._read(lot, 20, 100)
        self._read(lot, 1, 400)
        template = self.env["sale.subscription.template"].create(
            {"name": "Other company rental", "invoicing_mode": "draft"}
        )
        there = (
            self.env["sale.subscription"]
            .with_company(other)
            .create(
                {
                    "partner_id": self.customer.id,
                    "template_id": template.id,
                    "pricelist_id": self.pricelist.id,
                    "company_id": other.id,
                    "date_start": fields.Date.today() - timedelta(days=30),
                    "sale_subscription_line_ids": [
                        Command.create({"product_id": self.rental.id, "price_unit": 70})
                    ],
                }
            )
        )
        there.stage_id = self.env.ref("subscription_oca.subscription_stage_in_progress")
        # the product's taxes are the first company's (subscription_oca does
        # not filter them by company): none on the other company's line
        there.sale_subscription_line_ids.tax_ids = False
        self.assertFalse((here | there)._run_usage_billing())
        for contract in here | there:
            invoice = contract.invoice_ids
            self.assertEqual(len(invoice), 1)
            self.assertEqual(invoice.company_id, contract.company_id)
            self.assertEqual(invoice.journal_id.company_id, contract.company_id)
        self.assertEqual(there.invoice_ids.amount_untaxed, 70.0)
        self.assertEqual(self._usage_lines(here.invoice_ids).quantity, 300)

    def _due_contracts(self, count, tag):
        """count draft-mode contracts due today, one serial each with two
        readings to bill, sharing one template."""
        lots = self._make_lots(
            self.product_unit, [f"BILQ-{tag}-{i}" for i in range(count)]
        )
        lots.write({"customer_id": self.customer.id})
        first = self._contract(lots[0], {"included_qty": 10, "price_unit": 0.1})
        contracts = first
        for lot in lots[1:]:
            contracts |= self._contract(lot, {"included_qty": 10, "price_unit": 0.1})
        for index, lot in enumerate(lots):
            self._read(lot, 20, 100 * index)
            self._read(lot, 1, 100 * index + 60)
        contracts.invalidate_recordset()
        return contracts

    def test_billing_batch_queries_do_not_grow_with_the_batch(self):
        # a first run fills the caches of the registry (defaults, precisions)
        self.assertFalse(self._due_contracts(1, "warm")._run_usage_billing())
        for count in (3, 12):
            contracts = self._due_contracts(count, count)
            self.env.invalidate_all()
            # one query count for any batch size: reads, estimates, the
            # invoices' create and the readings' links are done in batch
            with self.assertQueryCount(99):
                self.assertFalse(contracts._run_usage_billing())
            self.assertEqual(len(contracts.invoice_ids), count)
            self.assertEqual(
                self._usage_lines(contracts.invoice_ids).mapped("quantity"),
                [50.0] * count,
            )

    # --- the scheduled job ------------------------------------------------
    def _cron_progress(self):
        cron = self.env.ref("subscription_oca.ir_cron_subscription_management")
        return self.env["ir.cron.progress"].create({"cron_id": cron.id})

    def test_scheduler_bills_due_contracts_once_and_reports_progress(self):
        contracts = self._due_contracts(3, "cron")
        progress = self._cron_progress()
        Sub = self.env["sale.subscription"].with_context(
            ir_cron_progress_id=progress.id
        )
        # one batch of two per call, no time left after it: Odoo calls again
        Sub.cron_subscription_management(batch_size=2, time_budget=0)
        self.assertEqual(progress.done, 2)
        self.assertGreater(progress.remaining, 0)
        for _call in range(50):
            if not progress.remaining:
                break
            Sub.cron_subscription_management(batch_size=2, time_budget=0)
        self.assertEqual(progress.remaining, 0)
        self.assertEqual([len(c.invoice_ids) for c in contracts], [1, 1, 1])
        # a second run bills nothing more
        Sub.cron_subscription_management()
        self.assertEqual([len(c.invoice_ids) for c in contracts], [1, 1, 1])

    def test_scheduler_failing_contract_gets_an_activity_others_billed(self):
        good = self._contract(self.lots[0], {"price_unit": 0.1})
        bad = self._contract(self.lots[1], {"price_unit": 0.1})
        self._read(self.lots[0], 3, 10)
        original = type(good)._prepare_account_move

        def prepare(subscription, line_ids):
            if subscription == bad:
                raise ValueError("broken contract")
            return original(subscription, line_ids)

        with patch.object(type(good), "_prepare_account_move", prepare):
            self.env["sale.subscription"].cron_subscription_management()
        self.assertEqual(len(good.invoice_ids), 1)
        self.assertFalse(bad.invoice_ids)
        self.assertIn("broken contract", bad.activity_ids.note)
        # tried today: not again today, whatever the number of calls
        self.env["sale.subscription"].cron_subscription_management()
        self.assertEqual(len(bad.activity_ids), 1)

    def test_scheduler_bills_a_contract_started_today_in_any_timezone(self):
        """subscription_oca dates a started contract's first invoice on the
        server's day: the scheduler bills it that day, whatever the user's
        time zone says the date is (a zone whose date differs from the
        server's now is chosen, behind it when one is)."""
        now = fields.Datetime.now()
        zone = "Etc/GMT+12" if now.hour < 12 else "Pacific/Kiritimati"
        self.env.user.tz = zone
        contract = self._contract(self.lots[0], {"price_unit": 0.1})
        self.assertEqual(contract.recurring_next_date, fields.Date.today())
        self.env["sale.subscription"].cron_subscription_management()
        self.assertEqual(len(contract.invoice_ids), 1)

    # --- held readings ------------------------------------------------------
    def test_held_spike_is_not_billed_until_approved(self):
        lot1, lot2 = self.lots[:2]
        contract = self._contract(lot1 | lot2, {"price_unit": 0.1})
        spike = self._read_spike(lot1, 501300)
        self._read(lot2, 20, 100)
        self._read(lot2, 10, 200)
        self.assertTrue(spike.is_flagged)
        self.assertEqual(spike.review_state, "to_review")
        contract.generate_invoice()
        lines = self._usage_lines(contract.invoice_ids)
        self.assertEqual(len(lines), 1, "the held serial has no line")
        self.assertIn("BIL-2", lines.name)
        self.assertFalse(spike.invoice_line_id)
        notes = self._chatter_text(contract)
        self.assertIn("BIL-1", notes)
        self.assertIn("501300", notes)
        # approved: billed on the next invoice
        spike.action_approve()
        self.assertEqual(spike.review_state, "approved")
        contract.recurring_next_date = fields.Date.today()
        contract.generate_invoice()
        second = contract.invoice_ids.sorted("id")[-1]
        by_serial = {
            line.name.split(":")[0]: line for line in self._usage_lines(second)
        }
        self.assertEqual(by_serial["Black (bill) of BIL-1"].price_unit, 0.1)
        self.assertEqual(by_serial["Black (bill) of BIL-1"].quantity, 500300)
        self.assertTrue(spike.invoice_line_id)

    def test_scheduler_names_the_held_spike_on_its_contract_only(self):
        """The batched run: the contract whose serial is held is invoiced
        without its usage and says why in its chatter; the other contract of
        the batch bills its usage and gets no such note."""
        held_lot, clean_lot = self.lots[:2]
        held_contract = self._contract(held_lot, {"price_unit": 0.1})
        clean_contract = self._contract(clean_lot, {"price_unit": 0.1})
        spike = self._read_spike(held_lot, 900150)
        self._read(clean_lot, 20, 100)
        self._read(clean_lot, 10, 150)
        self.assertEqual(spike.review_state, "to_review")
        self.env["sale.subscription"].cron_subscription_management()
        self.assertEqual(len(held_contract.invoice_ids), 1)
        self.assertFalse(self._usage_lines(held_contract.invoice_ids))
        self.assertFalse(spike.invoice_line_id)
        held_notes = self._chatter_text(held_contract)
        self.assertIn("Usage held for review", held_notes)
        self.assertIn(held_lot.name, held_notes)
        self.assertIn("900150", held_notes)
        self.assertEqual(self._usage_lines(clean_contract.invoice_ids).quantity, 50.0)
        clean_notes = self._chatter_text(clean_contract)
        self.assertNotIn("Usage held for review", clean_notes)

    def test_corrected_spike_releases_billing(self):
        lot = self.lots[0]
        contract = self._contract(lot, {"price_unit": 0.1})
        spike = self._read_spike(lot, 501300)
        self.assertEqual(spike.review_state, "to_review")
        spike.value = 1300
        self.assertNotEqual(spike.review_state, "to_review")
        contract.generate_invoice()
        line = self._usage_lines(contract.invoice_ids)
        self.assertEqual(line.quantity, 300)
        self.assertEqual(spike.invoice_line_id, line)

    # --- sub-cent prices and readable lines -----------------------------------
    def test_sub_cent_price_bills_the_exact_amount(self):
        lot = self.lots[0]
        contract = self._contract(lot, {"price_unit": 0.0085})
        self.assertEqual(contract.usage_tariff_ids.price_unit, 0.0085)
        self._read(lot, 30, 10000)
        self._read(lot, 2, 13457)
        contract.generate_invoice()
        line = self._usage_lines(contract.invoice_ids)
        # 3,457 x 0.0085 = 29.3845, rounded as any amount
        self.assertEqual(line.price_subtotal, 29.38)
        self.assertIn("start 10000 on", line.name)
        self.assertIn("end 13457 on", line.name)
        self.assertIn("3457 used, 0 included, 3457 billable", line.name)

    def test_sub_cent_tiers_pooled_and_minimum(self):
        lot3, lot4 = self.lots[2:]
        contract = self._contract(
            lot3 | lot4,
            {
                "included_qty": 500,
                "pooled": True,
                "minimum_amount": 40,
                "tier_ids": [
                    Command.create({"from_qty": 0, "price_unit": 0.0085}),
                    Command.create({"from_qty": 1000, "price_unit": 0.0065}),
                ],
            },
        )
        self._read(lot3, 30, 0)
        self._read(lot3, 2, 2457)
        self._read(lot4, 30, 100)
        self._read(lot4, 2, 1600)
        contract.generate_invoice()
        lines = self._usage_lines(contract.invoice_ids).sorted("sequence")
        # pooled 3957 - 500 = 3457: 1000 x 0.0085 = 8.50, 2457 x 0.0065 =
        # 15.9705 -> 15.97; 24.47 under the minimum of 40: 15.53 more
        self.assertEqual([line.price_subtotal for line in lines], [8.5, 15.97, 15.53])
        self.assertAlmostEqual(contract.invoice_ids.amount_untaxed, 140.0)

    def test_sub_cent_price_through_the_billing_run(self):
        lot = self.lots[0]
        contract = self._contract(lot, {"price_unit": 0.0085})
        self._read(lot, 30, 10000)
        self._read(lot, 2, 13457)
        self.assertFalse(contract._run_usage_billing())
        self.assertEqual(self._usage_lines(contract.invoice_ids).price_subtotal, 29.38)

    def test_manual_invoice_takes_the_billing_lock(self):
        contract = self._contract(self.lots[0], {"price_unit": 0.1})
        self.assertTrue(contract._lock_for_billing())
        contract.manual_invoice()
        self.assertEqual(len(contract.invoice_ids), 1)

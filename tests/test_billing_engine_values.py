"""The billing run gives Odoo's invoice engine the journal amounts of each
line: its invoices must be those Odoo computes by itself, field by field."""

from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools import config

from .common import SerialServiceCase

LINE_FIELDS = (
    "sequence",
    "name",
    "product_id",
    "quantity",
    "price_unit",
    "discount",
    "price_subtotal",
    "price_total",
    "balance",
    "amount_currency",
    "tax_ids",
    "account_id",
    "product_uom_id",
    "analytic_distribution",
)


@tagged("post_install", "-at_install")
class TestBillingEngineValues(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Pages (engine)", "code": "ENGPAGES"}
        )
        cls.tax = cls.env["account.tax"].create(
            {"name": "Engine VAT 15%", "amount": 15, "type_tax_use": "sale"}
        )
        cls.included_tax = cls.env["account.tax"].create(
            {
                "name": "Engine VAT 10% included",
                "amount": 10,
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
            }
        )
        cls.pages = cls.env["product.product"].create(
            {
                "name": "Engine pages",
                "type": "service",
                "taxes_id": [Command.set(cls.tax.ids)],
            }
        )
        cls.rental = cls.env["product.product"].create(
            {
                "name": "Engine rental",
                "type": "service",
                "taxes_id": [Command.set(cls.included_tax.ids)],
            }
        )
        plan = cls.env["account.analytic.plan"].create({"name": "Engine plan"})
        cls.analytic = cls.env["account.analytic.account"].create(
            {"name": "Engine copiers", "plan_id": plan.id}
        )
        cls.template = cls.env["sale.subscription.template"].create(
            {"name": "Engine clicks", "invoicing_mode": "draft"}
        )

    def _contract(self, names):
        lots = self._make_lots(self.product_unit, names)
        lots.write({"customer_id": self.customer.id})
        contract = self._create_contract(
            self.customer,
            lots,
            self.template,
            lines=[
                {
                    "product_id": self.rental.id,
                    "price_unit": 99.99,
                    "discount": 12.5,
                    "analytic_distribution": {str(self.analytic.id): 100},
                }
            ],
            tariffs=[
                {
                    "meter_type_id": self.meter.id,
                    "product_id": self.pages.id,
                    "included_qty": 100,
                    "tiers": [(0, 0.0085), (1000, 0.0065)],
                }
            ],
            date_start=fields.Date.today() - timedelta(days=60),
        )
        for index, lot in enumerate(lots):
            for days_ago, value in ((40, 1000), (3, 4457 + 13 * index)):
                self.env["serial.meter.reading"].create(
                    {
                        "lot_id": lot.id,
                        "meter_type_id": self.meter.id,
                        "reading_date": self.now - timedelta(days=days_ago),
                        "value": value,
                    }
                )
        return contract

    def _lines(self, invoice):
        return [
            {
                name: (
                    line[name].ids
                    if name in ("tax_ids",)
                    else line[name].id
                    if name in ("product_id", "account_id", "product_uom_id")
                    else (line[name] or "").split(" of ENG")[0]
                    if name == "name"
                    else line[name]
                )
                for name in LINE_FIELDS
            }
            for line in invoice.line_ids.sorted(
                lambda line: (line.display_type, line.sequence, line.balance)
            )
        ]

    def test_batch_invoice_is_the_invoice_odoo_computes(self):
        # the rental's tax is included in its price: the amounts given with
        # its line are wrong, and Odoo's engine must correct them
        odoo_side = self._contract(["ENG-A1", "ENG-A2"])
        batch_side = self._contract(["ENG-B1", "ENG-B2"])
        odoo_side.generate_invoice()
        self.assertFalse(batch_side._run_usage_billing())
        expected, billed = odoo_side.invoice_ids, batch_side.invoice_ids
        self.assertEqual(len(billed), 1)
        self.assertTrue(self.included_tax in billed.invoice_line_ids.tax_ids)
        for name in ("amount_untaxed", "amount_tax", "amount_total", "currency_id"):
            self.assertEqual(billed[name], expected[name], name)
        self.assertEqual(self._lines(billed), self._lines(expected))
        rental = billed.invoice_line_ids.filtered(
            lambda line: line.product_id == self.rental
        )
        self.assertEqual(rental.analytic_distribution, {str(self.analytic.id): 100})
        # 99.99 less 12.5 % = 87.49125 with 10 % included: 79.54 untaxed
        self.assertEqual(rental.price_subtotal, 79.54)
        self.assertEqual(rental.balance, -79.54)

    def test_line_amounts_are_given_in_the_company_currency(self):
        """The amounts go with the lines when the invoices are in the
        company's currency (a journal without a currency of its own), and
        not when a journal bills in another currency."""
        contract = self._contract(["ENG-C1"])
        currency = self.env.company.currency_id
        defaults = contract._get_invoice_batch_defaults()
        self.assertEqual(defaults["company_currency"], currency)
        vals_list, _usage = contract._prepare_invoices_batch_vals(
            contract._read_unbilled_readings()
        )
        lines = [command[2] for command in vals_list[0]["invoice_line_ids"]]
        self.assertTrue(lines)
        for line in lines:
            self.assertIn("amount_currency", line)
            self.assertEqual(line["balance"], line["amount_currency"])
        other = self.env.ref("base.EUR" if currency.name != "EUR" else "base.USD")
        other.active = True
        journal = self.env["account.journal"].create(
            {
                "name": "Foreign sales",
                "code": "FSAL",
                "type": "sale",
                "currency_id": other.id,
            }
        )
        contract.journal_id = journal
        self.assertFalse(contract._get_invoice_batch_defaults()["company_currency"])

    def test_time_budget_fits_the_cron_worker_limits(self):
        Sub = self.env["sale.subscription"]
        limits = {
            "workers": 2,
            "limit_time_real": 120,
            "limit_time_real_cron": -1,
            "limit_time_cpu": 60,
        }
        with patch.dict(config.options, limits):
            # ten calls a run, a quarter of the lowest limit (60 s of CPU)
            self.assertEqual(Sub._get_billing_time_budget(), 1.5)
        with patch.dict(config.options, dict(limits, limit_time_real_cron=20)):
            self.assertEqual(Sub._get_billing_time_budget(), 0.5)
        with patch.dict(config.options, dict(limits, workers=0)):
            # threaded server: it reloads itself when a cron thread's run
            # passes the real time limit (no CPU limit): a quarter of 120 s
            self.assertEqual(Sub._get_billing_time_budget(), 3.0)
        with patch.dict(
            config.options, dict(limits, workers=0, limit_time_real_cron=0)
        ):
            # 0 for the cron threads means the server's real time limit
            self.assertEqual(Sub._get_billing_time_budget(), 3.0)
        with patch.dict(config.options, dict(limits, workers=0, limit_time_real=0)):
            # no limit at all: the largest budget
            self.assertEqual(Sub._get_billing_time_budget(), 300)

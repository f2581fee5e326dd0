from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestRenewals(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the user's day, as the scheduler counts it (not UTC's)
        cls.today = fields.Date.context_today(cls.env["sale.subscription"])
        cls.pages = cls.env["serial.meter.type"].create(
            {"name": "Pages (renewal)", "code": "RENPAGES"}
        )
        cls.page_product = cls.env["product.product"].create(
            {"name": "Pages billed (renewal)", "type": "service"}
        )
        cls.rental = cls.env["product.product"].create(
            {"name": "Copier care (renewal)", "type": "service", "list_price": 100}
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Renewals"})
        cls.template = cls.env["sale.subscription.template"].create(
            {
                "name": "Yearly care",
                "recurring_rule_boundary": "limited",
                "recurring_rule_count": 12,
                "renewal_notice_days": 30,
            }
        )
        cls.lots = cls._make_lots(cls.product_unit, ["REN-1", "REN-2"])
        cls.lots.write({"customer_id": cls.customer.id})
        # a one-year term ending in 20 days
        cls.contract = cls._make_contract(
            cls.today + timedelta(days=20) - relativedelta(months=12), cls.lots
        )

    @classmethod
    def _make_contract(cls, start, lots, template=None, price=100.0):
        return cls._create_contract(
            cls.customer,
            lots,
            template or cls.template,
            pricelist=cls.pricelist,
            lines=[{"product_id": cls.rental.id, "price_unit": price}],
            rules=[
                {
                    "name": "Parts included",
                    "line_type": "part",
                    "coverage_percent": 100,
                },
                {
                    "name": "Consumables at half",
                    "line_type": "consumable",
                    "coverage_percent": 50,
                    "max_qty_per_period": 4,
                },
            ],
            tariffs=[
                {
                    "meter_type_id": cls.pages.id,
                    "product_id": cls.page_product.id,
                    "included_qty": 500,
                    "price_unit": 0.20,
                    "minimum_amount": 10.0,
                    "tiers": [(0, 0.40), (1000, 0.20)],
                }
            ],
            date_start=start,
        )

    def _invoice(self, contract, amount):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": contract.partner_id.id,
                "subscription_id": contract.id,
                "invoice_date": contract.date_start + timedelta(days=10),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.rental.id,
                            "price_unit": amount,
                            "tax_ids": [],
                        }
                    )
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _covered_cost(self, contract, cost):
        """A covered supply delivered under the contract, costing `cost`."""
        supply = self._make_product(
            "Renewal toner",
            categ=self.categ_consumables,
            tracking="none",
            service_line_type="consumable",
            standard_price=cost,
            list_price=cost * 2,
        )
        self.env["stock.quant"]._update_available_quantity(
            supply, self.stock_location, 5
        )
        lot = contract.covered_lot_ids[:1]
        contract.coverage_rule_ids.filtered(
            lambda r: r.line_type == "consumable"
        ).coverage_percent = 100
        order = lot.action_order_supplies(supply)
        for move in order.picking_ids.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        order.picking_ids.button_validate()
        self.env.flush_all()
        return order

    # --- the next term ---
    def test_renew_with_increase(self):
        old_lines = self.contract.sale_subscription_line_ids
        old_rules = self.contract.coverage_rule_ids
        old_tariff = self.contract.usage_tariff_ids
        renewal = self.contract.action_renew(percent=5.0)
        self.assertEqual(len(renewal), 1)
        self.assertEqual(renewal.partner_id, self.customer)
        self.assertEqual(renewal.template_id, self.template)
        self.assertEqual(renewal.covered_lot_ids, self.lots)
        self.assertEqual(renewal.date_start, self.contract.date + timedelta(days=1))
        self.assertEqual(renewal.date, renewal.date_start + relativedelta(months=12))
        self.assertEqual(renewal.renewed_from_id, self.contract)
        self.assertEqual(self.contract.renewal_id, renewal)
        self.assertAlmostEqual(renewal.sale_subscription_line_ids.price_unit, 105.0)
        self.assertAlmostEqual(renewal.recurring_total, 105.0)
        # rules: copies, same content
        self.assertEqual(len(renewal.coverage_rule_ids), 2)
        self.assertFalse(renewal.coverage_rule_ids & old_rules)
        self.assertEqual(
            sorted(renewal.coverage_rule_ids.mapped("name")),
            sorted(old_rules.mapped("name")),
        )
        half = renewal.coverage_rule_ids.filtered(lambda r: r.line_type == "consumable")
        self.assertEqual((half.coverage_percent, half.max_qty_per_period), (50, 4))
        # tariffs and tiers raised
        tariff = renewal.usage_tariff_ids
        self.assertNotEqual(tariff, old_tariff)
        self.assertEqual(tariff.included_qty, 500)
        self.assertAlmostEqual(tariff.price_unit, 0.21)
        self.assertAlmostEqual(tariff.minimum_amount, 10.5)
        self.assertEqual(
            [
                (t.from_qty, round(t.price_unit, 6))
                for t in tariff.tier_ids.sorted("from_qty")
            ],
            [(0, 0.42), (1000, 0.21)],
        )
        # the old contract keeps its history and prices
        self.assertEqual(self.contract.sale_subscription_line_ids, old_lines)
        self.assertAlmostEqual(old_lines.price_unit, 100.0)
        self.assertAlmostEqual(old_tariff.price_unit, 0.20)
        self.assertTrue(self.contract.in_progress)
        self.assertEqual(self.contract.covered_lot_ids, self.lots)
        # never twice
        with self.assertRaisesRegex(UserError, "already renewed"):
            self.contract.action_renew(5.0)

    def test_renewal_quotation_on_the_portal(self):
        renewal = self.contract.action_renew(10.0)
        order = renewal.renewal_order_id
        self.assertEqual(order.renewal_subscription_id, renewal)
        self.assertEqual(order.partner_id, self.customer)
        self.assertAlmostEqual(order.amount_untaxed, 110.0)
        self.assertEqual(renewal.stage_id.type, "draft")
        subscriptions = self.env["sale.subscription"].search_count([])
        self.contract._send_renewal_proposals()
        self.assertEqual(order.state, "sent")
        self.assertTrue(order.access_token)
        mail = order.message_ids.filtered(
            lambda m: "Renewal of your service contract" in (m.subject or "")
        )
        self.assertEqual(len(mail), 1)
        self.assertIn(order.get_portal_url(), mail.body)
        order.action_confirm()
        # the renewal is ready to start on its date; no second contract, and
        # the quotation is never invoiced (the contract bills itself)
        self.assertEqual(renewal.stage_id.type, "pre")
        self.assertEqual(self.env["sale.subscription"].search_count([]), subscriptions)
        self.assertEqual(order.order_line.qty_to_invoice, 0)

    def test_unlimited_contract_needs_no_renewal(self):
        forever = self.env["sale.subscription.template"].create({"name": "Forever"})
        contract = self._make_contract(
            self.today - timedelta(days=30), self.env["stock.lot"], forever
        )
        self.assertFalse(contract.date)
        with self.assertRaisesRegex(UserError, "no end date"):
            contract.action_renew()

    # --- contracts to renew, margin and suggested increase ---
    def test_contracts_to_renew(self):
        later = self._make_contract(
            self.today + timedelta(days=90) - relativedelta(months=12),
            self.env["stock.lot"],
        )
        action = self.env.ref("serial_service.sale_subscription_action_renewal")
        from odoo.tools.safe_eval import safe_eval

        listed = self.env["sale.subscription"].search(safe_eval(action.domain))
        self.assertIn(self.contract, listed)
        self.assertNotIn(later, listed)
        self.assertTrue(self.contract.renewal_due)
        self.assertFalse(later.renewal_due)
        self.template.renewal_notice_days = 120
        listed = self.env["sale.subscription"].search([("renewal_due", "=", True)])
        self.assertIn(later, listed)
        self.contract.action_renew()
        listed = self.env["sale.subscription"].search([("renewal_due", "=", True)])
        self.assertNotIn(self.contract, listed)
        not_due = self.env["sale.subscription"].search([("renewal_due", "=", False)])
        self.assertIn(self.contract, not_due)

    def test_margin_and_suggested_increase(self):
        self.company.service_target_margin = 20.0
        self._invoice(self.contract, 1000.0)
        self._covered_cost(self.contract, 900.0)
        self.contract.invalidate_recordset()
        self.assertAlmostEqual(self.contract.term_revenue, 1000.0)
        self.assertAlmostEqual(self.contract.term_cost, 900.0)
        self.assertAlmostEqual(self.contract.term_margin, 100.0)
        self.assertAlmostEqual(self.contract.term_margin_rate, 10.0)
        # 900 / (1 - 20 %) = 1125 needed: 12.5 % more
        self.assertAlmostEqual(self.contract.suggested_increase, 12.5)
        self.company.service_target_margin = 5.0
        self.contract.invalidate_recordset()
        self.assertEqual(self.contract.suggested_increase, 0.0)

    def test_bulk_preview_writes_nothing(self):
        self.company.service_target_margin = 20.0
        other = self._make_contract(
            self.today + timedelta(days=10) - relativedelta(months=12),
            self.env["stock.lot"],
            price=200.0,
        )
        self._invoice(self.contract, 1000.0)
        self._covered_cost(self.contract, 900.0)
        Subscription = self.env["sale.subscription"]
        before = Subscription.search_count([])
        orders_before = self.env["sale.order"].search_count([])
        action = (self.contract | other).action_open_renew_wizard()
        wizard = Form(
            self.env["serial.contract.renew"].with_context(**action["context"])
        )
        wizard.percent = 3.0
        wizard.use_suggested = True
        wizard = wizard.save()
        wizard.action_preview()
        self.assertEqual(wizard.state, "preview")
        self.assertEqual(Subscription.search_count([]), before)
        self.assertEqual(self.env["sale.order"].search_count([]), orders_before)
        self.assertFalse((self.contract | other).renewal_ids)
        lines = {line.subscription_id: line for line in wizard.line_ids}
        self.assertAlmostEqual(lines[self.contract].percent, 12.5)
        self.assertAlmostEqual(lines[self.contract].suggested_increase, 12.5)
        self.assertAlmostEqual(lines[other].percent, 3.0)
        self.assertAlmostEqual(lines[other].new_total, 206.0)
        # the consultant adjusts one line, then renews
        lines[other].percent = 4.0
        result = wizard.action_renew()
        renewals = Subscription.browse(result["domain"][0][2])
        self.assertEqual(len(renewals), 2)
        self.assertAlmostEqual(self.contract.renewal_id.recurring_total, 112.5)
        self.assertAlmostEqual(other.renewal_id.recurring_total, 208.0)
        self.assertEqual(set(renewals.renewal_order_id.mapped("state")), {"sent"})

    def test_renewal_notice_activity_once(self):
        self.contract.user_id = self.consultant
        Subscription = self.env["sale.subscription"]
        noticed = Subscription._cron_renewal_notice()
        self.assertIn(self.contract, noticed)
        activity = self.contract.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.consultant)
        self.assertEqual(self.contract.renewal_notice_date, self.today)
        Subscription._cron_renewal_notice()
        self.assertEqual(len(self.contract.activity_ids), 1)

    # --- end-of-term report ---
    def test_end_of_term_report(self):
        self._invoice(self.contract, 1000.0)
        self._covered_cost(self.contract, 300.0)
        rows = {row["lot"]: row for row in self.contract._get_term_report_rows()}
        self.assertEqual(set(rows), set(self.lots))
        first, second = self.lots
        self.assertAlmostEqual(rows[first]["supplies_cost"], 300.0)
        self.assertAlmostEqual(rows[second]["supplies_cost"], 0.0)
        self.assertAlmostEqual(rows[first]["revenue"], 500.0)
        self.assertAlmostEqual(rows[first]["margin"], 200.0)
        self.assertAlmostEqual(rows[second]["margin"], 500.0)
        html, _fmt = self.env["ir.actions.report"]._render_qweb_html(
            "serial_service.action_report_contract_term", self.contract.ids
        )
        self.assertIn(b"REN-1", html)
        self.assertIn(b"Supplies Cost", html)
        data = self.contract._export_term_xlsx()
        self.assertEqual(data[:2], b"PK")
        action = self.contract.action_export_term_xlsx()
        self.assertIn("/web/content/", action["url"])

    # --- access ---
    def test_access_per_role(self):
        with self.assertRaises(AccessError):
            self.contract.with_user(self.technician).action_renew(5.0)
        self.assertFalse(self.contract.renewal_ids)
        renewal = self.contract.with_user(self.consultant).action_renew(5.0)
        self.assertEqual(renewal.renewed_from_id, self.contract)
        wizard = (
            self.env["serial.contract.renew"]
            .with_user(self.manager)
            .create({"subscription_ids": [Command.set(self.contract.ids)]})
        )
        with self.assertRaisesRegex(UserError, "already renewed"):
            wizard.action_preview()
            wizard.action_renew()
        with self.assertRaises(AccessError):
            self.env["serial.contract.renew"].with_user(self.technician).create({})

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import SerialServiceCase


class SuppliesCase(SerialServiceCase):
    """A copier model with one toner meant for it (1,000 pages), a unit under
    a contract covering consumables and one without a contract."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.pages = cls.env["serial.meter.type"].create(
            {"name": "Pages (supplies)", "code": "SUPPAGES"}
        )
        cls.product_unit.meter_type_ids = cls.pages
        cls.toner = cls._make_product(
            "Test Toner",
            categ=cls.categ_consumables,
            tracking="none",
            service_line_type="consumable",
            supply_yield=1000,
            list_price=80.0,
            standard_price=30.0,
            default_code="TT-1",
        )
        cls.drum = cls._make_product(
            "Test Drum",
            categ=cls.categ_parts,
            tracking="none",
            supply_yield=5000,
            list_price=200.0,
            standard_price=120.0,
            default_code="TD-1",
        )
        cls.foreign_toner = cls._make_product(
            "Toner for another model",
            categ=cls.categ_consumables,
            tracking="none",
            supply_yield=1000,
            default_code="TX-9",
        )
        cls.product_unit.supply_product_ids = cls.toner | cls.drum
        for product in cls.toner | cls.drum | cls.foreign_toner:
            cls.env["stock.quant"]._update_available_quantity(
                product, cls.stock_location, 100
            )
        cls.covered, cls.uncovered, cls.foreign = cls._make_lots(
            cls.product_unit, ["SUP-COV", "SUP-UNC", "SUP-OTHER"]
        )
        start = fields.Date.today() - timedelta(days=90)
        (cls.covered | cls.uncovered).write(
            {
                "customer_id": cls.customer.id,
                "site_id": cls.customer_site.id,
                "delivery_date": start,
            }
        )
        cls.foreign.write(
            {"customer_id": cls.other_customer.id, "delivery_date": start}
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Supplies"})
        cls.customer.property_product_pricelist = cls.pricelist
        cls.template = cls.env["sale.subscription.template"].create(
            {"name": "Toner included"}
        )
        cls.contract = cls._create_contract(
            cls.customer,
            cls.covered,
            cls.template,
            pricelist=cls.pricelist,
            rules=[
                {
                    "name": "Consumables included",
                    "line_type": "consumable",
                    "coverage_percent": 100,
                }
            ],
            date_start=start,
        )

    @classmethod
    def _read(cls, lot, days_ago, value):
        return cls.env["serial.meter.reading"].create(
            {
                "lot_id": lot.id,
                "meter_type_id": cls.pages.id,
                "reading_date": cls.now - timedelta(days=days_ago),
                "value": value,
            }
        )

    def _deliver_order(self, order, days_ago=0):
        picking = order.picking_ids
        self.assertEqual(len(picking), 1)
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        if days_ago:
            picking.move_ids.write({"date": self.now - timedelta(days=days_ago)})
        return picking

    def _supply_orders(self, lots):
        return (
            self.env["sale.order.line"]
            .search([("supply_lot_id", "in", lots.ids)])
            .order_id
        )


@tagged("post_install", "-at_install")
class TestSupplies(SuppliesCase):
    def test_covered_supplies_ship_at_zero(self):
        order = self.covered.action_order_supplies(self.toner, qty=2)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.partner_id, self.customer)
        self.assertEqual(order.partner_shipping_id, self.customer_site)
        line = order.order_line
        self.assertEqual(line.supply_lot_id, self.covered)
        self.assertEqual(line.product_uom_qty, 2)
        self.assertEqual(line.price_unit, 0.0)
        self.assertEqual(order.amount_untaxed, 0.0)
        self.assertEqual(line.supply_coverage_source, "contract")
        self.assertEqual(line.supply_subscription_id, self.contract)
        self.assertIn(self.contract.name, line.supply_coverage_reason)
        self.assertIn(line.supply_coverage_reason, line.name)
        self.assertTrue(order.is_supply_order)
        # Odoo's delivery follows the confirmation, to the unit's site
        self.assertEqual(order.picking_ids.partner_id, self.customer_site)
        self.assertEqual(order.picking_ids.move_ids.product_uom_qty, 2)

    def test_uncovered_supplies_are_charged(self):
        order = self.uncovered.action_order_supplies(self.toner)
        line = order.order_line
        self.assertEqual(line.price_unit, 80.0)
        self.assertEqual(line.supply_coverage_source, "none")
        self.assertFalse(line.supply_subscription_id)
        self.assertIn("no running contract", line.supply_coverage_reason)

    def test_supply_priced_as_consumable_whatever_its_type(self):
        # the drum says nothing of its line type (a part by default): the
        # contract's consumables rule still covers it on a supplies order
        order = self.covered.action_order_supplies(self.drum)
        self.assertEqual(order.order_line.price_unit, 0.0)
        self.assertEqual(order.order_line.supply_coverage_source, "contract")

    def test_order_needs_a_customer(self):
        lot = self._make_lots(self.product_unit, ["SUP-STOCK"])
        with self.assertRaisesRegex(UserError, "no customer"):
            lot.action_order_supplies(self.toner)
        self.assertFalse(self._supply_orders(lot))

    def test_office_wizard(self):
        action = self.covered.action_open_supply_order_wizard()
        wizard = Form(self.env["serial.supply.order"].with_context(**action["context"]))
        wizard.product_id = self.toner
        wizard.quantity = 1
        self.assertIn(self.contract.name, wizard.coverage_reason)
        result = wizard.save().action_order()
        order = self.env["sale.order"].browse(result["res_id"])
        self.assertEqual(order.order_line.supply_lot_id, self.covered)
        self.assertEqual(order.supply_trigger, "office")
        self.assertEqual(self.covered.supply_order_count, 1)

    # --- automatic orders ---
    def test_one_automatic_order_by_yield(self):
        order = self.covered.action_order_supplies(self.toner)
        self._deliver_order(order, days_ago=30)
        self._read(self.covered, 31, 10000)
        # 850 pages since the delivered toner: under 1,000 less 10 %
        self._read(self.covered, 5, 10850)
        self.env["stock.lot"]._cron_supplies()
        self.assertEqual(self._supply_orders(self.covered), order)
        # 900 pages: due
        self._read(self.covered, 1, 10900)
        self.env["stock.lot"]._cron_supplies()
        auto = self._supply_orders(self.covered) - order
        self.assertEqual(len(auto), 1)
        self.assertEqual(auto.supply_trigger, "yield")
        self.assertEqual(auto.order_line.product_id, self.toner)
        self.assertEqual(auto.order_line.price_unit, 0.0)
        self.assertEqual(auto.state, "sale")
        # never a second while it is open
        self._read(self.covered, 0, 11500)
        self.env["stock.lot"]._cron_supplies()
        self.assertEqual(self._supply_orders(self.covered), order | auto)

    def test_reorder_margin_is_the_company_s(self):
        self.company.supply_reorder_margin = 30.0
        order = self.covered.action_order_supplies(self.toner)
        self._deliver_order(order, days_ago=30)
        self._read(self.covered, 31, 0)
        self._read(self.covered, 2, 700)
        self.env["stock.lot"]._cron_supplies()
        self.assertEqual(len(self._supply_orders(self.covered)), 2)

    def test_yield_counts_from_service_start_without_delivery(self):
        # no supplies delivered yet: usage since the unit's delivery counts
        # against the yield of the item it came with
        self._read(self.uncovered, 80, 0)
        self._read(self.uncovered, 1, 950)
        self.env["stock.lot"]._cron_supplies()
        orders = self._supply_orders(self.uncovered)
        self.assertEqual(orders.order_line.product_id, self.toner)
        self.assertEqual(orders.order_line.price_unit, 80.0)

    def test_device_level_orders_once(self):
        Lot = self.env["stock.lot"]
        orders = Lot._order_supplies_by_level([(self.covered, self.toner, 35.0)])
        self.assertFalse(orders)
        self.assertFalse(self._supply_orders(self.covered))
        orders = Lot._order_supplies_by_level([(self.covered, self.toner, 10.0)])
        order = orders[(self.covered.id, self.toner.id)]
        self.assertEqual(order.supply_trigger, "device")
        self.assertEqual(order.order_line.supply_lot_id, self.covered)
        # the device keeps reporting a low level: no second order while open
        again = Lot._order_supplies_by_level([(self.covered, self.toner, 4.0)])
        self.assertFalse(again)
        self.assertEqual(self._supply_orders(self.covered), order)
        # delivered: the next low level orders again
        self._deliver_order(order)
        later = Lot._order_supplies_by_level([(self.covered, self.toner, 5.0)])
        self.assertEqual(len(later), 1)

    def test_cron_batch_query_count(self):
        lots = self._make_lots(self.product_unit, [f"SUP-B{i}" for i in range(6)])
        lots.write(
            {
                "customer_id": self.customer.id,
                "delivery_date": fields.Date.today() - timedelta(days=60),
            }
        )
        for lot in lots:
            self._read(lot, 50, 0)
            self._read(lot, 1, 100)
        self.env.flush_all()
        self.env.invalidate_all()
        # nothing due: the batch costs the same reads for 6 units as for 1
        with self.assertQueryCount(__system__=12):
            lots._get_supply_reorder_items()

    # --- excess ---
    def test_supply_excess_flag(self):
        self._read(self.uncovered, 100, 0)
        self._read(self.uncovered, 1, 1700)
        first = self.uncovered.action_order_supplies(self.toner, qty=2)
        self._deliver_order(first, days_ago=60)
        # 2,000 pages of toner for 1,700 printed: within 25 %
        self.uncovered._refresh_supply_excess()
        self.assertFalse(self.uncovered.supply_excess)
        second = self.uncovered.action_order_supplies(self.toner, qty=1)
        self._deliver_order(second, days_ago=10)
        # 3,000 pages for 1,700: excess
        self.uncovered._refresh_supply_excess()
        self.assertTrue(self.uncovered.supply_excess)
        self.assertIn("Test Toner", self.uncovered.supply_excess_note)
        action = self.env.ref("serial_service.stock_lot_action_supply_excess")
        listed = self.env["stock.lot"].search(safe_eval(action.domain))
        self.assertIn(self.uncovered, listed)
        self.assertNotIn(self.covered, listed)

    def test_old_deliveries_leave_the_window(self):
        self._read(self.uncovered, 100, 0)
        self._read(self.uncovered, 1, 100)
        order = self.uncovered.action_order_supplies(self.toner, qty=3)
        self._deliver_order(order, days_ago=200)
        self.uncovered._refresh_supply_excess()
        self.assertFalse(self.uncovered.supply_excess)

    # --- profitability ---
    def test_supplies_cost_in_contract_profitability(self):
        order = self.covered.action_order_supplies(self.toner, qty=2)
        Report = self.env["serial.contract.profit.report"]
        self.env.flush_all()
        self.assertFalse(
            Report.search(
                [
                    ("subscription_id", "=", self.contract.id),
                    ("row_type", "=", "supply"),
                ]
            )
        )
        self._deliver_order(order)
        self.env.flush_all()
        rows = Report.search(
            [("subscription_id", "=", self.contract.id), ("row_type", "=", "supply")]
        )
        self.assertEqual(len(rows), 1)
        self.assertAlmostEqual(rows.cost, 60.0)
        self.assertAlmostEqual(rows.margin, -60.0)
        self.assertEqual(rows.line_type, "consumable")
        self.assertAlmostEqual(self.contract.term_cost, 60.0)

    def test_uncovered_supplies_cost_nothing_to_a_contract(self):
        order = self.uncovered.action_order_supplies(self.toner)
        self._deliver_order(order)
        self.env.flush_all()
        self.assertFalse(
            self.env["serial.contract.profit.report"].search(
                [
                    ("row_type", "=", "supply"),
                    ("cost", "!=", 0),
                    ("partner_id", "=", self.customer.id),
                ]
            )
        )

    def test_shipped_mail(self):
        order = self.covered.action_order_supplies(self.toner)
        picking = self._deliver_order(order)
        messages = picking.message_ids.filtered(
            lambda m: "on their way" in (m.subject or "")
        )
        self.assertEqual(len(messages), 1)
        self.assertIn("SUP-COV", messages.body)

    # --- access ---
    def test_access_per_role(self):
        supplies = new_test_user(
            self.env,
            login="test_supplies_manager",
            groups="serial_service.group_supplies_manager",
        )
        order = self.covered.with_user(supplies).action_order_supplies(self.toner)
        self.assertEqual(order.order_line.price_unit, 0.0)
        self.assertTrue(
            self.env.ref("serial_service.sale_order_menu_supplies_root")
            .with_user(supplies)
            ._filter_visible_menus()
        )
        # a technician sells nothing
        with self.assertRaises(AccessError):
            self.covered.with_user(self.technician).action_order_supplies(self.toner)
        self.assertFalse(
            self.env.ref("serial_service.sale_order_menu_supplies_root")
            .with_user(self.technician)
            ._filter_visible_menus()
        )

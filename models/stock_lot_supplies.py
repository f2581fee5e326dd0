from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_round


class StockLot(models.Model):
    """Supplies under contract: the unit's supplies orders, ordered from the
    office, the portal or the device API, each line priced by the unit's
    coverage. Automatic orders: stock_lot_supplies_automatic; the excess
    flag: stock_lot_supplies_excess."""

    _inherit = "stock.lot"

    # --- supplies under contract ---
    supply_line_ids = fields.One2many(
        "sale.order.line", "supply_lot_id", string="Supplies Lines"
    )
    supply_order_count = fields.Integer(
        compute="_compute_supply_order_count", string="Supplies Orders"
    )
    supply_excess = fields.Boolean(
        string="Supplies Excess",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        help="Supplies delivered over the last 180 days exceed what the unit's "
        "usage needed by more than 25 %.",
    )
    supply_excess_note = fields.Char(
        string="Supplies Excess Detail", readonly=True, copy=False
    )

    def _compute_supply_order_count(self):
        groups = self.env["sale.order.line"]._read_group(
            [("supply_lot_id", "in", self.ids)],
            ["supply_lot_id"],
            ["order_id:count_distinct"],
        )
        counts = {lot.id: count for lot, count in groups}
        for lot in self:
            lot.supply_order_count = counts.get(lot.id, 0)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_view_supply_orders(self):
        self.ensure_one()
        orders = self.supply_line_ids.order_id
        action = self.env["ir.actions.actions"]._for_xml_id(
            "sale.action_quotations_with_onboarding"
        )
        action.update(
            {
                "name": self.env._("Supplies of %(serial)s", serial=self.name),
                "domain": [("id", "in", orders.ids)],
                "context": {"create": False},
            }
        )
        return action

    def action_open_supply_order_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Order Supplies"),
            "res_model": "serial.supply.order",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lot_id": self.id},
        }

    def action_order_supplies(self, product, qty=1):
        """A confirmed supplies order of `qty` `product` for this unit's
        customer, delivered to its site, priced by its coverage as a
        consumable line (covered supplies at 0, the reason in the line).
        Odoo's delivery follows from the confirmation. Returns the order."""
        self.ensure_one()
        if product._name == "product.template":
            product = product.product_variant_id
        return self._order_supplies(
            [{"lot": self, "product": product, "qty": qty}],
            trigger=self.env.context.get("serial_supply_trigger", "office"),
        )

    def _portal_order_supplies(self, product, qty):
        """The customer orders supplies for its own unit on the portal: only
        those meant for the unit's model, and no more than its usage
        justifies. Called on the sudo serial the portal checked is the
        user's own."""
        self.ensure_one()
        if product not in self.product_id.supply_product_ids:
            raise UserError(
                self.env._(
                    "%(product)s is not a supply of %(model)s.",
                    product=product.display_name,
                    model=self.product_id.display_name,
                )
            )
        allowance = self._get_supply_allowance(product)
        if allowance is not None and qty > allowance:
            if allowance:
                message = self.env._(
                    "You can order at most %(max)s more %(product)s for serial "
                    "%(serial)s now: the supplies shipped over the last 180 days "
                    "cover its printing. Please call us if you need more.",
                    max=int(allowance),
                    product=product.name,
                    serial=self.name,
                )
            else:
                message = self.env._(
                    "No more %(product)s can be ordered for serial %(serial)s now: "
                    "the supplies shipped over the last 180 days, or on their way, "
                    "cover its printing. Please call us if you need more.",
                    product=product.name,
                    serial=self.name,
                )
            raise UserError(message)
        user = self.env.user
        return self._order_supplies(
            [
                {
                    "lot": self,
                    "product": product,
                    "qty": qty,
                    "note": self.env._(
                        "Ordered on the portal by %(user)s.", user=user.name
                    ),
                }
            ],
            trigger="portal",
        )

    # ------------------------------------------------------------------
    # Supplies orders
    # ------------------------------------------------------------------
    @api.model
    def _order_supplies(self, items, trigger="office"):
        """One confirmed order per item ({'lot', 'product', 'qty', 'note'?}),
        created in one call, priced by one coverage batch."""
        if not items:
            return self.env["sale.order"]
        for item in items:
            self._check_supply_item(item["lot"], item["product"], item["qty"])
        # supplies are priced as consumable lines, whatever their product says
        coverages = self.env["stock.lot"]._get_service_coverage_batch(
            [
                {
                    "lot": item["lot"],
                    "product": item["product"].with_context(serial_supply_line=True),
                    "qty": item["qty"],
                }
                for item in items
            ]
        )
        vals_list = [
            item["lot"]._prepare_supply_order_vals(
                item["product"], item["qty"], coverage, trigger, item.get("note")
            )
            for item, coverage in zip(items, coverages, strict=True)
        ]
        orders = self.env["sale.order"].create(vals_list)
        orders.action_confirm()
        return orders

    def _check_supply_item(self, lot, product, qty):
        if not lot.customer_id:
            raise UserError(
                self.env._(
                    "Serial %(serial)s has no customer: supplies cannot be "
                    "ordered for it.",
                    serial=lot.name,
                )
            )
        if not product or product.type != "consu":
            raise UserError(
                self.env._(
                    "Only goods can be ordered as supplies (%(product)s is not).",
                    product=product.display_name or "-",
                )
            )
        if float_compare(qty, 0.0, precision_digits=2) <= 0:
            raise UserError(
                self.env._("Order at least one %(product)s.", product=product.name)
            )

    def _prepare_supply_order_vals(self, product, qty, coverage, trigger, note=None):
        """Values of the supplies order of this unit (never writes)."""
        self.ensure_one()
        customer = self.customer_id
        pricelist = customer.property_product_pricelist
        price = (
            pricelist._get_product_price(product, qty)
            if pricelist
            else product.lst_price
        )
        percent = coverage["percent"] or 0.0
        price = float_round(price * (100.0 - percent) / 100.0, precision_digits=6)
        reason = coverage["reason"] or ""
        description = self.env._(
            "%(product)s for serial %(serial)s",
            product=product.display_name,
            serial=self.name,
        )
        if reason:
            description = f"{description}\n{reason}"
        return {
            "partner_id": customer.id,
            "partner_shipping_id": (self.site_id or customer).id,
            "company_id": (self.company_id or self.env.company).id,
            "pricelist_id": pricelist.id or False,
            "origin": self.name,
            "supply_trigger": trigger,
            "note": note or False,
            "order_line": [
                Command.create(
                    {
                        "product_id": product.id,
                        "product_uom_qty": qty,
                        "name": description,
                        "price_unit": price,
                        "supply_lot_id": self.id,
                        "supply_coverage_source": coverage["source"],
                        "supply_coverage_percent": percent,
                        "supply_coverage_reason": reason,
                        "supply_subscription_id": coverage["subscription_id"]
                        if coverage["source"] == "contract"
                        else False,
                    }
                )
            ],
        }

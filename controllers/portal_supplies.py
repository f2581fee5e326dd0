"""Customer portal: order supplies for a unit from its page."""

from odoo import http
from odoo.exceptions import ValidationError
from odoo.http import request

from .portal import SerialServicePortal


class SerialServicePortalSupplies(SerialServicePortal):
    def _serial_get_page_view_values(self, lot_sudo, **kwargs):
        supply_error = kwargs.pop("supply_error", None)
        supply_ordered = kwargs.pop("supply_ordered", None)
        values = super()._serial_get_page_view_values(lot_sudo, **kwargs)
        values.update(
            {
                "supply_products": lot_sudo.product_id.supply_product_ids,
                "supply_error": supply_error,
                "supply_ordered": supply_ordered,
            }
        )
        return values

    @http.route(
        ["/my/serials/<int:lot_id>/supplies"],
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def portal_my_serial_supplies(self, lot_id, product_id=None, quantity=None, **kw):
        """Order supplies meant for this unit's model; a refused order comes
        back on the page with its reason, and nothing is created."""
        lot_sudo = self._portal_check_own("stock.lot", lot_id)

        def order_supplies():
            product, qty = self._parse_portal_supply(lot_sudo, product_id, quantity)
            # sudo: the serial passed the access check above (the customer's
            # own); the order goes to that customer only
            return lot_sudo._portal_order_supplies(product, qty)

        order, refused_page = self._serial_form_submit(
            lot_sudo, order_supplies, "supply_error"
        )
        return refused_page or request.redirect(
            f"/my/serials/{lot_sudo.id}?supply_ordered={order.name}"
        )

    def _parse_portal_supply(self, lot_sudo, product_id, quantity):
        env = request.env
        products = lot_sudo.product_id.supply_product_ids
        product = products.filtered(lambda p: str(p.id) == str(product_id or ""))
        if not product:
            raise ValidationError(
                env._("Choose one of the supplies meant for this unit.")
            )
        try:
            qty = int(str(quantity or "1").strip())
        except ValueError as error:
            raise ValidationError(
                env._("The quantity must be a whole number.")
            ) from error
        if qty < 1:
            raise ValidationError(env._("Order at least one item."))
        return product, qty

from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    # --- supplies under contract: the customer is told they are on the way ---
    def _action_done(self):
        res = super()._action_done()
        shipped = self.filtered(
            lambda p: (
                p.state == "done"
                and p.picking_type_code == "outgoing"
                and p.sale_id.is_supply_order
            )
        )
        if shipped:
            template = self.env.ref(
                "serial_service.mail_template_supplies_shipped",
                raise_if_not_found=False,
            )
            if template:
                for picking in shipped:
                    picking.message_post_with_source(
                        template,
                        subtype_xmlid="mail.mt_comment",
                        partner_ids=picking.sale_id.partner_id.ids,
                    )
            lots = shipped.move_ids.sale_line_id.supply_lot_id
            lots._refresh_supply_excess()
        return res

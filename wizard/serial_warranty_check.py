from odoo import api, fields, models


class SerialWarrantyCheck(models.TransientModel):
    _name = "serial.warranty.check"
    _description = "Warranty Check"
    _inherit = ["barcodes.barcode_events_mixin"]

    serial = fields.Char(string="Serial Number", help="Type or scan the serial.")
    lot_id = fields.Many2one("stock.lot", compute="_compute_lot_id", string="Unit")
    product_id = fields.Many2one(related="lot_id.product_id")
    customer_id = fields.Many2one(related="lot_id.customer_id")
    site_id = fields.Many2one(related="lot_id.site_id")
    warranty_policy_id = fields.Many2one(related="lot_id.warranty_policy_id")
    warranty_state = fields.Selection(related="lot_id.warranty_state")
    warranty_start_date = fields.Date(related="lot_id.warranty_start_date")
    warranty_end_date = fields.Date(related="lot_id.warranty_end_date")
    supplier_warranty_end_date = fields.Date(
        related="lot_id.supplier_warranty_end_date"
    )
    covers = fields.Char(compute="_compute_lot_id", string="Covers")
    running_subscription_id = fields.Many2one(related="lot_id.running_subscription_id")
    request_ids = fields.Many2many(
        "maintenance.request", compute="_compute_lot_id", string="Last Jobs"
    )
    message = fields.Char(compute="_compute_lot_id")

    @api.depends("serial")
    def _compute_lot_id(self):
        names = [w.serial.strip() for w in self if w.serial]
        lots = self.env["stock.lot"].search([("name", "in", names)]) if names else []
        by_name = {lot.name: lot for lot in lots}
        for wizard in self:
            lot = by_name.get((wizard.serial or "").strip(), self.env["stock.lot"])
            wizard.lot_id = lot
            policy = lot.warranty_policy_id
            wizard.covers = ", ".join(
                label
                for flag, label in (
                    (policy.covers_parts, self.env._("parts")),
                    (policy.covers_labour, self.env._("labour")),
                    (policy.covers_travel, self.env._("travel")),
                )
                if flag
            )
            wizard.request_ids = lot.request_ids.sorted("request_date", reverse=True)[
                :5
            ]
            wizard.message = (
                self.env._("No serial number %(serial)s.", serial=wizard.serial)
                if wizard.serial and not lot
                else ""
            )

    def on_barcode_scanned(self, barcode):
        self.serial = barcode

    def action_open_serial(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "stock.lot",
            "res_id": self.lot_id.id,
            "view_mode": "form",
        }

    def action_print_certificate(self):
        self.ensure_one()
        return self.env.ref(
            "serial_service.stock_lot_warranty_certificate"
        ).report_action(self.lot_id)

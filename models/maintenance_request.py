from odoo import api, fields, models


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    lot_id = fields.Many2one(
        "stock.lot",
        string="Serial Number",
        index=True,
        tracking=True,
        check_company=True,
        domain="[('product_id.tracking', '=', 'serial')]",
    )
    customer_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_customer_id",
        store=True,
        readonly=False,
        index=True,
        tracking=True,
    )

    subscription_id = fields.Many2one(
        "sale.subscription",
        string="Contract",
        index=True,
        tracking=True,
        check_company=True,
        compute="_compute_subscription_id",
        store=True,
        readonly=False,
        help="Contract covering the serial on the request date.",
    )
    service_line_ids = fields.One2many(
        "serial.service.line", "request_id", string="Service Lines"
    )
    meter_reading_ids = fields.One2many(
        "serial.meter.reading", "request_id", string="Meter Readings"
    )
    recall_id = fields.Many2one(
        "serial.recall", string="Recall", index=True, readonly=True, copy=False
    )

    @api.depends("lot_id")
    def _compute_customer_id(self):
        for request in self:
            if request.lot_id:
                request.customer_id = request.lot_id.customer_id

    @api.depends("lot_id", "request_date")
    def _compute_subscription_id(self):
        for request in self:
            if request.lot_id and request.request_date:
                request.subscription_id = request.lot_id._get_running_contract(
                    request.request_date
                )
            else:
                request.subscription_id = False

    @api.onchange("lot_id")
    def _onchange_lot_id(self):
        if self.lot_id.equipment_id:
            self.equipment_id = self.lot_id.equipment_id

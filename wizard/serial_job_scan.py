from odoo import api, fields, models
from odoo.exceptions import UserError


class SerialJobScan(models.TransientModel):
    """The job form's "Scan serial" button: type or scan the unit's serial, see
    its warranty and contract, and set it on the job."""

    _name = "serial.job.scan"
    _description = "Scan the Unit of a Job"

    request_id = fields.Many2one(
        "maintenance.request",
        string="Job",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    code = fields.Char(
        string="Serial Number", help="Type or scan the unit's serial number."
    )
    lot_id = fields.Many2one("stock.lot", string="Unit", compute="_compute_lot_id")
    message = fields.Char(compute="_compute_lot_id")
    product_id = fields.Many2one(related="lot_id.product_id")
    customer_id = fields.Many2one(related="lot_id.customer_id")
    warranty_state = fields.Selection(related="lot_id.warranty_state")
    warranty_end_date = fields.Date(related="lot_id.warranty_end_date")
    running_subscription_id = fields.Many2one(
        related="lot_id.running_subscription_id", string="Contract"
    )
    request_count = fields.Integer(related="lot_id.request_count")

    @api.depends("code", "request_id.company_id")
    def _compute_lot_id(self):
        codes = {(w.code or "").strip() for w in self} - {""}
        companies = self.request_id.company_id
        lots = self.env["stock.lot"].search(
            [
                ("name", "in", list(codes)),
                ("company_id", "in", [*companies.ids, False]),
            ]
        )
        for wizard in self:
            code = (wizard.code or "").strip()
            company = wizard.request_id.company_id
            found = lots.filtered(
                lambda lot, c=code, co=company: (
                    lot.name == c and lot.company_id in (co, co.browse())
                )
            )
            # a part may share its serial with a unit of another product:
            # the unit is the serial of a service-managed product
            if len(found) > 1:
                found = found.filtered("product_id.serial_service_managed") or found
            wizard.lot_id = found if len(found) == 1 else False
            if not code:
                wizard.message = False
            elif not found:
                wizard.message = self.env._("No serial number %(code)s.", code=code)
            elif len(found) > 1:
                wizard.message = self.env._(
                    "Several units carry serial number %(code)s (%(products)s): "
                    "open the job's form to choose one.",
                    code=code,
                    products=", ".join(found.product_id.mapped("display_name")),
                )
            else:
                wizard.message = False

    def action_apply(self):
        self.ensure_one()
        if not self.lot_id:
            raise UserError(
                self.message or self.env._("Type or scan the unit's serial number.")
            )
        self.request_id._set_unit(self.lot_id)
        return {"type": "ir.actions.act_window_close"}

from odoo import api, fields, models
from odoo.exceptions import UserError


class SerialJobSign(models.TransientModel):
    """The job form's "Sign" button: the customer signs on the phone."""

    _name = "serial.job.sign"
    _description = "Customer Signature of a Job"

    request_id = fields.Many2one(
        "maintenance.request",
        string="Job",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    signed_by = fields.Char(
        compute="_compute_signed_by",
        store=True,
        readonly=False,
        help="Name of the person who signs for the customer.",
    )
    signature = fields.Image(max_width=1024, max_height=1024)

    @api.depends("request_id")
    def _compute_signed_by(self):
        for wizard in self:
            wizard.signed_by = wizard.request_id.signed_by

    def action_apply(self):
        self.ensure_one()
        if not (self.signed_by or "").strip():
            raise UserError(self.env._("Type the name of the person who signs."))
        if not self.signature:
            raise UserError(self.env._("Ask %(name)s to sign.", name=self.signed_by))
        self.request_id._check_job_editable()
        self.request_id.write(
            {
                "signature": self.signature,
                "signed_by": self.signed_by.strip(),
                "signed_on": fields.Datetime.now(),
            }
        )
        return {"type": "ir.actions.act_window_close"}

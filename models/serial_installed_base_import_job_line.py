from odoo import api, fields, models


class SerialInstalledBaseImportJobLine(models.Model):
    """A row of a queued installed-base file: its cells as checked, then what
    applying it wrote (kept to withdraw it if a later batch fails)."""

    _name = "serial.installed.base.import.job.line"
    _description = "Installed Base Import Job Row"
    _order = "job_id, row"

    job_id = fields.Many2one(
        "serial.installed.base.import.job",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    company_id = fields.Many2one(related="job_id.company_id", store=True)
    row = fields.Integer(readonly=True, help="Row number in the file (header: 1).")
    serial = fields.Char(string="Serial Number in the File", readonly=True)
    cells = fields.Json(readonly=True)
    state = fields.Selection(
        selection=[
            ("staged", "Staged"),
            ("applied", "Imported"),
            ("failed", "Failed"),
            ("undone", "Withdrawn"),
        ],
        default="staged",
        required=True,
        readonly=True,
        index=True,
    )
    lot_id = fields.Many2one("stock.lot", string="Serial", readonly=True)
    lot_created = fields.Boolean(string="Serial Created", readonly=True)
    undo = fields.Json(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            # a row is staged by the user; only the scheduler applies it
            for vals in vals_list:
                for fname in ("state", "lot_id", "lot_created", "undo"):
                    vals.pop(fname, None)
        return super().create(vals_list)

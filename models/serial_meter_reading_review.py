from odoo import api, fields, models
from odoo.exceptions import AccessError

REVIEW_STATES = [
    ("none", "No Review"),
    ("to_review", "To Review"),
    ("approved", "Approved"),
]


class SerialMeterReading(models.Model):
    """Meter reads to review: a reading flagged as far above the serial's
    usual usage is held, with the later readings of its serial and meter,
    out of billing and estimates until a person approves it as it is or
    corrects it (its value changed, or the reading deleted)."""

    _inherit = "serial.meter.reading"

    review_state = fields.Selection(
        selection=REVIEW_STATES,
        compute="_compute_review_state",
        store=True,
        index=True,
        readonly=True,
        copy=False,
        help="To Review: flagged, it and the later readings of its serial and "
        "meter are not billed until it is approved or corrected.",
    )

    @api.depends("is_flagged")
    def _compute_review_state(self):
        for reading in self:
            if not reading.is_flagged:
                reading.review_state = "none"
            elif reading.review_state != "approved":
                reading.review_state = "to_review"

    def write(self, vals):
        held = (
            self.filtered(lambda r: r.review_state == "to_review")
            if "value" in vals
            else self.browse()
        )
        res = super().write(vals)
        # a person corrected the value: reviewed, even if still far above
        # the usual (a corrected value no longer flagged needs no review)
        corrected = held.filtered(lambda r: r.review_state == "to_review")
        if corrected:
            super(SerialMeterReading, corrected).write({"review_state": "approved"})
        return res

    def action_approve(self):
        """Bill the held readings as they are."""
        self._check_may_review()
        to_approve = self.filtered(lambda r: r.review_state == "to_review")
        # sudo: approving is a billing decision; billing users read the
        # readings but may not record or change them
        super(SerialMeterReading, to_approve.sudo()).write({"review_state": "approved"})
        return True

    def _check_may_review(self):
        user = self.env.user
        if not (
            user.has_group("serial_service.group_service_manager")
            or user.has_group("account.group_account_invoice")
        ):
            raise AccessError(
                self.env._(
                    "Only service managers and billing users review meter readings."
                )
            )

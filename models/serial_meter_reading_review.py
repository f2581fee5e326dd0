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
            if reading.review_state == "approved":
                # reviewed by a person: stays so when its flag changes later
                continue
            reading.review_state = "to_review" if reading.is_flagged else "none"

    def write(self, vals):
        held = (
            self.filtered(lambda r: r.review_state == "to_review")
            if "value" in vals
            else self.browse()
        )
        res = super().write(vals)
        # a person corrected the value of a held reading: that is its review.
        # It is no longer flagged (the flag asks for a person's look; the
        # correction is noted on the serial) and is approved, even if the new
        # value is still far above the usual: billed, out of the queue
        if held:
            super(SerialMeterReading, held).write(
                {"is_flagged": False, "review_state": "approved"}
            )
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

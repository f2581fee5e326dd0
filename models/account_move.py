from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        refunds = posted.filtered(lambda move: move.move_type == "in_refund")
        if refunds:
            # sudo: posting the vendor credit note credits its claim, whoever
            # posts it (an accountant may neither read nor decide claims)
            self.env["serial.warranty.claim"].sudo().search(
                [("refund_move_id", "in", refunds.ids)]
            )._mark_credited()
        return posted

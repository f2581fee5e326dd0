from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class SerialContractRenew(models.TransientModel):
    """Renew many contracts at once: preview each contract's margin, the
    suggested increase and its new recurring price, then renew."""

    _name = "serial.contract.renew"
    _description = "Renew Contracts"

    state = fields.Selection(
        selection=[("draft", "Choose"), ("preview", "Preview")],
        default="draft",
        required=True,
    )
    subscription_ids = fields.Many2many(
        "sale.subscription",
        string="Contracts",
        domain="[('renewal_ids', '=', False), ('date', '!=', False)]",
    )
    percent = fields.Float(
        string="Increase (%)",
        help="Raise of the recurring and usage prices of every contract.",
    )
    use_suggested = fields.Boolean(
        string="Use Suggested Increases",
        help="Each contract under the company's target margin gets its own "
        "suggested increase when it is above the increase above.",
    )
    send_proposal = fields.Boolean(
        string="E-mail the Proposals",
        default=True,
        help="Send each customer its renewal proposal (the next term's quotation "
        "on the portal).",
    )
    line_ids = fields.One2many(
        "serial.contract.renew.line", "wizard_id", string="Preview"
    )

    def _prepare_line_vals(self):
        """One preview line per contract (never writes)."""
        self.ensure_one()
        vals_list = []
        for subscription in self.subscription_ids:
            percent = self.percent
            if self.use_suggested:
                percent = max(percent, subscription.suggested_increase)
            vals_list.append(
                {
                    "subscription_id": subscription.id,
                    "term_margin_rate": subscription.term_margin_rate,
                    "suggested_increase": subscription.suggested_increase,
                    "current_total": subscription.recurring_total,
                    "percent": percent,
                }
            )
        return vals_list

    def action_preview(self):
        self.ensure_one()
        if not self.subscription_ids:
            raise UserError(self.env._("Choose the contracts to renew."))
        self.write(
            {
                "line_ids": [Command.clear()]
                + [Command.create(vals) for vals in self._prepare_line_vals()],
                "state": "preview",
            }
        )
        return self._reopen()

    def action_back(self):
        self.ensure_one()
        self.write({"line_ids": [Command.clear()], "state": "draft"})
        return self._reopen()

    def action_renew(self):
        """Renew the previewed contracts, each by its line's increase."""
        self.ensure_one()
        if self.state != "preview" or not self.line_ids:
            raise UserError(self.env._("Preview the renewals before renewing."))
        renewals = self.env["sale.subscription"]
        by_percent = {}
        for line in self.line_ids:
            by_percent.setdefault(line.percent, self.env["sale.subscription"])
            by_percent[line.percent] |= line.subscription_id
        for percent, subscriptions in by_percent.items():
            renewals |= subscriptions.action_renew(percent)
        if self.send_proposal:
            renewals._send_renewal_proposals()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Renewed Contracts"),
            "res_model": "sale.subscription",
            "view_mode": "list,form",
            "domain": [("id", "in", renewals.ids)],
        }

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Renew Contracts"),
        }


class SerialContractRenewLine(models.TransientModel):
    _name = "serial.contract.renew.line"
    _description = "Renew Contracts: Preview Line"

    wizard_id = fields.Many2one(
        "serial.contract.renew", required=True, ondelete="cascade"
    )
    subscription_id = fields.Many2one(
        "sale.subscription", string="Contract", required=True, readonly=True
    )
    partner_id = fields.Many2one(related="subscription_id.partner_id")
    date = fields.Date(related="subscription_id.date", string="Ends On")
    currency_id = fields.Many2one(related="subscription_id.currency_id")
    term_margin_rate = fields.Float(
        string="Term Margin (%)", digits=(16, 1), readonly=True
    )
    suggested_increase = fields.Float(
        string="Suggested (%)", digits=(16, 1), readonly=True
    )
    percent = fields.Float(string="Increase (%)", digits=(16, 1))
    current_total = fields.Monetary(string="Recurring Now", readonly=True)
    new_total = fields.Monetary(
        string="Recurring Next Term", compute="_compute_new_total"
    )

    @api.depends("current_total", "percent")
    def _compute_new_total(self):
        for line in self:
            line.new_total = line.current_total * (1 + line.percent / 100.0)

from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models


class SerialUsageTier(models.Model):
    _name = "serial.usage.tier"
    _description = "Usage Tariff Tier"
    _order = "from_qty, id"

    tariff_id = fields.Many2one(
        "serial.usage.tariff", required=True, index=True, ondelete="cascade"
    )
    # the company of the tariff's contract (none on a template): the record
    # rule keeps another company's prices out of reach
    company_id = fields.Many2one(related="tariff_id.company_id", store=True, index=True)
    from_qty = fields.Float(
        string="From", help="Billable units from this quantity up to the next tier."
    )
    price_unit = fields.Float(digits="Usage Price", required=True)

    # --- audit: tier prices noted on the contract's chatter ------------------
    @api.model_create_multi
    def create(self, vals_list):
        tiers = super().create(vals_list)
        tiers._audit_on_contracts("added")
        return tiers

    def write(self, vals):
        before = {tier.id: tier._audit_text() for tier in self}
        res = super().write(vals)
        if {"from_qty", "price_unit", "tariff_id"} & vals.keys():
            self._audit_on_contracts("changed", before)
        return res

    def unlink(self):
        self._audit_on_contracts("removed")
        return super().unlink()

    def _audit_text(self):
        self.ensure_one()
        return self.env._(
            "from %(qty)s at %(price)s", qty=self.from_qty, price=self.price_unit
        )

    def _audit_on_contracts(self, action, before=None):
        """One note per contract listing the tiers added, changed (before:
        {id: text}) or removed, as the contract's rules and tariffs are."""
        if self.env.context.get("tracking_disable"):
            return
        by_contract = defaultdict(list)
        for tier in self.filtered("tariff_id.subscription_id"):
            text = tier._audit_text()
            if action == "changed":
                if before.get(tier.id) == text:
                    continue
                text = Markup("%s &#8594; %s") % (before.get(tier.id), text)
            by_contract[tier.tariff_id.subscription_id].append(
                Markup("<li>%s: %s</li>") % (tier.tariff_id.display_name, text)
            )
        title = {
            "added": self.env._("Usage tier added"),
            "changed": self.env._("Usage tier changed"),
            "removed": self.env._("Usage tier removed"),
        }[action]
        for contract, items in by_contract.items():
            # sudo: the note records what the user did to the contract's
            # prices; the author stays the user
            contract.sudo().message_post(
                body=Markup("<p>%s</p><ul>%s</ul>") % (title, Markup("").join(items)),
                subtype_xmlid="mail.mt_note",
            )

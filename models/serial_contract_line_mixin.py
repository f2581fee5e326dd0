from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class SerialContractLineMixin(models.AbstractModel):
    """What the lines of a contract or of its template share (coverage rules,
    usage tariffs): the owner, template or contract but never both, and the
    note on the contract's chatter when one is added, changed or removed."""

    _name = "serial.contract.line.mixin"
    _description = "Contract or Template Line"

    template_id = fields.Many2one(
        "sale.subscription.template", index=True, ondelete="cascade"
    )
    subscription_id = fields.Many2one(
        "sale.subscription", index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        related="subscription_id.company_id", store=True, index=True
    )

    # --- owner ---------------------------------------------------------------
    @api.constrains("template_id", "subscription_id")
    def _check_owner(self):
        for line in self:
            if line.template_id and line.subscription_id:
                raise ValidationError(
                    self.env._(
                        "%(line)s belongs to a contract template or to a "
                        "contract, not to both.",
                        line=line._description,
                    )
                )

    # --- audit: changes noted on the contract's chatter ----------------------
    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._audit_on_contracts("added")
        return records

    def write(self, vals):
        tracked = [fname for fname in self._audit_fields() if fname in vals]
        before = {
            record.id: {fname: record._audit_value(fname) for fname in tracked}
            for record in self
        }
        res = super().write(vals)
        if tracked:
            self._audit_on_contracts("changed", before)
        return res

    def unlink(self):
        self._audit_on_contracts("removed")
        return super().unlink()

    @api.model
    def _audit_fields(self):
        """The fields whose changes are noted on the contract."""
        return []

    def _audit_value(self, fname):
        self.ensure_one()
        value = self[fname]
        field = self._fields[fname]
        if field.type == "many2one":
            return value.display_name or ""
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value, "")
        return value if value or value == 0 else ""

    def _audit_on_contracts(self, action, before=None):
        """Post on each contract one note saying which of these lines were
        added, changed (before: {id: {field: value}}) or removed, by whom (the
        author) and when (the message date)."""
        if self.env.context.get("tracking_disable"):
            return
        records = self.filtered("subscription_id")
        if not records:
            return
        by_contract = defaultdict(list)
        for record in records:
            detail = ""
            if action == "changed":
                changes = [
                    Markup("%s: %s &#8594; %s")
                    % (
                        record._fields[fname].get_description(self.env)["string"],
                        old,
                        record._audit_value(fname),
                    )
                    for fname, old in (before or {}).get(record.id, {}).items()
                    if old != record._audit_value(fname)
                ]
                if not changes:
                    continue
                detail = Markup(" (%s)") % Markup(", ").join(changes)
            by_contract[record.subscription_id].append(
                Markup("<li>%s%s</li>") % (record.display_name, detail)
            )
        label = self._description
        title = {
            "added": self.env._("%(what)s added", what=label),
            "changed": self.env._("%(what)s changed", what=label),
            "removed": self.env._("%(what)s removed", what=label),
        }[action]
        for contract, items in by_contract.items():
            # sudo: the note records what the user did on the contract's rules;
            # the author stays the user
            contract.sudo().message_post(
                body=Markup("<p>%s</p><ul>%s</ul>") % (title, Markup("").join(items)),
                subtype_xmlid="mail.mt_note",
            )

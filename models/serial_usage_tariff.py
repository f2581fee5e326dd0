from odoo import api, fields, models
from odoo.exceptions import ValidationError

# fields whose changes are noted on the contract's chatter
AUDIT_FIELDS = [
    "meter_type_id",
    "product_id",
    "included_qty",
    "price_unit",
    "pooled",
    "minimum_amount",
]


class SerialUsageTariff(models.Model):
    _name = "serial.usage.tariff"
    _description = "Usage Tariff"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    template_id = fields.Many2one(
        "sale.subscription.template", index=True, ondelete="cascade"
    )
    subscription_id = fields.Many2one(
        "sale.subscription", index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    meter_type_id = fields.Many2one("serial.meter.type", string="Meter", required=True)
    product_id = fields.Many2one(
        "product.product",
        string="Invoiced Product",
        required=True,
        help="What the invoice line sells, e.g. 'Black pages'.",
    )
    included_qty = fields.Float(
        string="Included per Period", help="Usage included in each billing period."
    )
    price_unit = fields.Float(
        string="Price above Included", digits="Product Price", help="Without tiers."
    )
    tier_ids = fields.One2many(
        "serial.usage.tier", "tariff_id", string="Tiers", copy=True
    )
    pooled = fields.Boolean(
        help="The included quantity is shared by all the serials the contract "
        "covers, instead of applying to each serial."
    )
    minimum_amount = fields.Float(
        string="Minimum per Invoice",
        help="Billed at least on every invoice, even without usage.",
    )

    @api.constrains("template_id", "subscription_id")
    def _check_owner(self):
        for tariff in self:
            if tariff.template_id and tariff.subscription_id:
                raise ValidationError(
                    self.env._(
                        "A usage tariff belongs to a contract template or to a "
                        "contract, not to both."
                    )
                )

    @api.constrains("included_qty", "price_unit", "minimum_amount")
    def _check_amounts(self):
        for tariff in self:
            if min(tariff.included_qty, tariff.price_unit, tariff.minimum_amount) < 0:
                raise ValidationError(
                    self.env._("Included quantity, price and minimum are not negative.")
                )

    def _prepare_copy_vals(self):
        self.ensure_one()
        return {
            "sequence": self.sequence,
            "meter_type_id": self.meter_type_id.id,
            "product_id": self.product_id.id,
            "included_qty": self.included_qty,
            "price_unit": self.price_unit,
            "pooled": self.pooled,
            "minimum_amount": self.minimum_amount,
            "tier_ids": [
                (0, 0, {"from_qty": tier.from_qty, "price_unit": tier.price_unit})
                for tier in self.tier_ids
            ],
        }

    def _price_segments(self, billable):
        """[(quantity, unit price)] of the billable usage: graduated over the
        tiers (units from a tier's from_qty up to the next tier's are priced at
        that tier; the first tier starts at 0), else all at price_unit."""
        self.ensure_one()
        if billable <= 0:
            return []
        tiers = self.tier_ids.sorted("from_qty")
        if not tiers:
            return [(billable, self.price_unit)]
        segments = []
        for index, tier in enumerate(tiers):
            lower = tier.from_qty if index else 0.0
            upper = tiers[index + 1].from_qty if index + 1 < len(tiers) else None
            top = billable if upper is None else min(billable, upper)
            if top > lower:
                segments.append((top - lower, tier.price_unit))
        return segments

    def _price_tiers(self, billable):
        """[(quantity, unit price)] of the billable usage in every tier, in
        tier order, empty tiers included (all at price_unit without tiers)."""
        self.ensure_one()
        billable = max(billable, 0.0)
        tiers = self.tier_ids.sorted("from_qty")
        if not tiers:
            return [(billable, self.price_unit)]
        result = []
        for index, tier in enumerate(tiers):
            lower = tier.from_qty if index else 0.0
            upper = tiers[index + 1].from_qty if index + 1 < len(tiers) else None
            top = billable if upper is None else min(billable, upper)
            result.append((max(top - lower, 0.0), tier.price_unit))
        return result

    def _rerate_segments(self, usage_before, usage_after):
        """[(quantity, unit price)] that turn what a period's usage
        `usage_before` was billed into what `usage_after` (lower) bills: the
        billable units no longer due, tier by tier, at minus the tier's price,
        then what a minimum commitment now adds back (quantity 1)."""
        self.ensure_one()
        before = self._price_tiers(usage_before - self.included_qty)
        after = self._price_tiers(usage_after - self.included_qty)
        segments = [
            (qty_before - qty_after, -price)
            for (qty_before, price), (qty_after, _price) in zip(
                before, after, strict=True
            )
            if qty_before - qty_after > 0
        ]
        amount_before = sum(qty * price for qty, price in before)
        amount_after = sum(qty * price for qty, price in after)
        topup = max(self.minimum_amount - amount_after, 0.0) - max(
            self.minimum_amount - amount_before, 0.0
        )
        if topup > 0:
            segments.append((1.0, topup))
        return segments

    # --- audit (issue 9): changes noted on the contract's chatter -----------
    @api.model
    def _audit_fields(self):
        return AUDIT_FIELDS

    def _audit_value(self, fname):
        self.ensure_one()
        value = self[fname]
        field = self._fields[fname]
        if field.type == "many2one":
            return value.display_name or ""
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value, "")
        return value if value or value == 0 else ""

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env["sale.subscription"]._audit_contract_lines(records, "added")
        return records

    def write(self, vals):
        tracked = [fname for fname in self._audit_fields() if fname in vals]
        before = {
            record.id: {fname: record._audit_value(fname) for fname in tracked}
            for record in self
        }
        res = super().write(vals)
        if tracked:
            self.env["sale.subscription"]._audit_contract_lines(self, "changed", before)
        return res

    def unlink(self):
        self.env["sale.subscription"]._audit_contract_lines(self, "removed")
        return super().unlink()

    # --- end audit ---------------------------------------------------------

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
    _inherit = ["serial.contract.line.mixin"]
    _description = "Usage Tariff"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
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
        string="Price above Included", digits="Usage Price", help="Without tiers."
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

    # --- pricing -------------------------------------------------------------
    def _price_segments(self, billable, keep_empty=False):
        """[(quantity, unit price)] of the billable usage: graduated over the
        tiers (units from a tier's from_qty up to the next tier's are priced at
        that tier; the first tier starts at 0), else all at price_unit.
        keep_empty: one segment per tier, in tier order, empty ones included
        (to compare two usages tier by tier)."""
        self.ensure_one()
        billable = max(billable, 0.0)
        tiers = self.tier_ids.sorted("from_qty")
        bounds = [
            (tier.from_qty if index else 0.0, tier.price_unit)
            for index, tier in enumerate(tiers)
        ] or [(0.0, self.price_unit)]
        segments = []
        for index, (lower, price) in enumerate(bounds):
            upper = bounds[index + 1][0] if index + 1 < len(bounds) else None
            top = billable if upper is None else min(billable, upper)
            segments.append((max(top - lower, 0.0), price))
        if keep_empty:
            return segments
        return [(qty, price) for qty, price in segments if qty > 0]

    def _rerate_segments(self, usage_before, usage_after):
        """[(quantity, unit price)] that turn what a period's usage
        `usage_before` was billed into what `usage_after` (lower) bills: the
        billable units no longer due, tier by tier, at minus the tier's price,
        then what a minimum commitment now adds back (quantity 1)."""
        self.ensure_one()
        before = self._price_segments(usage_before - self.included_qty, keep_empty=True)
        after = self._price_segments(usage_after - self.included_qty, keep_empty=True)
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

    # --- audit: the fields noted on the contract's chatter -----------------
    @api.model
    def _audit_fields(self):
        return AUDIT_FIELDS

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .product_template import LINE_TYPES

# fields whose changes are noted on the contract's chatter
AUDIT_FIELDS = [
    "sequence",
    "name",
    "line_type",
    "product_id",
    "categ_id",
    "effect",
    "coverage_percent",
    "max_qty_per_period",
    "max_amount_per_period",
]


class SerialCoverageRule(models.Model):
    _name = "serial.coverage.rule"
    _inherit = ["serial.contract.line.mixin"]
    _description = "Contract Coverage Rule"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    name = fields.Char(
        string="Description", help="Read to the customer, e.g. 'Parts included'."
    )
    line_type = fields.Selection(selection=LINE_TYPES, help="Empty: any line type.")
    product_id = fields.Many2one("product.product")
    categ_id = fields.Many2one(
        "product.category", string="Product Category", help="Also its sub-categories."
    )
    effect = fields.Selection(
        selection=[("include", "Include"), ("exclude", "Exclude")],
        required=True,
        default="include",
    )
    coverage_percent = fields.Float(string="Coverage (%)", default=100.0)
    max_qty_per_period = fields.Float(
        string="Max Quantity per Period", help="0 = no cap."
    )
    max_amount_per_period = fields.Float(
        string="Max Amount per Period", help="0 = no cap."
    )

    @api.constrains("coverage_percent", "max_qty_per_period", "max_amount_per_period")
    def _check_values(self):
        for rule in self:
            if not 0.0 <= rule.coverage_percent <= 100.0:
                raise ValidationError(
                    self.env._("A coverage percent is between 0 and 100.")
                )
            if rule.max_qty_per_period < 0 or rule.max_amount_per_period < 0:
                raise ValidationError(self.env._("A cap cannot be negative."))

    @api.depends("name", "effect", "line_type", "product_id", "categ_id")
    def _compute_display_name(self):
        for rule in self:
            rule.display_name = rule.name or rule._get_generated_label()

    def _get_generated_label(self):
        self.ensure_one()
        what = (
            self.product_id.display_name
            or self.categ_id.display_name
            or dict(LINE_TYPES).get(self.line_type)
            or self.env._("everything")
        )
        if self.effect == "exclude":
            return self.env._("%(what)s excluded", what=what)
        return self.env._(
            "%(what)s covered at %(percent)s%%",
            what=what,
            percent=format(self.coverage_percent, "g"),
        )

    def _prepare_copy_vals(self):
        """Values to copy the rule onto a contract."""
        self.ensure_one()
        return {
            "sequence": self.sequence,
            "name": self.name,
            "line_type": self.line_type,
            "product_id": self.product_id.id,
            "categ_id": self.categ_id.id,
            "effect": self.effect,
            "coverage_percent": self.coverage_percent,
            "max_qty_per_period": self.max_qty_per_period,
            "max_amount_per_period": self.max_amount_per_period,
        }

    # ------------------------------------------------------------------
    # Matching (DESIGN.md, Coverage, step 2)
    # ------------------------------------------------------------------
    def _matches(self, product, line_type, categ_path_ids):
        """Every criterion the rule sets matches; a category also matches its
        sub-categories (categ_path_ids: the product category and its parents)."""
        self.ensure_one()
        if self.line_type and self.line_type != line_type:
            return False
        if self.product_id and self.product_id != product:
            return False
        if self.categ_id and self.categ_id.id not in categ_path_ids:
            return False
        return True

    def _specificity_key(self, categ_path_ids):
        """Sort key, most specific first: product, then category (nearest
        parent first), then line type, then any; lowest sequence among equals."""
        self.ensure_one()
        if self.product_id:
            tier, distance = 0, 0
        elif self.categ_id:
            # categ_path_ids runs from the root to the product's category
            tier, distance = (
                1,
                len(categ_path_ids) - categ_path_ids.index(self.categ_id.id),
            )
        elif self.line_type:
            tier, distance = 2, 0
        else:
            tier, distance = 3, 0
        return (tier, distance, self.sequence, self.id)

    def _select_deciding_rule(self, product, line_type):
        """The rule that decides for this product among self (a contract's
        rules), or an empty recordset."""
        categ_path_ids = [
            int(x) for x in (product.categ_id.parent_path or "").split("/") if x
        ]
        matching = self.filtered(
            lambda rule: rule._matches(product, line_type, categ_path_ids)
        )
        if not matching:
            return matching
        return min(matching, key=lambda rule: rule._specificity_key(categ_path_ids))

    # --- audit: the fields noted on the contract's chatter -----------------
    @api.model
    def _audit_fields(self):
        return AUDIT_FIELDS

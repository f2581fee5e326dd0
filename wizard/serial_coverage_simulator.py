from odoo import api, fields, models


class SerialCoverageSimulator(models.TransientModel):
    _name = "serial.coverage.simulator"
    _description = "Coverage Simulator"

    template_id = fields.Many2one("sale.subscription.template", string="Template")
    subscription_id = fields.Many2one("sale.subscription", string="Contract")
    lot_id = fields.Many2one("stock.lot", string="Serial", required=True)
    product_id = fields.Many2one("product.product", required=True)
    quantity = fields.Float(default=1.0)
    date = fields.Date(default=fields.Date.context_today, required=True)
    source = fields.Selection(
        selection=[
            ("warranty", "Warranty"),
            ("contract", "Contract"),
            ("none", "Not Covered"),
        ],
        compute="_compute_decision",
    )
    percent = fields.Float(string="Covered (%)", compute="_compute_decision")
    rule_id = fields.Many2one(
        "serial.coverage.rule", string="Deciding Rule", compute="_compute_decision"
    )
    reason = fields.Char(compute="_compute_decision")

    @api.depends(
        "template_id", "subscription_id", "lot_id", "product_id", "quantity", "date"
    )
    def _compute_decision(self):
        for wizard in self:
            decision = wizard._simulate() if wizard.lot_id and wizard.product_id else {}
            wizard.source = decision.get("source", "none")
            wizard.percent = decision.get("percent", 0.0)
            wizard.rule_id = decision.get("rule_id", False)
            wizard.reason = decision.get("reason", "")

    def _simulate(self):
        """The engine's decision; for a template, its rules as if a running
        contract from it covered the serial (no usage yet, so no cap used)."""
        self.ensure_one()
        lot, product = self.lot_id, self.product_id
        if self.subscription_id:
            if lot not in self.subscription_id.covered_lot_ids:
                return {
                    "source": "none",
                    "percent": 0.0,
                    "reason": self.env._(
                        "Serial %(serial)s is not covered by contract %(contract)s.",
                        serial=lot.name,
                        contract=self.subscription_id.name,
                    ),
                }
            return lot.get_service_coverage(product, date=self.date, qty=self.quantity)
        covered, reason = lot._get_warranty_coverage(product, self.date)
        if covered:
            return {"source": "warranty", "percent": 100.0, "reason": reason}
        rule = self.template_id.coverage_rule_ids._select_deciding_rule(
            product, product._get_service_line_type()
        )
        if not rule:
            return {
                "source": "none",
                "percent": 0.0,
                "reason": self.env._("No rule of this template covers the product."),
            }
        if rule.effect == "exclude":
            return {
                "source": "none",
                "percent": 0.0,
                "rule_id": rule.id,
                "reason": self.env._(
                    "Excluded by rule '%(rule)s'.", rule=rule.display_name
                ),
            }
        return {
            "source": "contract",
            "percent": rule.coverage_percent,
            "rule_id": rule.id,
            "reason": self.env._(
                "Covered by rule '%(rule)s' (%(percent)s%%), before any cap is used.",
                rule=rule.display_name,
                percent=format(rule.coverage_percent, "g"),
            ),
        }

from collections import defaultdict
from datetime import datetime

from odoo import api, fields, models


class StockLot(models.Model):
    """Who pays for a part, consumable, labour or travel used on a serial
    (DESIGN.md, Coverage): the customer warranty first, then the contract
    running on the day and its deciding rule, within the rule's caps."""

    _inherit = "stock.lot"

    # --- coverage: the contract covering the serial ---
    running_subscription_id = fields.Many2one(
        "sale.subscription",
        string="Running Contract",
        compute="_compute_running_subscription_id",
        help="The contract covering this serial today.",
    )

    @api.depends("subscription_ids.stage_id", "subscription_ids.date")
    def _compute_running_subscription_id(self):
        today = fields.Date.context_today(self)
        for lot in self:
            lot.running_subscription_id = lot._get_running_contract(today)

    # --- coverage: entry points (one line, a batch of lines) ---
    def get_service_coverage(self, product, date=None, qty=1.0):
        """Who pays for `qty` of `product` used on this serial on `date`:
        {'source', 'percent', 'subscription_id', 'rule_id', 'reason'}."""
        self.ensure_one()
        if product._name == "product.template":
            product = product.product_variant_id
        item = {"lot": self, "product": product, "qty": qty, "date": date}
        return self._get_service_coverage_batch([item])[0]

    @api.model
    def _get_service_coverage_batch(self, items):
        """Decide many lines at once with a fixed number of queries.

        items: dicts with 'lot', 'product', 'qty', optional 'date' (default
        today), 'price_unit' (default the product's sales price) and
        'exclude_line_ids' (service lines whose own usage must not count, e.g.
        the lines being decided). Lines of one batch that use the same capped
        rule consume its cap in the order given.
        """
        today = fields.Date.context_today(self)
        lots = self.env["stock.lot"].union(*(item["lot"] for item in items))
        products = self.env["product.product"].union(*(i["product"] for i in items))
        # prefetch what the loop reads, in a few queries for the whole batch
        products.categ_id.mapped("parent_path")
        lots.warranty_policy_id.excluded_categ_ids.mapped("parent_path")
        contracts = lots.subscription_ids
        contracts.stage_id.mapped("type")
        contracts.template_id.mapped("recurring_rule_type")
        contracts.coverage_rule_ids.mapped("categ_id")
        excluded_line_ids = set()
        for item in items:
            excluded_line_ids.update(item.get("exclude_line_ids") or ())
        usage = self._get_coverage_usage(contracts, excluded_line_ids)
        # what does not depend on the line's quantity is decided once per
        # serial, product and day (warranty, contract, rule, billing period)
        memo = {}
        return [
            self._decide_coverage(
                {
                    "lot": item["lot"],
                    "product": item["product"],
                    "qty": item.get("qty", 1.0),
                    "date": self._to_day(item.get("date")) or today,
                    "price_unit": item.get("price_unit"),
                },
                usage,
                memo,
            )
            for item in items
        ]

    @api.model
    def _to_day(self, value):
        """A date from a date, a datetime or a string."""
        if isinstance(value, datetime):
            return value.date()
        return fields.Date.to_date(value) if value else False

    # --- coverage: step 1, customer warranty ---
    def _get_warranty_coverage(self, product, on_date):
        """DESIGN.md step 1: (covered, reason) of the customer warranty."""
        self.ensure_one()
        policy = self.warranty_policy_id
        if not policy or not self._is_under_warranty(on_date):
            return False, ""
        line_type = product._get_service_line_type()
        if not policy._covers_line_type(line_type):
            return False, ""
        path = set((product.categ_id.parent_path or "").split("/")) - {""}
        excluded = {str(categ.id) for categ in policy.excluded_categ_ids}
        if path & excluded:
            return False, ""
        return True, self.env._(
            "Covered by the warranty '%(policy)s' of serial %(serial)s until %(end)s.",
            policy=policy.name,
            serial=self.name,
            end=self.warranty_end_date,
        )

    # --- coverage: step 2, running contract and its deciding rule ---
    def _get_running_contract(self, on_date):
        """The contract running on that day that covers this serial."""
        self.ensure_one()
        running = self.subscription_ids.filtered(lambda s: s._is_running_on(on_date))
        return running.sorted("id")[:1]

    @api.model
    def _decide_coverage(self, line, usage, memo=None):
        """The decision for one line: {'lot', 'product', 'qty', 'date' (a
        date), 'price_unit' (None: the product's sales price)}. What does not
        depend on the quantity is read once per batch, through memo."""
        memo = {} if memo is None else memo

        def once(key, compute):
            if key not in memo:
                memo[key] = compute()
            return memo[key]

        lot, product, on_date = line["lot"], line["product"], line["date"]
        decision = {
            "source": "none",
            "percent": 0.0,
            "subscription_id": False,
            "rule_id": False,
            "reason": "",
        }
        covered, reason = once(
            ("warranty", lot.id, product.id, on_date),
            lambda: lot._get_warranty_coverage(product, on_date),
        )
        if covered:
            decision.update(source="warranty", percent=100.0, reason=reason)
            return decision
        contract = once(
            ("contract", lot.id, on_date), lambda: lot._get_running_contract(on_date)
        )
        if not contract:
            decision["reason"] = self.env._(
                "Serial %(serial)s has no warranty and no running contract on "
                "%(date)s that covers this.",
                serial=lot.name,
                date=on_date,
            )
            return decision
        rule = once(
            ("rule", contract.id, product.id),
            lambda: contract.coverage_rule_ids._select_deciding_rule(
                product, product._get_service_line_type()
            ),
        )
        decision.update(subscription_id=contract.id, rule_id=rule.id)
        if not rule or rule.effect == "exclude":
            decision["reason"] = (
                self.env._(
                    "Not covered: contract %(contract)s excludes it (rule '%(rule)s').",
                    contract=contract.name,
                    rule=rule.display_name,
                )
                if rule
                else self.env._(
                    "Contract %(contract)s has no rule that covers %(product)s.",
                    contract=contract.name,
                    product=product.display_name,
                )
            )
            return decision
        period = once(
            ("period", contract.id, on_date),
            lambda: contract._get_billing_period(on_date),
        )
        return self._apply_coverage_caps(decision, contract, rule, line, usage, period)

    # --- coverage: caps per billing period and the reason given ---
    @api.model
    def _get_coverage_usage(self, contracts, excluded_line_ids):
        """{(rule id, contract id): [(day, covered qty, covered amount)]} of
        the contract-covered service lines: one read for all contracts."""
        usage = defaultdict(list)
        if not contracts:
            return usage
        domain = [
            ("subscription_id", "in", contracts.ids),
            ("coverage_source", "=", "contract"),
            ("coverage_rule_id", "!=", False),
        ]
        if excluded_line_ids:
            domain.append(("id", "not in", list(excluded_line_ids)))
        # sudo: the caps used so far count every line of these contracts,
        # whoever asks (a consultant simulating coverage reads no job, a
        # technician not every job); only these sums are read
        groups = (
            self.env["serial.service.line"]
            .sudo()
            ._read_group(
                domain,
                ["coverage_rule_id", "subscription_id", "service_date:day"],
                ["covered_qty:sum", "covered_amount:sum"],
            )
        )
        for rule, contract, day, qty, amount in groups:
            usage[rule.id, contract.id].append((day, qty, amount))
        return usage

    @api.model
    def _apply_coverage_caps(self, decision, contract, rule, line, usage, period=None):
        """The rule's percent for the part of the line within its caps for the
        contract's billing period; the part above a cap is charged."""
        product, qty, on_date = line["product"], line["qty"], line["date"]
        price_unit = line["price_unit"]
        period_start, period_end = period or contract._get_billing_period(on_date)
        history = usage[rule.id, contract.id]
        in_period = [
            (q, a) for day, q, a in history if period_start <= day < period_end
        ]
        used_qty = sum(q for q, _a in in_period)
        used_amount = sum(a for _q, a in in_period)
        price = product.lst_price if price_unit is None else price_unit
        value = qty * price * rule.coverage_percent / 100.0
        fraction = 1.0
        if rule.max_qty_per_period and qty > 0:
            fraction = min(fraction, max(rule.max_qty_per_period - used_qty, 0.0) / qty)
        if rule.max_amount_per_period and value > 0:
            fraction = min(
                fraction, max(rule.max_amount_per_period - used_amount, 0.0) / value
            )
        fraction = max(min(fraction, 1.0), 0.0)
        covered_qty, covered_amount = qty * fraction, value * fraction
        # the next lines of the same batch see this line's consumption
        history.append((on_date, covered_qty, covered_amount))
        percent = rule.coverage_percent * fraction
        cap_text = self._describe_cap(
            rule, used_qty + covered_qty, used_amount + covered_amount
        )
        names = {
            "contract": contract.name,
            "rule": rule.display_name,
            "cap": cap_text,
        }
        if fraction <= 0.0:
            decision["reason"] = self.env._(
                "Not covered: the cap of rule '%(rule)s' of contract %(contract)s "
                "is used up for this period%(cap)s.",
                **names,
            )
            return decision
        decision.update(source="contract", percent=percent)
        if fraction < 1.0:
            decision["reason"] = self.env._(
                "Partly covered by contract %(contract)s, rule '%(rule)s': "
                "%(covered)s of %(qty)s within the cap%(cap)s; the rest is charged.",
                covered=format(covered_qty, "g"),
                qty=format(qty, "g"),
                **names,
            )
        else:
            decision["reason"] = self.env._(
                "Covered by contract %(contract)s, rule '%(rule)s' "
                "(%(percent)s%%)%(cap)s.",
                percent=format(rule.coverage_percent, "g"),
                **names,
            )
        return decision

    @api.model
    def _describe_cap(self, rule, used_qty, used_amount):
        parts = []
        if rule.max_qty_per_period:
            parts.append(
                self.env._(
                    "%(used)s of %(cap)s used this period",
                    used=format(used_qty, "g"),
                    cap=format(rule.max_qty_per_period, "g"),
                )
            )
        if rule.max_amount_per_period:
            parts.append(
                self.env._(
                    "%(used)s of %(cap)s covered this period",
                    used=format(used_amount, ".2f"),
                    cap=format(rule.max_amount_per_period, ".2f"),
                )
            )
        return (", " + ", ".join(parts)) if parts else ""

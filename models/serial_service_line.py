from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .product_template import LINE_TYPES


class SerialServiceLine(models.Model):
    _name = "serial.service.line"
    _description = "Service Job Line"
    _order = "request_id, sequence, id"
    _check_company_auto = True

    request_id = fields.Many2one(
        "maintenance.request",
        string="Job",
        required=True,
        index=True,
        ondelete="cascade",
    )
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        related="request_id.company_id", store=True, index=True, precompute=True
    )
    unit_lot_id = fields.Many2one(
        related="request_id.lot_id", string="Unit Serial", store=True, index=True
    )
    subscription_id = fields.Many2one(
        "sale.subscription",
        string="Contract",
        index=True,
        compute="_compute_coverage",
        store=True,
        readonly=False,
        help="The contract whose rule decided this line's coverage.",
    )
    line_type = fields.Selection(
        selection=LINE_TYPES,
        compute="_compute_line_type",
        store=True,
        readonly=False,
        required=True,
        precompute=True,
    )
    product_id = fields.Many2one(
        "product.product", string="Product", required=True, check_company=True
    )
    name = fields.Char(
        string="Description", compute="_compute_name", store=True, readonly=False
    )
    lot_id = fields.Many2one(
        "stock.lot",
        string="Part Serial",
        check_company=True,
        domain="[('product_id', '=', product_id)]",
        help="The part's own serial number, when it is tracked.",
    )
    removed_lot_id = fields.Many2one(
        "stock.lot",
        string="Removed Serial",
        check_company=True,
        help="The failed serialised part taken out of the unit and replaced by "
        "this one: it goes to the defective returns.",
    )
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    location_id = fields.Many2one(
        "stock.location",
        string="Taken From",
        check_company=True,
        compute="_compute_location_id",
        store=True,
        readonly=False,
        precompute=True,
        help="Where the part comes from: by default the technician's van.",
    )
    currency_id = fields.Many2one(related="request_id.company_id.currency_id")
    price_unit = fields.Float(
        string="Unit Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
        digits="Product Price",
    )
    service_date = fields.Date(
        related="request_id.request_date", store=True, index=True, string="Date"
    )
    coverage_source = fields.Selection(
        selection=[
            ("warranty", "Warranty"),
            ("contract", "Contract"),
            ("none", "Not Covered"),
        ],
        compute="_compute_coverage",
        store=True,
        readonly=False,
    )
    coverage_percent = fields.Float(
        string="Covered (%)",
        compute="_compute_coverage",
        store=True,
        readonly=False,
    )
    coverage_rule_id = fields.Many2one(
        "serial.coverage.rule",
        string="Coverage Rule",
        index=True,
        compute="_compute_coverage",
        store=True,
        readonly=False,
    )
    coverage_reason = fields.Char(
        compute="_compute_coverage", store=True, readonly=False
    )
    covered_qty = fields.Float(
        compute="_compute_coverage",
        store=True,
        readonly=False,
        help="Quantity counted against the contract rule's cap.",
    )
    covered_amount = fields.Float(
        compute="_compute_coverage",
        store=True,
        readonly=False,
        help="Value counted against the contract rule's cap.",
    )
    coverage_locked = fields.Boolean(
        copy=False, help="Set when the job is completed: the decision is final."
    )
    charge_amount = fields.Monetary(
        compute="_compute_charge_amount",
        store=True,
        help="What the customer pays for this line after coverage.",
    )
    move_id = fields.Many2one("stock.move", string="Stock Move", readonly=True)
    invoice_line_id = fields.Many2one(
        "account.move.line", string="Invoice Line", readonly=True
    )

    @api.depends("product_id")
    def _compute_line_type(self):
        for line in self:
            if line.product_id:
                line.line_type = line.product_id._get_service_line_type()

    @api.depends("line_type", "request_id.user_id")
    def _compute_location_id(self):
        for line in self:
            if line.location_id or line.line_type not in ("part", "consumable"):
                continue
            technician = line.request_id.user_id or self.env.user
            line.location_id = technician.van_location_id

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            line.name = line.product_id.display_name

    @api.depends("product_id")
    def _compute_price_unit(self):
        for line in self:
            line.price_unit = line.product_id.lst_price

    @api.depends(
        "product_id",
        "quantity",
        "price_unit",
        "unit_lot_id",
        "request_id.request_date",
        "coverage_overridden",
    )
    def _compute_coverage(self):
        """The coverage decision of each line, shown as it is entered; the
        lines of one job consume a capped rule in their order."""
        locked = self.filtered(
            lambda line: line.coverage_locked or line.coverage_overridden
        )
        for line in locked:
            # a completed job keeps its decision, and so does a manager's
            # override: assign back the stored values
            line.update({fname: line[fname] for fname in self._coverage_fields()})
        lines = (self - locked).filtered(
            lambda line: line.product_id and line.unit_lot_id
        )
        for line in self - locked - lines:
            line.update(
                {
                    "coverage_source": "none",
                    "coverage_percent": 0.0,
                    "coverage_rule_id": False,
                    "coverage_reason": False,
                    "covered_qty": 0.0,
                    "covered_amount": 0.0,
                    "subscription_id": False,
                }
            )
        ordered = lines.sorted(
            lambda line: (line.request_id.id, line.sequence, line.id or 0)
        )
        items = [
            {
                "lot": line.unit_lot_id,
                "product": line.product_id,
                "qty": line.quantity,
                "date": line.request_id.request_date,
                "price_unit": line.price_unit,
                "exclude_line_ids": [i for i in ordered.ids if isinstance(i, int)],
            }
            for line in ordered
        ]
        decisions = self.env["stock.lot"]._get_service_coverage_batch(items)
        for line, decision in zip(ordered, decisions, strict=True):
            rule = self.env["serial.coverage.rule"].browse(decision["rule_id"])
            contract_covered = (
                decision["source"] == "contract" and rule.coverage_percent
            )
            share = (
                decision["percent"] / rule.coverage_percent if contract_covered else 0.0
            )
            line.update(
                {
                    "coverage_source": decision["source"],
                    "coverage_percent": decision["percent"],
                    "coverage_rule_id": decision["rule_id"],
                    "coverage_reason": decision["reason"],
                    "subscription_id": decision["subscription_id"],
                    "covered_qty": line.quantity * share,
                    "covered_amount": line.quantity
                    * line.price_unit
                    * decision["percent"]
                    / 100.0
                    if contract_covered
                    else 0.0,
                }
            )

    @api.constrains("quantity", "lot_id", "product_id")
    def _check_quantity_and_serial(self):
        for line in self:
            if line.quantity <= 0:
                raise ValidationError(
                    self.env._(
                        "The quantity of %(product)s must be positive.",
                        product=line.product_id.display_name,
                    )
                )
            if line.lot_id and line.lot_id.product_id != line.product_id:
                raise ValidationError(
                    self.env._(
                        "Serial %(serial)s is not a %(product)s.",
                        serial=line.lot_id.name,
                        product=line.product_id.display_name,
                    )
                )
            if line.product_id.tracking == "serial" and line.quantity != 1:
                raise ValidationError(
                    self.env._(
                        "One serial a line for a serialised part (%(product)s).",
                        product=line.product_id.display_name,
                    )
                )

    @api.constrains("removed_lot_id", "request_id")
    def _check_removed_part_in_unit(self):
        """The part a line replaces comes out of the job's unit: completion
        moves it from the customer to the defective returns, so it must be a
        part installed in that unit, never another customer's serial."""
        for line in self.filtered("removed_lot_id"):
            unit = line.request_id.lot_id
            if not unit or line.removed_lot_id.parent_lot_id != unit:
                raise ValidationError(
                    self.env._(
                        "%(part)s is not installed in %(unit)s: a line replaces "
                        "a part taken out of the job's unit.",
                        part=line.removed_lot_id.display_name,
                        unit=unit.display_name or self.env._("the job's unit"),
                    )
                )

    @api.model
    def _coverage_fields(self):
        return [
            "coverage_source",
            "coverage_percent",
            "coverage_rule_id",
            "coverage_reason",
            "covered_qty",
            "covered_amount",
            "subscription_id",
        ]

    @api.depends("quantity", "price_unit", "coverage_percent")
    def _compute_charge_amount(self):
        for line in self:
            gross = line.quantity * line.price_unit
            line.charge_amount = line.currency_id.round(
                gross * (100.0 - line.coverage_percent) / 100.0
            )

    def _check_parts_available(self):
        """Every part is where the line says it is taken from: checked for all
        lines at once, before anything moves."""
        lines = self._filtered_stock_parts()
        for line in lines:
            if not line.location_id:
                raise UserError(
                    self.env._(
                        "Say where %(product)s is taken from (the technician has no "
                        "van).",
                        product=line.product_id.display_name,
                    )
                )
            if line.product_id.tracking != "none" and not line.lot_id:
                raise UserError(
                    self.env._(
                        "Scan the serial number of the %(product)s used.",
                        product=line.product_id.display_name,
                    )
                )
        if not lines:
            return
        available = self._get_available_quantities(lines.product_id, lines.location_id)
        needed = defaultdict(float)
        for line in lines:
            key = (line.product_id, line.location_id, line.lot_id or False)
            needed[key] += line.quantity
        for (product, location, lot), qty in needed.items():
            if available[product, location, lot] < qty:
                raise UserError(
                    self.env._(
                        "%(product)s%(serial)s is not in %(location)s: %(available)s "
                        "there, %(needed)s needed. Nothing was moved or invoiced.",
                        product=product.display_name,
                        serial=" " + str(lot.name) if lot else "",
                        location=location.display_name,
                        available=format(
                            max(available[product, location, lot], 0), "g"
                        ),
                        needed=format(qty, "g"),
                    )
                )

    @api.model
    def _get_available_quantities(self, products, locations):
        """{(product, location, lot or False): quantity on hand} in each of
        the locations and their sublocations (a van's shelves), per serial and
        in all: one read of the quants."""
        available = defaultdict(float)
        if not products or not locations:
            return available
        # sudo: a technician may not read every quant of the van's sublocations
        groups = (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("product_id", "in", products.ids),
                    ("location_id", "child_of", locations.ids),
                ],
                ["product_id", "location_id", "lot_id"],
                ["quantity:sum"],
            )
        )
        for product, location, lot, qty in groups:
            for target in locations:
                if location.parent_path.startswith(target.parent_path):
                    available[product, target, lot] += qty
                    available[product, target, False] += qty
        return available

    def _prepare_invoice_line_vals(self):
        self.ensure_one()
        name = self.name or self.product_id.display_name
        if self.lot_id:
            name = f"{name} ({self.lot_id.name})"
        if self.coverage_percent:
            name = f"{name}\n{self.coverage_reason}"
        return {
            "product_id": self.product_id.id,
            "name": name,
            "quantity": self.quantity,
            "product_uom_id": self.product_id.uom_id.id,
            "price_unit": self.price_unit,
            "discount": self.coverage_percent,
        }

from odoo import api, fields, models


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
        related="request_id.subscription_id", string="Contract", store=True, index=True
    )
    line_type = fields.Selection(
        selection=[
            ("part", "Part"),
            ("consumable", "Consumable"),
            ("labour", "Labour"),
            ("travel", "Travel"),
        ],
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
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    location_id = fields.Many2one(
        "stock.location",
        string="Taken From",
        check_company=True,
        help="Where the part comes from: by default the technician's van.",
    )
    currency_id = fields.Many2one(related="request_id.company_id.currency_id")
    price_unit = fields.Float(
        string="Unit Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        digits="Product Price",
    )
    coverage_source = fields.Selection(
        selection=[
            ("warranty", "Warranty"),
            ("contract", "Contract"),
            ("none", "Not Covered"),
        ],
        default="none",
        required=True,
    )
    coverage_percent = fields.Float(string="Covered (%)")
    coverage_rule_id = fields.Many2one(
        "serial.coverage.rule", string="Coverage Rule", index=True
    )
    coverage_reason = fields.Char()
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

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            line.name = line.product_id.display_name

    @api.depends("product_id")
    def _compute_price_unit(self):
        for line in self:
            line.price_unit = line.product_id.lst_price

    @api.depends("quantity", "price_unit", "coverage_percent")
    def _compute_charge_amount(self):
        for line in self:
            gross = line.quantity * line.price_unit
            line.charge_amount = line.currency_id.round(
                gross * (100.0 - line.coverage_percent) / 100.0
            )

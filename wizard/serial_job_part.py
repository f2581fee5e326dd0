from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.serial_service.models.product_template import LINE_TYPES


class SerialJobPart(models.TransientModel):
    """The job form's "Add part" button: scan the part's serial or barcode (or
    choose the product), see its coverage and what the van holds, and add it to
    the job as a service line."""

    _name = "serial.job.part"
    _description = "Add a Part to a Job"
    _check_company_auto = True

    request_id = fields.Many2one(
        "maintenance.request",
        string="Job",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="request_id.company_id")
    unit_lot_id = fields.Many2one(related="request_id.lot_id", string="Unit Serial")
    code = fields.Char(
        string="Scan",
        help="Type or scan the part's serial number, barcode or internal reference.",
    )
    message = fields.Char(compute="_compute_message")
    product_id = fields.Many2one(
        "product.product",
        string="Product",
        compute="_compute_product_id",
        store=True,
        readonly=False,
        check_company=True,
    )
    tracking = fields.Selection(related="product_id.tracking")
    line_type = fields.Selection(
        selection=LINE_TYPES,
        compute="_compute_line_type",
    )
    lot_id = fields.Many2one(
        "stock.lot",
        string="Part Serial",
        compute="_compute_lot_id",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('product_id', '=', product_id)]",
        help="The part's own serial number.",
    )
    removed_lot_id = fields.Many2one(
        "stock.lot",
        string="Replaces Serial",
        check_company=True,
        domain="[('product_id', '=', product_id), ('parent_lot_id', '=', unit_lot_id)]",
        help="The failed part taken out of the unit: it goes to the defective returns.",
    )
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    location_id = fields.Many2one(
        "stock.location",
        string="Taken From",
        compute="_compute_location_id",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('usage', '=', 'internal')]",
        help="By default the technician's van.",
    )
    available_qty = fields.Float(
        string="Available There",
        compute="_compute_available_qty",
        digits="Product Unit of Measure",
    )
    coverage_source = fields.Selection(
        selection=[
            ("warranty", "Warranty"),
            ("contract", "Contract"),
            ("none", "Not Covered"),
        ],
        compute="_compute_coverage",
    )
    coverage_percent = fields.Float(string="Covered (%)", compute="_compute_coverage")
    coverage_reason = fields.Char(compute="_compute_coverage")

    @api.depends("code")
    def _compute_product_id(self):
        lots, products = self._find_codes()
        for wizard in self:
            code = (wizard.code or "").strip()
            lot = lots.get(code)
            if lot:
                wizard.product_id = lot.product_id
            elif products.get(code):
                wizard.product_id = products[code]
            else:
                # nothing scanned (or nothing found): keep the product chosen
                wizard.product_id = wizard.product_id

    @api.depends("product_id")
    def _compute_line_type(self):
        for wizard in self:
            wizard.line_type = (
                wizard.product_id._get_service_line_type()
                if wizard.product_id
                else False
            )

    @api.depends("code", "product_id")
    def _compute_lot_id(self):
        lots, _products = self._find_codes()
        for wizard in self:
            lot = lots.get((wizard.code or "").strip())
            if lot and lot.product_id == wizard.product_id:
                wizard.lot_id = lot
            elif wizard.lot_id.product_id != wizard.product_id:
                wizard.lot_id = False
            else:
                wizard.lot_id = wizard.lot_id

    @api.depends("code", "product_id")
    def _compute_message(self):
        lots, products = self._find_codes()
        for wizard in self:
            code = (wizard.code or "").strip()
            if code and code == wizard.unit_lot_id.name:
                wizard.message = self.env._(
                    "%(code)s is the unit itself: scan the part's serial.", code=code
                )
            elif code and not lots.get(code) and not products.get(code):
                wizard.message = self.env._(
                    "%(code)s is neither a serial number nor a product.", code=code
                )
            else:
                wizard.message = False

    @api.depends("product_id", "request_id.user_id")
    def _compute_location_id(self):
        for wizard in self:
            if wizard.line_type in ("part", "consumable"):
                technician = wizard.request_id.user_id or self.env.user
                wizard.location_id = wizard.location_id or technician.van_location_id
            else:
                wizard.location_id = False

    @api.depends("product_id", "lot_id", "location_id")
    def _compute_available_qty(self):
        wizards = self.filtered(lambda w: w.product_id.is_storable and w.location_id)
        (self - wizards).available_qty = 0.0
        if not wizards:
            return
        available = self.env["serial.service.line"]._get_available_quantities(
            wizards.product_id, wizards.location_id
        )
        for wizard in wizards:
            wizard.available_qty = available[
                wizard.product_id, wizard.location_id, wizard.lot_id or False
            ]

    @api.depends("product_id", "quantity", "unit_lot_id", "request_id.request_date")
    def _compute_coverage(self):
        wizards = self.filtered(lambda w: w.product_id and w.unit_lot_id)
        (self - wizards).update(
            {"coverage_source": False, "coverage_percent": 0.0, "coverage_reason": ""}
        )
        if not wizards:
            return
        # the same decision the line gets, after the job's lines already there
        decisions = self.env["stock.lot"]._get_service_coverage_batch(
            [
                {
                    "lot": wizard.unit_lot_id,
                    "product": wizard.product_id,
                    "qty": wizard.quantity,
                    "date": wizard.request_id.request_date,
                }
                for wizard in wizards
            ]
        )
        for wizard, decision in zip(wizards, decisions, strict=True):
            wizard.coverage_source = decision["source"]
            wizard.coverage_percent = decision["percent"]
            wizard.coverage_reason = decision["reason"]

    def _find_codes(self):
        """({code: serial}, {code: product}) for the codes typed or scanned,
        in two queries for all the wizards: a part's serial first, else a
        product's barcode or internal reference."""
        codes = list({(w.code or "").strip() for w in self} - {""})
        if not codes:
            return {}, {}
        companies = self.request_id.company_id
        lots = self.env["stock.lot"].search(
            [
                ("name", "in", codes),
                ("company_id", "in", [*companies.ids, False]),
                ("id", "not in", self.request_id.lot_id.ids),
            ]
        )
        # a serial named like a unit and a part: the part is the one wanted here
        by_name = {}
        for lot in lots.sorted(lambda lot: lot.product_id.serial_service_managed):
            by_name.setdefault(lot.name, lot)
        rest = [code for code in codes if code not in by_name]
        products = (
            self.env["product.product"].search(
                ["|", ("barcode", "in", rest), ("default_code", "in", rest)]
            )
            if rest
            else self.env["product.product"]
        )
        by_code = {}
        for product in products:
            for code in (product.barcode, product.default_code):
                if code:
                    by_code.setdefault(code, product)
        return by_name, by_code

    def action_apply(self):
        self.ensure_one()
        job = self.request_id
        job._check_job_editable()
        if not self.product_id:
            raise UserError(
                self.message
                or self.env._("Choose the part, or scan its serial or barcode.")
            )
        if (
            self.product_id.tracking == "serial"
            and self.line_type in ("part", "consumable")
            and not self.lot_id
        ):
            raise UserError(
                self.env._(
                    "Scan the serial number of the %(product)s used.",
                    product=self.product_id.display_name,
                )
            )
        if self.lot_id and self.lot_id in job.service_line_ids.lot_id:
            raise UserError(
                self.env._(
                    "Serial %(serial)s is already on job %(job)s.",
                    serial=self.lot_id.name,
                    job=job.name,
                )
            )
        self.env["serial.service.line"].create(self._prepare_service_line_vals())
        return {"type": "ir.actions.act_window_close"}

    def _prepare_service_line_vals(self):
        self.ensure_one()
        return {
            "request_id": self.request_id.id,
            "product_id": self.product_id.id,
            "lot_id": self.lot_id.id,
            "removed_lot_id": self.removed_lot_id.id,
            "quantity": self.quantity,
            "location_id": self.location_id.id,
        }

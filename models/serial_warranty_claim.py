from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError


class SerialWarrantyClaim(models.Model):
    _name = "serial.warranty.claim"
    _description = "Supplier Warranty Claim"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, copy=False, readonly=True, default="/"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    lot_id = fields.Many2one(
        "stock.lot",
        string="Failed Serial",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    product_id = fields.Many2one(related="lot_id.product_id", store=True)
    request_id = fields.Many2one(
        "maintenance.request", string="Job", index=True, tracking=True
    )
    vendor_id = fields.Many2one(
        "res.partner",
        string="Vendor",
        required=True,
        tracking=True,
        compute="_compute_vendor_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    failure_date = fields.Date(
        required=True, default=fields.Date.context_today, tracking=True
    )
    supplier_warranty_end_date = fields.Date(
        related="lot_id.supplier_warranty_end_date"
    )
    description = fields.Html(string="Failure Description")
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("submitted", "Submitted"),
            ("accepted", "Accepted"),
            ("rejected", "Rejected"),
            ("credited", "Credited"),
        ],
        default="draft",
        required=True,
        tracking=True,
        index=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount = fields.Monetary(
        tracking=True,
        compute="_compute_amount",
        store=True,
        readonly=False,
        precompute=True,
        help="Amount claimed from the vendor: by default the part's cost.",
    )
    refund_move_id = fields.Many2one(
        "account.move", string="Vendor Credit Note", readonly=True, copy=False
    )
    forced = fields.Boolean(
        readonly=True,
        copy=False,
        tracking=True,
        help="A manager accepted the claim although the supplier warranty had "
        "expired on the failure date.",
    )

    @api.depends("lot_id")
    def _compute_vendor_id(self):
        for claim in self:
            claim.vendor_id = claim.lot_id.supplier_id or claim.vendor_id

    @api.depends("lot_id")
    def _compute_amount(self):
        for claim in self:
            claim.amount = claim.lot_id.product_id.standard_price

    @api.constrains("lot_id", "request_id", "state")
    def _check_one_live_claim(self):
        """One live (not rejected) claim per failed serial and job."""
        claims = self.filtered(lambda c: c.state != "rejected")
        if not claims:
            return
        groups = self._read_group(
            [
                ("lot_id", "in", claims.lot_id.ids),
                ("state", "!=", "rejected"),
            ],
            ["lot_id", "request_id"],
            ["__count"],
            having=[("__count", ">", 1)],
        )
        for lot, request, _count in groups:
            raise ValidationError(
                self.env._(
                    "Serial %(serial)s already has a live claim%(job)s: a failed part "
                    "is claimed once.",
                    serial=lot.name,
                    job=self.env._(" for job %(job)s", job=request.name)
                    if request
                    else "",
                )
            )

    @api.constrains("lot_id", "failure_date", "forced")
    def _check_supplier_warranty(self):
        for claim in self.filtered(lambda c: not c.forced):
            end = claim.lot_id.supplier_warranty_end_date
            # an unknown end (no receipt date or no supplier warranty months)
            # is left to the vendor's judgement
            if end and claim.failure_date > end:
                raise ValidationError(
                    self.env._(
                        "The supplier warranty of %(serial)s ended on %(date)s: only a "
                        "service manager can force this claim.",
                        serial=claim.lot_id.name,
                        date=end,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        forced_by_context = self.env.context.get("force_expired_supplier_warranty")
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("serial.warranty.claim") or "/"
                )
            if forced_by_context:
                vals["forced"] = True
        if any(vals.get("forced") for vals in vals_list):
            self._check_manager(
                self.env._("Only a service manager can force a claim out of warranty.")
            )
        if any(vals.get("state", "draft") != "draft" for vals in vals_list):
            self._check_manager(self._get_decision_refusal())
        claims = super().create(vals_list)
        claims.filtered("forced")._note_forced()
        return claims

    def write(self, vals):
        if vals.get("forced"):
            self._check_manager(
                self.env._("Only a service manager can force a claim out of warranty.")
            )
        # a technician drafts and submits a claim; what the vendor answered,
        # and the claim once submitted, only a manager changes
        if vals.get("state", "submitted") != "submitted" or self.filtered(
            lambda c: c.state != "draft"
        ):
            self._check_manager(self._get_decision_refusal())
        newly_forced = (
            self.filtered(lambda c: not c.forced) if vals.get("forced") else self
        )
        res = super().write(vals)
        if vals.get("forced"):
            newly_forced._note_forced()
        return res

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_submit(self):
        self._check_state("draft")
        self.state = "submitted"

    def action_accept(self):
        self._check_state("submitted")
        self.state = "accepted"

    def action_reject(self):
        self._check_state("submitted")
        self.state = "rejected"

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    @api.model
    def _get_decision_refusal(self):
        return self.env._(
            "Only a service manager can accept, reject or change a submitted "
            "supplier claim."
        )

    def _check_manager(self, message):
        """Refuse (message) anyone but a service manager; the system (sudo)
        passes."""
        if not self.env.su and not self.env.user.has_group(
            "serial_service.group_service_manager"
        ):
            raise AccessError(message)

    def _note_forced(self):
        """The "forced by" note every claim accepted out of warranty carries."""
        for claim in self:
            claim.message_post(
                body=self.env._(
                    "Claim forced by %(user)s although the supplier warranty had "
                    "expired on the failure date.",
                    user=self.env.user.name,
                )
            )

    def action_create_refund(self):
        """The vendor credit note (in_refund) for the accepted claims."""
        self._check_state("accepted")
        claims = self.filtered(lambda c: not c.refund_move_id)
        refunds = self.env["account.move"].create(
            [claim._prepare_refund_vals() for claim in claims]
        )
        for claim, refund in zip(claims, refunds, strict=True):
            claim.refund_move_id = refund
        if len(self) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "account.move",
                "res_id": self.refund_move_id.id,
                "view_mode": "form",
            }
        return True

    def _check_state(self, state):
        wrong = self.filtered(lambda c: c.state != state)
        if wrong:
            raise UserError(
                self.env._(
                    "Claim %(claim)s is %(state)s: this needs a %(expected)s claim.",
                    claim=wrong[0].name,
                    state=dict(self._fields["state"].selection)[wrong[0].state],
                    expected=dict(self._fields["state"].selection)[state],
                )
            )

    def _prepare_refund_vals(self):
        self.ensure_one()
        return {
            "move_type": "in_refund",
            "partner_id": self.vendor_id.id,
            "company_id": self.company_id.id,
            "invoice_date": fields.Date.context_today(self),
            "ref": self.env._(
                "Warranty claim %(claim)s: %(serial)s",
                claim=self.name,
                serial=self.lot_id.name,
            ),
            "invoice_line_ids": [
                Command.create(
                    {
                        "product_id": self.product_id.id,
                        "name": self.env._(
                            "%(product)s %(serial)s failed on %(date)s",
                            product=self.product_id.display_name,
                            serial=self.lot_id.name,
                            date=self.failure_date,
                        ),
                        "quantity": 1,
                        "price_unit": self.amount,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        }

    def _mark_credited(self):
        """Accepted claims whose credit note is posted are credited."""
        self.filtered(
            lambda c: c.state == "accepted" and c.refund_move_id.state == "posted"
        ).state = "credited"

    @api.model
    def _create_from_replaced_parts(self, jobs):
        """Draft a claim for each failed serial the jobs took out of their
        units (their lines' removed serials) still under its supplier warranty
        on the job date, with the job's photos; never a second one. One
        search, one create and one copy of the photos for all the jobs."""
        pairs = [
            (job, lot) for job in jobs for lot in job.service_line_ids.removed_lot_id
        ]
        if not pairs:
            return self.browse()
        today = fields.Date.context_today(self)
        existing = {
            (claim.request_id.id, claim.lot_id.id)
            for claim in self.search(
                [
                    ("lot_id", "in", [lot.id for _job, lot in pairs]),
                    ("request_id", "in", jobs.ids),
                    ("state", "!=", "rejected"),
                ]
            )
        }
        vals_list = []
        for job, lot in pairs:
            day = job.request_date or today
            if (
                (job.id, lot.id) not in existing
                and lot.supplier_id
                and lot.supplier_warranty_end_date
                and day <= lot.supplier_warranty_end_date
            ):
                vals_list.append(
                    {
                        "lot_id": lot.id,
                        "request_id": job.id,
                        "vendor_id": lot.supplier_id.id,
                        "failure_date": day,
                        "company_id": job.company_id.id,
                        "description": job.description,
                    }
                )
        if not vals_list:
            return self.browse()
        claims = self.create(vals_list)
        claims._copy_job_photos()
        return claims

    def _copy_job_photos(self):
        """The photos (image attachments) of each claim's job, copied onto the
        claim: one read of the photos, one create of the copies."""
        Attachment = self.env["ir.attachment"]
        photos = Attachment.search(
            [
                ("res_model", "=", "maintenance.request"),
                ("res_id", "in", self.request_id.ids),
                ("mimetype", "=like", "image/%"),
            ]
        )
        if not photos:
            return Attachment
        by_job = defaultdict(lambda: Attachment)
        for photo in photos:
            by_job[photo.res_id] |= photo
        return Attachment.create(
            [
                vals
                for claim in self
                for vals in by_job[claim.request_id.id].copy_data(
                    {"res_model": claim._name, "res_id": claim.id}
                )
            ]
        )

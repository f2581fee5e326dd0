from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, format_amount


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    # --- quote before chargeable work ---
    quotation_id = fields.Many2one(
        "sale.order",
        string="Quotation",
        readonly=True,
        copy=False,
        tracking=True,
        index="btree_not_null",
        check_company=True,
        help="The quotation of the job's chargeable work: confirmed by the "
        "customer, it is what invoices the job.",
    )
    quotation_state = fields.Selection(
        related="quotation_id.state", string="Quotation Status"
    )
    service_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    charge_total = fields.Monetary(
        string="To Charge",
        currency_field="service_currency_id",
        compute="_compute_quote_state",
        compute_sudo=True,
        help="What the customer pays for the job's lines after coverage.",
    )
    is_quote_required = fields.Boolean(
        string="Quotation Required",
        compute="_compute_quote_state",
        compute_sudo=True,
        help="The chargeable total is above the company's quote threshold.",
    )
    quote_state = fields.Selection(
        selection=[
            ("none", "No Quotation Needed"),
            ("to_quote", "To Quote"),
            ("waiting", "Waiting for the Customer"),
            ("confirmed", "Accepted"),
            ("outdated", "Lines Changed Since the Quotation"),
            ("refused", "Refused"),
        ],
        compute="_compute_quote_state",
        # sudo: technicians and customers see the state of the job's
        # quotation without sales rights
        compute_sudo=True,
    )

    @api.depends(
        "service_line_ids.charge_amount",
        "service_line_ids.quantity",
        "service_line_ids.price_unit",
        "service_line_ids.coverage_percent",
        "service_line_ids.sale_line_id",
        "quotation_id.state",
        "quotation_id.order_line.product_uom_qty",
        "quotation_id.order_line.price_unit",
        "quotation_id.order_line.discount",
        "company_id.service_quote_threshold",
    )
    def _compute_quote_state(self):
        for job in self:
            currency = job.company_id.currency_id
            total = sum(job.service_line_ids.mapped("charge_amount"))
            threshold = job.company_id.service_quote_threshold
            required = bool(
                threshold
                and float_compare(
                    total, threshold, precision_rounding=currency.rounding
                )
                > 0
            )
            order = job.quotation_id
            if order.state == "cancel":
                state = "refused"
            elif order and not job._is_quoted_as_is():
                state = "outdated"
            elif order.state == "sale":
                state = "confirmed"
            elif order:
                state = "waiting"
            else:
                state = "to_quote" if required else "none"
            job.update(
                {
                    "charge_total": total,
                    "is_quote_required": required,
                    "quote_state": state,
                }
            )

    def _is_quoted_as_is(self):
        """Every chargeable line of the job is on its quotation unchanged, and
        the quotation quotes no line the job no longer has."""
        self.ensure_one()
        # sudo: the job's people compare it with its quotation without sales
        # rights
        order = self.quotation_id.sudo()
        lines = self.service_line_ids
        chargeable = lines.filtered(
            lambda line: line.charge_amount > 0 or line.sale_line_id
        )
        if not all(line._is_quoted_as_is(order) for line in chargeable):
            return False
        quoted = order.order_line.filtered(lambda line: not line.display_type)
        return not (quoted - lines.sale_line_id)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_create_quotation(self):
        """Quote the job's lines to its customer: the chargeable ones at their
        charge, the covered ones at their coverage as a discount, with the
        reason. A quotation already made for the job is replaced."""
        self.ensure_one()
        self._check_job_editable()
        if not self.customer_id:
            raise UserError(
                self.env._("Job %(job)s has no customer to quote.", job=self.name)
            )
        if not self.service_line_ids.filtered(lambda line: line.charge_amount > 0):
            raise UserError(
                self.env._(
                    "Nothing on job %(job)s is chargeable: there is nothing to quote.",
                    job=self.name,
                )
            )
        previous = self.quotation_id
        # sudo: the technician quoting on site has no sales rights; the
        # quotation is the company's, accepted by the customer on the portal
        order = self.env["sale.order"].sudo().create(self._prepare_quotation_vals())
        # the customer's portal users find it among their quotations
        order.message_subscribe(partner_ids=self.customer_id.ids)
        lines = self.service_line_ids
        for line, sale_line in zip(lines, order.order_line, strict=True):
            # sudo: the quotation alone links a line to its quotation line
            line.sudo().sale_line_id = sale_line
        # sudo: the quotation alone is linked to the job by this action (a
        # cancelled order linked by hand would drop the chargeable work)
        self.sudo().quotation_id = order.id
        if previous and previous.state != "cancel":
            previous.sudo()._action_cancel()
        self.message_post(
            body=self.env._(
                "Quotation %(order)s made for %(amount)s.",
                order=order.name,
                amount=format_amount(
                    self.env, self.charge_total, self.service_currency_id
                ),
            ),
            subtype_xmlid="mail.mt_note",
        )
        return self.action_view_quotation()

    def action_view_quotation(self):
        """The quotation in the sales app for those who may open it; else its
        portal page, where the customer reads, signs and accepts it."""
        self.ensure_one()
        order = self.quotation_id
        if not order:
            raise UserError(
                self.env._("Job %(job)s has no quotation yet.", job=self.name)
            )
        if self.env.user.has_group("sales_team.group_sale_salesman"):
            action = self.env["ir.actions.actions"]._for_xml_id(
                "sale.action_quotations_with_onboarding"
            )
            action.update(views=[(False, "form")], res_id=order.id)
            return action
        return {
            "type": "ir.actions.act_url",
            "url": order.sudo().get_portal_url(),
            "target": "new",
        }

    def action_complete_job(self):
        """A refused quotation closes the job with what its coverage pays for
        (the chargeable lines are dropped); a quotation still waiting on a job
        that no longer needs one is cancelled, the job invoicing itself."""
        jobs = self.filtered(lambda job: not job.completed_on)
        jobs.filtered(lambda job: job.quotation_state == "cancel")._drop_refused_work()
        waiting = jobs.filtered(lambda job: job.quotation_state in ("draft", "sent"))
        result = super().action_complete_job()
        # sudo: the technician completing the job has no sales rights
        waiting.filtered("completed_on").quotation_id.sudo()._action_cancel()
        return result

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    @api.model
    def _bookkeeping_fields(self):
        # set by action_create_quotation only (as the system)
        return [*super()._bookkeeping_fields(), "quotation_id"]

    def _prepare_quotation_vals(self):
        self.ensure_one()
        return {
            "partner_id": self.customer_id.id,
            "company_id": self.company_id.id,
            "origin": self.name,
            "service_request_id": self.id,
            # the customer accepts the work by signing on the portal: signing
            # confirms the order (no online payment asked before the visit)
            "require_signature": True,
            "require_payment": False,
            "order_line": [
                Command.create(line._prepare_sale_line_vals())
                for line in self.service_line_ids
            ],
        }

    def _check_can_complete(self):
        result = super()._check_can_complete()
        for job in self:
            if job.quote_state == "outdated" and job.quotation_state == "sale":
                raise UserError(
                    self.env._(
                        "The lines of job %(job)s changed after the customer "
                        "accepted quotation %(order)s: make a new quotation and "
                        "have it accepted before completing the job.",
                        job=job.name,
                        order=job.quotation_id.sudo().name,
                    )
                )
            if job.is_quote_required and job.quote_state != "confirmed":
                raise UserError(
                    self.env._(
                        "Job %(job)s charges %(amount)s, above the %(threshold)s "
                        "that needs the customer's approval: make a quotation "
                        "(Create quotation) and have the customer accept it "
                        "before completing the job.",
                        job=job.name,
                        amount=format_amount(
                            self.env, job.charge_total, job.service_currency_id
                        ),
                        threshold=format_amount(
                            self.env,
                            job.company_id.service_quote_threshold,
                            job.service_currency_id,
                        ),
                    )
                )
        return result

    def _drop_refused_work(self):
        """The customer refused the quotation: what they would have paid for
        is not done. The chargeable lines leave the job (their parts stay in
        the van); the note in the job's history names them."""
        for job in self:
            lines = job.service_line_ids.filtered(lambda line: line.charge_amount > 0)
            if not lines:
                continue
            job.message_post(
                body=self.env._(
                    "Quotation %(order)s was refused: not done and not charged: "
                    "%(lines)s.",
                    order=job.quotation_id.sudo().name,
                    lines=", ".join(
                        f"{line.name or line.product_id.display_name} "
                        f"({line.quantity:g})"
                        for line in lines
                    ),
                ),
                subtype_xmlid="mail.mt_note",
            )
            lines.unlink()

    def _create_invoices(self):
        """A job whose quotation the customer accepted is invoiced through
        that order, once; the others invoice themselves."""
        quoted = self.filtered(lambda job: job.quotation_state == "sale")
        invoices = super(MaintenanceRequest, self - quoted)._create_invoices()
        if quoted:
            invoices |= quoted._create_invoices_from_quotation()
        return invoices

    def _create_invoices_from_quotation(self):
        # sudo: the technician completing the job has no sales or invoicing
        # rights; the draft invoice waits for the billing clerk
        orders = self.quotation_id.sudo()
        for line in self.service_line_ids.sale_line_id.sudo():
            if line.qty_delivered_method == "manual":
                line.qty_delivered = line.product_uom_qty
        to_invoice = orders.filtered(lambda order: order.invoice_status == "to invoice")
        invoices = (
            to_invoice._create_invoices(grouped=True)
            if to_invoice
            else self.env["account.move"]
        )
        for job in self:
            order = job.quotation_id.sudo()
            # sudo: completion alone links the job to its invoices
            job.sudo().invoice_ids = [
                Command.link(move.id) for move in order.invoice_ids
            ]
            for line in job.service_line_ids.filtered("sale_line_id"):
                invoice_line = line.sale_line_id.sudo().invoice_lines.filtered(
                    lambda aml: aml.move_id.state != "cancel"
                )[:1]
                if invoice_line:
                    # sudo: completion alone links a line to its invoice line
                    line.sudo().invoice_line_id = invoice_line.id
        return invoices.with_env(self.env)

from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # --- quote before chargeable work: the quotation of a service job ---
    service_request_id = fields.Many2one(
        "maintenance.request",
        string="Service Job",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The job this quotation quotes: confirmed, it invoices the job.",
    )

    def action_confirm(self):
        result = super().action_confirm()
        self._notify_service_job(accepted=True)
        return result

    def _action_cancel(self):
        result = super()._action_cancel()
        self._notify_service_job(accepted=False)
        return result

    def _find_mail_template(self):
        # a job's quotation is sent with the job's own words: the unit, what
        # is charged and why, and the portal link to sign it
        self.ensure_one()
        if self.service_request_id and self.state in ("draft", "sent"):
            template = self.env.ref(
                "serial_service.mail_template_job_quotation", raise_if_not_found=False
            )
            if template:
                return template
        return super()._find_mail_template()

    def _notify_service_job(self, accepted):
        """Tell the job its quotation was accepted, or refused."""
        for order in self.filtered(
            lambda order: order.service_request_id.quotation_id == order
        ):
            if accepted:
                note = self.env._(
                    "Quotation %(order)s was accepted: the job can be completed.",
                    order=order.name,
                )
            else:
                note = self.env._(
                    "Quotation %(order)s was refused or cancelled: the job closes "
                    "with what the contract covers, unless a new quotation is "
                    "accepted.",
                    order=order.name,
                )
            # sudo: the customer accepts on the portal, where the job is
            # read-only; the note is the job's history
            order.service_request_id.sudo().message_post(
                body=note, subtype_xmlid="mail.mt_note"
            )

    def action_view_service_request(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "maintenance.request",
            "res_id": self.service_request_id.id,
            "views": [(False, "form")],
        }


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    service_line_ids = fields.One2many(
        "serial.service.line", "sale_line_id", string="Job Lines", readonly=True
    )

    @api.depends("service_line_ids")
    def _compute_qty_delivered_method(self):
        """A job's quotation line is delivered by the job: the job's own moves
        take the parts out of the van, completing the job delivers it."""
        result = super()._compute_qty_delivered_method()
        for line in self.filtered("service_line_ids"):
            line.qty_delivered_method = "manual"
        return result

    def _action_launch_stock_rule(self, previous_product_uom_qty=False):
        # the job's parts leave the technician's van by the job's moves: its
        # quotation ships nothing from the depot
        lines = self.filtered(lambda line: not line.service_line_ids)
        return super(SaleOrderLine, lines)._action_launch_stock_rule(
            previous_product_uom_qty=previous_product_uom_qty
        )

import math
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import float_round


class SaleSubscription(models.Model):
    _inherit = "sale.subscription"

    # --- renewals ---
    renewed_from_id = fields.Many2one(
        "sale.subscription",
        string="Renewal Of",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The contract whose next term this one is.",
    )
    renewal_ids = fields.One2many(
        "sale.subscription", "renewed_from_id", string="Renewals", readonly=True
    )
    renewal_id = fields.Many2one(
        "sale.subscription",
        string="Next Term",
        compute="_compute_renewal_id",
        help="The contract made as this one's next term.",
    )
    renewal_order_id = fields.Many2one(
        "sale.order",
        string="Renewal Quotation",
        copy=False,
        readonly=True,
        help="The quotation the customer accepts on the portal to take up this "
        "next term.",
    )
    renewal_percent = fields.Float(
        string="Renewal Increase (%)",
        copy=False,
        readonly=True,
        help="The increase of the recurring and usage prices over the previous term.",
    )
    renewal_due = fields.Boolean(
        string="To Renew",
        compute="_compute_renewal_due",
        search="_search_renewal_due",
        help="Running, ending within its template's renewal notice, not renewed yet.",
    )
    renewal_notice_date = fields.Date(
        string="Renewal Notice Sent On",
        copy=False,
        readonly=True,
        help="When the salesperson got the renewal activity of this term.",
    )
    term_revenue = fields.Monetary(
        string="Term Invoiced", compute="_compute_term_margin"
    )
    term_cost = fields.Monetary(
        string="Term Covered Cost", compute="_compute_term_margin"
    )
    term_margin = fields.Monetary(string="Term Margin", compute="_compute_term_margin")
    term_margin_rate = fields.Float(
        string="Term Margin (%)",
        compute="_compute_term_margin",
        digits=(16, 1),
        help="Margin per 100 invoiced over the term (contract profitability).",
    )
    suggested_increase = fields.Float(
        string="Suggested Increase (%)",
        compute="_compute_term_margin",
        digits=(16, 1),
        help="The price increase that brings the margin back to the company's "
        "target, when it is under it.",
    )

    @api.depends("renewal_ids")
    def _compute_renewal_id(self):
        for subscription in self:
            subscription.renewal_id = subscription.renewal_ids.sorted("id")[-1:]

    def _get_renewal_window_end(self, today=None):
        self.ensure_one()
        today = today or fields.Date.context_today(self)
        return today + timedelta(days=self.template_id.renewal_notice_days)

    def _compute_renewal_due(self):
        today = fields.Date.context_today(self)
        for subscription in self:
            subscription.renewal_due = bool(
                subscription.in_progress
                and subscription.date
                and not subscription.renewal_ids
                and subscription.date <= subscription._get_renewal_window_end(today)
            )

    def _search_renewal_due(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on To Renew."))
        today = fields.Date.context_today(self)
        groups = self.env["sale.subscription.template"]._read_group(
            [], ["renewal_notice_days"], ["id:array_agg"]
        )
        by_window = [
            [
                ("template_id", "in", template_ids),
                ("date", "<=", today + timedelta(days=days or 0)),
            ]
            for days, template_ids in groups
        ]
        window = expression.OR(by_window) if by_window else [(0, "=", 1)]
        domain = expression.AND(
            [
                [
                    ("in_progress", "=", True),
                    ("date", "!=", False),
                    ("renewal_ids", "=", False),
                ],
                window,
            ]
        )
        if (operator == "=") != value:
            return ["!", *expression.normalize_domain(domain)]
        return domain

    def _get_term_figures(self):
        """{contract id: (invoiced, covered cost, margin)} over each contract's
        term so far, from the contract profitability report, in one query."""
        if not self.ids:
            return {}
        Report = self.env["serial.contract.profit.report"]
        # sudo: a figure of the contracts the user reads, whatever their
        # access to the report's rows (jobs, invoices)
        groups = Report.sudo()._read_group(
            [("subscription_id", "in", self.ids)],
            ["subscription_id", "date:day"],
            ["revenue:sum", "cost:sum", "margin:sum"],
        )
        figures = {}
        for subscription, day, revenue, cost, margin in groups:
            if not day:
                continue
            start = subscription.date_start
            end = subscription.date
            if (start and day < start) or (end and day > end):
                continue
            total = figures.get(subscription.id, (0.0, 0.0, 0.0))
            figures[subscription.id] = (
                total[0] + revenue,
                total[1] + cost,
                total[2] + margin,
            )
        return figures

    @api.depends_context("company")
    def _compute_term_margin(self):
        figures = self._get_term_figures()
        for subscription in self:
            revenue, cost, margin = figures.get(subscription.id, (0.0, 0.0, 0.0))
            subscription.term_revenue = revenue
            subscription.term_cost = cost
            subscription.term_margin = margin
            rate = 100.0 * margin / revenue if revenue > 0 else 0.0
            subscription.term_margin_rate = rate
            subscription.suggested_increase = subscription._get_suggested_increase(
                revenue, cost
            )

    def _get_suggested_increase(self, revenue, cost):
        """The increase (%) of the prices that brings the margin over the term
        to the company's target: revenue R, cost C, target t give the revenue
        C / (1 - t) needed; 0 when the margin is at or above the target, or
        nothing was invoiced."""
        self.ensure_one()
        target = (self.company_id or self.env.company).service_target_margin
        if revenue <= 0 or target >= 100:
            return 0.0
        if 100.0 * (revenue - cost) / revenue >= target:
            return 0.0
        needed = cost / (1 - target / 100.0)
        return math.ceil((needed / revenue - 1) * 1000) / 10.0

    # ------------------------------------------------------------------
    # Renewal
    # ------------------------------------------------------------------
    def action_renew(self, percent=0.0):
        """The next term of each of these ending contracts: same customer,
        covered serials, rules and tariffs, recurring and usage prices raised
        by `percent`, starting the day after the old one ends; with its
        quotation for the customer to accept on the portal. The old contract
        keeps its history. Returns the new contracts."""
        for subscription in self:
            subscription._check_renewable(percent)
        vals_list = [
            subscription._prepare_renewal_vals(percent) for subscription in self
        ]
        covered = [vals.pop("covered_lot_ids") for vals in vals_list]
        renewals = self.create(vals_list)
        for renewal, lots in zip(renewals, covered, strict=True):
            # sudo: the next term covers the serials the old one covered; a
            # contract consultant renews contracts without reading serials
            renewal.sudo().covered_lot_ids = lots
        orders = self.env["sale.order"].create(
            [renewal._prepare_renewal_order_vals() for renewal in renewals]
        )
        for renewal, order in zip(renewals, orders, strict=True):
            renewal.renewal_order_id = order
        for subscription, renewal in zip(self, renewals, strict=True):
            subscription.message_post(
                body=Markup(
                    self.env._(
                        "Renewed by %(link)s from %(date)s, prices raised by "
                        "%(percent)s %%."
                    )
                )
                % {
                    "link": renewal._get_html_link(),
                    "date": renewal.date_start,
                    "percent": percent,
                }
            )
            renewal.message_post(
                body=Markup(self.env._("Next term of %(link)s."))
                % {"link": subscription._get_html_link()}
            )
        return renewals

    def _check_renewable(self, percent):
        self.ensure_one()
        if not self.date:
            raise UserError(
                self.env._(
                    "Contract %(contract)s has no end date: it runs until closed "
                    "and needs no renewal.",
                    contract=self.display_name,
                )
            )
        if self.renewal_ids:
            raise UserError(
                self.env._(
                    "Contract %(contract)s is already renewed by %(renewal)s.",
                    contract=self.display_name,
                    renewal=self.renewal_ids[-1:].display_name,
                )
            )
        if percent <= -100:
            raise UserError(
                self.env._("A renewal cannot lower the prices by 100 % or more.")
            )

    def _prepare_renewal_vals(self, percent):
        """Values of the next term (never writes)."""
        self.ensure_one()
        factor = 1 + (percent or 0.0) / 100.0
        start = self.date + timedelta(days=1)
        length = relativedelta(self.date, self.date_start) if self.date_start else None
        end = start + length if length else False

        def raise_price(price):
            return float_round(price * factor, precision_digits=6)

        tariffs = []
        for tariff in self.usage_tariff_ids:
            vals = tariff._prepare_copy_vals()
            vals["price_unit"] = raise_price(vals["price_unit"])
            vals["minimum_amount"] = raise_price(vals["minimum_amount"])
            vals["tier_ids"] = [
                Command.create(
                    {
                        "from_qty": tier.from_qty,
                        "price_unit": raise_price(tier.price_unit),
                    }
                )
                for tier in tariff.tier_ids
            ]
            tariffs.append(Command.create(vals))
        return {
            "partner_id": self.partner_id.id,
            "template_id": self.template_id.id,
            "company_id": self.company_id.id,
            "pricelist_id": self.pricelist_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "journal_id": self.journal_id.id,
            "user_id": self.user_id.id,
            "crm_team_id": self.crm_team_id.id,
            "tag_ids": [Command.set(self.tag_ids.ids)],
            "description": self.description,
            "terms": self.terms,
            "date_start": start,
            "recurring_next_date": start,
            "date": end,
            "renewed_from_id": self.id,
            "renewal_percent": percent,
            "covered_lot_ids": [Command.set(self.covered_lot_ids.ids)],
            "response_hours": self.response_hours,
            "resolution_hours": self.resolution_hours,
            "sale_subscription_line_ids": [
                Command.create(
                    {
                        "product_id": line.product_id.id,
                        "name": line.name,
                        "product_uom_qty": line.product_uom_qty,
                        "price_unit": raise_price(line.price_unit),
                        "discount": line.discount,
                        "tax_ids": [Command.set(line.tax_ids.ids)],
                    }
                )
                for line in self.sale_subscription_line_ids
            ],
            "coverage_rule_ids": [
                Command.create(rule._prepare_copy_vals())
                for rule in self.coverage_rule_ids
            ],
            "usage_tariff_ids": tariffs,
        }

    def _prepare_renewal_order_vals(self):
        """The quotation of this next term's recurring price (never writes)."""
        self.ensure_one()
        return {
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "pricelist_id": self.pricelist_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            # the one who renews makes the proposal (a salesperson who sees
            # only their own documents may renew another's contract)
            "user_id": self.env.uid,
            "origin": self.renewed_from_id.display_name,
            "validity_date": self.renewed_from_id.date,
            "renewal_subscription_id": self.id,
            "note": self.terms,
            "order_line": [
                Command.create(
                    {
                        **line._prepare_sale_order_line(),
                        "tax_id": [Command.set(line.tax_ids.ids)],
                    }
                )
                for line in self.sale_subscription_line_ids
            ],
        }

    def action_view_renewal(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.subscription",
            "view_mode": "form",
            "res_id": self.renewal_id.id,
        }

    def action_open_renew_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Renew Contracts"),
            "res_model": "serial.contract.renew",
            "view_mode": "form",
            "target": "new",
            "context": {"default_subscription_ids": [Command.set(self.ids)]},
        }

    def action_send_renewal_proposal(self):
        """Open the e-mail of the renewal proposal of this contract's next
        term (its quotation on the portal)."""
        self.ensure_one()
        order = self.renewal_id.renewal_order_id or self.renewal_order_id
        if not order:
            raise UserError(
                self.env._(
                    "Renew contract %(contract)s first: the proposal is the next "
                    "term's quotation.",
                    contract=self.display_name,
                )
            )
        template = self.env.ref("serial_service.mail_template_renewal_proposal")
        return {
            "type": "ir.actions.act_window",
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_model": "sale.order",
                "default_res_ids": order.ids,
                "default_template_id": template.id,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": "mail.mail_notification_layout",
                "mark_so_as_sent": True,
            },
        }

    def _send_renewal_proposals(self):
        """E-mail the proposal of these next terms (or of the next terms of
        these ending contracts) to their customers."""
        template = self.env.ref("serial_service.mail_template_renewal_proposal")
        orders = self.renewal_order_id | self.renewal_ids.renewal_order_id
        for order in orders:
            order._portal_ensure_token()
            order.message_post_with_source(
                template,
                subtype_xmlid="mail.mt_comment",
                partner_ids=order.partner_id.ids,
            )
        orders.filtered(lambda o: o.state == "draft").write({"state": "sent"})

    # ------------------------------------------------------------------
    # Renewal notice
    # ------------------------------------------------------------------
    @api.model
    def _cron_renewal_notice(self):
        """Daily: one renewal activity for the salesperson of each contract
        entering its renewal window."""
        contracts = self.search(
            [("renewal_due", "=", True), ("renewal_notice_date", "=", False)]
        )
        today = fields.Date.context_today(self)
        for contract in contracts:
            contract.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=min(contract.date, today + timedelta(days=7)),
                summary=self.env._("Renew the contract"),
                note=self.env._(
                    "%(contract)s ends on %(date)s: margin over the term "
                    "%(margin)s %%, suggested increase %(increase)s %%.",
                    contract=contract.display_name,
                    date=contract.date,
                    margin=float_round(contract.term_margin_rate, 1),
                    increase=contract.suggested_increase,
                ),
                user_id=contract.user_id.id or self.env.uid,
            )
        contracts.write({"renewal_notice_date": today})
        return contracts

from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class SaleSubscription(models.Model):
    """The contract's own rules: the serials it covers (one running contract
    per serial), its SLA, the rules and tariffs copied from its template, and
    when it runs (its billing periods). Usage billing: sale_subscription_usage
    (readings to bill) and sale_subscription_usage_pricing (the lines); the
    scheduled billing run: sale_subscription_billing."""

    _inherit = "sale.subscription"

    covered_lot_ids = fields.Many2many(
        "stock.lot",
        relation="sale_subscription_stock_lot_rel",
        column1="subscription_id",
        column2="lot_id",
        string="Covered Serials",
        copy=False,
        tracking=True,
        domain="[('customer_id', 'child_of', commercial_partner_id)]",
    )
    commercial_partner_id = fields.Many2one(related="partner_id.commercial_partner_id")
    coverage_rule_ids = fields.One2many(
        "serial.coverage.rule", "subscription_id", string="Coverage Rules", copy=True
    )
    usage_tariff_ids = fields.One2many(
        "serial.usage.tariff", "subscription_id", string="Usage Tariffs", copy=True
    )
    response_hours = fields.Float(
        compute="_compute_sla_hours",
        store=True,
        readonly=False,
        help="Hours within which a technician answers a job on a covered serial.",
    )
    resolution_hours = fields.Float(
        compute="_compute_sla_hours",
        store=True,
        readonly=False,
        help="Hours within which a job on a covered serial is resolved.",
    )
    # meter-triggered preventive maintenance: a contract may service its
    # serials more (or less) often than their product says
    preventive_meter_type_id = fields.Many2one(
        "serial.meter.type",
        string="Preventive Service Meter",
        help="Empty: the meter the product's preventive service follows.",
    )
    preventive_interval = fields.Float(
        string="Preventive Service Every",
        help="Replaces the product's interval for the serials this contract "
        "covers while it runs; 0 = the product's.",
    )

    # --- SLA ---------------------------------------------------------------
    @api.depends("template_id")
    def _compute_sla_hours(self):
        for subscription in self:
            subscription.response_hours = subscription.template_id.response_hours
            subscription.resolution_hours = subscription.template_id.resolution_hours

    # --- one running contract per serial -----------------------------------
    @api.constrains("covered_lot_ids", "stage_id", "date_start", "date")
    def _check_one_running_contract_per_serial(self):
        """A serial is covered by at most one running contract at a time: two
        in-progress contracts covering it must not overlap in dates."""
        lots = self.covered_lot_ids
        if not lots:
            return
        # two users covering the same serial at once: the second waits for the
        # first to commit, then fails to serialize (retried by Odoo), instead
        # of both passing this check on their own snapshots. REPEATABLE READ
        # refuses the second only if the first changed the serials' rows (a
        # lock alone is granted on the old snapshot): hence the update
        # log_exceptions: a serialization failure is an expected answer here
        self.env.cr.execute(
            SQL(
                "SELECT id FROM stock_lot WHERE id IN %s FOR NO KEY UPDATE",
                tuple(lots.ids),
            ),
            log_exceptions=False,
        )
        self.env.cr.execute(
            SQL(
                "UPDATE stock_lot SET write_date = write_date WHERE id IN %s",
                tuple(lots.ids),
            )
        )
        contracts = lots.subscription_ids.filtered(
            lambda s: s.stage_id.type == "in_progress"
        )
        # each serial's running contracts, in one pass over the contracts
        running_by_lot = defaultdict(list)
        for contract in contracts:
            for lot_id in contract.covered_lot_ids.ids:
                running_by_lot[lot_id].append(contract)
        for lot in lots:
            running = running_by_lot[lot.id]
            for first in running:
                for second in running:
                    if first.id < second.id and first._overlaps(second):
                        raise ValidationError(
                            self.env._(
                                "Serial %(serial)s is already covered by contract "
                                "%(contract)s in the same period: a serial is "
                                "covered by one running contract at a time.",
                                serial=lot.name,
                                contract=(second if second in self else first).name,
                            )
                        )

    # --- rules and tariffs copied from the template -------------------------
    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        subscriptions._copy_template_coverage_rules()
        subscriptions._copy_template_usage_tariffs()
        return subscriptions

    def _copy_template_usage_tariffs(self):
        self._copy_template_lines("usage_tariff_ids")

    def _copy_template_coverage_rules(self):
        self._copy_template_lines("coverage_rule_ids")

    def _copy_template_lines(self, field_name):
        """A contract created from a template gets copies of the template's
        rules or tariffs (field_name, the same on both), to be edited on the
        contract; a contract created with its own keeps them."""
        vals_list = [
            dict(line._prepare_copy_vals(), subscription_id=subscription.id)
            for subscription in self.filtered(lambda s: not s[field_name])
            for line in subscription.template_id[field_name]
        ]
        if vals_list:
            self.env[self._fields[field_name].comodel_name].create(vals_list)

    # --- running and billing periods ---------------------------------------
    def _overlaps(self, other):
        self.ensure_one()
        far = fields.Date.to_date("9999-12-31")
        return self.date_start <= (other.date or far) and other.date_start <= (
            self.date or far
        )

    def _is_running_on(self, day):
        """DESIGN.md: in_progress stage, started, and not past its end date."""
        self.ensure_one()
        return (
            self.stage_id.type == "in_progress"
            and bool(self.date_start)
            and self.date_start <= day
            and (not self.date or day <= self.date)
        )

    def _get_billing_period(self, day):
        """[start, end) of the billing period holding the day: periods of the
        template's recurrence counted from the contract's start date."""
        self.ensure_one()
        unit = self.template_id.recurring_rule_type or "months"
        step = relativedelta(**{unit: max(self.template_id.recurring_interval, 1)})
        start = self.date_start or day
        if unit == "months" or unit == "years":
            months = (day.year - start.year) * 12 + day.month - start.month
            size = max(self.template_id.recurring_interval, 1) * (
                12 if unit == "years" else 1
            )
            count = max(months // size, 0)
            period_start = start + relativedelta(months=count * size)
            if period_start > day:
                period_start -= relativedelta(months=size)
        else:
            days = (day - start).days
            size = (step + start - start).days
            period_start = start + relativedelta(days=max(days // size, 0) * size)
        return period_start, period_start + step

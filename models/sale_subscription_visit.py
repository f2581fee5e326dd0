from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

# the top suggestion wins "clearly" when it leads the second by this score
CLEAR_WIN_MARGIN = 20.0


class SaleSubscription(models.Model):
    _inherit = "sale.subscription"

    next_visit_date = fields.Date(
        compute="_compute_next_visit_date",
        help="The next planned preventive visit of the covered serials.",
    )

    @api.depends("template_id.visit_interval_months", "date_start", "date", "stage_id")
    def _compute_next_visit_date(self):
        today = fields.Date.context_today(self)
        for contract in self:
            contract.next_visit_date = contract._get_next_visit_date(today)

    # --- planned visits ---
    def _get_next_visit_date(self, day):
        """The first visit date on or after ``day``: the contract's start plus
        a whole number of the template's intervals, within the contract."""
        self.ensure_one()
        months = self.template_id.visit_interval_months
        if months <= 0 or not self.date_start:
            return False
        elapsed = relativedelta(day, self.date_start)
        k = max((elapsed.years * 12 + elapsed.months) // months, 1)
        visit = self.date_start + relativedelta(months=k * months)
        while visit < day:
            k += 1
            visit = self.date_start + relativedelta(months=k * months)
        if self.date and visit > self.date:
            return False
        return visit

    @api.model
    def _cron_planned_visits(self):
        """Create the planned visits that fall due, for the running contracts
        whose template plans visits."""
        contracts = self.search(
            [
                ("template_id.visit_interval_months", ">", 0),
                ("stage_id.type", "=", "in_progress"),
            ]
        )
        return contracts._create_planned_visits()

    def _create_planned_visits(self, day=None):
        """One job per covered serial and visit date, created the template's
        lead days ahead (never twice: a unique index on serial and date),
        assigned when one technician clearly wins the suggestions, and
        announced to the customer. Returns the jobs created."""
        day = day or fields.Date.context_today(self)
        due = {}
        for contract in self.filtered(lambda c: c._is_running_on(day)):
            visit = contract._get_next_visit_date(day)
            lead = relativedelta(days=contract.template_id.visit_lead_days)
            if visit and visit - lead <= day:
                due[contract] = visit
        Job = self.env["maintenance.request"]
        if not due:
            return Job
        served = {
            (job.lot_id.id, job.planned_visit_date)
            for job in Job.with_context(active_test=False).search_fetch(
                [
                    ("lot_id", "in", self.covered_lot_ids.ids),
                    ("planned_visit_date", "in", list(set(due.values()))),
                ],
                ["lot_id", "planned_visit_date"],
            )
        }
        vals_list = [
            contract._prepare_planned_visit_vals(lot, visit)
            for contract, visit in due.items()
            for lot in contract.covered_lot_ids
            if (lot.id, visit) not in served
        ]
        if not vals_list:
            return Job
        jobs = Job.create(vals_list)
        jobs._assign_clear_winners()
        return jobs

    def _prepare_planned_visit_vals(self, lot, visit):
        self.ensure_one()
        template = self.template_id
        return self.env["maintenance.request"]._prepare_preventive_job_vals(
            lot,
            self.env._(
                "Planned visit of %(serial)s on %(date)s",
                serial=lot.name,
                date=visit,
            ),
            self.env._(
                "Visit every %(months)s months under contract %(contract)s.",
                months=template.visit_interval_months,
                contract=self.display_name,
            ),
            subscription_id=self.id,
            company_id=self.company_id.id,
            planned_visit_date=visit,
            duration=template.visit_duration,
        )

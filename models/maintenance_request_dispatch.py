from collections import defaultdict
from datetime import timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.resource.models.utils import Intervals, sum_intervals

# without a response deadline, the free hours are counted over this horizon
DISPATCH_HORIZON_HOURS = 72
# the weights of the ranking: a van holding every part outweighs the rest
SCORE_VAN = 100.0
SCORE_HOURS = 50.0
SCORE_LOAD = 30.0


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    dispatch_warning = fields.Char(
        compute="_compute_dispatch_warning",
        help="The technician assigned is not qualified for the unit's category "
        "or does not cover the site's zip code: allowed, but worth a second look.",
    )
    dispatch_suggestion_user_id = fields.Many2one(
        "res.users",
        string="Suggested Technician",
        compute="_compute_dispatch_suggestion",
    )
    dispatch_suggestion_score = fields.Float(
        string="Suggestion Score", compute="_compute_dispatch_suggestion"
    )
    dispatch_suggestion_reasons = fields.Char(
        string="Why", compute="_compute_dispatch_suggestion"
    )
    # the board's kanban shows a column per technician, empty ones included,
    # so that a job is dropped on the technician it is given to
    user_id = fields.Many2one(group_expand="_read_group_dispatch_technicians")

    # --- dispatch: warnings ---
    @api.depends(
        "user_id.service_skill_categ_ids",
        "user_id.service_zip_prefixes",
        "lot_id",
        "customer_id",
    )
    def _compute_dispatch_warning(self):
        for job in self:
            user = job.user_id
            warnings = []
            if user:
                categ = job._get_dispatch_categ()
                if categ and not user._get_service_skill_for(categ):
                    warnings.append(
                        self.env._(
                            "%(user)s is not qualified for %(categ)s.",
                            user=user.name,
                            categ=categ.display_name,
                        )
                    )
                zip_code = job._get_dispatch_zip()
                if not user._covers_service_zip(zip_code):
                    warnings.append(
                        self.env._(
                            "%(user)s does not cover zip %(zip)s (covers "
                            "%(prefixes)s).",
                            user=user.name,
                            zip=zip_code,
                            prefixes=user.service_zip_prefixes,
                        )
                    )
            job.dispatch_warning = " ".join(warnings) or False

    def _compute_dispatch_suggestion(self):
        jobs = self.filtered(
            lambda j: (
                isinstance(j.id, int) and not j.completed_on and not j.stage_id.done
            )
        )
        suggestions = jobs._get_technician_suggestions_by_job() if jobs else {}
        for job in self:
            best = (suggestions.get(job.id) or [{}])[0]
            job.dispatch_suggestion_user_id = best.get("user_id", False)
            job.dispatch_suggestion_score = best.get("score", 0.0)
            job.dispatch_suggestion_reasons = best.get("reasons", False)

    # --- dispatch: actions ---
    def action_assign_technician(self, user, schedule_date=None):
        """Assign the job to ``user``, schedule it in their first free slot
        before the response deadline (unless it is scheduled already or a date
        is given) and plan its parts into their van."""
        self.ensure_one()
        if not isinstance(user, models.BaseModel):
            user = self.env["res.users"].browse(int(user))
        user.ensure_one()
        self._check_can_dispatch(user)
        if self.completed_on or self.stage_id.done:
            raise UserError(
                self.env._(
                    "Job %(job)s is done: it can no longer be dispatched.",
                    job=self.name,
                )
            )
        vals = {"user_id": user.id}
        if schedule_date:
            vals["schedule_date"] = schedule_date
        elif not self.schedule_date:
            vals["schedule_date"] = self._get_dispatch_slot(user)
        self.write(vals)
        self._plan_dispatched_parts()
        self._notify_dispatched()
        return True

    def action_assign_suggested_technician(self):
        """Assign each job to its top suggestion (the dispatch board's button)."""
        suggestions = self._get_technician_suggestions_by_job()
        unmatched = self.filtered(lambda j: not suggestions.get(j.id))
        if unmatched:
            raise UserError(
                self.env._(
                    "No qualified technician covers %(jobs)s.",
                    jobs=", ".join(unmatched.mapped("name")),
                )
            )
        for job in self:
            job.action_assign_technician(suggestions[job.id][0]["user_id"])
        return True

    def write(self, vals):
        board = self.env.context.get("dispatch_board") and (
            "user_id" in vals or "schedule_date" in vals
        )
        if board and vals.get("user_id") and not self.env.su:
            self._check_can_dispatch(self.env["res.users"].browse(vals["user_id"]))
        res = super().write(vals)
        if board:
            # the board: a job dropped on a technician's column is scheduled in
            # their first free slot when it has no date yet; dropped on a day
            # or given to another technician, its parts are planned into the van
            if vals.get("user_id"):
                for job in self.filtered(lambda j: not j.schedule_date):
                    job.with_context(
                        dispatch_board=False
                    ).schedule_date = job._get_dispatch_slot(job.user_id)
            self._plan_dispatched_parts()
        return res

    # --- dispatch: business methods ---
    @api.model
    def _read_group_dispatch_technicians(self, users, domain):
        """On the dispatch board, every service technician of the current
        companies is a column; elsewhere, only the technicians with jobs."""
        if not self.env.context.get("dispatch_board"):
            return users
        group = self.env.ref("serial_service.group_service_technician")
        technicians = users.search(
            [
                ("groups_id", "in", group.ids),
                ("share", "=", False),
                ("company_ids", "in", self.env.companies.ids),
            ]
        )
        return (users | technicians).sorted("name")

    def _check_can_dispatch(self, user):
        """Service managers dispatch to anyone; a technician only to
        themselves."""
        if user != self.env.user and not self.env.user.has_group(
            "serial_service.group_service_manager"
        ):
            raise AccessError(
                self.env._(
                    "Only service managers can dispatch a job to another "
                    "technician (%(user)s).",
                    user=user.name,
                )
            )

    def _plan_dispatched_parts(self):
        """Plan the parts of the jobs whose technician has a van; a note on the
        others, whose parts wait for a technician with a van."""
        jobs = self.filtered(
            lambda j: not j.completed_on and not j.stage_id.done and j.user_id
        )
        with_parts = jobs.service_line_ids._filtered_stock_parts().request_id
        no_van = with_parts.filtered(lambda j: not j.user_id.van_location_id)
        for job in no_van:
            job.message_post(
                body=self.env._(
                    "Parts not planned: %(user)s has no van.", user=job.user_id.name
                )
            )
        if with_parts - no_van:
            (with_parts - no_van)._plan_parts()

    def _notify_dispatched(self):
        """Hook: tell whoever needs it that the jobs are dispatched."""
        return True

    def _get_dispatch_categ(self):
        self.ensure_one()
        lot = self.lot_id or self.equipment_id.lot_id
        return lot.product_id.categ_id

    def _get_dispatch_site(self):
        self.ensure_one()
        lot = self.lot_id or self.equipment_id.lot_id
        return lot.site_id or self.customer_id

    def _get_dispatch_zip(self):
        self.ensure_one()
        return self._get_dispatch_site().zip or ""

    def _get_dispatch_window(self, now=None):
        """(start, end), naive UTC: the time in which the job should be done,
        from now to its response deadline (or a horizon without one)."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        end = self.response_deadline or now + timedelta(hours=DISPATCH_HORIZON_HOURS)
        return now, end

    def _get_dispatch_candidates(self):
        """The service technicians of the jobs' companies (one query)."""
        group = self.env.ref("serial_service.group_service_technician")
        return self.env["res.users"].search_fetch(
            [
                ("groups_id", "in", group.ids),
                ("share", "=", False),
                ("company_ids", "in", self.company_id.ids),
            ],
            ["name", "service_zip_prefixes", "van_location_id", "company_ids"],
        )

    def _get_technician_suggestions(self):
        """Best first, the service technicians qualified for the unit's
        category and covering the site: [{'user_id', 'score', 'reasons'}]."""
        self.ensure_one()
        return self._get_technician_suggestions_by_job()[self.id]

    def _get_technician_suggestions_by_job(self):
        """{job id: suggestions} for all the jobs in one batch: one query for
        the technicians, one for their skills, one for the vans' stock, one
        for their open jobs and one per working-hours calendar."""
        users = self._get_dispatch_candidates()
        data = self._get_dispatch_data(users)
        result = {}
        for job in self:
            suggestions = []
            for user in data["qualified"][job]:
                facts = data["facts"][job, user]
                suggestions.append(
                    {
                        "user_id": user.id,
                        "score": job._get_dispatch_score(facts),
                        "reasons": job._get_dispatch_reasons(user, facts),
                        "open_jobs": facts["open_jobs"],
                    }
                )
            suggestions.sort(key=lambda s: (-s["score"], s["open_jobs"], s["user_id"]))
            result[job.id] = suggestions
        return result

    def _get_dispatch_score(self, facts):
        score = 0.0
        if facts["parts_needed"]:
            score += SCORE_VAN * facts["parts_in_van"] / facts["parts_needed"]
        # free hours: none when the job does not fit, else the share of the
        # technician's working hours before the deadline that is still free
        if facts["work_hours"] and facts["free_hours"] >= facts["hours_needed"]:
            score += SCORE_HOURS * facts["free_hours"] / facts["work_hours"]
        score += SCORE_LOAD / (1 + facts["open_jobs"])
        return round(score, 1)

    def _get_dispatch_reasons(self, user, facts):
        parts = []
        if facts["skill"]:
            parts.append(
                self.env._("qualified for %(categ)s", categ=facts["skill"].name)
            )
        if facts["zip_code"] and user.service_zip_prefixes:
            parts.append(
                self.env._(
                    "covers zip %(zip)s (%(prefixes)s)",
                    zip=facts["zip_code"],
                    prefixes=user.service_zip_prefixes,
                )
            )
        elif not user.service_zip_prefixes:
            parts.append(self.env._("works anywhere"))
        if facts["parts_needed"]:
            parts.append(
                self.env._(
                    "van holds %(held)s of %(needed)s parts",
                    held=facts["parts_in_van"],
                    needed=facts["parts_needed"],
                )
            )
        parts.append(
            self.env._(
                "%(hours)s free hours before %(deadline)s",
                hours=format(facts["free_hours"], ".1f"),
                deadline=fields.Datetime.to_string(facts["deadline"])[:16],
            )
        )
        parts.append(self.env._("%(count)s open jobs", count=facts["open_jobs"]))
        sentence = "; ".join(parts)
        return sentence[:1].upper() + sentence[1:] + "."

    def _get_dispatch_slot(self, user):
        """The start (naive UTC) of the technician's first free slot long
        enough for the job before its deadline; else their first free time,
        else the start of the window."""
        self.ensure_one()
        data = self._get_dispatch_data(user, check_qualified=False)
        facts = data["facts"][self, user]
        needed = timedelta(hours=facts["hours_needed"])
        free = list(facts["free_intervals"])
        slot = next((start for start, stop, _r in free if stop - start >= needed), None)
        if slot is None and free:
            slot = free[0][0]
        if slot is None:
            return facts["window"][0]
        return slot.astimezone(pytz.utc).replace(tzinfo=None)

    def _get_dispatch_data(self, users, check_qualified=True):
        """Everything the ranking weighs, read in batch for jobs x users:
        {'qualified': {job: users}, 'facts': {(job, user): {...}}}; without
        ``check_qualified``, for every user given (an assignment's slot)."""
        now = fields.Datetime.now()
        # skills: the m2m of all the candidates at once
        users.fetch(["service_skill_categ_ids"])
        qualified = {}
        for job in self:
            if not check_qualified:
                qualified[job] = users
                continue
            categ = job._get_dispatch_categ()
            zip_code = job._get_dispatch_zip()
            qualified[job] = users.filtered(
                lambda u, c=categ, z=zip_code, j=job: (
                    j.company_id in u.company_ids
                    and (not c or u._get_service_skill_for(c))
                    and u._covers_service_zip(z)
                )
            )
        all_users = self.env["res.users"].union(*qualified.values())
        needed = self._get_dispatch_parts_needed()
        van_free = self._get_dispatch_van_stock(all_users, needed)
        open_jobs, busy = self._get_dispatch_open_jobs(all_users, now)
        windows = {job: job._get_dispatch_window(now) for job in self}
        work = self._get_dispatch_work_intervals(all_users, windows)
        facts = {}
        for job in self:
            start, end = windows[job]
            window = Intervals(
                [(pytz.utc.localize(start), pytz.utc.localize(end), job)]
                if start < end
                else []
            )
            job_needed = needed.get(job, {})
            for user in qualified[job]:
                others = [
                    (b_start, b_stop, b_job)
                    for b_start, b_stop, b_job in busy[user]
                    if b_job != job
                ]
                working = work.get(user, Intervals()) & window
                free = working - Intervals(others)
                van = user.van_location_id
                facts[job, user] = {
                    "skill": user._get_service_skill_for(job._get_dispatch_categ()),
                    "zip_code": job._get_dispatch_zip(),
                    "parts_needed": len(job_needed),
                    "parts_in_van": sum(
                        1
                        for product, qty in job_needed.items()
                        if van and van_free[van.id, product.id] >= qty
                    ),
                    "free_intervals": free,
                    "free_hours": sum_intervals(free),
                    "work_hours": sum_intervals(working),
                    "hours_needed": job.duration or 1.0,
                    # the job itself is not part of its technician's load
                    "open_jobs": open_jobs[user] - (1 if job.user_id == user else 0),
                    "window": (start, end),
                    "deadline": end,
                }
        return {"qualified": qualified, "facts": facts}

    def _get_dispatch_parts_needed(self):
        """{job: {product: quantity in the product's unit}} of the storable
        part and consumable lines."""
        needed = defaultdict(lambda: defaultdict(float))
        for line in self.service_line_ids:
            if line._is_stock_part():
                needed[line.request_id][line.product_id] += (
                    line.product_uom_id._compute_quantity(
                        line.quantity, line.product_id.uom_id
                    )
                )
        return needed

    @api.model
    def _get_dispatch_van_stock(self, users, needed):
        """{(van id, product id): free quantity} in the technicians' vans
        (sub-locations included), for the products needed: one query."""
        van_free = defaultdict(float)
        vans = users.van_location_id
        products = self.env["product.product"].union(
            *(product for by_product in needed.values() for product in by_product)
        )
        if not vans or not products:
            return van_free
        van_ids = set(vans.ids)
        # sudo: the dispatcher weighs the stock of every technician's van,
        # not only the locations their own rules show
        groups = (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("location_id", "child_of", vans.ids),
                    ("product_id", "in", products.ids),
                ],
                ["location_id", "product_id"],
                ["quantity:sum", "reserved_quantity:sum"],
            )
        )
        for location, product, qty, reserved in groups:
            path = [int(lid) for lid in location.parent_path.split("/") if lid]
            van_id = next((lid for lid in reversed(path) if lid in van_ids), None)
            if van_id:
                van_free[van_id, product.id] += qty - reserved
        return van_free

    def _get_dispatch_open_jobs(self, users, now):
        """({user: open job count}, {user: [(start, stop, job)]} of their
        scheduled open jobs, aware UTC): one query."""
        open_jobs = defaultdict(int)
        busy = defaultdict(list)
        if not users:
            return open_jobs, busy
        jobs = self.search_fetch(
            [
                ("user_id", "in", users.ids),
                ("completed_on", "=", False),
                ("stage_id.done", "=", False),
                ("archive", "=", False),
            ],
            ["user_id", "schedule_date", "duration"],
        )
        for job in jobs:
            open_jobs[job.user_id] += 1
            if job.schedule_date:
                start = pytz.utc.localize(job.schedule_date)
                stop = start + timedelta(hours=job.duration or 1.0)
                if stop > pytz.utc.localize(now):
                    busy[job.user_id].append((start, stop, job))
        return open_jobs, busy

    def _get_dispatch_work_intervals(self, users, windows):
        """{user: Intervals} of the technicians' working hours over all the
        windows, from their resource calendar (else their company's): one
        computation per calendar."""
        spans = [(start, end) for start, end in windows.values() if start < end]
        if not users or not spans:
            return {}
        start = pytz.utc.localize(min(s for s, _e in spans))
        end = pytz.utc.localize(max(e for _s, e in spans))
        users.fetch(["resource_ids"])
        by_calendar = defaultdict(lambda: self.env["resource.resource"])
        no_resource = defaultdict(lambda: self.env["res.users"])
        no_company = self.env["res.company"]
        for user in users:
            resource = user.resource_ids.filtered(
                lambda r, u=user: r.company_id in (u.company_id, no_company)
            )[:1]
            if resource.calendar_id:
                by_calendar[resource.calendar_id] |= resource
            elif user.company_id.resource_calendar_id:
                no_resource[user.company_id.resource_calendar_id] |= user
        work = {}
        for calendar in set(by_calendar) | set(no_resource):
            resources = by_calendar.get(calendar)
            intervals = calendar._work_intervals_batch(start, end, resources=resources)
            for resource in resources or ():
                work[resource.user_id] = intervals[resource.id]
            for user in no_resource.get(calendar, ()):
                work[user] = intervals[False]
        return work

from ast import literal_eval
from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .dispatch_common import DispatchCase

# a Monday, at the start of the working day
MONDAY = "2026-03-02 08:00:00"


@tagged("post_install", "-at_install")
class TestDispatch(DispatchCase):
    @freeze_time(MONDAY)
    def test_exclusions_by_skill_and_zip(self):
        job = self._make_job()
        ranked = self._ranked(job)
        # Ann's skill is the copiers' parent category, her zip prefix matches
        # in any case; Ben works anywhere; Carl lacks the category, Dora the zone
        self.assertCountEqual(ranked, (self.ann | self.ben).ids)
        self.assertNotIn(self.carl.id, ranked)
        self.assertNotIn(self.dora.id, ranked)
        # the skill-less technicians and managers are never suggested
        self.assertNotIn(self.technician.id, ranked)
        # a site elsewhere: Dora covers York, Ann no longer does
        self.site.zip = "YO1 7HH"
        self.assertCountEqual(self._ranked(job), (self.ben | self.dora).ids)

    @freeze_time(MONDAY)
    def test_van_holding_the_parts_ranks_first(self):
        self.env["stock.quant"]._update_available_quantity(
            self.fuser, self.ben.van_location_id, 1
        )
        job = self._make_job({self.fuser: 1})
        suggestions = job._get_technician_suggestions()
        self.assertEqual(
            [s["user_id"] for s in suggestions], [self.ben.id, self.ann.id]
        )
        self.assertGreater(suggestions[0]["score"], suggestions[1]["score"])
        self.assertIn("van holds 1 of 1 parts", suggestions[0]["reasons"])
        self.assertIn("van holds 0 of 1 parts", suggestions[1]["reasons"])
        self.assertIn("Qualified for Units", suggestions[0]["reasons"])
        self.assertIn("works anywhere", suggestions[0]["reasons"])
        self.assertIn("covers zip BS1 4DJ", suggestions[1]["reasons"])
        # a second job needing two: neither van holds enough, Ann has fewer jobs
        job.user_id = self.ben
        other = self._make_job({self.fuser: 2})
        self.assertEqual(self._ranked(other), [self.ann.id, self.ben.id])

    @freeze_time(MONDAY)
    def test_free_hours_before_the_deadline(self):
        # one open job each: Ann's fills Monday, Ben's is next week
        self._make_job(
            user_id=self.ann.id, schedule_date=datetime(2026, 3, 2, 8), duration=9
        )
        self._make_job(
            user_id=self.ben.id, schedule_date=datetime(2026, 3, 9, 8), duration=9
        )
        job = self._make_job()
        suggestions = job._get_technician_suggestions()
        self.assertEqual(
            [s["user_id"] for s in suggestions], [self.ben.id, self.ann.id]
        )
        # no contract: three days ahead, Monday to Wednesday, 8 hours a day
        self.assertIn(
            "24.0 free hours before 2026-03-05 08:00", suggestions[0]["reasons"]
        )
        self.assertIn("16.0 free hours", suggestions[1]["reasons"])
        self.assertIn("1 open jobs", suggestions[0]["reasons"])

    @freeze_time(MONDAY)
    def test_fewer_open_jobs_ranks_first(self):
        self._make_job(user_id=self.ben.id)
        self._make_job(user_id=self.ben.id)
        self._make_job(user_id=self.ann.id)
        job = self._make_job()
        suggestions = job._get_technician_suggestions()
        self.assertEqual(
            [s["user_id"] for s in suggestions], [self.ann.id, self.ben.id]
        )
        self.assertIn("1 open jobs", suggestions[0]["reasons"])
        self.assertIn("2 open jobs", suggestions[1]["reasons"])

    @freeze_time(MONDAY)
    def test_assignment_schedules_and_plans_parts(self):
        Quant = self.env["stock.quant"]
        Quant._update_available_quantity(self.fuser, self.ben.van_location_id, 1)
        Quant._update_available_quantity(self.fuser, self.stock_location, 5)
        # Ben is busy on Monday morning
        self._make_job(
            user_id=self.ben.id, schedule_date=datetime(2026, 3, 2, 8), duration=3
        )
        job = self._make_job({self.fuser: 2})
        job.with_user(self.manager).action_assign_technician(self.ben)
        self.assertEqual(job.user_id, self.ben)
        # the first two free hours: 11-12 is too short, 13:00 it is
        self.assertEqual(job.schedule_date, datetime(2026, 3, 2, 13))
        # one fuser in the van, the other comes from the depot for this job
        moves = job.procurement_group_id.stock_move_ids
        self.assertEqual(moves.product_id, self.fuser)
        self.assertEqual(sum(moves.mapped("product_uom_qty")), 1.0)
        self.assertEqual(moves.location_dest_id, self.ben.van_location_id)
        self.assertFalse(job.dispatch_warning)

    @freeze_time(MONDAY)
    def test_unqualified_or_outside_zone_warns_without_blocking(self):
        job = self._make_job()
        job.with_user(self.manager).action_assign_technician(self.dora)
        self.assertEqual(job.user_id, self.dora)
        self.assertIn("does not cover zip BS1 4DJ", job.dispatch_warning)
        job.with_user(self.manager).action_assign_technician(self.carl)
        self.assertEqual(job.user_id, self.carl)
        self.assertIn("is not qualified for Units / Copiers", job.dispatch_warning)
        self.assertNotIn("zip", job.dispatch_warning)

    @freeze_time(MONDAY)
    def test_dispatch_board_shows_the_top_suggestion(self):
        self.env["stock.quant"]._update_available_quantity(
            self.fuser, self.ann.van_location_id, 1
        )
        job = self._make_job({self.fuser: 1})
        board = self.env["maintenance.request"].search(
            [("id", "=", job.id), ("user_id", "=", False)]
        )
        self.assertEqual(board.dispatch_suggestion_user_id, self.ann)
        self.assertIn("van holds 1 of 1 parts", board.dispatch_suggestion_reasons)
        board.with_user(self.manager).action_assign_suggested_technician()
        self.assertEqual(job.user_id, self.ann)

    @freeze_time(MONDAY)
    def test_calendar_drop_moves_and_plans(self):
        self.env["stock.quant"]._update_available_quantity(
            self.fuser, self.stock_location, 5
        )
        job = self._make_job({self.fuser: 1})
        board = job.with_user(self.manager).with_context(dispatch_board=True)
        board.write({"user_id": self.ann.id, "schedule_date": datetime(2026, 3, 3, 9)})
        self.assertEqual(job.schedule_date, datetime(2026, 3, 3, 9))
        self.assertEqual(
            job.procurement_group_id.stock_move_ids.location_dest_id,
            self.ann.van_location_id,
        )

    @freeze_time(MONDAY)
    def test_kanban_drop_on_a_technician_assigns_schedules_and_plans(self):
        self.env["stock.quant"]._update_available_quantity(
            self.fuser, self.stock_location, 5
        )
        job = self._make_job({self.fuser: 1})
        Board = self.env["maintenance.request"].with_user(self.manager)
        # every technician is a column of the board, those without jobs too
        groups = Board.with_context(dispatch_board=True).web_read_group(
            [("id", "=", job.id)], ["user_id"], ["user_id"]
        )["groups"]
        columns = {g["user_id"][0] for g in groups if g["user_id"]}
        self.assertTrue({self.ann.id, self.ben.id} <= columns)
        # outside the board, only the technicians that have jobs
        groups = Board.web_read_group([("id", "=", job.id)], ["user_id"], ["user_id"])
        self.assertFalse([g for g in groups["groups"] if g["user_id"]])
        self.assertFalse(job.schedule_date)
        # the kanban's drop writes the column's technician
        job.with_user(self.manager).with_context(dispatch_board=True).write(
            {"user_id": self.ann.id}
        )
        self.assertEqual(job.user_id, self.ann)
        self.assertTrue(job.schedule_date, "a job dropped without a date is planned")
        self.assertEqual(
            job.procurement_group_id.stock_move_ids.location_dest_id,
            self.ann.van_location_id,
        )

    @freeze_time(MONDAY)
    def test_technicians_cannot_dispatch_others(self):
        job = self._make_job(user_id=self.ann.id)
        as_ann = job.with_user(self.ann)
        with self.assertRaisesRegex(AccessError, "Only service managers"):
            as_ann.action_assign_technician(self.ben)
        with self.assertRaisesRegex(AccessError, "Only service managers"):
            as_ann.with_context(dispatch_board=True).write({"user_id": self.ben.id})
        self.assertEqual(job.user_id, self.ann)
        # moving their own job on their own calendar is theirs to do
        as_ann.with_context(dispatch_board=True).write(
            {"schedule_date": datetime(2026, 3, 3, 9)}
        )
        as_ann.action_assign_technician(self.ann)
        self.assertEqual(job.schedule_date, datetime(2026, 3, 3, 9))

    @freeze_time(MONDAY)
    def test_suggestions_in_constant_queries(self):
        Quant = self.env["stock.quant"]
        Quant._update_available_quantity(self.fuser, self.ann.van_location_id, 1)
        job = self._make_job({self.fuser: 1}, user_id=False)
        self._make_job(user_id=self.ben.id, schedule_date=datetime(2026, 3, 2, 9))
        self.env.invalidate_all()
        with self.assertQueryCount(28):
            self.assertEqual(len(job._get_technician_suggestions()), 2)
        # three more qualified technicians, with vans, jobs and hours
        more = self.env["res.users"]
        for index in range(3):
            more |= self._make_technician(
                f"disp_more_{index}", [self.categ_copiers], ""
            )
        self.env["serial.van.setup"].create(
            {"warehouse_id": self.warehouse.id, "user_ids": [(6, 0, more.ids)]}
        )._create_vans()
        for user in more:
            Quant._update_available_quantity(self.fuser, user.van_location_id, 1)
            self._make_job(user_id=user.id, schedule_date=datetime(2026, 3, 2, 9))
        self.env.invalidate_all()
        with self.assertQueryCount(28):
            self.assertEqual(len(job._get_technician_suggestions()), 5)
        # the whole unassigned list at once: no more queries than for one job
        jobs = job | self._make_job({self.fuser: 1}) | self._make_job()
        self.env.invalidate_all()
        with self.assertQueryCount(28):
            by_job = jobs._get_technician_suggestions_by_job()
        self.assertEqual(set(by_job), set(jobs.ids))

    @freeze_time(MONDAY)
    def test_board_for_managers_only(self):
        self.env["stock.quant"]._update_available_quantity(
            self.fuser, self.ben.van_location_id, 1
        )
        job = self._make_job({self.fuser: 1})
        Job = self.env["maintenance.request"].with_user(self.manager)
        for xmlid in ("action_dispatch", "action_dispatch_calendar"):
            action = self.env.ref(f"serial_service.maintenance_request_{xmlid}")
            views = Job.get_views(
                [(v.view_id.id, v.view_mode) for v in action.view_ids]
            )
            self.assertTrue(views["views"])
        action = self.env.ref("serial_service.maintenance_request_action_dispatch")
        rows = Job.search_read(
            [*literal_eval(action.domain), ("id", "=", job.id)],
            ["dispatch_suggestion_user_id", "dispatch_suggestion_reasons"],
        )
        self.assertEqual(rows[0]["dispatch_suggestion_user_id"][0], self.ben.id)
        menu = self.env.ref("serial_service.maintenance_request_menu_dispatch_root")
        Menu = self.env["ir.ui.menu"]
        self.assertIn(menu.id, Menu.with_user(self.manager)._visible_menu_ids())
        self.assertNotIn(menu.id, Menu.with_user(self.ann)._visible_menu_ids())

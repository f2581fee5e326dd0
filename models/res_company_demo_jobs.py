"""The demo year's jobs (corrective and preventive, with parts and
signatures), the supplier claim, the recall and the supplies orders (demo
data only)."""

import base64
from datetime import datetime, time, timedelta

from odoo import Command, models

# a 1 x 1 transparent PNG: the customers' signatures of the demo jobs
SIGNATURE = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
)


class ResCompany(models.Model):
    _inherit = "res.company"

    # --- jobs: corrective and preventive, with parts and signatures ----------
    def _demo_technician(self, story, unit):
        zip_code = (unit.site_id or unit.customer_id).zip or ""
        return story["technicians"].get(
            zip_code[:2].strip(), self._demo_ref("demo_user_technician_alice")
        )

    def _demo_job_lines(self, story, job, unit, kind):
        """What the technician used: labour, travel, and a part now and then."""
        rng = story["rng"]
        lines = [
            {"product_id": story["labour"].id, "quantity": rng.choice([1, 1.5, 2])},
            {"product_id": story["travel"].id, "quantity": 1},
        ]
        depot = story["warehouse"].lot_stock_id
        fuser = unit.child_lot_ids.filtered(
            lambda lot: lot.product_id == story["fuser"]
        )
        replaced = story.setdefault("replaced", set())
        if (
            kind == "corrective"
            and fuser
            and unit.id not in replaced
            and story["spares"]
            and rng.random() < 0.7
        ):
            # one fuser change per unit: the jobs are completed later
            replaced.add(unit.id)
            spare = story["spares"].pop(0)
            lines.append(
                {
                    "product_id": story["fuser"].id,
                    "lot_id": spare.id,
                    "removed_lot_id": fuser[:1].id,
                    "location_id": depot.id,
                }
            )
        elif unit.product_id == story["boiler"] and rng.random() < 0.5:
            lines.append({"product_id": story["pump"].id, "quantity": 1})
        elif unit.product_id != story["boiler"] and rng.random() < 0.3:
            lines.append({"product_id": story["toner"].id, "quantity": 1})
        return [dict(line, request_id=job.id) for line in lines]

    def _demo_complete(self, story, jobs_days):
        """Complete the jobs (each dated its day), signed by the customer; the
        service report goes to the customer; older invoices are posted."""
        today = story["today"]
        for job, day in jobs_days:
            job.write(
                {
                    "signature": SIGNATURE,
                    "signed_by": "Reception desk",
                    "service_notes": "<p>Checked, cleaned and tested: working.</p>",
                }
            )
            job.action_complete_job()
            done = datetime.combine(day, time(11, 30))
            self._demo_set_dates(
                "maintenance_request",
                job.ids,
                {
                    "completed_on": done,
                    "signed_on": done,
                    "close_date": day,
                    "schedule_date": datetime.combine(day, time(9, 30)),
                },
            )
            moves = job.service_line_ids.move_id
            self._demo_set_dates("stock_move", moves.ids, {"date": done})
            self._demo_set_dates(
                "stock_move_line", moves.move_line_ids.ids, {"date": done}
            )
            invoices = job.invoice_ids.filtered(lambda move: move.state == "draft")
            if invoices:
                invoices.write({"invoice_date": day})
                if day < today - timedelta(days=14):
                    invoices.action_post()

    def _demo_jobs(self, story):
        """Failures at about one a unit-year, a few coming back within the
        month, each boiler's yearly service and the copiers' services by page
        count, made and completed day after day as they happened."""
        rng, today = story["rng"], story["today"]
        story["spares"] = list(story["spare_fusers"]) + list(
            self._demo_ref("demo_lot_fuser_1") | self._demo_ref("demo_lot_fuser_2")
        )
        faults = {
            "copier": [
                "Paper jams in the duplex unit",
                "Streaks on every page",
                "Error E-204 at start-up",
                "Noisy when printing",
            ],
            "boiler": ["No hot water", "Pressure keeps dropping"],
        }
        specs = []  # (day, kind, unit, name or meter job)
        for unit, delivered in story["delivered"]:
            family = "boiler" if unit.product_id == story["boiler"] else "copier"
            rate = 0.8 if family == "boiler" else 1.1
            day = delivered + timedelta(days=20)
            while day < today - timedelta(days=2):
                if rng.random() < rate * 60 / 365.25:
                    failure = day + timedelta(days=rng.randint(0, 59))
                    if failure < today - timedelta(days=1):
                        specs.append(
                            (failure, "corrective", unit, rng.choice(faults[family]))
                        )
                        again = failure + timedelta(days=rng.randint(5, 20))
                        if rng.random() < 0.15 and again < today - timedelta(days=3):
                            specs.append(
                                (again, "corrective", unit, "The same fault again")
                            )
                day += timedelta(days=60)
            if family == "boiler":
                day = delivered + timedelta(days=330)
                if day < today - timedelta(days=5):
                    specs.append(
                        (day, "preventive", unit, f"Yearly service of {unit.name}")
                    )
        # the preventive services the copiers' page counts opened
        meter_jobs = self.env["maintenance.request"].search(
            [
                ("preventive_reading_id", "!=", False),
                ("lot_id", "in", [unit.id for unit, _c, _p in story["units"]]),
                ("stage_id.done", "=", False),
            ]
        )
        for job in meter_jobs:
            day = job.preventive_reading_id.reading_date.date() + timedelta(days=6)
            specs.append((day, "meter", job.lot_id, job))
        specs.sort(key=lambda spec: (spec[0], spec[2].id, spec[1]))
        for day, kind, unit, what in specs:
            job = self._demo_job(story, day, kind, unit, what)
            done = day + timedelta(days=1)
            # the last days' jobs are still planned
            if done < today - timedelta(days=1):
                self._demo_complete(story, [(job, done)])

    def _demo_job(self, story, day, kind, unit, what):
        technician = self._demo_technician(story, unit)
        if kind == "meter":
            job = what
            job.user_id = technician
            job.service_line_ids.filtered(
                lambda line: line.line_type in ("part", "consumable")
            ).location_id = technician.van_location_id
            self._demo_set_dates("maintenance_request", job.ids, {"request_date": day})
            return job
        job = self.env["maintenance.request"].create(
            {
                "name": what,
                "maintenance_type": kind,
                "lot_id": unit.id,
                "customer_id": unit.customer_id.id,
                "user_id": technician.id,
                "request_date": day,
                "schedule_date": datetime.combine(day + timedelta(days=1), time(9, 30)),
            }
        )
        self.env["serial.service.line"].create(
            self._demo_job_lines(story, job, unit, kind)
        )
        return job

    # --- a supplier claim credited, a recall under way, supplies orders -------
    def _demo_claims(self, story):
        claims = self.env["serial.warranty.claim"].search(
            [("request_id.lot_id", "!=", False)], order="failure_date, id"
        )
        if not claims:
            return
        credited, others = claims[0], claims[1:]
        credited.action_submit()
        credited.action_accept()
        credited.action_create_refund()
        day = min(credited.failure_date + timedelta(days=21), story["today"])
        credited.refund_move_id.write({"invoice_date": day})
        credited.refund_move_id.action_post()
        if others:
            others[0].action_submit()

    def _demo_recall(self, story):
        """Kyodo recalls a batch of controller boards: the units that carry one
        get a job; the first are done, the others planned."""
        today = story["today"]
        recall = self.env["serial.recall"].create(
            {
                "title": "Controller board CB-9 may overheat",
                "description": "<p>Replace the controller board, free of charge.</p>",
                "product_ids": [Command.set(story["mx6000"].ids + story["mx4000"].ids)],
                "scope_type": "component",
                "scope_lot_ids": [Command.set(story["fitted_boards"][:4].ids)],
            }
        )
        recall.action_start()
        depot = story["warehouse"].lot_stock_id
        spares = list(story["spare_boards"])
        to_complete = []
        for index, job in enumerate(recall.request_ids.sorted("id")):
            unit = job.lot_id
            technician = self._demo_technician(story, unit)
            board = unit.child_lot_ids.filtered(
                lambda lot: lot.product_id == story["board"]
            )
            day = today - timedelta(days=12 - 3 * index)
            job.write(
                {
                    "user_id": technician.id,
                    "schedule_date": datetime.combine(day, time(14, 0)),
                }
            )
            if day < today - timedelta(days=2) and spares and board:
                self.env["serial.service.line"].create(
                    [
                        {
                            "request_id": job.id,
                            "product_id": story["board"].id,
                            "lot_id": spares.pop(0).id,
                            "removed_lot_id": board[:1].id,
                            "location_id": depot.id,
                        },
                        {
                            "request_id": job.id,
                            "product_id": story["labour"].id,
                            "quantity": 0.5,
                        },
                    ]
                )
                to_complete.append((job, day))
        recall_start = datetime.combine(today - timedelta(days=20), time(9, 0))
        self._demo_set_dates(
            "maintenance_request",
            recall.request_ids.ids,
            {"request_date": recall_start.date()},
        )
        self._demo_complete(story, to_complete)
        self._demo_set_dates("serial_recall", recall.ids, {"create_date": recall_start})

    def _demo_supplies(self, story):
        """The MX-4000's toner: each copier had one delivered in the last
        weeks, the busiest first (none is due again)."""
        today = story["today"]
        copiers = self._demo_ref("demo_lot_copier_2") | self.env["stock.lot"].union(
            *(
                unit
                for unit, _day in story["delivered"]
                if unit.product_id == story["mx4000"]
            )
        )
        for index, unit in enumerate(copiers):
            order = unit.action_order_supplies(story["toner"], 1)
            picking = order.picking_ids
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.with_context(skip_sms=True).button_validate()
            day = today - timedelta(days=2 + 5 * index)
            self._demo_set_dates(
                "sale_order",
                order.ids,
                {"date_order": datetime.combine(day - timedelta(days=2), time(9, 0))},
            )
            self._demo_date_picking(picking, day)

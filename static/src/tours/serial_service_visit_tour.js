/** @odoo-module **/
/*
 * The visit on a phone (tests/test_job_timer.py): start the labour timer on
 * arrival, stop it, see the labour line, show the customer the service
 * report, complete the job.
 */
import { registry } from "@web/core/registry";

const dialog = ".modal:not(.o_inactive_modal)";

registry.category("web_tour.tours").add("serial_service_visit_tour", {
    steps: () => [
        {
            content: "Open the job",
            trigger: ".o_kanban_record:contains(Tour copier jams)",
            run: "click",
        },
        {
            content: "Start the timer on arrival",
            trigger: ".o_serial_service_job_bar button[name=action_timer_start]",
            run: "click",
        },
        {
            content: "The job says since when the technician is on site",
            trigger: ".o_serial_service_timer_running .o_field_widget[name=timer_started_on]",
        },
        {
            content: "Stop the timer when leaving",
            trigger: ".o_serial_service_job_bar button[name=action_timer_stop]",
            run: "click",
        },
        {
            content: "The timer can start again",
            trigger: ".o_form_view:not(:has(.o_serial_service_timer_running)) .o_serial_service_job_bar button[name=action_timer_start]",
        },
        {
            content: "Open the job's parts",
            trigger: ".o_notebook .nav-link:contains(Parts)",
            run: "click",
        },
        {
            content: "The time on site is on a labour line",
            trigger: ".o_field_widget[name=service_line_ids] .o_kanban_record:contains(Tour Labour):contains(0.25)",
        },
        {
            content: "Show the customer the service report",
            trigger: ".o_serial_service_job_bar button[name=action_preview_service_report]",
            run: "click",
        },
        {
            content: "The report shows the unit's serial",
            trigger: ":iframe .o_service_report .o_service_report_serial:contains(TOUR-UNIT)",
        },
        {
            content: "and the technician",
            trigger: ":iframe .o_service_report_technician:contains(test_technician)",
        },
        {
            content: "Back to the job",
            trigger: ".o_back_button, .breadcrumb-item:not(.active) a",
            run: "click",
        },
        {
            content: "Complete the job",
            trigger: ".o_serial_service_job_bar button[name=action_complete_job]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: `${dialog} .modal-footer button.btn-primary`,
            run: "click",
        },
        {
            content: "The job is completed",
            trigger: "body:not(:has(.modal)) .o_form_view:not(:has(.o_serial_service_job_bar)) .o_field_widget[name=completed_on]",
        },
    ],
});

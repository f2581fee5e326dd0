/** @odoo-module **/
/*
 * The technician's part of a month of service (tests/test_end_to_end_month.py):
 * on a phone, the job the customer asked for on the portal, a part from the
 * van, the customer's signature, Complete.
 */
import { registry } from "@web/core/registry";

const dialog = ".modal:not(.o_inactive_modal)";

registry.category("web_tour.tours").add("serial_service_month_tour", {
    steps: () => [
        {
            content: "My Jobs shows the job the customer asked for",
            trigger: ".o_kanban_record:contains(Paper jams in tray 2)",
            run: "click",
        },
        {
            content: "The job is on the customer's unit",
            trigger: ".o_form_view .o_field_widget[name=lot_id] input:value(MONTH-UNIT)",
        },
        {
            content: "Add the fuser from the van",
            trigger: ".o_serial_service_job_bar button[name=action_add_part]",
            run: "click",
        },
        {
            trigger: `${dialog} .o_field_widget[name=code] input`,
            run: "edit MONTH-FUSER && press Enter",
        },
        {
            trigger: `${dialog} .o_field_widget[name=location_id] input:value(Visit Van)`,
        },
        {
            trigger: `${dialog} button[name=action_apply]`,
            run: "click",
        },
        {
            content: "Let the customer sign",
            trigger: "body:not(:has(.modal)) .o_serial_service_job_bar button[name=action_sign]",
            run: "click",
        },
        {
            trigger: `${dialog} .o_field_widget[name=signed_by] input`,
            run: "edit Dana Customer && press Enter",
        },
        {
            trigger: `${dialog} .o_field_widget[name=signature] .o_signature`,
            run: "click",
        },
        {
            trigger: `${dialog} .modal-footer button.btn-primary:contains(Adopt):enabled`,
            run: "click",
        },
        {
            trigger: `${dialog} .o_field_widget[name=signature] img.o_signature`,
        },
        {
            trigger: `${dialog} button[name=action_apply]`,
            run: "click",
        },
        {
            content: "Complete the job",
            trigger: "body:not(:has(.modal)) .o_serial_service_job_bar button[name=action_complete_job]",
            run: "click",
        },
        {
            trigger: `${dialog} .modal-footer button.btn-primary`,
            run: "click",
        },
        {
            content: "The job is completed",
            trigger: "body:not(:has(.modal)) .o_form_view:not(:has(.o_serial_service_job_bar)) .o_field_widget[name=completed_on]",
        },
    ],
});

//! OA (办公): tasks and to-dos, announcements with read receipts, leave requests with working
//! days and balances, and expense claims with lines — the two request forms running on the
//! workflow engine an administrator configures. Tasks given to someone and new announcements notify
//! the people concerned. Built only on the Qingguan SDK (1.3).

pub mod announcements;
pub mod claims;
pub mod leave;
pub mod notices;
pub mod tasks;

use qingguan_plugin_sdk::*;

struct Oa;

impl Plugin for Oa {
    fn job_step(name: &str, _cursor: Option<&str>) -> Result<JobProgress> {
        match name {
            "announce" => notices::announce_step(),
            _ => Err(Error::not_found(format!("no job {name}"))),
        }
    }

    fn before_write(
        op: WriteOp,
        entity: &str,
        before: Option<&Record>,
        fields: &mut Fields,
    ) -> Result<()> {
        match entity {
            "task" => tasks::before_write(op, before, fields),
            "announcement_read" => announcements::before_receipt(op, fields),
            "leave_request" => leave::before_write(op, before, fields),
            "calendar_day" => leave::before_calendar_day(op, before, fields),
            "expense_claim" => claims::before_claim(op, before, fields),
            "expense_line" => claims::before_line(before, fields),
            _ => Ok(()),
        }
    }

    fn after_write(op: WriteOp, entity: &str, record: &Record) -> Result<()> {
        match (op, entity) {
            (WriteOp::Create, "task") => {
                if let Some(assignee) = record.i64("assignee") {
                    return notices::task_assigned(
                        record.id,
                        assignee,
                        record.str("title").unwrap_or_default(),
                        record.str("due_on"),
                    );
                }
            }
            (WriteOp::Create, "announcement") => return notices::announced(record),
            _ => {}
        }
        if entity == "expense_line" {
            if let Some(claim) = record.i64("claim") {
                return claims::retotal(claim);
            }
        }
        if entity == "calendar_day" {
            if let Some(day) = record.str("day") {
                return leave::calendar_changed(day);
            }
        }
        Ok(())
    }

    fn http(req: Request) -> Result<Response> {
        let outcome = match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/tasks") => tasks::my_tasks_page(),
            ("GET", "/announcements") => announcements::page(&req),
            ("POST", "/announcements/read") => announcements::mark_read(&req),
            ("GET", "/leave") => leave::my_leave_page(&req),
            _ => Ok(Response::status(404)),
        };
        outcome.or_else(|e| Ok(Response::from_error(&e)))
    }
}

export_plugin!(Oa);

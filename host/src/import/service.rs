//! The steps of an import as the API and the UI both take them: upload a file (read, logged,
//! a mapping suggested or remembered) and start a pass over its rows with checked options.

use super::options::{suggest, ImportOptions};
use super::run;
use super::sheet::{self, Sheet, SheetError};
use qingguan_core::imports::{ImportLog, ImportPass, NewImport};
use qingguan_core::{Access, Entity, Error, Locale, Reason, Store};
use serde::Serialize;
use serde_json::Value as Json;
use std::sync::Arc;

/// The largest file an import takes.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

/// A column of an uploaded file with its first few values.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnPreview {
    pub name: String,
    pub samples: Vec<String>,
}

/// What the upload answers: the logged import, the file's columns, and options to start from.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub import: ImportLog,
    pub columns: Vec<ColumnPreview>,
    /// The options used last time with a file of this layout, or a suggested mapping.
    pub options: ImportOptions,
    /// Whether `options` were remembered (rather than suggested).
    pub remembered: bool,
    /// How a CSV's text was read (UTF-8, GB18030, or UTF-8 with stray bytes replaced).
    pub encoding: sheet::Encoding,
}

impl SheetError {
    /// The reason in `locale`.
    pub fn render(&self, locale: Locale) -> String {
        match locale {
            Locale::En => self.to_string(),
            Locale::ZhCn => match self {
                SheetError::Empty => "文件是空的".into(),
                SheetError::NoHeader => "第一行应为列名，但它是空的".into(),
                SheetError::TooLargeUnpacked => {
                    format!("文件解压后超过 {} MB；请拆分后导入", sheet::MAX_UNPACKED_MB)
                }
                SheetError::UnclosedQuote(row) => {
                    format!("第 {row} 行有一个引号没有闭合：其后的内容会全部并入一个单元格")
                }
                SheetError::TooManyRows => {
                    format!("文件超过 {} 行数据；请拆分后导入", sheet::MAX_ROWS)
                }
                SheetError::TooManyColumns => format!("文件超过 {} 列", sheet::MAX_COLUMNS),
                SheetError::Unreadable(detail) => {
                    format!("无法读取该文件（需要 CSV 或 XLSX）：{detail}")
                }
            },
        }
    }
}

/// A refused file as a core error about the `file` parameter, in the caller's language.
pub fn file_error(e: &SheetError, locale: Locale) -> Error {
    Error::bad_param("file", Reason::text(e.render(locale)))
}

/// The entity type an import may go into, as the importer sees it (a field their role hides
/// is not a column they may fill).
pub fn import_entity(store: &Store, access: &Access, name: &str) -> Result<Entity, Error> {
    store
        .schema_for(access)
        .entity(name)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("no entity type '{name}'")))
}

/// Reads and logs an uploaded file.
pub fn upload(
    store: &Store,
    access: &Access,
    entity: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Preview, Error> {
    let e = import_entity(store, access, entity)?;
    if e.retired {
        return Err(Error::Forbidden(format!(
            "'{entity}' is retired and read-only"
        )));
    }
    let sheet = sheet::read(&bytes).map_err(|err| file_error(&err, access.locale))?;
    let layout = sheet::layout_key(entity, &sheet.headers);
    let file_name: String = match file_name.trim() {
        "" => format!("import.{}", sheet.kind),
        name => name.chars().filter(|c| !c.is_control()).take(200).collect(),
    };
    let id = store.new_import(
        access,
        NewImport {
            entity: entity.to_string(),
            file_name,
            file_kind: sheet.kind.to_string(),
            layout: layout.clone(),
            total_rows: sheet.rows.len(),
            bytes,
        },
    )?;
    let remembered = store
        .remembered_import_layout(access, entity, &layout)?
        .and_then(|o| serde_json::from_value::<ImportOptions>(o).ok())
        .filter(|o| {
            o.check(&store.schema_for(access), &e, &sheet.headers, access)
                .is_ok()
        });
    let columns = sheet
        .headers
        .iter()
        .enumerate()
        .map(|(i, name)| ColumnPreview {
            name: name.clone(),
            samples: sheet
                .rows
                .iter()
                .map(|r| sample(&r.cell(i).text()))
                .filter(|t| !t.trim().is_empty())
                .take(3)
                .collect(),
        })
        .collect();
    let (options, remembered) = match remembered {
        Some(o) => (o, true),
        None => (
            ImportOptions {
                mapping: suggest(&e, &sheet.headers, access),
                ..ImportOptions::default()
            },
            false,
        ),
    };
    Ok(Preview {
        import: store.import_log(access, id)?,
        columns,
        options,
        remembered,
        encoding: sheet.encoding,
    })
}

/// A value as a preview shows it: at most 100 characters.
pub fn sample(text: &str) -> String {
    let mut out: String = text.chars().take(100).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// The file of an import, read again.
pub fn sheet_of(store: &Store, access: &Access, id: i64) -> Result<Sheet, Error> {
    let bytes = store.import_file(access, id)?;
    sheet::read(&bytes).map_err(|err| file_error(&err, access.locale))
}

/// Checks `options` and starts a pass over the rows in the background; the log shows its
/// progress. The options of an import are remembered for the caller and the file's layout.
pub fn start_pass(
    store: &Arc<Store>,
    access: &Access,
    id: i64,
    pass: ImportPass,
    options: ImportOptions,
) -> Result<ImportLog, Error> {
    let (log, sheet, entity) = prepare(store, access, id, &options)?;
    let options_json = serde_json::to_value(&options).unwrap_or(Json::Null);
    let started = store.begin_import_pass(access, id, pass, &options_json)?;
    if pass == ImportPass::Import {
        store.remember_import_layout(access, &log.entity, &log.layout, &options_json)?;
    }
    run::start(
        store.clone(),
        access.clone(),
        id,
        pass,
        options,
        sheet,
        entity,
    );
    Ok(started)
}

/// Resumes an interrupted import where it stopped, with the options it was started with
/// (checked again: a field may have changed since), in the background.
pub fn resume(store: &Arc<Store>, access: &Access, id: i64) -> Result<ImportLog, Error> {
    let log = store.import_log(access, id)?;
    if log.status != qingguan_core::imports::ImportStatus::Interrupted {
        return Err(Error::conflict("only an interrupted import can be resumed"));
    }
    let options: ImportOptions = serde_json::from_value(log.options.clone()).map_err(|_| {
        Error::conflict("the options of this import cannot be read; upload it again")
    })?;
    let entity = import_entity(store, access, &log.entity)?;
    let sheet = sheet_of(store, access, id)?;
    options.check(&store.schema_for(access), &entity, &sheet.headers, access)?;
    let resumed = store.resume_import_pass(access, id)?;
    run::resume(
        store.clone(),
        access.clone(),
        &resumed,
        options,
        sheet,
        entity,
    );
    Ok(resumed)
}

/// Undoes an import in the background: claimed and planned now (a refusal comes back at
/// once), its records gone through on a thread; the log shows `undoing`, then `undone` with
/// the report.
pub fn start_undo(store: &Arc<Store>, access: &Access, id: i64) -> Result<ImportLog, Error> {
    let plan = store.begin_undo_import(access, id)?;
    let started = match store.import_log(access, id) {
        Ok(log) => log,
        Err(e) => {
            let _ = store.abandon_undo_import(id);
            return Err(e);
        }
    };
    let (kept, st, acc) = (store.clone(), store.clone(), access.clone());
    let started_thread = run::in_background(
        format!("undo-{id}"),
        move || st.run_undo_import(&acc, plan),
        move || {
            let _ = kept.abandon_undo_import(id);
        },
    );
    if !started_thread {
        return Err(Error::conflict(
            "the server could not start the undo; try again",
        ));
    }
    Ok(started)
}

fn prepare(
    store: &Store,
    access: &Access,
    id: i64,
    options: &ImportOptions,
) -> Result<(ImportLog, Sheet, Entity), Error> {
    let log = store.import_log(access, id)?;
    if let Some(refusal) = log.pass_refusal() {
        return Err(refusal);
    }
    let entity = import_entity(store, access, &log.entity)?;
    let sheet = sheet_of(store, access, id)?;
    options.check(&store.schema_for(access), &entity, &sheet.headers, access)?;
    Ok((log, sheet, entity))
}

//! A spreadsheet as an import reads it: a header row and data rows of cells, from CSV (UTF-8
//! with or without a byte-order mark, or GB18030 as Excel saves CSV on Chinese Windows; comma,
//! semicolon or tab between values) or XLSX (the first sheet, dates as dates).

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

/// The most data rows one import reads.
pub const MAX_ROWS: usize = 200_000;
/// The most columns one import reads.
pub const MAX_COLUMNS: usize = 200;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A date (or date and time) a spreadsheet stored as one: no format to declare.
    Date(NaiveDateTime),
}

impl Cell {
    /// The cell as text: what a person sees in it (a whole number without `.0`).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => number_text(*n),
            Cell::Bool(b) => b.to_string(),
            Cell::Date(d) => {
                if d.time() == chrono::NaiveTime::MIN {
                    d.date().format("%Y-%m-%d").to_string()
                } else {
                    d.format("%Y-%m-%d %H:%M:%S").to_string()
                }
            }
        }
    }

    /// Whether there is nothing in it (blank text counts as nothing).
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// A number as text: whole numbers without a fraction, others as the shortest text that reads
/// back as the same number.
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// One data row and its number in the file (the header is row 1).
#[derive(Debug, Clone)]
pub struct Row {
    pub number: usize,
    pub cells: Vec<Cell>,
}

impl Row {
    /// The cell in column `i` (empty past the row's end).
    pub fn cell(&self, i: usize) -> &Cell {
        self.cells.get(i).unwrap_or(&Cell::Empty)
    }
}

/// A read file.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// `csv` or `xlsx`.
    pub kind: &'static str,
    /// Column names: trimmed, a blank one as `Column N`, a repeated one with ` (2)`.
    pub headers: Vec<String>,
    /// Data rows with something in them.
    pub rows: Vec<Row>,
}

/// Why a file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has more than {MAX_ROWS} data rows; split it")]
    TooManyRows,
    #[error("the file has more than {MAX_COLUMNS} columns")]
    TooManyColumns,
    #[error("the file is not a CSV or XLSX file that can be read: {0}")]
    Unreadable(String),
}

/// Reads a file: XLSX when it is a zip archive, CSV otherwise.
pub fn read(bytes: &[u8]) -> Result<Sheet, SheetError> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else {
        read_csv(bytes)
    }
}

/// The layout of a file for `entity`: its header row, hashed. Files with the same columns
/// share a layout, and so a remembered mapping.
pub fn layout_key(entity: &str, headers: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(entity.as_bytes());
    for name in headers {
        h.update([0x1f]);
        h.update(name.to_lowercase().as_bytes());
    }
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// The separator the header line uses most: comma, semicolon or tab.
fn separator(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let mut best = (b',', 0);
    for sep in [b',', b';', b'\t'] {
        let n = first.bytes().filter(|b| *b == sep).count();
        if n > best.1 {
            best = (sep, n);
        }
    }
    best.0
}

fn read_csv(bytes: &[u8]) -> Result<Sheet, SheetError> {
    let text = decode(bytes);
    if text.trim().is_empty() {
        return Err(SheetError::Empty);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator(&text))
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(SheetError::Unreadable(e.to_string())),
        None => return Err(SheetError::Empty),
    };
    let headers = header_names(header.iter().map(str::to_string).collect())?;
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(|e| SheetError::Unreadable(e.to_string()))?;
        let number = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let cells: Vec<Cell> = record
            .iter()
            .map(|v| {
                if v.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(v.to_string())
                }
            })
            .collect();
        push_row(&mut rows, number, cells)?;
    }
    Ok(Sheet {
        kind: "csv",
        headers,
        rows,
    })
}

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, SheetError> {
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|e| SheetError::Unreadable(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or(SheetError::Empty)?
        .map_err(|e| SheetError::Unreadable(e.to_string()))?;
    let (first_row, _) = range.start().unwrap_or((0, 0));
    let mut lines = range.rows();
    let header = lines.next().ok_or(SheetError::Empty)?;
    let headers = header_names(header.iter().map(|c| cell_of(c).text()).collect())?;
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<Cell> = line.iter().map(cell_of).collect();
        push_row(&mut rows, first_row as usize + i + 2, cells)?;
    }
    return Ok(Sheet {
        kind: "xlsx",
        headers,
        rows,
    });

    fn cell_of(d: &Data) -> Cell {
        match d {
            Data::Empty | Data::Error(_) => Cell::Empty,
            Data::String(s) if s.trim().is_empty() => Cell::Empty,
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
            Data::Int(i) => Cell::Number(*i as f64),
            Data::Float(f) => Cell::Number(*f),
            Data::Bool(b) => Cell::Bool(*b),
            Data::DateTime(t) => match t.as_datetime() {
                Some(d) => Cell::Date(d),
                None => Cell::Number(t.as_f64()),
            },
        }
    }
}

fn push_row(rows: &mut Vec<Row>, number: usize, cells: Vec<Cell>) -> Result<(), SheetError> {
    if cells.iter().all(Cell::is_empty) {
        return Ok(());
    }
    if rows.len() >= MAX_ROWS {
        return Err(SheetError::TooManyRows);
    }
    rows.push(Row { number, cells });
    Ok(())
}

fn header_names(raw: Vec<String>) -> Result<Vec<String>, SheetError> {
    // Trailing blank header cells are no columns.
    let mut raw = raw;
    while raw.last().is_some_and(|h| h.trim().is_empty()) {
        raw.pop();
    }
    if raw.is_empty() {
        return Err(SheetError::Empty);
    }
    if raw.len() > MAX_COLUMNS {
        return Err(SheetError::TooManyColumns);
    }
    let mut names: Vec<String> = Vec::with_capacity(raw.len());
    for (i, h) in raw.iter().enumerate() {
        let base = match h.trim() {
            "" => format!("Column {}", i + 1),
            t => t.to_string(),
        };
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base} ({n})");
            n += 1;
        }
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_semicolons_and_repeated_headers() {
        let s = read("\u{feff}Name;Stage;Name;\n恒信;Won;x\n\n;;\nB;Lost;y\n".as_bytes()).unwrap();
        assert_eq!(s.headers, ["Name", "Stage", "Name (2)"]);
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[0].number, 2);
        assert_eq!(s.rows[1].number, 5);
        assert_eq!(s.rows[0].cell(0), &Cell::Text("恒信".into()));
        assert_eq!(s.rows[1].cell(7), &Cell::Empty);
    }

    #[test]
    fn gb18030_csv_is_read_as_chinese() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("名称,阶段\n杭州恒信,赢单\n");
        let s = read(&bytes).unwrap();
        assert_eq!(s.headers, ["名称", "阶段"]);
        assert_eq!(s.rows[0].cell(0).text(), "杭州恒信");
    }

    #[test]
    fn numbers_read_as_people_see_them() {
        assert_eq!(number_text(13800138000.0), "13800138000");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(number_text(-2.5), "-2.5");
    }

    #[test]
    fn layout_ignores_case_only() {
        let a = layout_key("customer", &["Name".into(), "Stage".into()]);
        assert_eq!(a, layout_key("customer", &["name".into(), "STAGE".into()]));
        assert_ne!(a, layout_key("customer", &["Stage".into(), "Name".into()]));
        assert_ne!(a, layout_key("contact", &["Name".into(), "Stage".into()]));
    }
}

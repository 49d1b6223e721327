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
    /// How a CSV's text was read: `utf-8`, `gb18030`, or `utf-8` with this many bytes that
    /// were no UTF-8 replaced by `�`.
    pub encoding: Encoding,
    /// Column names: trimmed, a blank one as `Column N`, a repeated one with ` (2)`.
    pub headers: Vec<String>,
    /// Data rows with something in them.
    pub rows: Vec<Row>,
}

/// The text encoding a CSV was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    /// UTF-8 with a few stray bytes, each shown as `�`.
    Utf8Repaired {
        replaced: usize,
    },
    Gb18030,
}

/// Why a file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("the file is empty")]
    Empty,
    #[error("the first row must name the columns, and it is empty")]
    NoHeader,
    #[error("the file has more than {MAX_ROWS} data rows; split it")]
    TooManyRows,
    #[error("the file has more than {MAX_COLUMNS} columns")]
    TooManyColumns,
    #[error("the file unpacks to more than {MAX_UNPACKED_MB} MB; split it")]
    TooLargeUnpacked,
    #[error("a quote opened on row {0} is never closed: the rest of the file would be one cell")]
    UnclosedQuote(usize),
    #[error("the file is not a CSV or XLSX file that can be read: {0}")]
    Unreadable(String),
}

/// The most an XLSX file may unpack to.
pub const MAX_UNPACKED_MB: u64 = 400;

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

/// The file's text: UTF-8 (a byte-order mark dropped) when it is UTF-8 but for a few stray
/// bytes (replaced, and counted); GB18030 — what Excel writes on Chinese Windows — when much
/// of it is not UTF-8.
fn decode(bytes: &[u8]) -> (String, Encoding) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return (s.to_string(), Encoding::Utf8);
    }
    let lossy = String::from_utf8_lossy(bytes);
    let replaced = lossy.chars().filter(|c| *c == '\u{FFFD}').count();
    let decoded = lossy
        .chars()
        .filter(|c| !c.is_ascii() && *c != '\u{FFFD}')
        .count();
    // Mostly UTF-8: keep it, marking the stray bytes. Text in GB18030 hardly ever reads as
    // valid UTF-8 beyond a few characters.
    if decoded >= 4 * replaced {
        return (lossy.into_owned(), Encoding::Utf8Repaired { replaced });
    }
    (
        encoding_rs::GB18030.decode(bytes).0.into_owned(),
        Encoding::Gb18030,
    )
}

/// The separator the header line uses most outside quotes: comma, semicolon or tab.
fn separator(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                for c in counts.iter_mut() {
                    if c.0 == b {
                        c.1 += 1;
                    }
                }
            }
            _ => {}
        }
    }
    counts
        .iter()
        .max_by_key(|c| c.1)
        .filter(|c| c.1 > 0)
        .map(|c| c.0)
        .unwrap_or(b',')
}

fn read_csv(bytes: &[u8]) -> Result<Sheet, SheetError> {
    let (text, encoding) = decode(bytes);
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
    let mut last: Option<(usize, bool)> = None;
    // Rows are numbered as a spreadsheet shows them: the header is 1, each record one more
    // (a cell with a line break in it is still one row).
    for (i, record) in records.enumerate() {
        let record = record.map_err(|e| SheetError::Unreadable(e.to_string()))?;
        let number = i + 2;
        last = Some((number, record.iter().any(|v| v.contains('\n'))));
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
    // A quote never closed swallows everything after it into one cell of the last record.
    if let Some((number, true)) = last {
        if !text.trim_end().ends_with('"') {
            return Err(SheetError::UnclosedQuote(number));
        }
    }
    Ok(Sheet {
        kind: "csv",
        encoding,
        headers,
        rows,
    })
}

/// The most non-empty cells an XLSX file may hold.
const MAX_CELLS: usize = 5_000_000;

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, SheetError> {
    use calamine::{DataRef, Reader, Xlsx};
    let unreadable = |e: &dyn std::fmt::Display| SheetError::Unreadable(e.to_string());
    // What the archive unpacks to is checked before anything is unpacked.
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let mut unpacked: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| unreadable(&e))?;
        unpacked = unpacked.saturating_add(entry.size());
    }
    if unpacked > MAX_UNPACKED_MB * 1024 * 1024 {
        return Err(SheetError::TooLargeUnpacked);
    }
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes.to_vec())).map_err(|e| unreadable(&e))?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or(SheetError::Empty)?;
    let mut cells = book
        .worksheet_cells_reader(&name)
        .map_err(|e| unreadable(&e))?;
    // Cells arrive row by row; each is placed by its own position, and nothing is allocated
    // for the empty space between them (a sheet may claim a million rows and hold two cells).
    let mut grid: std::collections::BTreeMap<u32, Vec<(u32, Cell)>> = Default::default();
    let mut count = 0usize;
    let mut first_row: Option<u32> = None;
    while let Some(c) = cells.next_cell().map_err(|e| unreadable(&e))? {
        let (row, col) = c.get_position();
        let cell = match c.get_value() {
            DataRef::Empty | DataRef::Error(_) => continue,
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                Cell::Text(s.clone())
            }
            DataRef::SharedString(s) => Cell::Text(s.to_string()),
            DataRef::Int(i) => Cell::Number(*i as f64),
            DataRef::Float(f) => Cell::Number(*f),
            DataRef::Bool(b) => Cell::Bool(*b),
            DataRef::DateTime(t) => match t.as_datetime() {
                Some(d) => Cell::Date(d),
                None => Cell::Number(t.as_f64()),
            },
        };
        if cell.is_empty() {
            continue;
        }
        let first = *first_row.get_or_insert(row);
        if row < first {
            first_row = Some(row);
        }
        if col as usize >= MAX_COLUMNS * 4 {
            return Err(SheetError::TooManyColumns);
        }
        count += 1;
        if count > MAX_CELLS || grid.len() > MAX_ROWS + 1 {
            return Err(SheetError::TooManyRows);
        }
        grid.entry(row).or_default().push((col, cell));
    }
    let Some(first_row) = first_row else {
        return Err(SheetError::Empty);
    };
    let dense = |mut line: Vec<(u32, Cell)>| -> Vec<Cell> {
        line.sort_by_key(|(c, _)| *c);
        let width = line.last().map(|(c, _)| *c as usize + 1).unwrap_or(0);
        let mut out = vec![Cell::Empty; width];
        for (c, cell) in line {
            out[c as usize] = cell;
        }
        out
    };
    let mut lines = grid.into_iter();
    let header = match lines.next() {
        Some((row, line)) if row == first_row => dense(line),
        _ => return Err(SheetError::NoHeader),
    };
    let headers = header_names(header.iter().map(Cell::text).collect())?;
    let mut rows = Vec::new();
    for (row, line) in lines {
        // Numbered as the spreadsheet shows it (its row 1 is the header's row when the
        // header is on the first row).
        push_row(&mut rows, row as usize + 1, dense(line))?;
    }
    Ok(Sheet {
        kind: "xlsx",
        encoding: Encoding::Utf8,
        headers,
        rows,
    })
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
        return Err(SheetError::NoHeader);
    }
    if raw.len() > MAX_COLUMNS {
        return Err(SheetError::TooManyColumns);
    }
    let mut names: Vec<String> = Vec::with_capacity(raw.len());
    for (i, h) in raw.iter().enumerate() {
        let base = match h.trim() {
            "" => format!("Column {}", i + 1),
            t => t.chars().take(100).collect(),
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
        let s = read("\u{feff}Name;Stage;Name;\r\n恒信;Won;x\r\n;;\r\nB;Lost;y\r\n".as_bytes())
            .unwrap();
        assert_eq!(s.headers, ["Name", "Stage", "Name (2)"]);
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[0].number, 2, "CRLF counts rows as LF does");
        assert_eq!(s.rows[1].number, 4);
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
    fn utf8_with_a_stray_byte_stays_utf8() {
        let mut bytes = "名称,备注\n杭州恒信建材有限公司,好\n".as_bytes().to_vec();
        bytes.extend_from_slice(b"x,\xFF\n");
        let s = read(&bytes).unwrap();
        assert_eq!(s.rows[0].cell(0).text(), "杭州恒信建材有限公司");
        assert_eq!(s.encoding, Encoding::Utf8Repaired { replaced: 1 });
    }

    #[test]
    fn an_unclosed_quote_is_refused_and_quoted_separators_do_not_count() {
        let e = read(b"Name,Kind\n\"never closed,company\nnext,company\n").unwrap_err();
        assert!(matches!(e, SheetError::UnclosedQuote(2)), "{e}");
        let s = read(b"\"Name (EN; ZH; Legal)\",Kind\nA,b\n").unwrap();
        assert_eq!(s.headers, ["Name (EN; ZH; Legal)", "Kind"]);
        let ok = read(b"Name,Notes\nA,\"two\nlines\"\nB,x\n").unwrap();
        assert_eq!(ok.rows[1].number, 3);
        assert!(matches!(
            read(b",,,\nfoo,bar\n").unwrap_err(),
            SheetError::NoHeader
        ));
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

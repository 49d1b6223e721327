//! Spreadsheets written for exports: a table of headings and cells to CSV (UTF-8 with a
//! byte-order mark, so spreadsheet programs read Chinese right; formula-looking text made
//! inert) or to XLSX (numbers as numbers, every text written as text — never a formula — and
//! the heading row bold and frozen). The UI's and the API's exports both write through here.

use qingguan_core::Error;

/// One exported value: numbers stay numbers in a spreadsheet (and keep their text for CSV).
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Number(f64, String),
}

/// An export as a table: headings and rows.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

pub fn csv_bytes(table: Table) -> Result<Vec<u8>, Error> {
    let fail = |e: csv::Error| Error::Database(e.to_string());
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(&table.headers).map_err(fail)?;
    for row in table.rows {
        let texts = row.into_iter().map(|c| match c {
            Cell::Text(t) => inert(t),
            Cell::Number(_, text) => text,
        });
        out.write_record(texts).map_err(fail)?;
    }
    out.into_inner().map_err(|e| Error::Database(e.to_string()))
}

pub fn xlsx_bytes(table: Table, sheet_name: &str) -> Result<Vec<u8>, Error> {
    use rust_xlsxwriter::{Format as Style, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| Error::Database(e.to_string());
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    // A sheet name may not hold []:*?/\ and has at most 31 characters.
    let name: String = sheet_name
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    if !name.trim().is_empty() {
        sheet.set_name(name.trim()).map_err(fail)?;
    }
    let bold = Style::new().set_bold();
    for (col, h) in table.headers.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, h, &bold)
            .map_err(fail)?;
    }
    for (i, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        for (col, c) in row.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            match c {
                Cell::Text(t) if t.is_empty() => {}
                Cell::Text(t) => {
                    sheet.write_string(r, col, t).map_err(fail)?;
                }
                Cell::Number(n, _) => {
                    sheet.write_number(r, col, *n).map_err(fail)?;
                }
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}

/// A cell a spreadsheet will not run: text that would start a formula (`=`, `+`, `-`, `@`, a
/// tab or carriage return) gets a leading `'`; numbers stay numbers.
fn inert(text: String) -> String {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_made_inert_and_numbers_kept() {
        assert_eq!(inert("=HYPERLINK(1)".into()), "'=HYPERLINK(1)");
        assert_eq!(inert("@SUM".into()), "'@SUM");
        assert_eq!(inert("-12.5".into()), "-12.5");
        assert_eq!(inert("plain".into()), "plain");
        let csv = csv_bytes(Table {
            headers: vec!["a".into(), "b".into()],
            rows: vec![vec![
                Cell::Text("+cmd".into()),
                Cell::Number(1.5, "1.50".into()),
            ]],
        })
        .unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "\u{feff}a,b\n'+cmd,1.50\n");
    }
}

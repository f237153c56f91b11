//! `docs/errors.md` and the code tables must agree: every code documented
//! with its number, name and message, and no business errno documented that
//! the code does not have.

use smartship_api::{ErrorCode, GatewayCode};

/// Table rows `| number | Name | message | ... |` whose first cell is a number.
fn rows() -> Vec<(i64, String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md");
    let doc = std::fs::read_to_string(path).expect("docs/errors.md exists");
    doc.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`'))
                .collect();
            let n = cells.first()?.parse::<i64>().ok()?;
            Some((n, cells.get(1)?.to_string(), cells.get(2)?.to_string()))
        })
        .collect()
}

#[test]
fn every_business_code_is_documented_exactly() {
    let rows = rows();
    for c in ErrorCode::ALL {
        let name = format!("{c:?}");
        let row = rows
            .iter()
            .find(|(n, nm, _)| *n == c.errno() && *nm == name)
            .unwrap_or_else(|| panic!("errno {} ({name}) is not documented", c.errno()));
        assert_eq!(row.2, c.default_msg(), "message of errno {}", c.errno());
    }
    for (n, name, _) in rows.iter().filter(|(n, _, _)| *n >= 40000) {
        assert!(
            ErrorCode::from_errno(*n).is_some(),
            "docs/errors.md documents errno {n} ({name}), which the code does not have"
        );
    }
}

#[test]
fn every_gateway_code_is_documented_exactly() {
    let rows = rows();
    for g in GatewayCode::ALL {
        let name = format!("{g:?}");
        let row = rows
            .iter()
            .find(|(n, nm, _)| *n == g.code() && *nm == name)
            .unwrap_or_else(|| panic!("error_code {} ({name}) is not documented", g.code()));
        assert_eq!(row.2, g.message(), "message of error_code {}", g.code());
    }
}

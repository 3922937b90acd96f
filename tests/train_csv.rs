//! The CSV loading of `examples/train_csv.rs`: every bad input names the file, line and column;
//! two values make a binary classifier, more text values a multi-class one, more numbers a
//! regressor (or classes on request).

#[allow(dead_code)]
#[path = "../examples/shared/csv_data.rs"]
mod csv_data;

use csv_data::{parse, Task};

fn error(text: &str, target: &str) -> String {
    parse("data.csv", text.as_bytes(), target)
        .expect_err("should be rejected")
        .to_string()
}

#[test]
fn missing_target_column_lists_the_header() {
    assert_eq!(
        error("weight,height,female\n133,65,1\n160,72,0\n", "sex"),
        "data.csv, line 1: no column named \"sex\"; the header has \"weight\", \"height\", \"female\""
    );
}

#[test]
fn non_numeric_cell_names_line_and_column() {
    let text = "weight,height,female\n133,65,1\n160,tall,0\n";
    assert_eq!(
        error(text, "female"),
        "data.csv, line 3, column 2 (\"height\"): \"tall\" is not a finite number"
    );
    // Empty cells and non-finite numbers are not numbers either.
    assert_eq!(
        error("a,b,y\n1,,0\n2,3,1\n", "y"),
        "data.csv, line 2, column 2 (\"b\"): the cell is empty, expected a number"
    );
    assert_eq!(
        error("a,b,y\n1,2,0\nNaN,3,1\n", "y"),
        "data.csv, line 3, column 1 (\"a\"): \"NaN\" is not a finite number"
    );
}

#[test]
fn ragged_rows_name_the_missing_or_extra_column() {
    assert_eq!(
        error("a,b,y\n1,2,0\n3,1\n", "y"),
        "data.csv, line 3: 2 fields but the header has 3: column 3 (\"y\") is missing"
    );
    assert_eq!(
        error("a,b,y\n1,2,0,9\n3,4,1\n", "y"),
        "data.csv, line 2: 4 fields but the header has 3: column 4 has no header"
    );
}

#[test]
fn empty_file_and_header_without_rows() {
    assert_eq!(
        error("", "y"),
        "data.csv: the file is empty; expected a header row"
    );
    assert_eq!(
        error("# only a comment\n", "y"),
        "data.csv: the file is empty; expected a header row"
    );
    assert_eq!(
        error("a,b,y\n", "y"),
        "data.csv, line 1: a header row but no data rows"
    );
}

#[test]
fn single_class_is_rejected() {
    assert_eq!(
        error("a,b,y\n1,2,1\n3,4,1\n5,6,1.0\n", "y"),
        "data.csv, column 3 (\"y\"): every row has the value \"1\", a single class; there is nothing to learn"
    );
    assert_eq!(
        error("y,a\nF,1\nF,2\n", "y"),
        "data.csv, column 1 (\"y\"): every row has the value \"F\", a single class; there is nothing to learn"
    );
}

#[test]
fn text_target_with_more_classes_makes_a_multi_class_classifier() {
    let t = parse("d.csv", "a,y\n1,cat\n2,dog\n3,cow\n4,cat\n".as_bytes(), "y").unwrap();
    assert_eq!(
        t.task,
        Task::Classify {
            classes: vec!["cat".into(), "cow".into(), "dog".into()]
        }
    );
    assert_eq!(t.targets, [0.0, 2.0, 1.0, 0.0]); // class indices, in sorted order
    let many: String = (0..=csv_data::MAX_CLASSES)
        .map(|k| format!("{k},c{k}\n"))
        .collect();
    assert_eq!(
        error(&format!("a,y\n{many}"), "y"),
        "data.csv, column 2 (\"y\"): 101 distinct text values, too many to be classes (at most 100)"
    );
}

#[test]
fn numeric_targets_become_classes_on_request() {
    let t = parse("d.csv", "a,y\n1,5\n2,7\n3,6.5\n4,5\n".as_bytes(), "y").unwrap();
    assert_eq!(t.task, Task::Regress);
    let t = t.into_classes().unwrap();
    assert_eq!(t.targets, [0.0, 2.0, 1.0, 0.0]); // 5 -> 0, 6.5 -> 1, 7 -> 2
    assert_eq!(
        t.task,
        Task::Classify {
            classes: vec!["5".into(), "6.5".into(), "7".into()]
        }
    );
    // A classifier's table is left as it is.
    let two = parse("d.csv", "a,y\n1,5\n2,7\n".as_bytes(), "y").unwrap();
    assert_eq!(two.clone().into_classes().unwrap(), two);
}

#[test]
fn only_a_target_column_is_rejected() {
    assert_eq!(
        error("y\n1\n0\n", "y"),
        "data.csv, line 1: the only column is the target \"y\"; there is nothing to predict it from"
    );
}

#[test]
fn line_numbers_count_comments_and_blank_lines() {
    let text = "# a comment\n\nweight,height,female\n# another\n133,65,1\n\n160,x,0\n";
    assert_eq!(
        error(text, "female"),
        "data.csv, line 7, column 2 (\"height\"): \"x\" is not a finite number"
    );
    assert_eq!(
        error("# c\n\na,b\n1,2\n", "y"),
        "data.csv, line 3: no column named \"y\"; the header has \"a\", \"b\""
    );
}

#[test]
fn missing_file_names_the_file() {
    let err = csv_data::load(std::path::Path::new("no/such/file.csv"), "y").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no/such/file.csv: cannot open the file"),
        "{err}"
    );
}

#[test]
fn two_values_make_a_classifier_more_make_a_regressor() {
    let t = parse("d.csv", "a,y\n1,5\n2,7\n3,5\n".as_bytes(), "y").unwrap();
    assert_eq!(t.targets, [0.0, 1.0, 0.0]); // the larger value is class 1
    assert_eq!(
        t.task,
        Task::Classify {
            classes: vec!["5".into(), "7".into()]
        }
    );
    let t = parse("d.csv", "y,a\nM,1\nF,2\n".as_bytes(), "y").unwrap();
    assert_eq!(t.targets, [1.0, 0.0]); // text classes sorted: F -> 0, M -> 1
    assert_eq!(t.rows, [[1.0], [2.0]]);
    let t = parse("d.csv", "a,y\n1,5\n2,7\n3,6.5\n".as_bytes(), "y").unwrap();
    assert_eq!((t.task, t.targets), (Task::Regress, vec![5.0, 7.0, 6.5]));
}

#[test]
fn the_shipped_example_file_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/people.csv");
    let t = csv_data::load(&path, "female").unwrap();
    assert_eq!(t.features, ["weight_lb", "height_in"]);
    assert_eq!(t.rows.len(), 20);
    // The seed's Alice, first data row: 133 lb, 65 in, female.
    assert_eq!(
        (t.rows[0].as_slice(), t.targets[0]),
        (&[133.0, 65.0][..], 1.0)
    );
    assert!(matches!(t.task, Task::Classify { .. }));
}

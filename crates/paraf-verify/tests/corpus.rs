//! The public attack corpus (`$PARAF_CORPUS/pdf-attacks/MANIFEST.tsv`): shadow attacks,
//! signature wrapping, incremental saving, byte-range and DocMDP cases. `tampered` must never be
//! called valid nor "intact with no illegal modification"; `intact` must be intact with no
//! illegal modification (trust is unknown: foreign test certificates); `report` must give a
//! report without panicking. Skipped, saying so, when `PARAF_CORPUS` is not set; the repo's own
//! generated attacks (`attacks.rs`) always run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, UNIX_EPOCH};

use paraf_verify::{Indication, ValidationReport, VerifyOptions};

fn intact_and_unmodified(r: &ValidationReport) -> bool {
    !r.signatures.is_empty()
        && r.signatures.iter().all(|s| {
            s.integrity.intact()
                && s.modifications.illegal.is_empty()
                && s.problems.iter().all(|p| p.sub_indication.is_trust_only())
        })
}

#[test]
fn public_attack_corpus() {
    let Some(cases) = paraf_testkit::corpus::attack_cases(
        "the external attack corpus (the generated attacks in attacks.rs still run)",
    ) else {
        return;
    };
    let opts = VerifyOptions::new(UNIX_EPOCH + Duration::from_secs(1_780_272_000));
    let mut failures = Vec::new();
    let counted = cases.len();
    for case in cases {
        let (file, expect, data) = (case.file, case.expect.as_str(), case.data);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            paraf_verify::verify(data, None, &opts)
        }));
        let result = match outcome {
            Ok(r) => r,
            Err(_) => {
                failures.push(format!("{file}: PANICKED"));
                continue;
            }
        };
        let verdict = match &result {
            Ok(r) => format!(
                "{}{} [{}]",
                r.indication,
                r.sub_indication
                    .map(|s| format!("/{s}"))
                    .unwrap_or_default(),
                r.signatures
                    .iter()
                    .map(|s| format!(
                        "{}{}",
                        s.indication,
                        s.sub_indication
                            .map(|x| format!("/{x}"))
                            .unwrap_or_default()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(e) => format!("unreadable: {e}"),
        };
        println!("{expect:9} {file}: {verdict}");
        match (expect, &result) {
            ("tampered", Ok(r)) => {
                if r.indication == Indication::TotalPassed || intact_and_unmodified(r) {
                    failures.push(format!("{file}: tampered but {verdict}"));
                }
            }
            // An unreadable file is not called valid either.
            ("tampered", Err(_)) => {}
            ("intact", Ok(r)) => {
                if !intact_and_unmodified(r) {
                    failures.push(format!(
                        "{file}: should be intact and unmodified:\n{}",
                        r.to_json_pretty()
                    ));
                }
            }
            ("intact", Err(e)) => {
                failures.push(format!("{file}: should be intact but is unreadable: {e}"))
            }
            ("report", _) => {}
            (other, _) => failures.push(format!("{file}: unknown expectation {other:?}")),
        }
    }
    paraf_testkit::corpus::assert_agreement(counted, &failures);
}

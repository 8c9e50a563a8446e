//! `conformance_tests!`: one `#[test]` per check.

/// Expands to one `#[test]` per check of the suite, inside `mod conformance`,
/// so `cargo test conformance::` runs them and a failure is named.
///
/// ```ignore
/// whatsapp_rust_conformance::conformance_tests!(my_factory());
/// // or, with declared deviations:
/// whatsapp_rust_conformance::conformance_tests!(my_factory(), my_expectations());
/// ```
/// The expressions are evaluated once per test.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!($factory, $crate::Expectations::none());
    };
    ($factory:expr, $expectations:expr) => {
        $crate::__with_check_list!(__make_tests { ($factory) ($expectations) });
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __make_tests {
    ({ ($factory:expr) ($expectations:expr) } $($module:ident :: $check:ident)*) => {
        mod conformance {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $check() {
                    $crate::__run_as_test(
                        concat!(stringify!($module), "::", stringify!($check)),
                        &$factory,
                        &$expectations,
                    );
                }
            )*
        }
    };
}
